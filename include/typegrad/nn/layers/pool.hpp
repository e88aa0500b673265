// Pooling layers over images (C, H, W): max_pool<K> and avg_pool<K> take K × K windows with
// stride K. The window must divide the height and the width (checked at compile time; there is
// no silent floor that drops the last rows, as PyTorch's default does).
#pragma once

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
// The one place a pooling layer's input is checked ('pool_fits<Layer, input shape>').
template <class L, class In>
struct pool_fits {
    static constexpr bool image = rank_v<In> == 3;
    static_assert(image, "max_pool/avg_pool take an image (channels, height, width) (see 'pool_fits<Layer, input shape>' below)");
    static constexpr auto e = shape_traits<std::conditional_t<image, In, Shape<1, 1, 1>>>::extents;
    static constexpr bool divides = e[1] % L::window == 0 && e[2] % L::window == 0;
    static_assert(!image || divides,
                  "max_pool<K>/avg_pool<K>: the window K must divide the input's height and width "
                  "(see 'pool_fits<Layer, input shape>' below)");
    using type = Shape<e[0], (divides ? e[1] / L::window : 1), (divides ? e[2] / L::window : 1)>;
};
}  // namespace detail

/// Pooling over K × K windows: max_pool<K> (the gradient goes to each window's maximum, the
/// first one in row-major order on ties) and avg_pool<K> (the mean).
template <expr::Pooling P, std::size_t K>
struct Pool {
    static_assert(K > 0, "max_pool<K>/avg_pool<K>: the window is at least 1 × 1");
    static constexpr std::size_t window = K;
    static std::string name() { return cat(P == expr::Pooling::max ? "max_pool<" : "avg_pool<", K, ">"); }
    static constexpr std::string_view symbol = "a";
    template <class In>
    using output_shape = typename detail::pool_fits<Pool, In>::type;
    template <class X>
    using expression = expr::Node<expr::PoolOp<P, K>, X>;

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.MaxPool2d(K) or AvgPool2d(K) (stride
    /// K by default); ONNX MaxPool or AveragePool with stride = window.
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"", P == expr::Pooling::max ? "MaxPool2d" : "AvgPool2d", "\", \"kernel_size\": ", K, "}");
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        using A = typename Builder::attribute;
        constexpr auto k = static_cast<std::int64_t>(K);
        b.node(P == expr::Pooling::max ? "MaxPool" : "AveragePool", {}, {A{"kernel_shape", {k, k}, true}, A{"strides", {k, k}, true}});
        return true;
    }
};
template <std::size_t K>
using MaxPool = Pool<expr::Pooling::max, K>;
template <std::size_t K>
using AvgPool = Pool<expr::Pooling::average, K>;

template <std::size_t K>
inline constexpr MaxPool<K> max_pool{};
template <std::size_t K>
inline constexpr AvgPool<K> avg_pool{};

/// --net: "maxpoolK", "avgpoolK": K × K windows, stride K.
namespace spec::words {
inline constexpr Argument pool_arguments[] = {{""}};
inline std::string pool_shape(const Values& v, Extents& s, std::vector<std::uint64_t>&) {
    const std::uint64_t k = v.n[0];
    if (s.size() != 3 || k == 0 || s[1] % k != 0 || s[2] % k != 0) return "does not divide its input";
    s = {s[0], s[1] / k, s[2] / k};
    return {};
}
inline std::string pool_limits(const Values& v) {
    const std::uint64_t k = v.n[0];
    return k > limits::kernel
               ? cat("a ", k, "x", k, " pooling window, larger than the ", limits::kernel, "x", limits::kernel, " typegrad compiles")
               : std::string();
}
inline constexpr Word max_pool{.keyword = "maxpool", .what = "a pooling maxpoolK or avgpoolK", .cpp = "max_pool",
                               .arguments = pool_arguments, .shape = pool_shape, .limits = pool_limits};
inline constexpr Word avg_pool{.keyword = "avgpool", .what = "a pooling maxpoolK or avgpoolK", .cpp = "avg_pool",
                               .arguments = pool_arguments, .shape = pool_shape, .limits = pool_limits};
inline const bool max_pool_registered = add(max_pool);
inline const bool avg_pool_registered = add(avg_pool);
}  // namespace spec::words

}  // namespace typegrad
