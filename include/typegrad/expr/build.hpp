// Writing expressions: the nodes are empty values, so a cost reads as a formula,
//   constexpr auto J = half * squared_norm(sigmoid(matT_vec(W, x) + b) - y);
// and its type is the expression the engine differentiates.
//
// sigmoid, relu and softmax are function objects, and the very same objects are the activation
// layers of nn/ (typegrad::sigmoid is typegrad::expr::sigmoid): with both namespaces in use, the
// names do not collide. tanh is a function template here (see nn/layers/activation.hpp for how
// typegrad::tanh is also a layer).
#pragma once

#include "typegrad/expr/functions.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/expr/reduce.hpp"  // sum_last, mean_last, max_last, sum_hw, … (per example)

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

/// Wᵀ a, with W of shape (n_in, n_out) and a of width n_in (or a batch of such rows).
template <Expression W, Expression A>
constexpr Node<MatTVecOp, W, A> matT_vec(W, A) noexcept { return {}; }

/// f(x) elementwise for any ElementwiseFunction f: map<Softplus>(x).
template <class F, Expression A>
constexpr Node<MapOp<F>, A> map(A) noexcept { return {}; }

/// The function object f(x) = map<F>(x); also the activation layer of F (nn/layers/activation.hpp).
template <class F>
struct MapFn {
    using function = F;
    template <Expression A>
    constexpr Node<MapOp<F>, A> operator()(A) const noexcept { return {}; }
};
/// softmax(x) over the last extent; also the softmax layer (nn/layers/softmax.hpp).
struct SoftmaxFn {
    template <Expression A>
    constexpr Node<SoftmaxOp, A> operator()(A) const noexcept { return {}; }
};

inline constexpr MapFn<fn::Sigmoid> sigmoid{};
inline constexpr MapFn<fn::Relu> relu{};
inline constexpr SoftmaxFn softmax{};
// tanh and log are function templates, not objects: an object would make every unqualified
// tanh(0.5) ambiguous with the C library's ::tanh under `using namespace`.
template <Expression A>
constexpr Node<MapOp<fn::Tanh>, A> tanh(A) noexcept { return {}; }
template <Expression A>
constexpr Node<MapOp<fn::Log>, A> log(A) noexcept { return {}; }

// Whole-tensor reductions to a scalar, for costs: over a batch they add over every example. A
// layer's expression uses the per-example ones of expr/reduce.hpp instead (sum_last, mean_last…);
// a whole-tensor reduction of the input broadcast back over a tensor does not compile.
template <Expression A>
constexpr Node<SumOp, A> sum(A) noexcept { return {}; }
template <Expression A>
constexpr Node<SquaredNormOp, A> squared_norm(A) noexcept { return {}; }
template <Expression A, Expression B>
constexpr Node<DotOp, A, B> dot(A, B) noexcept { return {}; }

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
using SquaredNorm = Node<SquaredNormOp, E>;
template <class E>
using Sum = Node<SumOp, E>;

}  // namespace typegrad::expr
