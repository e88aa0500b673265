// Expression nodes: empty types that say what is computed, never hold values. Leaves name the
// data a computation reads (inputs, targets, parameters); Node<Op, Args...> applies an op. The
// autodiff engine (ad/) stores the values and adjoints of a whole expression in one workspace.
//
// Closure rule: nodes are empty, so expressions are passed and stored by value at no cost; all
// data is bound by pointer at evaluation time (see ad/program.hpp), never owned by a node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <xtensor/xshape.hpp>

namespace typegrad::expr {

template <std::size_t... N>
using Shape = xt::fixed_shape<N...>;

template <class S>
struct shape_traits;
template <std::size_t... N>
struct shape_traits<xt::fixed_shape<N...>> {
    static constexpr std::size_t rank = sizeof...(N);
    static constexpr std::size_t size = (std::size_t{1} * ... * N);
};
template <class S>
inline constexpr std::size_t size_v = shape_traits<S>::size;
template <class S>
inline constexpr bool is_scalar_shape_v = shape_traits<S>::rank == 0;

/// What a leaf stands for: data that is differentiated (a parameter) or not (an input, a target).
enum class Role { input, parameter };

/// A leaf of an expression: Tag names it (a user's struct, which may define `name`), Shape
/// gives its compile-time shape.
template <Role R, class Tag, std::size_t... N>
struct Leaf {
    using tag = Tag;
    using shape = Shape<N...>;
    static constexpr Role role = R;
};

/// Data that is read, not differentiated: Input<struct x_, 784>.
template <class Tag, std::size_t... N>
using Input = Leaf<Role::input, Tag, N...>;
/// Data that is differentiated: Param<struct W_, 784, 30>.
template <class Tag, std::size_t... N>
using Param = Leaf<Role::parameter, Tag, N...>;

/// An exact rational constant, a scalar: Const<1, 2> is ½.
template <std::intmax_t Num, std::intmax_t Den = 1>
struct Const {
    static_assert(Den > 0, "Const<Num, Den>: the denominator must be positive");
    using shape = Shape<>;
    static constexpr std::intmax_t num = Num;
    static constexpr std::intmax_t den = Den;
};

/// An op applied to operands. Op::shape<Args::shape...> gives (and checks) the result shape.
template <class Op, class... Args>
struct Node {
    using op = Op;
    using shape = typename Op::template shape<typename Args::shape...>;
};

/// ∂J/∂N: the adjoint of node N, as it appears in the derived (adjoint) expressions.
template <class N>
struct Adjoint {
    using node = N;
    using shape = typename N::shape;
};

template <class E>
struct is_leaf : std::false_type {};
template <Role R, class Tag, std::size_t... N>
struct is_leaf<Leaf<R, Tag, N...>> : std::true_type {};
template <class E>
inline constexpr bool is_leaf_v = is_leaf<E>::value;

template <class E>
struct is_node : std::false_type {};
template <class Op, class... A>
struct is_node<Node<Op, A...>> : std::true_type {};
template <class E>
inline constexpr bool is_node_v = is_node<E>::value;

template <class E>
struct is_const : std::false_type {};
template <std::intmax_t N, std::intmax_t D>
struct is_const<Const<N, D>> : std::true_type {};
template <class E>
inline constexpr bool is_const_v = is_const<E>::value;

template <class E>
struct is_adjoint : std::false_type {};
template <class N>
struct is_adjoint<Adjoint<N>> : std::true_type {};
template <class E>
inline constexpr bool is_adjoint_v = is_adjoint<E>::value;

template <class E>
inline constexpr bool is_parameter_v = false;
template <class Tag, std::size_t... N>
inline constexpr bool is_parameter_v<Leaf<Role::parameter, Tag, N...>> = true;

/// Anything that can stand in an expression.
template <class E>
concept Expression = is_leaf_v<E> || is_node_v<E> || is_const_v<E> || is_adjoint_v<E>;

}  // namespace typegrad::expr
