// Gradient engines: given a model and a set of examples, the gradient of their summed cost.
//
//   template <class E, class M> concept GradientEngine = requires(E e, const M& net,
//       const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g) {
//       { e.gradient(net, d, examples, g) } -> std::convertible_to<typename M::value_type>;
//   };
//
// AutodiffEngine<M, Chunk> (the trainer's default) runs the reverse mode derived from the
// network's type on the examples Chunk at a time, each chunk as one (Chunk, …) tensor through
// one forward and one reverse sweep, and the rest of the batch one example at a time; the
// chunks add into the same gradient in example order, so the result is the per-example sum bit
// for bit whatever the batch size. ReferenceEngine<M> is the article's hand-written backprop,
// example by example. Neither allocates after construction.
//
// Both also take an optional `std::size_t* correct`: when given, the number of examples whose
// output (of the forward pass the gradient already ran) predicts their label is added to it —
// the trainer's running training accuracy, at the cost of an argmax per example.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/expr/split.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/layers/batch_norm.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/train/example.hpp"

namespace typegrad::train {

/// Whether model M couples the examples of a mini-batch (batch norm): its gradient is then that
/// of the whole mini-batch at once, not a sum over examples or chunks.
template <AnyModel M>
inline constexpr bool couples_examples_v =
    nodes_couple_examples_v<typename decltype(autodiff::Workspace<M>::program)::nodes>;

template <class E, class M>
concept GradientEngine = requires(E e, const M& net, const data::Dataset& d, std::span<const std::size_t> examples,
                                  Gradients<M>& g) {
    { e.gradient(net, d, examples, g) } -> std::convertible_to<typename M::value_type>;
};

/// The hand-written gradient (the article's backprop) as a training engine.
template <AnyModel M>
struct ReferenceEngine {
    using T = typename M::value_type;
    reference::Workspace<M> workspace;
    typename M::input_type x;
    typename M::output_type y;

    /// One example: into g (overwritten, or added to with Accumulate::yes); returns its cost.
    T operator()(const M& net, const typename M::input_type& xi, const typename M::output_type& yi, Gradients<M>& g,
                 Accumulate acc) noexcept {
        return reference::backprop_into(net, xi, yi, g, workspace, acc);
    }
    /// The summed gradient of `examples` of d into g; returns their summed cost. With `correct`,
    /// adds the number of examples the forward passes classified correctly to *correct.
    T gradient(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
               std::size_t* correct = nullptr) noexcept {
        T cost = 0;
        for (std::size_t k = 0; k < examples.size(); ++k) {
            load_example<M>(d, examples[k], x, y);
            cost += (*this)(net, x, y, g, k == 0 ? Accumulate::no : Accumulate::yes);
            if (correct != nullptr)
                *correct += predicts<M::output_width>(
                    d, examples[k], workspace.buffers->values.template value<M::composition::depth - 1>().data());
        }
        return cost;
    }
};

/// The gradient derived by reverse mode from the model's type (the default): Chunk examples at a
/// time as one tensor, the rest of a batch one at a time. Chunk is a compile-time choice (the
/// batch is a dimension of the program's types): 10, the article's batch, by default.
///
/// A model that couples the examples of a mini-batch (batch norm) is run on the whole mini-batch
/// as one program: the batch must then be exactly Chunk examples (whole_batch; the trainer
/// checks it, and gradient() returns NaN for any other number), and after each step
/// update_state(net) moves the running statistics towards the mini-batch's.
template <AnyModel M, std::size_t Chunk = 10>
struct AutodiffEngine {
    static_assert(Chunk >= 1, "AutodiffEngine<M, Chunk>: a chunk has at least one example");
    using T = typename M::value_type;
    static constexpr std::size_t chunk = Chunk;
    /// The one batch size this engine trains a coupled model with (0: any, the model does not couple).
    static constexpr std::size_t whole_batch = couples_examples_v<M> ? Chunk : 0;
    autodiff::Workspace<M> workspace;
    autodiff::Workspace<M, Chunk> chunk_workspace;
    std::vector<T> X = std::vector<T>(Chunk * M::input_width), Y = std::vector<T>(Chunk * M::output_width);
    /// A first dense layer on the input: the inputs non-zero in some example of the last gradient()
    /// (nn/gradients.hpp's InputRows), one byte each.
    static constexpr bool lists_input_rows = has_input_row_weight_v<M>;
    std::vector<std::uint8_t> seen = std::vector<std::uint8_t>(lists_input_rows ? M::input_width : 0);
    bool seen_valid = false;

