// The graph of an expression type, computed at compile time: its nodes in topological order
// (operands before the nodes that use them, each distinct node type once), which nodes lead to
// a parameter, and for every (node, operand) edge whether it is the first to write that
// operand's adjoint in the reverse sweep — so the sweep assigns there instead of zeroing
// first and accumulating.
//
// Node identity is type identity: the same subexpression type reached twice is one node, its
// value computed once and its adjoint the sum of both uses.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include <boost/hana/append.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "typegrad/expr/node.hpp"

namespace typegrad::ad {

namespace hana = boost::hana;

template <class... T>
struct type_list {
    static constexpr std::size_t size = sizeof...(T);
};

namespace detail {

template <class E>
struct operands {
    using type = hana::tuple<>;
};
template <class Op, class... A>
struct operands<expr::Node<Op, A...>> {
    using type = hana::tuple<hana::type<A>...>;
};

// Depth-first post-order with a visited set: the topological order of a DAG of types.
struct visit_fn {
    template <class Visited, class N>
    constexpr auto operator()(Visited visited, N node) const {
        if constexpr (decltype(hana::contains(visited, node))::value) {
            return visited;
        } else {
            using children = typename operands<typename N::type>::type;
            auto after_children = hana::fold_left(children{}, visited, *this);
            return hana::append(after_children, node);
        }
    }
};

template <class Tuple>
struct to_type_list;
template <class... Ts>
struct to_type_list<hana::tuple<Ts...>> {
    using type = type_list<typename Ts::type...>;  // each Ts is a hana::type<N>
};

template <class Root>
using topological_order_t =
    typename to_type_list<decltype(visit_fn{}(hana::tuple<>{}, hana::type_c<Root>))>::type;

template <class N, class... Ns>
constexpr std::size_t index_in(type_list<Ns...>) {
    constexpr bool same[] = {std::is_same_v<N, Ns>..., false};
    for (std::size_t i = 0; i < sizeof...(Ns); ++i)
        if (same[i]) return i;
    return sizeof...(Ns);
}

template <class N>
struct arity : std::integral_constant<std::size_t, 0> {};
template <class Op, class... A>
struct arity<expr::Node<Op, A...>> : std::integral_constant<std::size_t, sizeof...(A)> {};

inline constexpr std::size_t max_arity = 4;
inline constexpr std::size_t none = ~std::size_t{0};

template <class N, class List>
struct operand_indices {
    static constexpr std::array<std::size_t, max_arity> value{none, none, none, none};
};
template <class Op, class... A, class List>
struct operand_indices<expr::Node<Op, A...>, List> {
    static_assert(sizeof...(A) <= max_arity, "typegrad ops take at most four operands");
    static constexpr std::array<std::size_t, max_arity> value = [] {
        std::array<std::size_t, max_arity> r{none, none, none, none};
        std::size_t k = 0;
        ((r[k++] = index_in<A>(List{})), ...);
        return r;
    }();
};

}  // namespace detail

namespace detail {

template <std::size_t I, class List>
struct at;
template <std::size_t I, class N, class... Ns>
struct at<I, type_list<N, Ns...>> : at<I - 1, type_list<Ns...>> {};
template <class N, class... Ns>
struct at<0, type_list<N, Ns...>> {
    using type = N;
};

template <class... Ns>
constexpr auto operand_table(type_list<Ns...>) {
    return std::array<std::array<std::size_t, max_arity>, sizeof...(Ns)>{operand_indices<Ns, type_list<Ns...>>::value...};
}

template <class... Ns>
constexpr auto needs_adjoint_table(type_list<Ns...> list) {
    constexpr auto ops = operand_table(type_list<Ns...>{});
    std::array<bool, sizeof...(Ns)> r{expr::is_parameter_v<Ns>...};
    (void)list;
    for (std::size_t i = 0; i < sizeof...(Ns); ++i)  // operands come first: one pass suffices
        for (std::size_t k = 0; k < max_arity; ++k)
            if (ops[i][k] != none && r[ops[i][k]]) r[i] = true;
    return r;
}

template <class... Ns>
constexpr auto first_write_table(type_list<Ns...>) {
    constexpr std::size_t n = sizeof...(Ns);
    constexpr auto ops = operand_table(type_list<Ns...>{});
    std::array<std::array<bool, max_arity>, n> r{};
    std::array<bool, n> written{};
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t k = 0; k < max_arity; ++k) {
            const std::size_t c = ops[i][k];
            if (c == none) continue;
            r[i][k] = !written[c];
            written[c] = true;
        }
    return r;
}

}  // namespace detail

/// The compile-time graph of expression Root.
template <expr::Expression Root>
struct Graph {
    using root = Root;
    using nodes = detail::topological_order_t<Root>;
    static constexpr std::size_t size = nodes::size;

    /// The I-th node in topological order.
    template <std::size_t I>
    using node_at = typename detail::at<I, nodes>::type;

    template <class N>
    static constexpr std::size_t index_of = detail::index_in<N>(nodes{});
    template <class N>
    static constexpr bool contains = index_of<N> < size;

    /// operands[i][k]: the index of operand k of node i (none past its arity).
    static constexpr auto operands = detail::operand_table(nodes{});
    /// needs_adjoint[i]: node i is a parameter or depends on one.
    static constexpr auto needs_adjoint = detail::needs_adjoint_table(nodes{});
    /// first_write[i][k]: in the reverse sweep (i from size − 1 down to 0, operands k in
    /// order), edge (i, k) is the first to reach the adjoint of operand k of node i.
    static constexpr auto first_write = detail::first_write_table(nodes{});
};

}  // namespace typegrad::ad
