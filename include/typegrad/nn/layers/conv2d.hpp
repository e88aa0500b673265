// 2-D convolution layer: z = W ⋆ a + b over images (C, H, W), with Co kernels of K × K, a stride
// and zero padding; W (Co, C, K, K) and b (Co) as in PyTorch's Conv2d, and PyTorch's default
// initialisation (U(−1/√fan_in, 1/√fan_in) for both, fan_in = C·K·K).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/spatial.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/spec.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad {

namespace detail {
// The one place a convolution's input is checked; the compiler shows this instantiation with
// the layer and the input shape, e.g. "conv_fits<typegrad::Conv2d<6, 5, 1, 0>, xt::fixed_shape<1, 4, 4>>".
template <class L, class In>
struct conv_fits {
    static constexpr bool image = rank_v<In> == 3;
    static_assert(image,
                  "conv2d takes an image (channels, height, width): start the network with input<C, H, W> "
                  "(see 'conv_fits<Layer, input shape>' below)");
    static constexpr auto e = shape_traits<std::conditional_t<image, In, Shape<1, 1, 1>>>::extents;
    static constexpr bool kernel = L::kernel <= e[1] + 2 * L::padding && L::kernel <= e[2] + 2 * L::padding;
    static_assert(!image || kernel,
                  "conv2d: the kernel is larger than the (padded) input image "
                  "(see 'conv_fits<Layer, input shape>' below)");
    static constexpr bool channels = L::stated_channels == inferred_width || !image || L::stated_channels == e[0];
    static_assert(channels,
                  "conv2d<C_out, K, Stride, Padding, C_in>: the layer states C_in input channels, and the image "
                  "before it has a different number (see 'conv_fits<Layer, input shape>' below)");
    static constexpr bool value = image && kernel && channels;
    using window = simd::Window<e[0], e[1], e[2], (value ? L::kernel : 1), L::stride, L::padding>;
};
}  // namespace detail

/// Conv2d<Co, K, Stride = 1, Padding = 0, Ci>: Co output channels, K × K kernels; the input
/// channels Ci are taken from the image before it unless stated (then they are checked, as
/// PyTorch's Conv2d(in_channels, …) would at run time).
template <std::size_t Co, std::size_t K, std::size_t Stride = 1, std::size_t Padding = 0, std::size_t Ci = inferred_width>
struct Conv2d {
    static_assert(Co > 0, "conv2d<C_out, K>: a convolution has at least one output channel");
    static_assert(K > 0, "conv2d<C_out, K>: the kernel is at least 1 × 1");
    static_assert(Stride > 0, "conv2d<C_out, K, Stride, Padding>: the stride is at least 1");
    static constexpr std::size_t channels = Co, kernel = K, stride = Stride, padding = Padding, stated_channels = Ci;
    static constexpr std::size_t receptive_field = K * K;

    static std::string name() {
        if constexpr (Stride == 1 && Padding == 0) return cat("conv2d<", Co, ", ", K, ">");
        else return cat("conv2d<", Co, ", ", K, ", ", Stride, ", ", Padding, ">");
    }
    static constexpr std::string_view symbol = "z";

    template <class In>
    using output_shape = Shape<Co, detail::conv_fits<Conv2d, In>::window::out_height,
                               detail::conv_fits<Conv2d, In>::window::out_width>;
    template <class In>
    using parameters = params<param<"W", Shape<Co, shape_traits<In>::extents[0], K, K>>, param<"b", Shape<Co>>>;
    template <class X, class W, class B>
    using expression = expr::Node<expr::Conv2dOp<Stride, Padding>, W, X, B>;

    template <class In, class R, class Wt, class Bt>
    static void initialize(R& rng, Wt& w, Bt& b) {
        constexpr std::size_t fan_in = shape_traits<In>::extents[0] * K * K;
        init::FanInUniform::fill(w.data(), w.size(), rng, fan_in);
        init::FanInUniform::fill(b.data(), b.size(), rng, fan_in);
    }

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.Conv2d, whose weight (C_out, C_in,
    /// K, K) is W as stored; ONNX Conv(x, W, b) with its kernel shape, strides and pads.
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"Conv2d\", \"in_channels\": ", shape_traits<In>::extents[0], ", \"out_channels\": ", Co,
                   ", \"kernel_size\": ", K, ", \"stride\": ", Stride, ", \"padding\": ", Padding, "}");
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        using A = typename Builder::attribute;
        constexpr auto k = static_cast<std::int64_t>(K), s = static_cast<std::int64_t>(Stride), p = static_cast<std::int64_t>(Padding);
        b.node("Conv", {b.parameter("weight"), b.parameter("bias")},
               {A{"kernel_shape", {k, k}, true}, A{"strides", {s, s}, true}, A{"pads", {p, p, p, p}, true}});
        return true;
    }
};

template <std::size_t Co, std::size_t K, std::size_t Stride = 1, std::size_t Padding = 0, std::size_t Ci = inferred_width>
inline constexpr Conv2d<Co, K, Stride, Padding, Ci> conv2d{};

/// --net: "convCkK[sS][pP]", C output channels, K × K kernels, stride S (1), padding P (0), with
/// ":ACT" as a dense layer; linear when none is given, as PyTorch's Conv2d (a dense layer keeps the
/// article's σ).
namespace spec::words {
inline constexpr Argument conv_arguments[] = {
    {""}, {"k"}, {"s", Argument::Kind::count, true, 1}, {"p", Argument::Kind::count_or_zero, true, 0}};
inline constexpr Word conv{
    .keyword = "conv",
    .what = "a convolution convCkK[sS][pP], e.g. conv6k5 or conv16k3s2p1",
    .cpp = "conv2d",
    .arguments = conv_arguments,
    .takes_activation = true,
    .default_activation = "linear",
    .weighted = true,
    .convolution = true,
    .shape = [](const Values& v, Extents& s, std::vector<std::uint64_t>& p) {
        const std::uint64_t c = v.n[0], k = v.n[1], stride = v.n[2], pad = v.n[3];
        if (s.size() != 3) return std::string("takes an image");
        if (k > s[1] + 2 * pad || k > s[2] + 2 * pad || stride == 0) return std::string("does not fit its input");
        p.insert(p.end(), {product(product(c, s[0]), k * k), c});  // kernels (C_out, C_in, K, K), biases (C_out)
        s = {c, (s[1] + 2 * pad - k) / stride + 1, (s[2] + 2 * pad - k) / stride + 1};
        return std::string();
    },
    .limits = [](const Values& v) {
        const std::uint64_t c = v.n[0], k = v.n[1], stride = v.n[2], pad = v.n[3];
        if (c > limits::conv_channels) return cat("a convolution of ", c, " channels, more than the ", limits::conv_channels, " typegrad compiles");
        if (k > limits::kernel)
            return cat("a ", k, "x", k, " kernel, larger than the ", limits::kernel, "x", limits::kernel, " typegrad compiles");
        if (stride > limits::stride) return cat("a stride of ", stride, ", more than the ", limits::stride, " typegrad compiles");
        if (pad >= k) return cat("a padding of ", pad, " with a ", k, "x", k, " kernel (the padding must be smaller than the kernel)");
        return std::string();
    },
};
inline const bool conv_registered = add(conv);
}  // namespace spec::words

}  // namespace typegrad
