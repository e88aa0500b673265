// Ops that see the whole mini-batch, for batch normalisation (nn/layers/batch_norm.hpp), and the
// training/evaluation switch.
//
// The per-example reductions of reduce.hpp never cross the examples of a batch. Batch norm must:
// its statistics are per channel over every example of the mini-batch (and over the height and
// width of an image). The ops here are written for one example's shape In (a vector (C) or an
// image (C, H, W)) and applied to a node of shape In (one example: the "batch" is that example) or
// (B, In...) (a batch of B):
//   batch_mean<In>(x)           the mean of each channel over the batch (and H, W), broadcast back
//   per_channel<In, S>(p)       p (C) repeated over a batch of shape S (and H, W)
//   channel_total<In>(g)        the sum of each channel of g (C): per_channel's local rule
//   recorded_batch_mean<In>(x, r)  batch_mean(x), and r — a model's running statistic, not
//                               differentiated — names the tensor the trainer updates with it
//                               (update_running_statistics, nn/layers/batch_norm.hpp)
// Ops that cross the batch say so (`crosses_examples`): a model with one couples the examples of
// a mini-batch, which the gradient engines and the trainer must then treat as one (train/).
//
// Training and evaluation: `training()` is true on a thread while a TrainingScope is open (the
// trainer opens one around each step; it is the NoiseScope that dropout draws its masks from).
// select_training(a, b) is a while training, b otherwise; its local rule sends ∂J/∂y to the
// branch that was taken and 0 to the other.
#pragma once

#include <cstddef>
#include <string>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/noise.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::expr {

/// A scope of training on this thread: batch norm uses the mini-batch's statistics and dropout
/// draws masks from rng (NoiseScope is the same scope).
using TrainingScope = NoiseScope;
/// Whether this thread is inside a TrainingScope (a trainer's step).
inline bool training() noexcept { return current_noise() != nullptr; }

namespace detail {
/// The layout of x (shape X) for one example's shape In: `batch` examples (1 when X is In), each
/// `channels` channels of `inner` values (H·W for an image, 1 for a vector).
template <class In, class X>
struct channel_layout {
    static constexpr std::size_t example_rank = rank_v<In>;
    static_assert(example_rank == 1 || example_rank == 3,
                  "batch statistics are per feature of a vector (C) or per channel of an image (C, H, W)");
    static_assert(rank_v<X> == example_rank || rank_v<X> == example_rank + 1,
                  "batch statistics: the operand must be one example (In) or a batch of them (B, In...)");
    static constexpr std::size_t channels = shape_traits<In>::extents[0];
    static constexpr std::size_t inner = size_v<In> / channels;
    static constexpr std::size_t batch = size_v<X> / size_v<In>;
    /// The values that make one channel's statistic: the examples times H·W.
    static constexpr std::size_t count = batch * inner;
};

template <class In, class X, class T>
void channel_means(const T* x, T* mean) noexcept {
    using L = channel_layout<In, X>;
    for (std::size_t c = 0; c < L::channels; ++c) {
        T s = 0;
        for (std::size_t b = 0; b < L::batch; ++b) {
            const T* p = x + (b * L::channels + c) * L::inner;
            for (std::size_t i = 0; i < L::inner; ++i) s += p[i];
        }
        mean[c] = s / static_cast<T>(L::count);
    }
}
/// out = (or +=) v[c] at every value of channel c.
template <class In, class X, class T>
void broadcast_channels(const T* v, T* out, bool accumulate) noexcept {
    using L = channel_layout<In, X>;
    for (std::size_t b = 0; b < L::batch; ++b)
        for (std::size_t c = 0; c < L::channels; ++c) {
            T* o = out + (b * L::channels + c) * L::inner;
            for (std::size_t i = 0; i < L::inner; ++i) o[i] = accumulate ? o[i] + v[c] : v[c];
        }
}
}  // namespace detail

/// The mean of each channel over the batch (and H, W), broadcast back: shape of the operand.
/// Also its own local rule (the mean is linear and symmetric), hence accumulating.
template <class In>
struct BatchMeanOp {
    static constexpr bool accumulating_kernel = true;
    static constexpr bool crosses_examples = true;
    template <class X>
    using shape = X;
    template <class X, class T>
    static void compute(T* out, const T* x, bool accumulate = false) noexcept {
        using L = detail::channel_layout<In, typename X::shape>;
        T mean[L::channels];
        detail::channel_means<In, typename X::shape>(x, mean);
        detail::broadcast_channels<In, typename X::shape>(mean, out, accumulate);
    }
    template <std::size_t I, class Self, class G, class X>
    using vjp = Node<BatchMeanOp, G>;
    static Text print(const Text& x) { return {cat("meanᵦ(", x.s, ")"), 3}; }
};

