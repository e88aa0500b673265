// Writing expressions: the nodes are empty values, so a cost reads as a formula,
//   constexpr auto J = half * squared_norm(sigmoid(matT_vec(W, x) + b) - y);
// and its type is the expression the engine differentiates.
#pragma once

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"

namespace typegrad::expr {

template <std::intmax_t Num, std::intmax_t Den = 1>
inline constexpr Const<Num, Den> constant{};
inline constexpr Const<1, 2> half{};
inline constexpr Const<1> one{};

template <Expression A, Expression B>
constexpr Node<AddOp, A, B> operator+(A, B) noexcept { return {}; }
template <Expression A, Expression B>
constexpr Node<SubOp, A, B> operator-(A, B) noexcept { return {}; }
template <Expression A>
constexpr Node<NegOp, A> operator-(A) noexcept { return {}; }
/// Elementwise (Hadamard) product, or a scalar times an expression.
template <Expression A, Expression B>
constexpr Node<MulOp, A, B> operator*(A, B) noexcept { return {}; }
template <Expression A, Expression B>
constexpr Node<MulOp, A, B> hadamard(A, B) noexcept { return {}; }

/// Wᵀ a, with W of shape (n_in, n_out) and a of width n_in.
template <Expression W, Expression A>
constexpr Node<MatTVecOp, W, A> matT_vec(W, A) noexcept { return {}; }

/// f(x) elementwise for any ElementwiseFunction f.
template <ElementwiseFunction F, Expression A>
constexpr Node<MapOp<F>, A> map(A) noexcept { return {}; }
template <Expression A>
constexpr Node<MapOp<fn::Sigmoid>, A> sigmoid(A) noexcept { return {}; }
template <Expression A>
constexpr Node<MapOp<fn::Tanh>, A> tanh(A) noexcept { return {}; }
template <Expression A>
constexpr Node<MapOp<fn::Relu>, A> relu(A) noexcept { return {}; }
template <Expression A>
constexpr Node<MapOp<fn::Log>, A> log(A) noexcept { return {}; }

template <Expression A>
constexpr Node<SumOp, A> sum(A) noexcept { return {}; }
template <Expression A>
constexpr Node<SquaredNormOp, A> squared_norm(A) noexcept { return {}; }
template <Expression A, Expression B>
constexpr Node<DotOp, A, B> dot(A, B) noexcept { return {}; }
template <Expression A>
constexpr Node<SoftmaxOp, A> softmax(A) noexcept { return {}; }

/// Aliases that read well in types and error messages.
template <class L, class R>
using Add = Node<AddOp, L, R>;
template <class L, class R>
using Sub = Node<SubOp, L, R>;
template <class L, class R>
using Hadamard = Node<MulOp, L, R>;
template <class W, class A>
using MatTVec = Node<MatTVecOp, W, A>;
template <class F, class E>
using Map = Node<MapOp<F>, E>;
template <class E>
using Sigmoid = Node<MapOp<fn::Sigmoid>, E>;
template <class E>
using SquaredNorm = Node<SquaredNormOp, E>;
template <class E>
using Sum = Node<SumOp, E>;
template <class E>
using Softmax = Node<SoftmaxOp, E>;

}  // namespace typegrad::expr
