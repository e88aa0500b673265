// The derivation, printed from the types: the adjoint of a node is the sum of its users' local
// rules (expression types), expanded until named adjoints (δᴸ) or forward values remain, then
// simplified at compile time (½·2 = 1, 1·e = e, −(−e) = e). Nothing here is written per network.
#pragma once

#include <array>

#include <cstdint>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typegrad/ad/graph.hpp"
#include "typegrad/ad/rewrite.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::ad {

namespace detail {

template <class... L>
struct concat;
template <>
struct concat<> {
    using type = type_list<>;
};
template <class... A>
struct concat<type_list<A...>> {
    using type = type_list<A...>;
};
template <class... A, class... B, class... Rest>
struct concat<type_list<A...>, type_list<B...>, Rest...> {
    using type = typename concat<type_list<A..., B...>, Rest...>::type;
};

// The contributions of node P's local rules to the adjoint of N (P uses N as operand K).
template <class N, class P>
struct contributions_from {
    using type = type_list<>;
};
template <class N, class Op, class... A>
struct contributions_from<N, expr::Node<Op, A...>> {
    using P = expr::Node<Op, A...>;
    template <std::size_t... K>
    static auto of(std::index_sequence<K...>) -> typename concat<std::conditional_t<
        std::is_same_v<N, std::tuple_element_t<K, std::tuple<A...>>> && expr::differentiates_operand_v<Op, K>,
        type_list<typename Op::template vjp<K, P, expr::Adjoint<P>, A...>>, type_list<>>...>::type;
    using type = decltype(of(std::index_sequence_for<A...>{}));
};

template <class N, class Nodes>
struct all_contributions;
template <class N, class... Ps>
struct all_contributions<N, type_list<Ps...>> {
    using type = typename concat<typename contributions_from<N, Ps>::type...>::type;
};

template <class List>
struct sum_of;
template <>
struct sum_of<type_list<>> {
    using type = expr::Const<0>;
};
template <class C>
struct sum_of<type_list<C>> {
    using type = C;
};
template <class C, class D, class... Rest>
struct sum_of<type_list<C, D, Rest...>> {
    using type = typename sum_of<type_list<expr::Node<expr::AddOp, C, D>, Rest...>>::type;
};

template <class G, class List>
struct with_adjoint;
template <class G, class... Ns>
struct with_adjoint<G, type_list<Ns...>> {
    using type = decltype((type_list<>{} + ... +
                           std::conditional_t<G::needs_adjoint[G::template index_of<Ns>], type_list<Ns>, type_list<>>{}));
};

template <class List>
struct first;
template <class F, class... R>
struct first<type_list<F, R...>> {
    using type = F;
};

template <class E>
inline constexpr bool is_one_v = false;
template <>
inline constexpr bool is_one_v<expr::Const<1, 1>> = true;

// Compile-time simplification of one node whose operands are already simplified.
template <class E>
auto simplify_node() {
    if constexpr (!expr::is_node_v<E>) {
        return std::type_identity<E>{};
    } else if constexpr (std::is_same_v<typename E::op, expr::MulOp>) {
        return [&]<class A, class B>(expr::Node<expr::MulOp, A, B>*) {
            if constexpr (expr::is_const_v<A> && expr::is_const_v<B>) {
                constexpr std::intmax_t n = A::num * B::num, d = A::den * B::den, g = std::gcd(n, d);
                return std::type_identity<expr::Const<n / g, d / g>>{};
            } else if constexpr (is_one_v<A>) {
                return std::type_identity<B>{};
            } else if constexpr (std::is_same_v<A, expr::Const<-1>>) {
                return simplify_node<expr::Node<expr::NegOp, B>>();
            } else if constexpr (is_one_v<B>) {
                return std::type_identity<A>{};
            } else if constexpr (expr::is_const_v<A> && expr::is_node_v<B>) {
                if constexpr (std::is_same_v<typename B::op, expr::MulOp>) {
                    // c·(d·e) = (cd)·e when d is a constant
                    return [&]<class C, class D>(expr::Node<expr::MulOp, C, D>*) {
                        if constexpr (expr::is_const_v<C>)
                            return decltype(simplify_node<expr::Node<expr::MulOp,
                                                                     typename decltype(simplify_node<expr::Node<expr::MulOp, A, C>>())::type,
                                                                     D>>()){};
                        else return std::type_identity<E>{};
                    }(static_cast<B*>(nullptr));
                } else {
                    return std::type_identity<E>{};
                }
            } else {
                return std::type_identity<E>{};
            }
        }(static_cast<E*>(nullptr));
    } else if constexpr (std::is_same_v<typename E::op, expr::NegOp>) {
        return []<class A>(expr::Node<expr::NegOp, A>*) {
            if constexpr (expr::is_const_v<A>) return std::type_identity<expr::Const<-A::num, A::den>>{};
            else if constexpr (expr::is_node_v<A>) {
                if constexpr (std::is_same_v<typename A::op, expr::NegOp>)
                    return []<class B>(expr::Node<expr::NegOp, B>*) { return std::type_identity<B>{}; }(static_cast<A*>(nullptr));
                else return std::type_identity<expr::Node<expr::NegOp, A>>{};
            } else return std::type_identity<expr::Node<expr::NegOp, A>>{};
        }(static_cast<E*>(nullptr));
    } else if constexpr (std::is_same_v<typename E::op, expr::AddOp>) {
        return []<class A, class B>(expr::Node<expr::AddOp, A, B>*) {
            if constexpr (std::is_same_v<A, expr::Const<0>>) return std::type_identity<B>{};
            else if constexpr (std::is_same_v<B, expr::Const<0>>) return std::type_identity<A>{};
            else if constexpr (expr::is_node_v<B>) {
                if constexpr (std::is_same_v<typename B::op, expr::NegOp>)  // a + (−b) = a − b
                    return []<class C>(expr::Node<expr::NegOp, C>*) {
                        return std::type_identity<expr::Node<expr::SubOp, A, C>>{};
                    }(static_cast<B*>(nullptr));
                else return std::type_identity<expr::Node<expr::AddOp, A, B>>{};
            }
            else return std::type_identity<expr::Node<expr::AddOp, A, B>>{};
        }(static_cast<E*>(nullptr));
    } else {
        return std::type_identity<E>{};
    }
}

/// The edges along which node N's adjoint receives a contribution, as i · max_arity + k for user
/// i and operand k, in the order of the reverse sweep's sum (users in topological order, then
/// their operands): read off graph G's constexpr tables.
template <class G, class N>
inline constexpr std::size_t contribution_count = [] {
    constexpr std::size_t n = G::template index_of<N>;
    std::size_t c = 0;
    for (std::size_t i = 0; i < G::size; ++i)
        if (G::needs_adjoint[i])
            for (std::size_t k = 0; k < max_arity; ++k) c += G::operands[i][k] == n && G::differentiable[i][k];
    return c;
}();
template <class G, class N>
inline constexpr std::array<std::size_t, contribution_count<G, N>> contribution_edges = [] {
    constexpr std::size_t n = G::template index_of<N>;
    std::array<std::size_t, contribution_count<G, N>> e{};
    std::size_t c = 0;
    for (std::size_t i = 0; i < G::size; ++i)
        if (G::needs_adjoint[i])
            for (std::size_t k = 0; k < max_arity; ++k)
                if (G::operands[i][k] == n && G::differentiable[i][k]) e[c++] = i * max_arity + k;
    return e;
}();

}  // namespace detail

