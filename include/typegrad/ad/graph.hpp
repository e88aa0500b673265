// The graph of an expression type, computed at compile time: its nodes in topological order
// (operands before the nodes that use them, each distinct node type once), which nodes need an
// adjoint, and for every (node, operand) edge whether it is the first to write that operand's
// adjoint in the reverse sweep — so the sweep assigns there instead of zeroing first and
// accumulating.
//
// Node identity is type identity: the same subexpression type reached twice is one node, its
// value computed once and its adjoint the sum of both uses.
//
// Compile time: the order is a depth-first post-order whose visited set is a class deriving from
// one empty tag per visited node, so "visited?" is one std::is_base_of (a compiler builtin) and
// each node costs O(1) instantiations; index lookups go through an overload set (one deduction
// each) instead of a linear search. The number of instantiations is linear in the nodes (it was
// quadratic with hana::contains/append over a tuple).
//
// It also enforces the per-example rule: a whole-tensor reduction of the input is never broadcast
// back over a tensor (see batch_crossing_reduction).
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"

namespace typegrad::ad {

template <class... T>
struct type_list {
    static constexpr std::size_t size = sizeof...(T);
};
/// Concatenation: type_list<A...>{} + type_list<B...>{} is type_list<A..., B...>{}.
template <class... A, class... B>
constexpr type_list<A..., B...> operator+(type_list<A...>, type_list<B...>) noexcept {
    return {};
}

namespace detail {

template <class N>
struct tag {};
/// The visited set and the order so far: derives from tag<N> for every N in Ns.
template <class... Ns>
struct visited : tag<Ns>... {
    using list = type_list<Ns...>;
};

template <class V, class N>
struct append;
template <class... Ns, class N>
struct append<visited<Ns...>, N> {
    using type = visited<Ns..., N>;
};

template <class V, class N>
struct visit;
template <class V, class... Cs>
struct visit_all;
template <class V>
struct visit_all<V> {
    using type = V;
};
template <class V, class C, class... Cs>
struct visit_all<V, C, Cs...> {
    using type = typename visit_all<typename visit<V, C>::type, Cs...>::type;
};

template <class V, class N, bool Seen = std::is_base_of_v<tag<N>, V>>
struct visit_node {
    using type = V;  // seen before
};
template <class V, class N>
struct visit_node<V, N, false> {
    using type = typename append<V, N>::type;  // a leaf, constant or adjoint
};
template <class V, class Op, class... A>
struct visit_node<V, expr::Node<Op, A...>, false> {
    using type = typename append<typename visit_all<V, A...>::type, expr::Node<Op, A...>>::type;
};
template <class V, class N>
struct visit : visit_node<V, N> {};

template <class Root>
using topological_order_t = typename visit<visited<>, Root>::type::list;

// index_of<N>: an overload per node, found by deduction.
template <std::size_t I, class N>
struct indexed {};
template <class Is, class... Ns>
struct index_map_impl;
template <std::size_t... I, class... Ns>
struct index_map_impl<std::index_sequence<I...>, Ns...> : indexed<I, Ns>... {};
template <class List>
struct index_map;
template <class... Ns>
struct index_map<type_list<Ns...>> {
    using type = index_map_impl<std::index_sequence_for<Ns...>, Ns...>;
};

template <class N, std::size_t I>
constexpr std::size_t index_from(const indexed<I, N>*) noexcept {
    return I;
}
template <class N>
constexpr std::size_t index_from(const void*) noexcept {
    return ~std::size_t{0};
}
template <std::size_t I, class N>
N node_from(const indexed<I, N>*);

inline constexpr std::size_t max_arity = 4;
inline constexpr std::size_t none = ~std::size_t{0};

template <class N>
struct arity : std::integral_constant<std::size_t, 0> {};
template <class Op, class... A>
struct arity<expr::Node<Op, A...>> : std::integral_constant<std::size_t, sizeof...(A)> {};

template <class N, class Map>
struct operand_indices {
    static constexpr std::array<std::size_t, max_arity> value{none, none, none, none};
    static constexpr std::array<bool, max_arity> differentiable{};
};
template <class Op, class... A, class Map>
struct operand_indices<expr::Node<Op, A...>, Map> {
    static_assert(sizeof...(A) <= max_arity, "typegrad ops take at most four operands");
    static constexpr std::array<std::size_t, max_arity> value = [] {
        std::array<std::size_t, max_arity> r{none, none, none, none};
        std::size_t k = 0;
        ((r[k++] = index_from<A>(static_cast<const Map*>(nullptr))), ...);
        return r;
    }();
    static constexpr std::array<bool, max_arity> differentiable = []<std::size_t... K>(std::index_sequence<K...>) {
        return std::array<bool, max_arity>{expr::differentiates_operand_v<Op, K>...};
    }(std::index_sequence_for<A...>{});
};

template <class Map, class... Ns>
constexpr auto operand_table(type_list<Ns...>) {
    return std::array<std::array<std::size_t, max_arity>, sizeof...(Ns)>{operand_indices<Ns, Map>::value...};
}
template <class Map, class... Ns>
constexpr auto differentiable_table(type_list<Ns...>) {
    return std::array<std::array<bool, max_arity>, sizeof...(Ns)>{operand_indices<Ns, Map>::differentiable...};
}

/// needs_adjoint[i]: node i depends on a parameter and its adjoint reaches the root through
/// differentiated edges (the target of a fused cost, the input x, constants: no).
template <class... Ns>
constexpr auto needs_adjoint_table(const std::array<std::array<std::size_t, max_arity>, sizeof...(Ns)>& ops,
                                   const std::array<std::array<bool, max_arity>, sizeof...(Ns)>& diff) {
    constexpr std::size_t n = sizeof...(Ns);
    std::array<bool, n> depends{expr::is_parameter_v<Ns>...};
    for (std::size_t i = 0; i < n; ++i)  // operands come first: one pass suffices
        for (std::size_t k = 0; k < max_arity; ++k)
            if (ops[i][k] != none && diff[i][k] && depends[ops[i][k]]) depends[i] = true;
    std::array<bool, n> reached{};
    if (n > 0) reached[n - 1] = true;
    for (std::size_t i = n; i-- > 0;)  // users come later: one reverse pass suffices
        if (reached[i])
            for (std::size_t k = 0; k < max_arity; ++k)
                if (ops[i][k] != none && diff[i][k]) reached[ops[i][k]] = true;
    std::array<bool, n> r{};
    for (std::size_t i = 0; i < n; ++i) r[i] = depends[i] && reached[i];
    return r;
}

template <std::size_t N>
constexpr auto first_write_table(const std::array<std::array<std::size_t, max_arity>, N>& ops,
                                 const std::array<std::array<bool, max_arity>, N>& diff, const std::array<bool, N>& needs) {
    std::array<std::array<bool, max_arity>, N> r{};
    std::array<bool, N> written{};
    for (std::size_t i = N; i-- > 0;) {
        if (!needs[i]) continue;
        for (std::size_t k = 0; k < max_arity; ++k) {
            const std::size_t c = ops[i][k];
            if (c == none || !diff[i][k] || !needs[c]) continue;
            r[i][k] = !written[c];
            written[c] = true;
        }
    }
    return r;
}

template <class... Ns>
constexpr auto leaf_table(type_list<Ns...>) {
    return std::array<bool, sizeof...(Ns)>{expr::is_leaf_v<Ns>...};
}

// --- the per-example rule ------------------------------------------------------------------
// A whole-tensor reduction (a scalar node with a non-scalar operand: sum, squared_norm, dot, a
// fused cost) of values that depend on an input leaf adds over every example of a batch. That is
// what a cost does, at the top of J; broadcast back over a tensor — in a model, inside a layer's
// expression, as in x − sum(x)/n — it would mix the examples of a batch, so it is refused where
// the graph is formed. Reductions of parameters only (no batch extent) are allowed.

template <class N>
inline constexpr bool is_input_leaf_v = false;
template <class Tag, std::size_t... E>
inline constexpr bool is_input_leaf_v<expr::Leaf<expr::Role::input, Tag, E...>> = true;

/// The index of a whole-tensor reduction of input-dependent values whose scalar result reaches
/// a non-scalar node (directly or through scalar ops), or none.
template <class... Ns>
constexpr std::size_t batch_crossing_reduction(const std::array<std::array<std::size_t, max_arity>, sizeof...(Ns)>& ops) {
    constexpr std::size_t n = sizeof...(Ns);
    constexpr std::array<bool, n> scalar{expr::is_scalar_shape_v<typename Ns::shape>...};
    std::array<bool, n> data{is_input_leaf_v<Ns>...};  // depends on an input leaf
    std::array<std::size_t, n> carried{};                // the reduction a scalar node carries, or none
    for (std::size_t i = 0; i < n; ++i) {                // operands come first: one pass suffices
        carried[i] = none;
        for (std::size_t k = 0; k < max_arity; ++k) {
            const std::size_t c = ops[i][k];
            if (c == none) continue;
            data[i] = data[i] || data[c];
            if (scalar[i] && !scalar[c] && data[c]) carried[i] = i;
        }
        for (std::size_t k = 0; k < max_arity; ++k) {
            const std::size_t c = ops[i][k];
            if (c == none || !scalar[c] || carried[c] == none) continue;
            if (!scalar[i]) return carried[c];
            if (carried[i] == none) carried[i] = carried[c];
        }
    }
    return none;
}

template <class Map, std::size_t I>
struct op_at {
    using type = typename decltype(node_from<I>(static_cast<const Map*>(nullptr)))::op;
};
template <class Map>
struct op_at<Map, none> {
    using type = void;
};

// The one place the rule is reported, naming the reduction's op and the per-example one to use.
template <class Op, bool PerExample>
struct reduction_is_per_example {
    static_assert(PerExample,
                  "a reduction to a scalar of values that depend on the input x is broadcast back over a tensor: in a "
                  "layer's expression it would mix the examples of a batch; use a per-example reduction, sum_last / "
                  "mean_last / max_last (or sum_hw / mean_hw / max_hw over an image's channels), expr/reduce.hpp");
    static constexpr bool value = PerExample;
};
template <bool PerExample>
struct reduction_is_per_example<expr::SumOp, PerExample> {
    static_assert(PerExample,
                  "sum(x) adds every element, the examples of a batch included, and is broadcast back over a tensor "
                  "here (a layer's expression): use sum_last(x) or mean_last(x) (sum_hw(x) over an image's channels), "
                  "which reduce within each example (expr/reduce.hpp, docs/layers.md 'Per-example reductions')");
    static constexpr bool value = PerExample;
};
template <bool PerExample>
struct reduction_is_per_example<expr::SquaredNormOp, PerExample> {
    static_assert(PerExample,
                  "squared_norm(x) adds every element, the examples of a batch included, and is broadcast back over a "
                  "tensor here (a layer's expression): use sum_last(x * x), which reduces within each example "
                  "(expr/reduce.hpp, docs/layers.md 'Per-example reductions')");
    static constexpr bool value = PerExample;
};
template <bool PerExample>
struct reduction_is_per_example<expr::DotOp, PerExample> {
    static_assert(PerExample,
                  "dot(a, b) adds every element, the examples of a batch included, and is broadcast back over a "
                  "tensor here (a layer's expression): use sum_last(a * b), which reduces within each example "
                  "(expr/reduce.hpp, docs/layers.md 'Per-example reductions')");
    static constexpr bool value = PerExample;
};

}  // namespace detail

/// The compile-time graph of expression Root.
template <expr::Expression Root>
struct Graph {
    using root = Root;
    using nodes = detail::topological_order_t<Root>;
    static constexpr std::size_t size = nodes::size;

private:
    using map = typename detail::index_map<nodes>::type;

public:
    /// The I-th node in topological order.
    template <std::size_t I>
    using node_at = decltype(detail::node_from<I>(static_cast<const map*>(nullptr)));

