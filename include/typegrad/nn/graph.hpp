// Compositions beyond a chain: a block is a value you name and reuse, and a few combinators make
// a graph of it — a residual connection, branches on one input joined by concatenation or by sum.
//
//   constexpr auto block = typegrad::dense<64> | typegrad::relu | typegrad::dense<64>;   // a Chain
//   constexpr auto net = typegrad::input<784> | typegrad::dense<64> | typegrad::relu
//                        | typegrad::residual(block) | typegrad::relu
//                        | typegrad::concat(typegrad::dense<32> | typegrad::relu, typegrad::dense<16> | typegrad::tanh_)
//                        | typegrad::dense<10> | typegrad::softmax;
//
// Each combinator is a layer of the layer contract (nn/layer.hpp) whose parameters are those of
// the layers inside it, in order (sub_param: the same names, W and b, with the index of the inner
// layer, so that initialisation, L2 decay and checkpoints treat them as they treat a dense
// layer's), and whose expression is the graph itself: residual(body) is x + body(x), concat the
// ConcatOp of its branches (expr/join.hpp), branch_sum their sum. Reverse mode needs nothing
// more: the engine sums the adjoints of a node used twice (x at a fork), so δ at a fork is the
// sum of its consumers' δs. The hand-written reference rules are in reference/graph.hpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/expr/join.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/layers/activation.hpp"
#include "typegrad/nn/sequential.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad {

/// Layers one after the other, without an input: a block's body (`dense<64> | relu |
/// dense<64>`), or the head of a network (`input<784> | head`).
// (No static_assert on an empty chain: `composition | typegrad::tanh` makes the compiler try
// Chain<> for the overload set, a non-deduced context, and only then discard the candidate.
// Every way of building a chain gives it at least one layer.)
template <Layer... Ls>
struct Chain {
    static constexpr std::size_t size = sizeof...(Ls);
    static std::string name() {
        std::string s;
        ((s += (s.empty() ? "" : " | ") + layer_traits<Ls>::name()), ...);
        return s;
    }
};

template <class T>
struct is_chain : std::false_type {};
template <class... Ls>
struct is_chain<Chain<Ls...>> : std::true_type {};

/// A layer or a chain of layers: what a block's body or a branch may be.
template <class B>
concept Block = Layer<B> || is_chain<B>::value;

namespace detail {
template <class B>
struct as_chain {
    using type = Chain<B>;
};
template <class... Ls>
struct as_chain<Chain<Ls...>> {
    using type = Chain<Ls...>;
};
template <class A, class B>
struct chain_cat;
template <class... A, class... B>
struct chain_cat<Chain<A...>, Chain<B...>> {
    using type = Chain<A..., B...>;
};
}  // namespace detail

template <class B>
using as_chain_t = typename detail::as_chain<B>::type;

/// layer | layer, chain | layer, layer | chain, chain | chain: a longer chain.
template <Block A, Block B>
constexpr auto operator|(A, B) {
    return typename detail::chain_cat<as_chain_t<A>, as_chain_t<B>>::type{};
}
/// … | typegrad::tanh (an overload set, see nn/layers/activation.hpp)
template <Block A>
constexpr auto operator|(A a, Tanh (*)(layer_name)) {
    return a | Tanh{};
}

/// input<N...> | chain and composition | chain: the chain's layers appended.
template <std::size_t... N, class... Ms>
constexpr auto operator|(InputLayer<N...>, Chain<Ms...>) {
    return Sequential<Shape<N...>, Ms...>{};
}
template <class S, Layer... Ls, class... Ms>
constexpr auto operator|(Sequential<S, Ls...>, Chain<Ms...>) {
    return Sequential<S, Ls..., Ms...>{};
}

/// A parameter of the layer Sub inside a combinator (its index among the layers with parameters
/// inside it):
/// the inner layer's own descriptor, renumbered.
template <std::size_t Sub, class P>
struct sub_param {
    static constexpr std::string_view name = P::name;
    using shape = typename P::shape;
    using initializer = typename P::initializer;
    static constexpr std::size_t sub = Sub;
    using inner = P;
};

