// The layer contract. A layer is one type that answers, at compile time, everything the rest of
// typegrad needs; nothing else in typegrad names a particular kind of layer.
//
//   struct MyLayer {
//       static constexpr std::string_view name = "mylayer";   // derive, checkpoints, messages
//       template <class In> using output_shape = …;            // its output shape for input shape In
//                                                              // (static_assert in your words if In does not fit)
//       template <class In> using parameters = typegrad::params<typegrad::param<"α", Shape<…>, Init>, …>;
//                                                              // optional: none when absent
//       template <class X, class... P> using expression = …;   // the node it adds to the graph, given the node X
//                                                              // feeding it (its shape: In, or a batch (B, In...))
//                                                              // and one leaf per parameter, in declared order;
//                                                              // or expression_at<In, X, P...> if it needs In
//                                                              // (flatten: what is batch and what is image)
//       static constexpr std::string_view symbol = "a";        // optional: the letter of its output in derive
//       template <class In> static std::string torch_module();  // optional: its torch.nn module as JSON
//                                                              // ({"type": "PReLU", "kwargs": {…}}) for
//                                                              // .npz export (io/export.hpp)
//       template <class In, class Builder> static bool onnx(Builder& b);  // optional: its ONNX nodes
//                                                              // (io/onnx.hpp's OnnxBuilder), false if none fit In
//       static constexpr bool torch_weight_transposed = true;  // optional: PyTorch stores its weight (a
//                                                              // matrix) transposed (dense: Linear's (out, in))
//       static constexpr std::array<std::string_view, 2> torch_names{"in_proj_weight", …};
//                                                              // optional: its parameters' names in the torch
//                                                              // module's state_dict, in declared order, when
//                                                              // "weight"/"bias" by role would not do (attention)
//       static constexpr bool article_network = true;          // optional: of the article's kind of network
//                                                              // (dense, σ): its default init is N(0, 1)
//       static constexpr std::string_view outputs = "…";       // optional: what a network's outputs are when it
//                                                              // is the last layer (softmax: "softmax probabilities")
//   };
//
// and, in the same header, its word in the --net grammar (typegrad/nn/spec.hpp: keyword,
// arguments, C++ object, shapes and limits, registered with spec::add), so that the command line
// reads, prints, sizes and compiles it.
//
// Each parameter says its role (ParamRole below: weight, bias, scale, shift, statistic): the
// initialisation schemes, L2 decay, the optimizers and export read roles, never names.
//
// and, for the hand-written reference, a specialisation of typegrad::reference::rule<MyLayer>
// (reference/rule.hpp). docs/layers.md walks through an example (PReLU).
//
// Export has no list of layers: io/export.hpp and io/onnx.hpp read these hooks, for every
// layer, built-in or the user's, through layer_traits<L> only. The primary template forwards the
// layer's own members; a specialisation of layer_traits declares them itself (softmax), and
// Activation<F>'s takes them from activation_traits<F> (nn/layers/activation.hpp): the same
// torch_module and onnx as static members of the function struct F (a user's Activation<MyF>),
// or a specialisation (the functions of expr/, which know nothing of export). A layer without
// them is refused by export, named. (The combinators of nn/graph.hpp are graph structure, which
// io/ walks itself.)
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <tuple>
#include <utility>

#include "typegrad/expr/node.hpp"
#include "typegrad/tensor/tensor.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad {

/// A string usable as a template argument: param<"W", …>.
template <std::size_t N>
struct fixed_string {
    char value[N]{};
    constexpr fixed_string(const char (&s)[N]) noexcept { std::copy_n(s, N, value); }
    constexpr std::string_view view() const noexcept { return {value, N - 1}; }
    constexpr operator std::string_view() const noexcept { return view(); }
    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& o) const noexcept {
        return view() == o.view();
    }
};

