// Elementwise activations a = f(z), on tensors of any rank. The layer is the function object of
// expr/ (typegrad::sigmoid is typegrad::expr::sigmoid), so `input<784> | dense<30> | sigmoid`
// and `sigmoid(matT_vec(W, x) + b)` use one name, and `using namespace typegrad;` together with
// `using namespace typegrad::expr;` is not ambiguous. tanh is the exception that proves it: see
// below.
#pragma once

#include <string>

#include "typegrad/expr/build.hpp"
#include "typegrad/expr/functions.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/sequential.hpp"

namespace typegrad {

namespace fn = expr::fn;
using expr::ElementwiseFunction;

/// Elementwise activation a = f(z); any ElementwiseFunction works: Activation<Softplus>.
template <class F>
using Activation = expr::MapFn<F>;

template <class F>
struct layer_traits<expr::MapFn<F>> {
    static constexpr bool is_layer = true;
    static std::string name() { return std::string(F::name); }
    template <class In>
    using output_shape = std::conditional_t<expr::detail::check_function<F>::value, In, In>;  // F is checked here
    template <class In>
    using parameters = params<>;
    template <class In, class X>
    using expression = expr::Node<expr::MapOp<F>, X>;
    static constexpr std::string_view symbol = "a";
    template <class In>
    static void initialize(Rng&) noexcept {}
};

using Sigmoid = Activation<fn::Sigmoid>;
using Tanh = Activation<fn::Tanh>;
using Relu = Activation<fn::Relu>;
using Gelu = Activation<fn::Gelu>;
using Silu = Activation<fn::Silu>;
using LeakyRelu = Activation<fn::LeakyRelu>;

using expr::relu;
using expr::sigmoid;
/// GELU (exact, erf), SiLU and leaky ReLU (slope 0.01): layers, and functions on expressions.
inline constexpr Gelu gelu{};
inline constexpr Silu silu{};
inline constexpr LeakyRelu leaky_relu{};

/// tanh: `input<4> | dense<3> | typegrad::tanh` is the tanh layer, and tanh(e) on an expression
/// is the tanh node. A function overload set rather than an object, so that under
/// `using namespace typegrad;` an unqualified tanh(0.5) still calls the C library's tanh: the
/// composition operators take the overload `Tanh tanh(layer_name)` by its address.
struct layer_name {};
using expr::tanh;
constexpr Tanh tanh(layer_name) noexcept { return {}; }
/// Another spelling of the tanh layer, as an object.
inline constexpr Tanh tanh_{};

template <std::size_t... N>
constexpr auto operator|(InputLayer<N...> in, Tanh (*)(layer_name)) {
    return in | Tanh{};
}
template <class S, Layer... Ls>
constexpr auto operator|(Sequential<S, Ls...> s, Tanh (*)(layer_name)) {
    return s | Tanh{};
}

}  // namespace typegrad