    /// The rows of the first dense layer's weight gradient that the last gradient() can have made
    /// non-zero (nothing known after operator() or a refused batch).
    [[nodiscard]] InputRows input_rows() const noexcept
        requires lists_input_rows
    {
        return seen_valid ? InputRows{seen.data(), seen.size()} : InputRows{};
    }

    /// One example: into g (overwritten, or added to with Accumulate::yes); returns its cost.
    T operator()(const M& net, const typename M::input_type& x, const typename M::output_type& y, Gradients<M>& g,
                 Accumulate acc) noexcept;
    /// The summed gradient of `examples` of d into g; returns their summed cost. With `correct`,
    /// adds the number of examples the forward passes classified correctly to *correct.
    T gradient(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
               std::size_t* correct = nullptr) noexcept {
        return sum(net, d, examples, g, correct, Accumulate::no);
    }
    /// As gradient(), for a caller that passes the g of this engine's last gradient() call and has
    /// not written it since (the trainer, whose gradient only its engine writes). The first dense
    /// layer's weight gradient is then 0 outside the rows that call flagged (input_rows), so only
    /// those rows are cleared, where gradient() overwrites the whole matrix (313 KB for 784-100-10)
    /// before the examples are added. The same values (zeros may differ in sign); any other g, or
    /// a model without such a layer, gets gradient().
    T gradient_again(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
                     std::size_t* correct = nullptr) noexcept {
        if constexpr (lists_input_rows && whole_batch == 0) {
            if (seen_valid && last == &g && !examples.empty()) {
                g.for_each_parameter([&](auto ref, auto& t) {
                    if constexpr (input_row_weight_v<decltype(ref)>) {
                        const std::size_t cols = t.size() / seen.size();
                        T* w = t.data();
                        std::size_t lo = 0, hi = seen.size();
                        // a split first layer (expr/split.hpp) writes its rows elsewhere
                        if (const expr::InputSplit<T>* s = expr::current_input_split<T>(); s != nullptr && s->bound_gradient == w) {
                            if (s->apply_to != nullptr) return;  // not written at all: SGD's step is fused in
                            w = s->gradient;
                            lo = s->first;
                            hi = s->last;
                        }
                        if (!simd::detail::for_each_row_run(seen.data(), seen.size(), [&](std::size_t r0, std::size_t r1) {
                                std::fill(w + r0 * cols, w + r1 * cols, T(0));
                            }))
                            std::fill(w + lo * cols, w + hi * cols, T(0));
                    } else {
                        t.fill(T(0));
                    }
                });
                return sum(net, d, examples, g, correct, Accumulate::yes);
            }
        }
        return gradient(net, d, examples, g, correct);
    }
    /// The g of the last gradient() (gradient_again's check; not dereferenced).
    const Gradients<M>* last = nullptr;

private:
    // The examples' gradient added to g, the first chunk (or example) with `first`.
    T sum(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
          std::size_t* correct, Accumulate first) noexcept;

public:
    /// After gradient() of a coupled model in training: its running statistics moved towards
    /// those of the mini-batch (nn/layers/batch_norm.hpp). Nothing for other models.
    void update_state(M& net) const noexcept {
        if constexpr (whole_batch > 0) update_running_statistics(net, chunk_workspace.program);
    }
};

// The two members that run the programs are defined out of the class, so not inline: a plugin
// compiled in two parts at once instantiates them in one part only (extern template in the
// other, src/cli/plugin.hpp), where GCC would instantiate an inline member in both to inline it.
template <AnyModel M, std::size_t Chunk>
auto AutodiffEngine<M, Chunk>::operator()(const M& net, const typename M::input_type& x, const typename M::output_type& y,
                                          Gradients<M>& g, Accumulate acc) noexcept -> T {
    seen_valid = false;
    return autodiff::backprop_into(net, x, y, g, workspace, acc);
}

template <AnyModel M, std::size_t Chunk>
auto AutodiffEngine<M, Chunk>::sum(const M& net, const data::Dataset& d, std::span<const std::size_t> examples,
                                   Gradients<M>& g, std::size_t* correct, Accumulate first) noexcept -> T {
    seen_valid = false;
    last = &g;
    if constexpr (whole_batch > 0)
        if (examples.size() != whole_batch) return std::numeric_limits<T>::quiet_NaN();
    if constexpr (lists_input_rows) std::fill(seen.begin(), seen.end(), std::uint8_t{0});
    // the inputs the program reads: all, but for a thread's rows of a first layer split
    // between threads (expr/split.hpp), which reads only those (and flags only those)
    std::size_t lo = 0, hi = M::input_width;
    bool fused = false;  // SGD's step applied to the first layer's weight, its gradient not written
    if constexpr (lists_input_rows)
        if (const expr::InputSplit<T>* s = expr::current_input_split<T>(); s != nullptr && s->input == X.data()) {
            lo = s->first;
            hi = s->last;
            fused = s->apply_to != nullptr;
        }
    const auto mark = [&](std::size_t i, const T* x) noexcept {  // the inputs of example i, loaded at x
        if constexpr (lists_input_rows) {
            if (!d.is_text() && !d.float_inputs())
                simd::or_bytes(seen.data() + lo, d.pixels.data() + i * M::input_width + lo, hi - lo);
            else
                simd::flag_nonzero(seen.data() + lo, x + lo, hi - lo);
        }
    };
    T cost = 0;
    std::size_t k = 0;
    for (; k + Chunk <= examples.size(); k += Chunk) {
        for (std::size_t b = 0; b < Chunk; ++b) {
            load_example<M>(d, examples[k + b], X.data() + b * M::input_width, Y.data() + b * M::output_width, lo, hi);
            mark(examples[k + b], X.data() + b * M::input_width);
        }
        cost += autodiff::backprop_batch_into(net, X.data(), Y.data(), g, chunk_workspace,
                                              k == 0 ? first : Accumulate::yes);
        if (correct != nullptr) {
            const T* out = chunk_workspace.program.template value<typename ModelExpression<M, Chunk>::output>();
            for (std::size_t b = 0; b < Chunk; ++b)
                *correct += predicts<M::output_width>(d, examples[k + b], out + b * M::output_width);
        }
    }
    for (; k < examples.size(); ++k) {
        load_example<M>(d, examples[k], X.data(), Y.data(), lo, hi);
        mark(examples[k], X.data());
        cost += autodiff::detail::run(net, X.data(), Y.data(), g, workspace, k == 0 ? first : Accumulate::yes);
        if (correct != nullptr)
            *correct += predicts<M::output_width>(
                d, examples[k], workspace.program.template value<typename ModelExpression<M, 1>::output>());
    }
    // after a fused step g's first-layer gradient is whatever it was: not "0 but on the rows
    // this call flagged", so the next gradient_again must write it whole
    seen_valid = lists_input_rows && !fused;
    return cost;
}

/// The per-example autodiff gradient only (the article's loop over the batch).
template <AnyModel M>
using AutodiffExampleEngine = AutodiffEngine<M, 1>;

}  // namespace typegrad::train