/// How a parameter starts.
namespace init {
/// N(0, 1), the article's initialisation.
struct Normal {
    template <class T>
    static void fill(T* p, std::size_t n, Rng& rng) noexcept {
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(rng.normal());
    }
};
/// U(−1/√fan_in, 1/√fan_in), PyTorch's default for Conv2d and Linear (kaiming_uniform with
/// a = √5 gives this bound for the weights; the biases use the same one).
struct FanInUniform {
    template <class T>
    static void fill(T* p, std::size_t n, Rng& rng, std::size_t fan_in) noexcept {
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(rng.uniform(-bound, bound));
    }
};
/// How a model's parameters start (BasicModel's constructor), for every layer with weights W
/// and biases b (other parameters keep their layer's own initialiser), with fan_in =
/// size(W)/size(b) (n_in; C_in·K·K for a convolution) and fan_out = size(b)·receptive field
/// (n_out; C_out·K·K):
///   article   each layer's own initialiser: N(0, 1) for dense layers (the article's network)
///   pytorch   W and b ~ U(−1/√fan_in, 1/√fan_in) (PyTorch's Linear and Conv2d)
///   network2  W ~ N(0, 1/fan_in), b ~ N(0, 1) (Nielsen's network2.py, ch. 3)
///   glorot    W ~ U(−√(6/(fan_in + fan_out)), +√(…)), b = 0 (Glorot & Bengio 2010)
///   he        W ~ N(0, 2/fan_in), b = 0 (He et al. 2015, for ReLU)
///   automatic the article's for an MLP, PyTorch's for a network of images
enum class Scheme { automatic, article, pytorch, network2, glorot, he };

/// "network2" for Scheme::network2, and so on (the names of --init).
constexpr std::string_view scheme_name(Scheme s) noexcept {
    switch (s) {
        case Scheme::automatic: return "automatic";
        case Scheme::article: return "normal";
        case Scheme::pytorch: return "pytorch";
        case Scheme::network2: return "network2";
        case Scheme::glorot: return "glorot";
        case Scheme::he: return "he";
    }
    return "";
}

/// Draws W and b by scheme s (not article or automatic; see Scheme).
template <class T>
void fill_weights_and_biases(Scheme s, T* w, std::size_t nw, T* b, std::size_t nb, std::size_t receptive_field,
                             Rng& rng) noexcept {
    const std::size_t fan_in = nw / nb, fan_out = nb * receptive_field;
    switch (s) {
        case Scheme::pytorch:
            FanInUniform::fill(w, nw, rng, fan_in);  // PyTorch: the weights first
            FanInUniform::fill(b, nb, rng, fan_in);
            break;
        case Scheme::network2: {
            for (std::size_t i = 0; i < nb; ++i) b[i] = static_cast<T>(rng.normal());  // network2.py: the biases first
            const double sd = 1.0 / std::sqrt(static_cast<double>(fan_in));
            for (std::size_t i = 0; i < nw; ++i) w[i] = static_cast<T>(sd * rng.normal());
            break;
        }
        case Scheme::glorot: {
            const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
            for (std::size_t i = 0; i < nw; ++i) w[i] = static_cast<T>(rng.uniform(-bound, bound));
            for (std::size_t i = 0; i < nb; ++i) b[i] = T(0);
            break;
        }
        case Scheme::he: {
            const double sd = std::sqrt(2.0 / static_cast<double>(fan_in));
            for (std::size_t i = 0; i < nw; ++i) w[i] = static_cast<T>(sd * rng.normal());
            for (std::size_t i = 0; i < nb; ++i) b[i] = T(0);
            break;
        }
        case Scheme::article:
        case Scheme::automatic: break;
    }
}
/// The constant Num/Den (for example PReLU's slope of ¼, as PyTorch).
template <std::intmax_t Num, std::intmax_t Den = 1>
struct Constant {
    template <class T>
    static void fill(T* p, std::size_t n, Rng&) noexcept {
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(Num) / static_cast<T>(Den);
    }
};
}  // namespace init

/// What a parameter is to the rest of typegrad: the initialisation schemes (--init) draw the
/// weights and biases of a layer with both; L2 decays weights only; fan-in and fan-out are read
/// off a weight and its bias; optimizers update every role but `statistic`, a running estimate
/// the trainer updates from the forward pass (batch norm's running mean and variance, PyTorch's
/// "buffers"), saved in checkpoints and exported like the others.
enum class ParamRole { weight, bias, scale, shift, statistic, other };

namespace detail {
constexpr ParamRole default_role(std::string_view name) noexcept {
    return name == "W" ? ParamRole::weight : name == "b" ? ParamRole::bias : ParamRole::other;
}
}  // namespace detail

/// A learnable tensor of a layer: its name, its shape, its initialiser and its role (by default
/// a weight when named "W", a bias when named "b").
template <fixed_string Name, class S, class Init = init::Normal, ParamRole Role = detail::default_role(Name.view())>
struct param {
    static constexpr std::string_view name = Name;
    using shape = S;
    using initializer = Init;
    static constexpr ParamRole role = Role;
};