    template <class N>
    static constexpr std::size_t index_of = detail::index_from<N>(static_cast<const map*>(nullptr));
    template <class N>
    static constexpr bool contains = index_of<N> < size;

    /// operands[i][k]: the index of operand k of node i (none past its arity).
    static constexpr auto operands = detail::operand_table<map>(nodes{});
    /// differentiable[i][k]: the op of node i differentiates through its operand k.
    static constexpr auto differentiable = detail::differentiable_table<map>(nodes{});
    /// needs_adjoint[i]: node i is a parameter or depends on one, and its adjoint reaches J.
    static constexpr auto needs_adjoint = []<class... Ns>(type_list<Ns...>) {
        return detail::needs_adjoint_table<Ns...>(operands, differentiable);
    }(nodes{});
    /// first_write[i][k]: in the reverse sweep (i from size − 1 down to 0, operands k in
    /// order), edge (i, k) is the first to reach the adjoint of operand k of node i.
    static constexpr auto first_write = detail::first_write_table<size>(operands, differentiable, needs_adjoint);
    /// is_leaf[i]: node i is a leaf (bound to the caller's data).
    static constexpr auto is_leaf = detail::leaf_table(nodes{});
    /// The index of a whole-tensor reduction of the input broadcast back over a tensor (none):
    /// refused, it would mix the examples of a batch (see reduction_is_per_example).
    static constexpr std::size_t batch_crossing = []<class... Ns>(type_list<Ns...>) {
        return detail::batch_crossing_reduction<Ns...>(operands);
    }(nodes{});
    // (sizeof instantiates the check, whose static_assert gives the one message)
    static_assert(
        sizeof(detail::reduction_is_per_example<typename detail::op_at<map, batch_crossing>::type, batch_crossing == detail::none>) > 0);
};

}  // namespace typegrad::ad
