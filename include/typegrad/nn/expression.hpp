// A model's cost as an expression type, built from its composition: each layer adds the node of
// its `expression` rule to the node before it, with one leaf per parameter. Batch = 1 is one
// example (nodes of the layers' own shapes); Batch = B > 1 is a mini-batch of B examples, the
// batch as the leading extent — the same network, the same ops, the same engine.
#pragma once

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/ad/graph.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/sequential.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad {

/// Tags of a model's leaves: the input x, the target y, and parameter I of layer K (named by
/// the parameter and the layer's index L among layers with parameters: W₀, b₀, α₁).
struct input_tag {
    static std::string name() { return "x"; }
};
struct target_tag {
    static std::string name() { return "y"; }
};
namespace detail {
template <std::size_t I, class List>
struct element_of;
template <std::size_t I, template <class...> class List, class... P>
struct element_of<I, List<P...>> {
    using type = std::tuple_element_t<I, std::tuple<P...>>;
};
}  // namespace detail

template <class S, std::size_t K, std::size_t I>
struct parameter_tag {
    using descriptor = typename detail::element_of<
        I, typename layer_traits<typename S::template layer_at<K>>::template parameters<typename S::template shape_at<K>>>::type;
    // a parameter of a layer inside a combinator (nn/graph.hpp) also names that layer: W₁.₀, W₁.₁
    static std::string name() {
        if constexpr (requires { descriptor::sub; })
            return cat(descriptor::name, subscript(S::parameter_index[K]), ".", subscript(descriptor::sub));
        else
            return cat(descriptor::name, subscript(S::parameter_index[K]));
    }
};

/// A name given to an intermediate node of a model's expression (zᴸ, aᴸ) and, optionally, to
/// its adjoint (δᴸ for zᴸ).
template <class Node, class Name>
struct Named {
    using node = Node;
    using name = Name;
};

namespace detail {

template <class S, std::size_t K>
inline constexpr std::string_view symbol_of = [] {
    constexpr std::string_view s = layer_traits<typename S::template layer_at<K>>::symbol;
    if constexpr (!s.empty()) return s;
    else return S::has_parameters[K] ? std::string_view("z") : std::string_view("a");
}();
// The subscript of layer K's output: L for the z of parameter layer L, and for an activation the
// L of the last parameter layer before it; primes tell apart repeated names (a₀, a₀′).
template <class S, std::size_t K>
inline constexpr std::size_t subscript_of = symbol_of<S, K> == "z" && S::has_parameters[K] ? S::parameter_index[K]
                                            : S::parameter_index[K] > 0                   ? S::parameter_index[K] - 1
                                                                                          : 0;
template <class S, std::size_t K>
inline constexpr std::size_t primes_of = []<std::size_t... J>(std::index_sequence<J...>) {
    return (std::size_t{0} + ... +
            (S::parameter_index[J] > 0 && symbol_of<S, J> == symbol_of<S, K> && subscript_of<S, J> == subscript_of<S, K> ? 1 : 0));
}(std::make_index_sequence<K>{});

template <class S, std::size_t K>
struct output_name {
    static std::string name() {
        std::string s = cat(symbol_of<S, K>, subscript(subscript_of<S, K>));
        for (std::size_t i = 0; i < primes_of<S, K>; ++i) s += "′";
        return s;
    }
};
template <class S, std::size_t K>
struct delta_name : output_name<S, K> {
    static std::string adjoint_name() { return cat("δ", subscript(subscript_of<S, K>)); }
};

/// The name of a node inside a block at parameter layer L (nn/graph.hpp): z_L.k (adjoint δ_L.k)
/// for the output of its k-th inner layer with parameters, a_L.k for an activation after it.
template <std::size_t L, std::size_t Sub, bool Z>
struct inner_name {
    static std::string name() { return cat(Z ? "z" : "a", subscript(L), ".", subscript(Sub)); }
    static std::string adjoint_name()
        requires Z
    {
        return cat("δ", subscript(L), ".", subscript(Sub));
    }
};

/// The name of an intermediate node N (a named_node, nn/layer.hpp) of the layer at parameter
/// layer L — inside a block, of its inner layer Sub (Sub = npos at the top level): S₂.₁, δS₂.₁.
template <std::size_t L, std::size_t Sub, class N>
struct intermediate_name {
    static std::string label() {
        return Sub == std::size_t(-1) ? subscript(L) : cat(subscript(L), ".", subscript(Sub));
    }
    static std::string name() { return cat(N::symbol, label()); }
    static std::string adjoint_name()
        requires N::adjoint
    {
        return cat("δ", N::symbol, label());
    }
};
template <std::size_t L, std::size_t Sub, class... N>
auto intermediate_names(std::tuple<N...>*) -> ad::type_list<Named<typename N::node, intermediate_name<L, Sub, N>>...>;

template <std::size_t Batch, class Sh>
using batched_t = std::conditional_t<Batch == 1, Sh, prepend_t<Batch, Sh>>;

template <class S, std::size_t K, class ParamList>
struct parameter_leaves;
template <class S, std::size_t K, class... P>
struct parameter_leaves<S, K, params<P...>> {
    template <std::size_t... I>
    static auto of(std::index_sequence<I...>)
        -> ad::type_list<expr::leaf_of_shape_t<expr::Role::parameter, parameter_tag<S, K, I>, typename P::shape>...>;
    using type = decltype(of(std::index_sequence_for<P...>{}));
};
template <class S, std::size_t K>
using parameter_leaves_t = typename parameter_leaves<
    S, K, typename layer_traits<typename S::template layer_at<K>>::template parameters<typename S::template shape_at<K>>>::type;

template <class S, std::size_t K, class E, class Leaves>
struct layer_node;
// A layer that uses parameters of another layer of the composition (nn/shared.hpp: a tied or
// shared use) gets those layers' leaves — the same types, so the engine sums both uses'
// adjoints — after its own: layer_traits<L>::borrowed_leaves<S, K> (asked by a flag: GCC 12
// misparses `typename …::template alias<…>` in a requires expression).
template <class S, std::size_t K>
auto borrowed_leaves_of() {
    using L = typename S::template layer_at<K>;
    if constexpr (requires { layer_traits<L>::borrows_parameters; })
        return typename layer_traits<L>::template borrowed_leaves<S, K>{};
    else
        return ad::type_list<>{};
}
template <class S, std::size_t K, class E, class... P>
struct layer_node<S, K, E, ad::type_list<P...>> {
    template <class... Q>
    static auto with(ad::type_list<Q...>) ->
        typename layer_traits<typename S::template layer_at<K>>::template expression<typename S::template shape_at<K>, E, P..., Q...>;
    using type = decltype(with(borrowed_leaves_of<S, K>()));
};

// (The end is a bool parameter rather than a partial specialisation on S::depth, which clang
// refuses: "type of specialized non-type template argument depends on a template parameter".)
template <class S, std::size_t K, class E, class Done, bool End = (K == S::depth)>
struct layer_outputs;
template <class S, std::size_t K, class E, class... Done>
struct layer_outputs<S, K, E, std::tuple<Done...>, false> {
    using node = typename layer_node<S, K, E, parameter_leaves_t<S, K>>::type;
    using type = typename layer_outputs<S, K + 1, node, std::tuple<Done..., node>>::type;
};
template <class S, std::size_t K, class E, class... Done>
struct layer_outputs<S, K, E, std::tuple<Done...>, true> {
    using type = std::tuple<Done...>;
};

}  // namespace detail

/// Everything the engine needs to know about model M, as types. Batch = 1: the cost of one
/// example; Batch = B > 1: the summed cost of a mini-batch of B examples, with (B, …) nodes.
template <class M, std::size_t Batch = 1>
struct ModelExpression {
    static_assert(Batch >= 1, "a batch has at least one example");
    using S = typename M::composition;
    using T = typename M::value_type;
    static constexpr std::size_t batch = Batch;
    using x = expr::leaf_of_shape_t<expr::Role::input, input_tag, detail::batched_t<Batch, typename S::input_shape>>;
    using y = expr::leaf_of_shape_t<expr::Role::input, target_tag, detail::batched_t<Batch, typename S::output_shape>>;
    /// outputs: the output node of every layer, in order.
    using outputs = typename detail::layer_outputs<S, 0, x, std::tuple<>>::type;
    template <std::size_t K>
    using output_of_layer = std::tuple_element_t<K, outputs>;
    using output = output_of_layer<S::depth - 1>;
    /// The cost J(a, y) (summed over the batch), before the engine's rewrite rules.
    using cost = typename M::cost_type::template expression<output, y>;
    /// The leaf of parameter I of the layer at position K.
    template <std::size_t K, std::size_t I>
    using parameter = typename detail::element_of<I, detail::parameter_leaves_t<S, K>>::type;
    /// zᴸ: the output node of parameter layer L (its adjoint is δᴸ); Wᴸ and bᴸ.
    template <std::size_t L>
    using z = output_of_layer<S::parameter_positions[L]>;
    template <std::size_t L>
    using weights = parameter<S::parameter_positions[L], 0>;
    template <std::size_t L>
    using biases = parameter<S::parameter_positions[L], 1>;

private:
    // the intermediate nodes a layer names (named_node), before its output's name
    template <std::size_t K, class... P>
    static auto named_nodes_with(ad::type_list<P...>) {
        using X = typename decltype(input_of_layer<K>())::type;
        return decltype(detail::intermediate_names<S::parameter_index[K], std::size_t(-1)>(
            static_cast<named_nodes_t<typename S::template layer_at<K>, typename S::template shape_at<K>, X, P...>*>(nullptr))){};
    }
    template <std::size_t K>
    static auto name_of_layer() {
        return named_nodes_with<K>(detail::parameter_leaves_t<S, K>{}) + own_name_of_layer<K>();
    }
    template <std::size_t K>
    static auto own_name_of_layer() {
        if constexpr (detail::symbol_of<S, K> == "z" && S::has_parameters[K])
            return ad::type_list<Named<output_of_layer<K>, detail::delta_name<S, K>>>{} + inner_names<K>();
        else if constexpr (S::parameter_index[K] == 0)
            return ad::type_list<>{};  // an activation of the input itself: written out
        else
            return ad::type_list<Named<output_of_layer<K>, detail::output_name<S, K>>>{};
    }
    // the nodes inside a block (a layer with inner_nodes, nn/graph.hpp): z_L.k, a_L.k
    template <std::size_t K>
    static auto input_of_layer() {
        if constexpr (K == 0) return std::type_identity<x>{};
        else return std::type_identity<output_of_layer<K - 1>>{};
    }
    template <std::size_t K, class... P>
    static auto inner_names_with(ad::type_list<P...>) {
        using L = typename S::template layer_at<K>;
        using In = typename S::template shape_at<K>;
        using X = typename decltype(input_of_layer<K>())::type;
        // (asked by a flag: GCC 12 takes `typename …::template inner_nodes<…>` in a requires
        // expression for the alias template itself, not a type)
        if constexpr (requires { layer_traits<L>::has_inner_nodes; }) {
            return []<class... N>(std::tuple<N...>*) {
                return (ad::type_list<>{} + ... + inner_name_of<S::parameter_index[K], N>());
            }(static_cast<typename layer_traits<L>::template inner_nodes<In, X, P...>*>(nullptr));
        } else {
            return ad::type_list<>{};
        }
    }
    template <std::size_t K>
    static auto inner_names() {
        return inner_names_with<K>(detail::parameter_leaves_t<S, K>{});
    }
    template <std::size_t L, class N>
    static auto inner_name_of() {
        constexpr std::size_t sub = N::has_parameters || N::sub == 0 ? N::sub : N::sub - 1;
        return decltype(detail::intermediate_names<L, sub>(static_cast<typename N::named_nodes*>(nullptr))){} +
               inner_own_name_of<L, N>();
    }
    template <std::size_t L, class N>
    static auto inner_own_name_of() {
        if constexpr (N::has_parameters) return ad::type_list<Named<typename N::node, detail::inner_name<L, N::sub, true>>>{};
        else if constexpr (N::sub > 0) return ad::type_list<Named<typename N::node, detail::inner_name<L, N::sub - 1, false>>>{};
        else return ad::type_list<>{};
    }
    template <std::size_t... K>
    static auto names_of(std::index_sequence<K...>) {
        return (ad::type_list<>{} + ... + name_of_layer<K>());
    }

public:
    /// Names for printing: zᴸ (adjoint δᴸ) and aᴸ.
    using names = decltype(names_of(std::make_index_sequence<S::depth>{}));
};

}  // namespace typegrad