/// Names given to intermediate nodes: a type_list of Named<Node, Name> (see nn/expression.hpp).
/// Name::name() names the node's value; Name::adjoint_name(), if present, its adjoint.
template <class Expr, class Names = type_list<>>
struct Derivation {
    using Root = rewrite_t<Expr>;  // as the engine runs it (ad/rewrite.hpp)
    using graph = Graph<Root>;
    /// The nodes whose adjoint the engine propagates (the others contribute nothing).
    using adjoint_nodes = typename detail::with_adjoint<graph, typename graph::nodes>::type;

    template <class N>
    static constexpr auto named() {
        return []<class... Ns>(type_list<Ns...>) {
            using found = typename detail::concat<std::conditional_t<std::is_same_v<typename Ns::node, N>, type_list<typename Ns::name>,
                                                             type_list<>>...>::type;
            if constexpr (found::size == 0) return std::type_identity<void>{};
            else return std::type_identity<typename detail::first<found>::type>{};
        }(Names{});
    }
    template <class N>
    using name_of = typename decltype(named<N>())::type;  // void when unnamed
    template <class N>
    static constexpr bool has_name = !std::is_void_v<name_of<N>>;
    template <class N>
    static constexpr bool has_adjoint_name = [] {
        if constexpr (has_name<N>) return requires { name_of<N>::adjoint_name(); };
        else return false;
    }();

