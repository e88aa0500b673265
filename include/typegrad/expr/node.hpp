// Expression nodes: empty types that say what is computed, never hold values. Leaves name the
// data a computation reads (inputs, targets, parameters); Node<Op, Args...> applies an op. The
// autodiff engine (ad/) stores the values and adjoints of a whole expression in one workspace.
//
// Closure rule: nodes are empty, so expressions are passed and stored by value at no cost; all
// data is bound by pointer at evaluation time (see ad/program.hpp), never owned by a node.
//
// Shapes: a batch is the leading extent. The same op serves one example (a Shape<30> node) and
// a batch of them (a Shape<10, 30> node); there is no second family of batched ops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "typegrad/tensor/tensor.hpp"

namespace typegrad::expr {

using typegrad::is_scalar_shape_v;
using typegrad::rank_v;
using typegrad::Shape;
using typegrad::shape_traits;
using typegrad::size_v;

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

/// A leaf of role R, tag Tag and shape S (a Shape<N...> type rather than the extents).
template <Role R, class Tag, class S>
struct leaf_of_shape;
template <Role R, class Tag, std::size_t... N>
struct leaf_of_shape<R, Tag, Shape<N...>> {
    using type = Leaf<R, Tag, N...>;
};
template <Role R, class Tag, class S>
using leaf_of_shape_t = typename leaf_of_shape<R, Tag, S>::type;

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
