// Ops over images: 2-D convolution, pooling and reshaping. Activations are (C, H, W), row-major;
// every extent before the last three is a row of the batch, as for the other ops. A
// convolution's weights are (C_out, C_in, K, K) and its biases (C_out), as in PyTorch.
//
// Their local rules are ops too (derived expressions only), each a kernel of simd/conv.hpp:
//   z = W ⋆ x + b        ∂J/∂W = x ⋆ δ,   ∂J/∂b = Σ_hw δ,   ∂J/∂x = full(δ) ⋆ flip(W)
//   y = maxpool_K(x)     ∂J/∂x = route_K(δ; x): δ routed to each window's maximum (the first on ties)
//   y = avgpool_K(x)     ∂J/∂x = spread_K(δ) / K²: δ spread evenly over each window
//   y = x as S           ∂J/∂x = δ as x's shape   (reshaping copies elements in order)
#pragma once

#include <cstddef>
#include <string>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/simd/conv.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::expr {

namespace detail {

/// The trailing (C, H, W) of an image shape, and the number of images before them.
template <class S>
struct image_of {
    static_assert(rank_v<S> >= 3, "an image op takes (channels, height, width), or a batch of them");
    static constexpr auto e = shape_traits<S>::extents;
    static constexpr std::size_t channels = e[rank_v<S> - 3], height = e[rank_v<S> - 2], width = e[rank_v<S> - 1];
    static constexpr std::size_t size = channels * height * width;
    static constexpr std::size_t rows = size_v<S> / size;
};

/// S with its trailing three extents replaced by (C, H, W).
template <class S, std::size_t C, std::size_t H, std::size_t W>
struct with_image {
    template <std::size_t... M>
    static auto lead(std::index_sequence<M...>) -> Shape<shape_traits<S>::extents[M]..., C, H, W>;
    using type = decltype(lead(std::make_index_sequence<rank_v<S> - 3>{}));
};
template <class S, std::size_t C, std::size_t H, std::size_t W>
using with_image_t = typename with_image<S, C, H, W>::type;

template <class X, std::size_t K, std::size_t Stride, std::size_t Pad>
using window_of = simd::Window<image_of<X>::channels, image_of<X>::height, image_of<X>::width, K, Stride, Pad>;

inline std::string conv_options(std::size_t stride, std::size_t pad) {
    if (stride == 1 && pad == 0) return "";
    std::string s = "[";
    if (stride != 1) s += cat("stride ", stride);
    if (pad != 0) s += cat(stride != 1 ? ", " : "", "pad ", pad);
    return s + "]";
}

}  // namespace detail

template <std::size_t Stride, std::size_t Pad, std::size_t K>
struct Conv2dWeightGradOp;
template <std::size_t Stride, std::size_t Pad, class XShape>
struct Conv2dInputGradOp;
struct ChannelSumOp;
template <std::size_t K>
struct MaxPoolGradOp;
template <std::size_t K>
struct AvgPoolGradOp;

/// z = W ⋆ x + b: the cross-correlation of every image x (C, H, W) with the kernels W
/// (Co, C, K, K), stride Stride, Pad zeros around the image, plus b (Co) in every channel.
template <std::size_t Stride, std::size_t Pad>
struct Conv2dOp {
    template <class W, class X, class B>
    struct shape_of {
        static constexpr auto w = shape_traits<W>::extents;
        static_assert(rank_v<W> == 4 && w[2] == w[3], "conv2d: the weights are (C_out, C_in, K, K)");
        static_assert(w[1] == detail::image_of<X>::channels,
                      "conv2d: the kernel's input channels differ from the image's channels");
        using G = detail::window_of<X, w[2], Stride, Pad>;
        static_assert(G::fits, "conv2d: the kernel is larger than the (padded) image");
        using type = detail::with_image_t<X, w[0], G::out_height, G::out_width>;
    };
    template <class W, class X, class B>
    using shape = typename shape_of<W, X, B>::type;