/// batch_mean(x), recording the statistic for the running estimate held by the parameter leaf R
/// (not differentiated). Unbiased: the running estimate takes the statistic times n/(n − 1), n
/// the values per channel (the batch's unbiased variance when x is the squared deviation).
template <class In, bool Unbiased>
struct RecordedBatchMeanOp {
    static constexpr bool crosses_examples = true;
    static constexpr bool unbiased = Unbiased;
    using example_shape = In;
    template <class X, class R>
    using shape = X;
    template <std::size_t I>
    static constexpr bool differentiable = I == 0;
    template <class X, class R, class T>
    static void compute(T* out, const T* x, const T*) noexcept {
        BatchMeanOp<In>::template compute<X>(out, x, false);
    }
    template <std::size_t I, class Self, class G, class X, class R>
    using vjp = Node<BatchMeanOp<In>, G>;
    static Text print(const Text& x, const Text&) { return {cat("meanᵦ(", x.s, ")"), 3}; }
};

template <class In>
struct ChannelTotalOp;

/// p (one value per channel) repeated over shape S: one example's shape In, or a batch (B, In...).
/// (The shape is a template argument, not an operand: an operand would add an edge from every
/// use to the node whose shape it is.)
template <class In, class S>
struct PerChannelOp {
    template <class P>
    using shape = S;
    template <class P, class T>
    static void compute(T* out, const T* p) noexcept {
        static_assert(size_v<typename P::shape> == shape_traits<In>::extents[0],
                      "per_channel<In, S>(p): p must hold one value per channel");
        detail::broadcast_channels<In, S>(p, out, false);
    }
    template <std::size_t I, class Self, class G, class P>
    using vjp = Node<ChannelTotalOp<In>, G>;
    static Text print(const Text& p) { return p; }
};

/// The sum of each channel of g over its batch and H, W: one value per channel (derived
/// expressions only: per_channel's local rule).
template <class In>
struct ChannelTotalOp {
    static constexpr bool accumulating_kernel = true;
    template <class G>
    using shape = Shape<shape_traits<In>::extents[0]>;
    template <class G, class T>
    static void compute(T* out, const T* g, bool accumulate) noexcept {
        using L = detail::channel_layout<In, typename G::shape>;
        for (std::size_t c = 0; c < L::channels; ++c) {
            T s = 0;
            for (std::size_t b = 0; b < L::batch; ++b) {
                const T* p = g + (b * L::channels + c) * L::inner;
                for (std::size_t i = 0; i < L::inner; ++i) s += p[i];
            }
            out[c] = accumulate ? out[c] + s : s;
        }
    }
    static Text print(const Text& g) { return {cat("Σᵦ ", grouped(g, 3)), 2}; }
};

template <bool Taken>
struct TrainingGateOp;

/// a while training(), b otherwise (operands of one shape).
struct TrainingSelectOp {
    template <class A, class B>
    using shape = A;
    template <class A, class B, class T>
    static void compute(T* out, const T* a, const T* b) noexcept {
        static_assert(std::is_same_v<typename A::shape, typename B::shape>, "select_training(a, b): a and b must have one shape");
        const T* from = training() ? a : b;
        for (std::size_t i = 0; i < size_v<typename A::shape>; ++i) out[i] = from[i];
    }
    template <std::size_t I, class Self, class G, class A, class B>
    using vjp = Node<TrainingGateOp<I == 0>, G>;
    static Text print(const Text& a, const Text& b) { return {cat("(", a.s, " while training, else ", b.s, ")"), 3}; }
};

/// g when training() == Train, else 0 (derived expressions only: select_training's local rule).
template <bool Train>
struct TrainingGateOp {
    static constexpr bool accumulating_kernel = true;
    template <class G>
    using shape = G;
    template <class G, class T>
    static void compute(T* out, const T* g, bool accumulate) noexcept {
        constexpr std::size_t n = size_v<typename G::shape>;
        if (training() == Train) {
            for (std::size_t i = 0; i < n; ++i) out[i] = accumulate ? out[i] + g[i] : g[i];
        } else if (!accumulate) {
            for (std::size_t i = 0; i < n; ++i) out[i] = T(0);
        }
    }
    static Text print(const Text& g) { return {cat(Train ? "[training] " : "[evaluation] ", grouped(g, 3)), 2}; }
};

/// Whether an op mixes the examples of a batch.
template <class Op>
inline constexpr bool crosses_examples_v = [] {
    if constexpr (requires { Op::crosses_examples; }) return Op::crosses_examples;
    else return false;
}();

}  // namespace typegrad::expr