    template <class P, std::size_t K>
    struct rule_of;
    template <class Op, class... A, std::size_t K>
    struct rule_of<expr::Node<Op, A...>, K> {
        using type = typename Op::template vjp<K, expr::Node<Op, A...>, expr::Adjoint<expr::Node<Op, A...>>, A...>;
    };
    /// The contributions to N's adjoint: for each edge (user i, operand k) found in the graph's
    /// tables (detail::contribution_edges, constexpr), the user's rule — no instantiation per
    /// node of the graph.
    template <class N, std::size_t... J>
    static auto contributions(std::index_sequence<J...>)
        -> type_list<typename rule_of<typename graph::template node_at<detail::contribution_edges<graph, N>[J] / detail::max_arity>,
                                      detail::contribution_edges<graph, N>[J] % detail::max_arity>::type...>;

    /// The adjoint of N as an expression: the sum of its users' rules, expanded.
    template <class N>
    static auto adjoint_expansion() {
        if constexpr (std::is_same_v<N, Root>) return std::type_identity<expr::Const<1>>{};
        else {
            using sum = typename detail::sum_of<decltype(contributions<N>(
                std::make_index_sequence<detail::contribution_count<graph, N>>{}))>::type;
            return expand<sum>();
        }
    }
    template <class E>
    static auto expand() {
        if constexpr (expr::is_adjoint_v<E>) {
            using N = typename E::node;
            if constexpr (has_adjoint_name<N>) return std::type_identity<E>{};
            else return adjoint_expansion<N>();
        } else if constexpr (expr::is_node_v<E> && !graph::template contains<E>) {
            return []<class Op, class... A>(expr::Node<Op, A...>*) {
                using rebuilt = expr::Node<Op, typename decltype(expand<A>())::type...>;
                return detail::simplify_node<rebuilt>();
            }(static_cast<E*>(nullptr));
        } else {
            return std::type_identity<E>{};  // leaves, constants, forward values
        }
    }
    /// ∂J/∂N, expanded and simplified: an expression type.
    template <class N>
    using adjoint_t = typename decltype(adjoint_expansion<N>())::type;

    // --- text ------------------------------------------------------------------------------

    static std::string constant(std::intmax_t n, std::intmax_t d) {
        const std::string_view sign = n < 0 ? "−" : "";
        const std::intmax_t a = n < 0 ? -n : n;
        if (d == 1) return cat(sign, std::to_string(a));
        if (a == 1 && d == 2) return cat(sign, "½");
        return cat(sign, std::to_string(a), "/", std::to_string(d));
    }

    template <class E>
    static expr::Text print() {
        if constexpr (expr::is_const_v<E>) {
            return {constant(E::num, E::den), E::num < 0 ? 2 : 3};
        } else if constexpr (expr::is_adjoint_v<E>) {
            if constexpr (has_adjoint_name<typename E::node>) return {name_of<typename E::node>::adjoint_name(), 3};
            else return {cat("∂J/∂(", print<typename E::node>().s, ")"), 3};
        } else if constexpr (expr::is_leaf_v<E>) {
            return {leaf_name<typename E::tag>(), 3};
        } else if constexpr (has_name<E>) {
            return {name_of<E>::name(), 3};
        } else {
            return definition<E>();
        }
    }
    /// A node written out one level (its operands by name where they have one).
    template <class E>
    static expr::Text definition() {
        return []<class Op, class... A>(expr::Node<Op, A...>*) {
            if constexpr (requires { Op::template print_shaped<typename A::shape...>(print<A>()...); })
                return Op::template print_shaped<typename A::shape...>(print<A>()...);
            else return Op::print(print<A>()...);
        }(static_cast<E*>(nullptr));
    }
    template <class Tag>
    static std::string leaf_name() {
        if constexpr (requires { Tag::name(); }) return std::string(Tag::name());
        else if constexpr (requires { Tag::name; }) return std::string(Tag::name);
        else return cat("p", std::to_string(graph::size));
    }

    /// "∂J/∂W = …" for every parameter leaf, in the order the parameters occur.
    static std::vector<std::string> gradients() {
        std::vector<std::string> lines;
        []<class... Ns>(std::vector<std::string>& out, type_list<Ns...>) {
            ((expr::is_parameter_v<Ns> ? out.push_back(cat("∂J/∂", print<Ns>().s, " = ", print<adjoint_t<Ns>>().s)) : void()), ...);
        }(lines, typename graph::nodes{});
        return lines;
    }
};

}  // namespace typegrad::ad