/// The role of parameter descriptor P (a param<…>, or a combinator's sub_param<…> of one).
template <class P>
inline constexpr ParamRole param_role_v = [] {
    if constexpr (requires { P::role; }) return ParamRole(P::role);
    else if constexpr (requires { typename P::inner; }) return param_role_v<typename P::inner>;
    else return detail::default_role(P::name);
}();
/// The parameters of a layer, in the order of its expression's leaves and of checkpoints.
template <class... P>
struct params {
    static constexpr std::size_t size = sizeof...(P);
};

/// An intermediate node of a layer's expression that `derive` names (issue 21): the layer's
/// `named_nodes<In, X, P...>` is a std::tuple of these, in forward order. derive then writes
/// "Symbolₗ = …" for the node (the layer's subscript appended: S₂.₁) and, with Adjoint, a line
/// "δSymbolₗ = …" for its adjoint, and prints both by name wherever they are used — attention's
/// [Q K V], S, P and O, so its backward pass reads as the textbook's δO, δP, δS, δ[QKV].
template <class Node, fixed_string Symbol, bool Adjoint = true>
struct named_node {
    using node = Node;
    static constexpr std::string_view symbol = Symbol;
    static constexpr bool adjoint = Adjoint;
};

namespace detail {
/// Layer L's named intermediate nodes over X (a std::tuple of named_node), none when it declares
/// none (`static constexpr bool has_named_nodes` asks, as GCC 12 misparses the alias template in
/// a requires expression).
template <class L, class In, class X, class... P>
auto named_nodes_of() {
    if constexpr (requires { L::has_named_nodes; }) return std::type_identity<typename L::template named_nodes<In, X, P...>>{};
    else return std::type_identity<std::tuple<>>{};
}
}  // namespace detail
template <class L, class In, class X, class... P>
using named_nodes_t = typename decltype(detail::named_nodes_of<L, In, X, P...>())::type;

/// The width a layer takes from whatever precedes it (Dense<N> without a stated input width).
inline constexpr std::size_t inferred_width = 0;

namespace detail {
template <class L, class In>
struct parameters_of {
    using type = params<>;
};
template <class L, class In>
    requires requires { typename L::template parameters<In>; }
struct parameters_of<L, In> {
    using type = typename L::template parameters<In>;
};

// L::expression<X, P...> for the layer's parameters P, or L::expression_at<In, X, P...> when the
// layer needs its input shape In (an alias template with a fixed number of parameters cannot take
// a pack expansion, CWG 1430: spelled out for up to six).
template <class L, class In, class X, class... P>
struct expression_of;
template <class L, class In, class X>
struct expression_of<L, In, X> {
    static auto pick() {
        if constexpr (requires { typename L::template expression_at<In, X>; })
            return std::type_identity<typename L::template expression_at<In, X>>{};
        else
            return std::type_identity<typename L::template expression<X>>{};
    }
    using type = typename decltype(pick())::type;
};
template <class L, class In, class X, class P0>
struct expression_of<L, In, X, P0> {
    static auto pick() {
        if constexpr (requires { typename L::template expression_at<In, X, P0>; })
            return std::type_identity<typename L::template expression_at<In, X, P0>>{};
        else
            return std::type_identity<typename L::template expression<X, P0>>{};
    }
    using type = typename decltype(pick())::type;
};
template <class L, class In, class X, class P0, class P1>
struct expression_of<L, In, X, P0, P1> {
    static auto pick() {
        if constexpr (requires { typename L::template expression_at<In, X, P0, P1>; })
            return std::type_identity<typename L::template expression_at<In, X, P0, P1>>{};
        else
            return std::type_identity<typename L::template expression<X, P0, P1>>{};
    }
    using type = typename decltype(pick())::type;
};
template <class L, class In, class X, class P0, class P1, class P2>
struct expression_of<L, In, X, P0, P1, P2> {
    static auto pick() {
        if constexpr (requires { typename L::template expression_at<In, X, P0, P1, P2>; })
            return std::type_identity<typename L::template expression_at<In, X, P0, P1, P2>>{};
        else
            return std::type_identity<typename L::template expression<X, P0, P1, P2>>{};
    }
    using type = typename decltype(pick())::type;
};
template <class L, class In, class X, class P0, class P1, class P2, class P3>
struct expression_of<L, In, X, P0, P1, P2, P3> {
    static auto pick() {
        if constexpr (requires { typename L::template expression_at<In, X, P0, P1, P2, P3>; })
            return std::type_identity<typename L::template expression_at<In, X, P0, P1, P2, P3>>{};
        else
            return std::type_identity<typename L::template expression<X, P0, P1, P2, P3>>{};
    }
    using type = typename decltype(pick())::type;
};
template <class L, class In, class X, class P0, class P1, class P2, class P3, class P4>
struct expression_of<L, In, X, P0, P1, P2, P3, P4> {
    static auto pick() {
        if constexpr (requires { typename L::template expression_at<In, X, P0, P1, P2, P3, P4>; })
            return std::type_identity<typename L::template expression_at<In, X, P0, P1, P2, P3, P4>>{};
        else
            return std::type_identity<typename L::template expression<X, P0, P1, P2, P3, P4>>{};
    }
    using type = typename decltype(pick())::type;
};
template <class L, class In, class X, class P0, class P1, class P2, class P3, class P4, class P5>
struct expression_of<L, In, X, P0, P1, P2, P3, P4, P5> {
    static auto pick() {
        if constexpr (requires { typename L::template expression_at<In, X, P0, P1, P2, P3, P4, P5>; })
            return std::type_identity<typename L::template expression_at<In, X, P0, P1, P2, P3, P4, P5>>{};
        else
            return std::type_identity<typename L::template expression<X, P0, P1, P2, P3, P4, P5>>{};
    }
    using type = typename decltype(pick())::type;
};

template <class L, class In>
struct output_shape_of {
    using type = typename L::template output_shape<In>;
};

template <class L>
std::string layer_name_of() {
    if constexpr (requires { L::name(); }) return std::string(L::name());
    else return std::string(L::name);
}
}  // namespace detail

