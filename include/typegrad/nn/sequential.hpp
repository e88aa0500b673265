// A network's architecture as a type:  input<784> | dense<30> | sigmoid | dense<10> | sigmoid
// Every shape is a compile-time constant: Sequential<Shape<784>, Dense<30>, Sigmoid, …> knows the
// shape after each layer, and a composition whose shapes do not fit does not compile (each
// layer's output_shape rule says why, in its own words).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/nn/layer.hpp"
#include "typegrad/tensor/tensor.hpp"

namespace typegrad {

/// The network's input: a tensor of shape N... (784, or channels × height × width).
template <std::size_t... N>
struct InputLayer {
    static_assert(sizeof...(N) >= 1, "input<N...>: give the input's shape, e.g. input<784> or input<1, 28, 28>");
    static_assert(((N > 0) && ...), "input<N...>: every extent of a network's input must be at least 1");
    using shape = Shape<N...>;
    static constexpr std::size_t width = size_v<shape>;
};

template <std::size_t... N>
inline constexpr InputLayer<N...> input{};

namespace detail {
template <class In, class... Ls>
struct shapes_after;
template <class In>
struct shapes_after<In> {
    using type = std::tuple<In>;
};
template <class In, class L, class... Ls>
struct shapes_after<In, L, Ls...> {
    using out = typename layer_traits<L>::template output_shape<In>;
    template <class... S>
    static auto prepend(std::tuple<S...>) -> std::tuple<In, S...>;
    using type = decltype(prepend(typename shapes_after<out, Ls...>::type{}));
};
}  // namespace detail

/// A composition: an input shape followed by layers. Built with operator|.
template <class InShape, Layer... Layers>
struct Sequential {
    using input_shape = InShape;
    using layers = std::tuple<Layers...>;
    static constexpr std::size_t depth = sizeof...(Layers);
    /// shapes: the shape after k layers, k = 0 … depth (element 0 is the input's).
    using shapes = typename detail::shapes_after<InShape, Layers...>::type;
    template <std::size_t K>
    using shape_at = std::tuple_element_t<K, shapes>;
    using output_shape = shape_at<depth>;
    template <std::size_t K>
    using layer_at = std::tuple_element_t<K, layers>;

    /// widths[k]: the number of elements after k layers (widths[0] is the input's).
    static constexpr auto widths = []<std::size_t... K>(std::index_sequence<K...>) {
        return std::array<std::size_t, sizeof...(K)>{size_v<shape_at<K>>...};
    }(std::make_index_sequence<depth + 1>{});
    static constexpr std::size_t input_width = size_v<InShape>;
    static constexpr std::size_t output_width = size_v<output_shape>;
    /// has_parameters[k]: layer k has learnable tensors.
    static constexpr auto has_parameters = []<std::size_t... K>(std::index_sequence<K...>) {
        return std::array<bool, sizeof...(K)>{has_parameters_v<layer_at<K>, shape_at<K>>...};
    }(std::make_index_sequence<depth>{});
    static constexpr std::size_t parameter_layers = [] {
        std::size_t n = 0;
        for (bool b : has_parameters) n += b;
        return n;
    }();
    /// parameter_positions[L]: the position in the composition of the L-th layer with parameters.
    static constexpr auto parameter_positions = [] {
        std::array<std::size_t, parameter_layers> pos{};
        std::size_t l = 0;
        for (std::size_t k = 0; k < depth; ++k)
            if (has_parameters[k]) pos[l++] = k;
        return pos;
    }();
    /// parameter_index[k]: the number of layers with parameters before position k.
    static constexpr auto parameter_index = [] {
        std::array<std::size_t, depth + 1> idx{};
        for (std::size_t k = 0; k < depth; ++k) idx[k + 1] = idx[k] + (has_parameters[k] ? 1 : 0);
        return idx;
    }();
};

namespace detail {
template <class Got, class Expected>
struct composition_fits {
    static_assert(std::is_same_v<Got, Expected>,
                  "these compositions cannot be chained: the second one's input shape differs from the "
                  "first one's output shape (see 'composition_fits<output shape, input shape>' below)");
    static constexpr bool value = std::is_same_v<Got, Expected>;
};
}  // namespace detail

/// input<N...> | layer
template <std::size_t... N, Layer L>
constexpr auto operator|(InputLayer<N...>, L) {
    return Sequential<Shape<N...>, L>{};
}

/// composition | layer
template <class S, Layer... Ls, Layer L>
constexpr auto operator|(Sequential<S, Ls...>, L) {
    return Sequential<S, Ls..., L>{};
}

/// composition | composition (for example a feature extractor followed by a head)
template <class S, Layer... Ls, class R, Layer... Ms>
constexpr auto operator|(Sequential<S, Ls...>, Sequential<R, Ms...>) {
    [[maybe_unused]] detail::composition_fits<typename Sequential<S, Ls...>::output_shape, R> check;  // reported here
    return Sequential<S, Ls..., Ms...>{};
}

template <class T>
struct is_sequential : std::false_type {};
template <class S, class... Ls>
struct is_sequential<Sequential<S, Ls...>> : std::true_type {};

/// "input<784> | dense<30> | σ | dense<10> | σ"
template <class S>
std::string layers_description() {
    std::string s = "input<";
    constexpr auto e = shape_traits<typename S::input_shape>::extents;
    for (std::size_t i = 0; i < e.size(); ++i) s += (i ? ", " : "") + std::to_string(e[i]);
    s += ">";
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((s += " | ", s += layer_traits<typename S::template layer_at<K>>::name()), ...);
    }(std::make_index_sequence<S::depth>{});
    return s;
}

}  // namespace typegrad
