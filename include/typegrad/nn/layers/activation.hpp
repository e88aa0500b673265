// Elementwise activations a = f(z), on tensors of any rank. The layer is the function object of
// expr/ (typegrad::sigmoid is typegrad::expr::sigmoid), so `input<784> | dense<30> | sigmoid`
// and `sigmoid(matT_vec(W, x) + b)` use one name, and `using namespace typegrad;` together with
// `using namespace typegrad::expr;` is not ambiguous. tanh is the exception that proves it: see
// below.
#pragma once

#include <numbers>
#include <string>
#include <string_view>

#include "typegrad/expr/build.hpp"
#include "typegrad/expr/functions.hpp"
#include "typegrad/expr/noise.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/sequential.hpp"
#include "typegrad/util/text.hpp"
#include "typegrad/nn/spec.hpp"

namespace typegrad {

namespace fn = expr::fn;
using expr::ElementwiseFunction;

/// Elementwise activation a = f(z); any ElementwiseFunction works: Activation<Softplus>.
template <class F>
using Activation = expr::MapFn<F>;

namespace detail {
/// What an activation is not, unless its activation_traits say so: of the article's network
/// (nn/layer.hpp's article_network), named in predict's header (outputs).
struct activation_defaults {
    static constexpr bool article_network = false;
    static constexpr std::string_view outputs = {};
};
}  // namespace detail

/// What typegrad knows of Activation<F> beyond F itself, read through layer_traits: the export
/// hooks (nn/layer.hpp's contract; io/export.hpp and io/onnx.hpp), and article_network and
/// outputs (false and "" unless a specialisation says otherwise: σ's). The export hooks are F's own
/// static members, named as a layer's,
///   template <class In> static std::string torch_module();       // its torch.nn module, JSON
///   template <class In, class Builder> static bool onnx(Builder&);  // its ONNX nodes
/// — a user's Activation<MyF> exports by declaring them on MyF. The functions of expr/, which know
/// nothing of export, have theirs in the specialisations below (or specialise this for a
/// function struct you cannot change).
template <class F>
struct activation_traits : detail::member_export_hooks<F>, detail::activation_defaults {};

template <class F>
struct layer_traits<expr::MapFn<F>> : activation_traits<F> {
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

namespace detail {
/// torch.nn.<Torch>(), without arguments.
template <fixed_string Torch>
struct torch_plain_module : activation_defaults {
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"", Torch.view(), "\"}");
    }
};
/// And the one ONNX op <Onnx>: sigmoid, tanh, relu.
template <fixed_string Torch, fixed_string Onnx>
struct one_op_export : torch_plain_module<Torch> {
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node(Onnx.value);
        return true;
    }
};
}  // namespace detail
template <>
struct activation_traits<fn::Sigmoid> : detail::one_op_export<"Sigmoid", "Sigmoid"> {
    static constexpr bool article_network = true;  // the article's activation
    static constexpr std::string_view outputs = "sigmoid activations (each in (0, 1), not normalised)";
};
template <>
struct activation_traits<fn::Tanh> : detail::one_op_export<"Tanh", "Tanh"> {};
template <>
struct activation_traits<fn::Relu> : detail::one_op_export<"ReLU", "Relu"> {};
/// nn.LeakyReLU(0.01); ONNX LeakyRelu, alpha 0.01 (a FLOAT attribute).
template <>
struct activation_traits<fn::LeakyRelu> : detail::activation_defaults {
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"LeakyReLU\", \"negative_slope\": ", expr::rate_text(fn::LeakyRelu::slope), "}");
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node("LeakyRelu", {}, {typename Builder::attribute{"alpha", {}, false, static_cast<float>(fn::LeakyRelu::slope)}});
        return true;
    }
};
/// nn.SiLU(); ONNX x · Sigmoid(x) (opset 13 has no SiLU op).
template <>
struct activation_traits<fn::Silu> : detail::torch_plain_module<"SiLU"> {
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        const std::string x = b.current;
        b.current = b.add("Mul", "silu", {x, b.add("Sigmoid", "sigmoid", {x})});
        return true;
    }
};
/// nn.GELU(), exact as typegrad's (approximate="none"); ONNX x · ½(1 + Erf(x / √2)) node by node
/// (Gelu is an ONNX op from opset 20 only), its constants scalar initializers.
template <>
struct activation_traits<fn::Gelu> : detail::torch_plain_module<"GELU"> {
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        const std::string x = b.current;
        const std::string erf = b.add("Erf", "erf", {b.add("Div", "scaled", {x, b.constant("sqrt2", std::numbers::sqrt2)})});
        const std::string phi = b.add("Mul", "phi", {b.add("Add", "one_plus_erf", {erf, b.constant("one", 1.0)}), b.constant("half", 0.5)});
        b.current = b.add("Mul", "gelu", {x, phi});
        return true;
    }
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

/// --net: the activations, after ':' ("30:relu") or on their own ("30:linear-relu").
namespace spec::words {
inline constexpr Word sigmoid{.keyword = "sigmoid", .cpp = "sigmoid", .description = "σ", .role = Word::Role::activation};
inline constexpr Word tanh{.keyword = "tanh", .cpp = "tanh_", .description = "tanh", .role = Word::Role::activation};
inline constexpr Word relu{.keyword = "relu", .cpp = "relu", .role = Word::Role::activation};
inline constexpr Word gelu{.keyword = "gelu", .cpp = "gelu", .role = Word::Role::activation};
inline constexpr Word silu{.keyword = "silu", .cpp = "silu", .role = Word::Role::activation};
inline constexpr Word leaky_relu{.keyword = "leakyrelu", .cpp = "leaky_relu", .role = Word::Role::activation};
inline const bool activations_registered =
    (add(sigmoid), add(tanh), add(relu), add(gelu), add(silu), add(leaky_relu), true);
}  // namespace spec::words

}  // namespace typegrad
