// Layers as typed nodes and their composition:  input<784> | dense<30> | sigmoid | dense<10> | sigmoid
// Every width is a compile-time constant; a composition whose widths do not fit does not compile.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "typegrad/nn/functions.hpp"

namespace typegrad {

/// The width a layer takes from whatever precedes it (Dense<N> without a stated input width).
inline constexpr std::size_t inferred_width = 0;

/// The network's input: N features.
template <std::size_t N>
struct Input {
    static_assert(N > 0, "Input<N>: a network's input width must be at least 1");
    static constexpr std::size_t width = N;
};

/// Fully connected layer with Out units, z = Wᵀa + b, W of shape (In, Out). In is taken from
/// the previous layer unless stated (then it is checked): Dense<10> or Dense<10, 30>.
template <std::size_t Out, std::size_t In = inferred_width>
struct Dense {
    static_assert(Out > 0, "Dense<Out>: a layer must have at least one unit");
    static constexpr std::size_t units = Out;
    static constexpr std::size_t stated_input = In;
};

/// PyTorch's spelling: Linear<in_features, out_features> is Dense<Out, In>.
template <std::size_t In, std::size_t Out>
using Linear = Dense<Out, In>;

/// Elementwise activation a = f(z); any ElementwiseFunction works.
template <ElementwiseFunction F>
struct Activation {
    using function = F;
};

/// softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ over the whole layer (pair it with cost::LogLikelihood).
struct Softmax {};

using Sigmoid = Activation<fn::Sigmoid>;
using Tanh = Activation<fn::Tanh>;
using Relu = Activation<fn::Relu>;

template <std::size_t N>
inline constexpr Input<N> input{};
template <std::size_t Out, std::size_t In = inferred_width>
inline constexpr Dense<Out, In> dense{};
template <std::size_t In, std::size_t Out>
inline constexpr Linear<In, Out> linear{};
inline constexpr Sigmoid sigmoid{};
inline constexpr Tanh tanh_{};
inline constexpr Relu relu{};
inline constexpr Softmax softmax{};

// ---------------------------------------------------------------------------------------------
// Width rules: what a layer accepts and what it produces.

template <class Layer>
struct layer_traits;  // a type that is not a layer has no traits

template <std::size_t Out, std::size_t In>
struct layer_traits<Dense<Out, In>> {
    static constexpr bool has_parameters = true;
    static constexpr bool accepts(std::size_t w) { return In == inferred_width || In == w; }
    static constexpr std::size_t output_width(std::size_t) { return Out; }
};

template <class F>
struct layer_traits<Activation<F>> {
    static constexpr bool has_parameters = false;
    static constexpr bool accepts(std::size_t) { return true; }
    static constexpr std::size_t output_width(std::size_t w) { return w; }
};

template <>
struct layer_traits<Softmax> {
    static constexpr bool has_parameters = false;
    static constexpr bool accepts(std::size_t) { return true; }
    static constexpr std::size_t output_width(std::size_t w) { return w; }
};

template <class L>
concept Layer = requires {
    { layer_traits<L>::has_parameters } -> std::convertible_to<bool>;
};

/// A composition: an input followed by layers. Built with operator|.
template <std::size_t N, Layer... Layers>
struct Sequential {
    using input_type = Input<N>;
    using layers = std::tuple<Layers...>;
    static constexpr std::size_t depth = sizeof...(Layers);

    /// widths[k]: the width after k layers (widths[0] is the input width).
    static constexpr auto widths = [] {
        std::array<std::size_t, sizeof...(Layers) + 1> w{N};
        std::size_t k = 0;
        ((w[k + 1] = layer_traits<Layers>::output_width(w[k]), ++k), ...);
        return w;
    }();
    static constexpr std::size_t input_width = N;
    static constexpr std::size_t output_width = widths[sizeof...(Layers)];
    static constexpr std::size_t parameter_layers = (std::size_t{0} + ... + (layer_traits<Layers>::has_parameters ? 1 : 0));
};

namespace detail {
// The one place a width mismatch is reported. The compiler shows this assertion with the
// offending layer and the width it was given, e.g. "layer_fits<Dense<10, 30>, 20>".
template <class L, std::size_t PreviousWidth>
struct layer_fits {
    static_assert(layer_traits<L>::accepts(PreviousWidth),
                  "this layer cannot follow the previous one: it expects a different input width "
                  "(see 'layer_fits<Layer, width of the previous layer>' below)");
    static constexpr bool value = layer_traits<L>::accepts(PreviousWidth);
};
template <std::size_t Got, std::size_t Expected>
struct composition_fits {
    static_assert(Got == Expected,
                  "these compositions cannot be chained: the second one's input width differs from the "
                  "first one's output width (see 'composition_fits<output width, input width>' below)");
    static constexpr bool value = Got == Expected;
};
}  // namespace detail

/// input<N> | layer
template <std::size_t N, Layer L>
constexpr auto operator|(Input<N>, L) {
    [[maybe_unused]] detail::layer_fits<L, N> check;  // a width mismatch is reported here
    return Sequential<N, L>{};
}

/// composition | layer
template <std::size_t N, Layer... Ls, Layer L>
constexpr auto operator|(Sequential<N, Ls...>, L) {
    [[maybe_unused]] detail::layer_fits<L, Sequential<N, Ls...>::output_width> check;  // a width mismatch is reported here
    return Sequential<N, Ls..., L>{};
}

/// composition | composition (for example a feature extractor followed by a head)
template <std::size_t N, Layer... Ls, std::size_t M, Layer... Ms>
constexpr auto operator|(Sequential<N, Ls...>, Sequential<M, Ms...>) {
    [[maybe_unused]] detail::composition_fits<Sequential<N, Ls...>::output_width, M> check;  // reported here
    return Sequential<N, Ls..., Ms...>{};
}


namespace detail {
template <class Seq, std::size_t... Ns>
struct append_dense_sigmoid {
    using type = Seq;
};
template <std::size_t N0, class... Ls, std::size_t N, std::size_t... Ns>
struct append_dense_sigmoid<Sequential<N0, Ls...>, N, Ns...> {
    using type = typename append_dense_sigmoid<Sequential<N0, Ls..., Dense<N>, Sigmoid>, Ns...>::type;
};
}  // namespace detail

/// input<N0> | dense<N1> | sigmoid | ... | dense<Nk> | sigmoid
template <std::size_t... Sizes>
struct sigmoid_mlp {
    static_assert(sizeof...(Sizes) >= 2,
                  "Network<T, sizes...>: give at least two sizes, the input width and the output width");
    using type = Sequential<1, Dense<1>>;  // a placeholder, so that only the assertion above is reported
};
template <std::size_t N0, std::size_t N1, std::size_t... Ns>
struct sigmoid_mlp<N0, N1, Ns...> {
    using type = typename detail::append_dense_sigmoid<Sequential<N0>, N1, Ns...>::type;
};
template <std::size_t... Sizes>
using sigmoid_mlp_t = typename sigmoid_mlp<Sizes...>::type;

}  // namespace typegrad