namespace detail {

/// The layers inside a combinator's branches, flattened in order with their input shapes: the
/// order of its parameters, of its reference rule's walk and of its initialisation.
template <class In, class... Chains>
struct inner_layers;

template <class L, class In, std::size_t Sub, std::size_t First>
struct inner_layer {
    using layer = L;
    using input_shape = In;
    using output_shape = typename layer_traits<L>::template output_shape<In>;
    using parameters = typename layer_traits<L>::template parameters<In>;
    static constexpr std::size_t sub = Sub;                   // its index among the inner layers with parameters
    static constexpr std::size_t first = First;               // the index of its first parameter
    static constexpr std::size_t count = parameters::size;    // how many it has
};

/// The inner layers of one chain from input shape In, numbered from Sub, parameters from First.
template <class In, std::size_t Sub, std::size_t First, class... Ls>
struct chain_layers {
    using type = std::tuple<>;
    using output_shape = In;
    static constexpr std::size_t next_sub = Sub, next_first = First;
};
template <class In, std::size_t Sub, std::size_t First, class L, class... Ls>
struct chain_layers<In, Sub, First, L, Ls...> {
    using here = inner_layer<L, In, Sub, First>;
    // Sub counts the inner layers with parameters (W₁.₀, W₁.₁ for a block's two dense layers)
    using rest = chain_layers<typename here::output_shape, Sub + (here::count > 0 ? 1 : 0), First + here::count, Ls...>;
    template <class... R>
    static auto join(std::tuple<R...>) -> std::tuple<here, R...>;
    using type = decltype(join(typename rest::type{}));
    using output_shape = typename rest::output_shape;
    static constexpr std::size_t next_sub = rest::next_sub, next_first = rest::next_first;
};

/// The branches of a combinator on input In: per branch, its inner layers and output shape.
template <class In, std::size_t Sub, std::size_t First, class... Chains>
struct branches {
    using layers = std::tuple<>;    // inner_layer…, all branches
    using spans = std::tuple<>;     // one chain_layers per branch
};
template <class In, std::size_t Sub, std::size_t First, class... Ls, class... Chains>
struct branches<In, Sub, First, Chain<Ls...>, Chains...> {
    using here = chain_layers<In, Sub, First, Ls...>;
    using rest = branches<In, here::next_sub, here::next_first, Chains...>;
    template <class... A, class... B>
    static auto cat(std::tuple<A...>, std::tuple<B...>) -> std::tuple<A..., B...>;
    using layers = decltype(cat(typename here::type{}, typename rest::layers{}));
    using spans = decltype(cat(std::tuple<here>{}, typename rest::spans{}));
};

/// An inner layer's output node (for the names of derive), with the intermediate nodes its layer
/// names (named_node, nn/layer.hpp).
template <class Node, class Inner, class Named = std::tuple<>>
struct inner_node {
    using node = Node;
    static constexpr std::size_t sub = Inner::sub;
    static constexpr bool has_parameters = Inner::count > 0;
    using named_nodes = Named;
};

/// The node of one chain over X, given all of the combinator's parameter leaves (a tuple).
template <class Span, class X, class Leaves>
struct chain_node;
template <class X, class Leaves>
struct chain_node_of_layers {
    template <class Inner, class E>
    struct step {
        template <std::size_t... I>
        static auto node(std::index_sequence<I...>)
            -> typename layer_traits<typename Inner::layer>::template expression<
                typename Inner::input_shape, E, std::tuple_element_t<Inner::first + I, Leaves>...>;
        using type = decltype(node(std::make_index_sequence<Inner::count>{}));
        template <std::size_t... I>
        static auto named(std::index_sequence<I...>)
            -> named_nodes_t<typename Inner::layer, typename Inner::input_shape, E, std::tuple_element_t<Inner::first + I, Leaves>...>;
        using named_nodes = decltype(named(std::make_index_sequence<Inner::count>{}));
    };
    // type: the chain's output node; nodes: every inner layer's output node with its layer
    template <class E, class... Inner>
    struct fold {
        using type = E;
        using nodes = std::tuple<>;
    };
    template <class E, class I0, class... Inner>
    struct fold<E, I0, Inner...> {
        using here = typename step<I0, E>::type;
        using next = fold<here, Inner...>;
        using type = typename next::type;
        template <class... N>
        static auto prepend(std::tuple<N...>) -> std::tuple<inner_node<here, I0, typename step<I0, E>::named_nodes>, N...>;
        using nodes = decltype(prepend(typename next::nodes{}));
    };
};
template <class In, std::size_t Sub, std::size_t First, class... Ls, class X, class Leaves>
struct chain_node<chain_layers<In, Sub, First, Ls...>, X, Leaves> {
    template <class... Inner>
    static auto fold_all(std::tuple<Inner...>) -> typename chain_node_of_layers<X, Leaves>::template fold<X, Inner...>;
    using folded = decltype(fold_all(typename chain_layers<In, Sub, First, Ls...>::type{}));
    using type = typename folded::type;
    using nodes = typename folded::nodes;
};

/// The parameters of every inner layer, renumbered: params<sub_param<…>…>.
template <class Inner>
struct flat_params;
template <>
struct flat_params<std::tuple<>> {
    using type = params<>;
};
template <class I0, class... I>
struct flat_params<std::tuple<I0, I...>> {
    template <class... P, class... Q>
    static auto join(params<P...>, params<Q...>) -> params<sub_param<I0::sub, P>..., Q...>;
    using type = decltype(join(typename I0::parameters{}, typename flat_params<std::tuple<I...>>::type{}));
};

/// The nodes of all branches over X, as a tuple.
template <class Spans, class X, class Leaves>
struct branch_nodes;
template <class... Span, class X, class Leaves>
struct branch_nodes<std::tuple<Span...>, X, Leaves> {
    using type = std::tuple<typename chain_node<Span, X, Leaves>::type...>;
    using inner = decltype(std::tuple_cat(std::declval<typename chain_node<Span, X, Leaves>::nodes>()...));
};

/// Node<Op, Node<Op, b0, b1>, b2>…: branches joined left to right.
template <class Op, class Nodes>
struct joined;
template <class Op, class N0>
struct joined<Op, std::tuple<N0>> {
    using type = N0;
};
template <class Op, class N0, class N1, class... N>
struct joined<Op, std::tuple<N0, N1, N...>> {
    using type = typename joined<Op, std::tuple<expr::Node<Op, N0, N1>, N...>>::type;
};

template <class... Chains>
std::string branch_names() {
    std::string s;
    ((s += (s.empty() ? "" : ", ") + Chains::name()), ...);
    return s;
}

template <class Shape1, class Shape2>
struct residual_fits {
    static_assert(std::is_same_v<Shape1, Shape2>,
                  "residual(body): the body must give the shape it is given (y = x + body(x)); this one changes it "
                  "(see 'residual_fits<input shape, body output shape>' below)");
    static constexpr bool value = std::is_same_v<Shape1, Shape2>;
};
template <class... Out>
struct branch_sum_fits {
    static constexpr bool value = sizeof...(Out) < 2 || (std::is_same_v<std::tuple_element_t<0, std::tuple<Out...>>, Out> && ...);
    static_assert(value, "branch_sum(branches…): every branch must give the same shape (see 'branch_sum_fits<shapes…>' below)");
};
template <class S>
inline constexpr std::size_t join_axis_v = rank_v<S> == 3 ? 3 : 1;  // channels of an image, else the features
template <class Out0, class... Out>
struct concat_fits {
    static constexpr bool ranks = ((rank_v<Out> == rank_v<Out0>)&&...) && (rank_v<Out0> == 1 || rank_v<Out0> == 3);
    static_assert(ranks, "concat(branches…): the branches must all give vectors (joined along the features) or all "
                         "images (joined along the channels) (see 'concat_fits<shapes…>' below)");
};
struct stand_in_tag {};

}  // namespace detail