namespace detail {
/// The export hooks of the contract above (io/export.hpp, io/onnx.hpp read only these): T's own
/// static members torch_module<In>() (its torch.nn module as JSON after input shape In) and
/// onnx<In>(Builder&) (its ONNX nodes), each absent when T has none, and whether PyTorch stores
/// its weight (a matrix) transposed. What layer_traits<L> gives of a layer L, and
/// activation_traits<F> of an activation's function F (nn/layers/activation.hpp).
template <class T>
struct member_export_hooks {
    template <class In>
        requires requires { T::template torch_module<In>(); }
    static std::string torch_module() {
        return std::string(T::template torch_module<In>());
    }
    template <class In, class Builder>
        requires requires(Builder& b) { T::template onnx<In>(b); }
    static bool onnx(Builder& b) {
        return T::template onnx<In>(b);
    }
    static constexpr bool torch_weight_transposed = [] {
        if constexpr (requires { T::torch_weight_transposed; }) return bool(T::torch_weight_transposed);
        else return false;
    }();
    /// The parameters' names in the module's state_dict, in declared order; none (the names of
    /// their roles, "weight" and "bias") when T does not give them.
    static constexpr auto torch_names = [] {
        if constexpr (requires { T::torch_names; }) return T::torch_names;
        else return std::array<std::string_view, 0>{};
    }();
};
}  // namespace detail