    template <class W, class X, class B, class T>
    static void compute(T* out, const T* w, const T* x, const T* b) noexcept {
        using I = detail::image_of<typename X::shape>;
        constexpr auto e = shape_traits<typename W::shape>::extents;
        using G = detail::window_of<typename X::shape, e[2], Stride, Pad>;
        for (std::size_t r = 0; r < I::rows; ++r)
            simd::conv2d_forward<G, e[0]>(w, x + r * I::size, b, out + r * e[0] * G::positions);
    }
    template <std::size_t I, class Self, class G, class W, class X, class B>
    using vjp = std::conditional_t<
        I == 0, Node<Conv2dWeightGradOp<Stride, Pad, shape_traits<typename W::shape>::extents[2]>, X, G>,
        std::conditional_t<I == 1, Node<Conv2dInputGradOp<Stride, Pad, typename X::shape>, W, G>, Node<ChannelSumOp, G>>>;
    static Text print(const Text& w, const Text& x, const Text& b) {
        return {cat(grouped(w, 3), " ⋆", detail::conv_options(Stride, Pad), " ", grouped(x, 3), " + ", grouped(b, 1)), 1};
    }
};

/// ∂J/∂W = Σ over the batch of x ⋆ δ (derived expressions only).
template <std::size_t Stride, std::size_t Pad, std::size_t K>
struct Conv2dWeightGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class X, class D>
    using shape = Shape<detail::image_of<D>::channels, detail::image_of<X>::channels, K, K>;
    template <class X, class D, class T>
    static void compute(T* out, const T* x, const T* d, bool accumulate) noexcept {
        using I = detail::image_of<typename X::shape>;
        using O = detail::image_of<typename D::shape>;
        using G = detail::window_of<typename X::shape, K, Stride, Pad>;
        for (std::size_t r = 0; r < I::rows; ++r)
            simd::conv2d_weight_gradient<G, O::channels>(x + r * I::size, d + r * O::size, out, accumulate || r > 0);
    }
    static Text print(const Text& x, const Text& d) {
        return {cat(grouped(x, 3), " ⋆", detail::conv_options(Stride, Pad), " ", grouped(d, 3)), 2};
    }
};

/// ∂J/∂x = full(δ) ⋆ flip(W): δ spread back through the kernels (derived expressions only).
template <std::size_t Stride, std::size_t Pad, class XShape>
struct Conv2dInputGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class W, class D>
    using shape = XShape;
    template <class W, class D, class T>
    static void compute(T* out, const T* w, const T* d, bool accumulate) noexcept {
        using I = detail::image_of<XShape>;
        using O = detail::image_of<typename D::shape>;
        using G = detail::window_of<XShape, shape_traits<typename W::shape>::extents[2], Stride, Pad>;
        for (std::size_t r = 0; r < I::rows; ++r)
            simd::conv2d_input_gradient<G, O::channels>(w, d + r * O::size, out + r * I::size, accumulate);
    }
    static Text print(const Text& w, const Text& d) {
        return {cat("full(", d.s, ") ⋆", detail::conv_options(Stride, Pad), " flip(", w.s, ")"), 2};
    }
};

/// Σ over the batch and the positions of each channel (derived expressions only): ∂J/∂b.
struct ChannelSumOp {
    static constexpr bool accumulating_kernel = true;
    template <class D>
    using shape = Shape<detail::image_of<D>::channels>;
    template <class D, class T>
    static void compute(T* out, const T* d, bool accumulate) noexcept {
        using O = detail::image_of<typename D::shape>;
        constexpr std::size_t n = O::height * O::width;
        for (std::size_t r = 0; r < O::rows; ++r)
            for (std::size_t c = 0; c < O::channels; ++c) {
                const T s = simd::sum_row<n>(d + r * O::size + c * n);
                out[c] = accumulate || r > 0 ? out[c] + s : s;
            }
    }
    static Text print(const Text& d) { return {cat("Σ_hw ", grouped(d, 3)), 2}; }
};