/// The machinery every combinator shares, for branches Chains... on input shape In.
template <class In, class... Chains>
struct combinator_parts {
    using branches = detail::branches<In, 0, 0, Chains...>;
    using inner = typename branches::layers;
    using spans = typename branches::spans;
    using parameters = typename detail::flat_params<inner>::type;
    template <class X, class... P>
    using nodes = typename detail::branch_nodes<spans, X, std::tuple<P...>>::type;
    /// Every inner layer's output node over X, in order: detail::inner_node<node, layer>.
    template <class X, class... P>
    using inner_nodes = typename detail::branch_nodes<spans, X, std::tuple<P...>>::inner;
    template <class Span>
    using output_of = typename Span::output_shape;
};

/// y = x + body(x).
template <class Body>
struct Residual;
template <class... Ls>
struct Residual<Chain<Ls...>> {
    using body = Chain<Ls...>;
    static std::string name() { return "residual(" + body::name() + ")"; }
};

/// Branches on one input, concatenated along the features (vectors) or the channels (images).
template <class... Branches>
struct Concat {
    static_assert(sizeof...(Branches) >= 2, "concat(branches…): at least two branches");
    static std::string name() { return "concat(" + detail::branch_names<Branches...>() + ")"; }
};

/// Branches on one input, added: y = b₁(x) + b₂(x) + ….
template <class... Branches>
struct BranchSum {
    static_assert(sizeof...(Branches) >= 2, "branch_sum(branches…): at least two branches");
    static std::string name() { return "branch_sum(" + detail::branch_names<Branches...>() + ")"; }
};

