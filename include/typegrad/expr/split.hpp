// A first dense layer split by rows between the threads of a training step (train/parallel.hpp,
// "rows" parallelism; Megatron-LM calls this a row-parallel linear layer).
//
// z¹ = W¹ᵀ x is Σ over the rows i of W¹ of xᵢ W¹ᵢ: thread k of N owns the rows [first, last) of
// W¹ (of its gradient, and of its update). Each thread runs the whole program on the whole batch
// — the same engine, the same types — with an InputSplit<T> in scope on its thread; the two
// kernels of the first layer that read the input see it and do only their thread's part:
//   MatTVecOp (z¹ = W¹ᵀ x):  the thread's partial sum over its rows into its exchange buffer,
//                            a barrier, then every thread adds the N partials in the order
//                            k = 0, 1, …, N − 1: every thread has the same z¹, bit for bit.
//   OuterOp (∂J/∂W¹ = Σ x δ¹ᵀ): only the thread's rows, written into the caller's gradient
//                            (`gradient`) rather than the thread's own (`bound_gradient`) — or,
//                            with `apply_to`, applied to W¹ as SGD's step (below).
// Everything after z¹ (the bias, the activations, the later layers, the cost and its adjoints)
// is computed by every thread, identically. The first layer is the one whose operand is the
// engine's input buffer (`input`) and whose weight is `weight`; no other node reads either.
//
// One part of one (parts = 1) splits nothing: the product is computed whole, and the split only
// serves the fused SGD step — the trainer's one thread, when a batch is one chunk of the engine.
//
// The exchange buffers are double-buffered by the parity of `round` (one per first-layer
// product): a thread writes buffer r + 1 while another may still read buffer r, and buffer r
// is not written again before every thread has passed the next exchange's barrier.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "typegrad/simd/batched.hpp"
#include "typegrad/simd/kernels.hpp"

namespace typegrad::expr {

/// The most examples a program whose first layer's SGD step is fused may hold (a bit each in
/// simd::gemm_xtd_apply_rows): the trainer and the rows split fuse only chunks of at most this.
inline constexpr std::size_t max_fused_rows = 64;

template <class T>
struct InputSplit {
    const T* input = nullptr;           // the engine's input buffer: the first layer's operand x
    const T* weight = nullptr;          // W¹
    const T* bound_gradient = nullptr;  // the ∂J/∂W¹ this thread's program is bound to
    T* gradient = nullptr;              // where the thread's rows of ∂J/∂W¹ are written
    std::size_t first = 0, last = 0;    // the thread's rows of W¹
    std::size_t part = 0, parts = 1;    // k of N
    T* const* exchange = nullptr;       // exchange[2 k + r]: thread k's partial z¹ in round parity r
    std::size_t capacity = 0;           // the values each exchange buffer holds
    void (*wait)(void*) noexcept = nullptr;  // every thread's barrier
    void* barrier = nullptr;
    std::size_t round = 0;
    // The SGD step fused into the weight gradient (simd::gemm_xtd_apply_rows), when one batch is
    // one program: W¹ (apply_to) ← W¹ − rate · ∂J/∂W¹ on the rows [first, last) that `flags`
    // marks, and `gradient` is not written. Null: the gradient is written.
    T* apply_to = nullptr;
    T rate = 0;
    const std::uint8_t* flags = nullptr;
};

namespace detail {
template <class T>
InputSplit<T>*& input_split_slot() noexcept {
    static thread_local InputSplit<T>* split = nullptr;
    return split;
}
}  // namespace detail

/// The split in scope on this thread, or null (every program but a rows-parallel step's).
template <class T>
InputSplit<T>* current_input_split() noexcept {
    return detail::input_split_slot<T>();
}

/// The first layer's kernels on this thread do only s's part while the scope lives.
template <class T>
class InputSplitScope {
public:
    explicit InputSplitScope(InputSplit<T>& s) noexcept : saved_(detail::input_split_slot<T>()) {
        detail::input_split_slot<T>() = &s;
    }
    ~InputSplitScope() { detail::input_split_slot<T>() = saved_; }
    InputSplitScope(const InputSplitScope&) = delete;
    InputSplitScope& operator=(const InputSplitScope&) = delete;

private:
    InputSplit<T>* saved_;
};

namespace detail {
/// The split of this thread if the product W x (x: B rows of In) is its first layer's.
template <std::size_t B, std::size_t Out, class T>
InputSplit<T>* split_of_product(const T* w, const T* x) noexcept {
    InputSplit<T>* s = current_input_split<T>();
    return s != nullptr && s->parts > 1 && x == s->input && w == s->weight && B * Out <= s->capacity ? s : nullptr;
}
/// The split of this thread if Σ x dᵀ (x: the input) is its first layer's weight gradient.
template <class T>
InputSplit<T>* split_of_gradient(const T* x, const T* out) noexcept {
    InputSplit<T>* s = current_input_split<T>();
    return s != nullptr && x == s->input && out == s->bound_gradient ? s : nullptr;
}

/// z = Wᵀ x for B rows of x, the split's way (see above).
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void split_product(InputSplit<T>& s, const T* w, const T* x, T* z) noexcept {
    const std::size_t r = s.round & 1;
    T* mine = s.exchange[2 * s.part + r];
    for (std::size_t b = 0; b < B; ++b) simd::gemv_t_rows<In, Out>(w, x + b * In, mine + b * Out, s.first, s.last);
    s.wait(s.barrier);
    std::copy_n(s.exchange[r], B * Out, z);
    for (std::size_t k = 1; k < s.parts; ++k) {
        const T* p = s.exchange[2 * k + r];
        for (std::size_t i = 0; i < B * Out; ++i) z[i] += p[i];
    }
    ++s.round;
}
}  // namespace detail

}  // namespace typegrad::expr