namespace detail {
template <std::size_t K, class X>
struct pool_shape {
    using I = image_of<X>;
    static_assert(K >= 1 && I::height % K == 0 && I::width % K == 0,
                  "pooling: the window must divide the image's height and width");
    using type = with_image_t<X, I::channels, I::height / K, I::width / K>;
};
}  // namespace detail

/// Which value a pooling window gives: its maximum or its mean.
enum class Pooling { max, average };

/// y = the maximum (or the mean) of every K × K window (stride K) of each channel.
template <Pooling P, std::size_t K>
struct PoolOp {
    template <class X>
    using shape = typename detail::pool_shape<K, X>::type;
    template <class X, class T>
    static void compute(T* out, const T* x) noexcept {
        using I = detail::image_of<typename X::shape>;
        for (std::size_t r = 0; r < I::rows; ++r) {
            if constexpr (P == Pooling::max)
                simd::max_pool_forward<I::channels, I::height, I::width, K>(x + r * I::size, out + r * I::size / (K * K));
            else
                simd::avg_pool_forward<I::channels, I::height, I::width, K>(x + r * I::size, out + r * I::size / (K * K));
        }
    }
    template <std::size_t I, class Self, class G, class X>
    using vjp = std::conditional_t<P == Pooling::max, Node<MaxPoolGradOp<K>, X, Self, G>, Node<AvgPoolGradOp<K>, X, G>>;
    static Text print(const Text& x) {
        return {cat(P == Pooling::max ? "maxpool" : "avgpool", subscript(K), "(", x.s, ")"), 3};
    }
};
template <std::size_t K>
using MaxPoolOp = PoolOp<Pooling::max, K>;
template <std::size_t K>
using AvgPoolOp = PoolOp<Pooling::average, K>;

/// δ routed to the maximum of each window (derived expressions only).
template <std::size_t K>
struct MaxPoolGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class X, class Y, class D>
    using shape = X;
    template <class X, class Y, class D, class T>
    static void compute(T* out, const T* x, const T* y, const T* d, bool accumulate) noexcept {
        using I = detail::image_of<typename X::shape>;
        constexpr std::size_t o = I::size / (K * K);
        for (std::size_t r = 0; r < I::rows; ++r)
            simd::max_pool_backward<I::channels, I::height, I::width, K>(x + r * I::size, y + r * o, d + r * o,
                                                                         out + r * I::size, accumulate);
    }
    static Text print(const Text& x, const Text&, const Text& d) {
        return {cat("route", subscript(K), "(", d.s, "; ", x.s, ")"), 3};  // each entry to the maximum of its window of x
    }
};

/// δ / K² spread over each window (derived expressions only; X gives the shape).
template <std::size_t K>
struct AvgPoolGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class X, class D>
    using shape = X;
    template <class X, class D, class T>
    static void compute(T* out, const T*, const T* d, bool accumulate) noexcept {
        using I = detail::image_of<typename X::shape>;
        constexpr std::size_t o = I::size / (K * K);
        for (std::size_t r = 0; r < I::rows; ++r)
            simd::avg_pool_backward<I::channels, I::height, I::width, K>(d + r * o, out + r * I::size, accumulate);
    }
    static Text print(const Text&, const Text& d) {
        return {cat("spread", subscript(K), "(", d.s, ") / ", K * K), 2};
    }
};

/// x with the shape To (the same elements in the same row-major order): flatten, and its
/// inverse in flatten's local rule.
template <class To>
struct ReshapeOp {
    static constexpr bool elementwise = true;
    template <class A>
    struct shape_of {
        static_assert(size_v<A> == size_v<To>, "reshape: the new shape must have as many elements as the old one");
        using type = To;
    };
    template <class A>
    using shape = typename shape_of<A>::type;
    template <class V>
    static V apply(V a) noexcept { return a; }
    template <std::size_t I, class Self, class G, class A>
    using vjp = Node<ReshapeOp<typename A::shape>, G>;
    static Text print(const Text& a) { return {cat(grouped(a, 3), " as ", shape_text<To>()), 2}; }
};

}  // namespace typegrad::expr