template <Block B>
constexpr Residual<as_chain_t<B>> residual(B) noexcept {
    return {};
}
template <Block... B>
constexpr Concat<as_chain_t<B>...> concat(B...) noexcept {
    return {};
}
template <Block... B>
constexpr BranchSum<as_chain_t<B>...> branch_sum(B...) noexcept {
    return {};
}

template <class T>
struct is_combinator : std::false_type {};
template <class B>
struct is_combinator<Residual<B>> : std::true_type {};
template <class... B>
struct is_combinator<Concat<B...>> : std::true_type {};
template <class... B>
struct is_combinator<BranchSum<B...>> : std::true_type {};

namespace detail {
template <class C>
struct combinator_branches;
template <class B>
struct combinator_branches<Residual<B>> {
    template <class In>
    using parts = combinator_parts<In, B>;
};
template <class... B>
struct combinator_branches<Concat<B...>> {
    template <class In>
    using parts = combinator_parts<In, B...>;
};
template <class... B>
struct combinator_branches<BranchSum<B...>> {
    template <class In>
    using parts = combinator_parts<In, B...>;
};

template <class Spans>
struct span_outputs;
template <class... Span>
struct span_outputs<std::tuple<Span...>> {
    using type = std::tuple<typename Span::output_shape...>;
};

/// The combinator's output shape and expression, per kind.
template <class C, class In>
struct combinator_graph;
template <class B, class In>
struct combinator_graph<Residual<B>, In> {
    using parts = combinator_parts<In, B>;
    using body_out = typename std::tuple_element_t<0, typename parts::spans>::output_shape;
    using output_shape = std::conditional_t<residual_fits<In, body_out>::value, In, In>;
    template <class X, class... P>
    using expression = expr::Node<expr::AddOp, X, std::tuple_element_t<0, typename parts::template nodes<X, P...>>>;
};
template <class... B, class In>
struct combinator_graph<BranchSum<B...>, In> {
    using parts = combinator_parts<In, B...>;
    using outs = typename span_outputs<typename parts::spans>::type;
    template <class... O>
    static auto check(std::tuple<O...>) -> std::conditional_t<branch_sum_fits<O...>::value, std::tuple_element_t<0, std::tuple<O...>>,
                                                              std::tuple_element_t<0, std::tuple<O...>>>;
    using output_shape = decltype(check(outs{}));
    template <class X, class... P>
    using expression = typename joined<expr::AddOp, typename parts::template nodes<X, P...>>::type;
};
template <class... B, class In>
struct combinator_graph<Concat<B...>, In> {
    using parts = combinator_parts<In, B...>;
    using outs = typename span_outputs<typename parts::spans>::type;
    // the joined shape, computed by the op's own shape rule on stand-in leaves
    template <class... O>
    static auto shape_of(std::tuple<O...>) ->
        typename joined<expr::ConcatOp<join_axis_v<std::tuple_element_t<0, std::tuple<O...>>>>,
                        std::tuple<expr::leaf_of_shape_t<expr::Role::input, stand_in_tag, O>...>>::type::shape;
    template <class... O>
    static auto check(std::tuple<O...>) -> std::bool_constant<concat_fits<O...>::ranks>;
    using output_shape = std::conditional_t<decltype(check(outs{}))::value, decltype(shape_of(outs{})),
                                            decltype(shape_of(outs{}))>;
    static constexpr std::size_t axis = join_axis_v<std::tuple_element_t<0, outs>>;
    template <class X, class... P>
    using expression = typename joined<expr::ConcatOp<axis>, typename parts::template nodes<X, P...>>::type;
};

}  // namespace detail