/// What typegrad reads of a layer type. The primary template reads the members of the
/// contract above; built-in layers defined elsewhere (the activations of expr/) specialise it.
template <class L>
struct layer_traits : detail::member_export_hooks<L> {
    static constexpr bool is_layer = requires { L::name; } || requires { L::name(); };
    static std::string name() { return detail::layer_name_of<L>(); }
    template <class In>
    using output_shape = typename detail::output_shape_of<L, In>::type;
    template <class In>
    using parameters = typename detail::parameters_of<L, In>::type;
    /// The node the layer adds after X, for input shape In (one example's).
    template <class In, class X, class... P>
    using expression = typename detail::expression_of<L, In, X, P...>::type;
    static constexpr std::string_view symbol = [] {
        if constexpr (requires { L::symbol; }) return std::string_view(L::symbol);
        else return std::string_view{};
    }();
    /// What the network's outputs are when this layer is its last, for `predict`'s header
    /// ("softmax probabilities"): the layer's own `outputs`, "" when it has none.
    static constexpr std::string_view outputs = [] {
        if constexpr (requires { L::outputs; }) return std::string_view(L::outputs);
        else return std::string_view{};
    }();
    /// Whether the layer belongs to the article's kind of network (a vector through dense layers
    /// and σ only, whose init::Scheme::automatic is the article's N(0, 1)): the layer's own
    /// `static constexpr bool article_network`, false when it has none.
    static constexpr bool article_network = [] {
        if constexpr (requires { L::article_network; }) return bool(L::article_network);
        else return false;
    }();
    /// Inputs seen by one weight per output (K·K for a convolution, 1 for a dense layer): the
    /// initialisers' fan_out is size(b) times this.
    static constexpr std::size_t receptive_field = [] {
        if constexpr (requires { L::receptive_field; }) return std::size_t(L::receptive_field);
        else return std::size_t{1};
    }();
    /// Draws the initial parameters by an --init scheme, when the layer has its own rule for it
    /// (`initialize_scheme(rng, scheme, tensors...)`: a layer with several weight matrices, such
    /// as attention's projections); otherwise initialize_layer_tensors draws a weight W and a bias
    /// b by the scheme and the rest by their initialisers.
    template <class In, class... Tensors>
        requires requires(Rng& rng, init::Scheme s, Tensors&... t) { L::template initialize_scheme<In>(rng, s, t...); }
    static void initialize_scheme(Rng& rng, init::Scheme scheme, Tensors&... t) {
        L::template initialize_scheme<In>(rng, scheme, t...);
    }
    /// Draws the initial parameters (tensors in declared order) from rng. The layer's own
    /// `initialize(rng, tensors...)` if it has one, else each parameter's initialiser in order.
    template <class In, class... Tensors>
    static void initialize(Rng& rng, Tensors&... t) {
        if constexpr (requires { L::template initialize<In>(rng, t...); }) {
            L::template initialize<In>(rng, t...);
        } else {
            [&]<class... P>(params<P...>) { (P::initializer::fill(t.data(), t.size(), rng), ...); }(parameters<In>{});
        }
    }
};

namespace detail {
template <fixed_string Name, class List>
struct param_index;
template <fixed_string Name, class... P>
struct param_index<Name, params<P...>> {
    static constexpr std::size_t value = [] {
        constexpr bool same[] = {(P::name == Name.view())..., false};
        for (std::size_t i = 0; i < sizeof...(P); ++i)
            if (same[i]) return i;
        return sizeof...(P);
    }();
};
/// The index of the first parameter of role R in List (its size if none).
template <ParamRole R, class List>
struct role_index;
template <ParamRole R, class... P>
struct role_index<R, params<P...>> {
    static constexpr std::size_t value = [] {
        constexpr bool same[] = {(param_role_v<P> == R)..., false};
        for (std::size_t i = 0; i < sizeof...(P); ++i)
            if (same[i]) return i;
        return sizeof...(P);
    }();
};
}  // namespace detail

/// One layer's parameters drawn as a model draws them (BasicModel's constructor): its weight and
/// bias (ParamRole) by the scheme when the layer has both and the scheme is not the article's, else the layer's own
/// initialiser; a combinator (nn/graph.hpp) draws each layer inside it so.
template <class L, class In, class... Tensors>
void initialize_layer_tensors(Rng& rng, init::Scheme scheme, Tensors&... t) {
    if constexpr (requires { layer_traits<L>::template initialize_scheme<In>(rng, scheme, t...); }) {
        layer_traits<L>::template initialize_scheme<In>(rng, scheme, t...);
    } else {
        using P = typename layer_traits<L>::template parameters<In>;
        constexpr std::size_t w = detail::role_index<ParamRole::weight, P>::value,
                              b = detail::role_index<ParamRole::bias, P>::value;
        if constexpr (w < P::size && b < P::size) {
            if (scheme != init::Scheme::article) {
                auto all = std::forward_as_tuple(t...);
                auto& wt = std::get<w>(all);
                auto& bt = std::get<b>(all);
                init::fill_weights_and_biases(scheme, wt.data(), wt.size(), bt.data(), bt.size(), layer_traits<L>::receptive_field, rng);
                return;
            }
        }
        layer_traits<L>::template initialize<In>(rng, t...);
    }
}

/// A layer: a type with a name and an output shape rule (see the contract above).
template <class L>
concept Layer = layer_traits<L>::is_layer;

template <class L, class In>
inline constexpr bool has_parameters_v = layer_traits<L>::template parameters<In>::size > 0;

}  // namespace typegrad