/// What typegrad reads of a combinator (the layer contract of nn/layer.hpp).
template <class C>
    requires is_combinator<C>::value
struct layer_traits<C> {
    static constexpr bool is_layer = true;
    static std::string name() { return C::name(); }
    template <class In>
    using output_shape = typename detail::combinator_graph<C, In>::output_shape;
    template <class In>
    using parameters = typename detail::combinator_graph<C, In>::parts::parameters;
    template <class In, class X, class... P>
    using expression = typename detail::combinator_graph<C, In>::template expression<X, P...>;
    /// Inner layers' output nodes (detail::inner_node), for the names derive gives them.
    static constexpr bool has_inner_nodes = true;
    template <class In, class X, class... P>
    using inner_nodes = typename detail::combinator_graph<C, In>::parts::template inner_nodes<X, P...>;
    // the block's output is zᴸ with adjoint δᴸ, as a dense layer's: the δ its parameters follow from
    static constexpr std::string_view symbol = "z";
    static constexpr std::size_t receptive_field = 1;

    /// Every inner layer initialised as it would be on its own (its own initialiser, or W and b
    /// by the model's scheme), in order.
    template <class In, class... Tensors>
    static void initialize_scheme(Rng& rng, init::Scheme scheme, Tensors&... t) {
        using inner = typename detail::combinator_graph<C, In>::parts::inner;
        auto all = std::forward_as_tuple(t...);
        initialize_each(rng, scheme, all, static_cast<inner*>(nullptr));
    }
    // (function templates rather than nested generic lambdas: GCC 12 crashes on those,
    // "internal compiler error in finish_expr_stmt")
    template <class All, class... I>
    static void initialize_each(Rng& rng, init::Scheme scheme, All& all, std::tuple<I...>*) {
        (initialize_one<I>(rng, scheme, all, std::make_index_sequence<I::count>{}), ...);
    }
    template <class I, class All, std::size_t... J>
    static void initialize_one(Rng& rng, init::Scheme scheme, All& all, std::index_sequence<J...>) {
        initialize_layer_tensors<typename I::layer, typename I::input_shape>(rng, scheme, std::get<I::first + J>(all)...);
    }
    template <class In, class... Tensors>
    static void initialize(Rng& rng, Tensors&... t) {
        initialize_scheme<In>(rng, init::Scheme::article, t...);
    }
};

}  // namespace typegrad
