// Rewrite rules of the engine, applied to the type of J before its graph is formed: a pattern of
// nodes is replaced by one op that computes the same value in a numerically stable way and whose
// local rule is the textbook one. Nothing outside the engine branches on them: a cost keeps its
// textbook expression (nn/costs.hpp), a trainer knows nothing of them, and the printer shows the
// rewritten rule (δ = a − y).
//
//   −Σ y ⊙ ln softmax(z)                          →  SoftmaxLogLikelihoodOp(z, y, softmax(z))
//   −Σ [y ⊙ ln σ(z) + (1 − y) ⊙ ln(1 − σ(z))]     →  SigmoidCrossEntropyOp(z, y, σ(z))
//
// In floating point the textbook forms give NaN for a confident correct prediction (σ(17) is
// 1.0f, and ln(1 − 1) · 0 is NaN); the fused forms are finite for any finite z.
#pragma once

#include <type_traits>

#include "typegrad/expr/functions.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"

namespace typegrad::ad {

template <class E>
struct rewrite {
    using type = E;
};
template <class E>
using rewrite_t = typename rewrite<E>::type;

// −Σ y ⊙ ln softmax(z)
template <class Y, class Z>
struct rewrite<expr::Node<expr::NegOp,
                          expr::Node<expr::SumOp, expr::Node<expr::MulOp, Y, expr::Node<expr::MapOp<expr::fn::Log>,
                                                                                       expr::Node<expr::SoftmaxOp, Z>>>>>> {
    using type = expr::Node<expr::SoftmaxLogLikelihoodOp, Z, Y, expr::Node<expr::SoftmaxOp, Z>>;
};

// −Σ [y ⊙ ln σ(z) + (1 − y) ⊙ ln(1 − σ(z))]
template <class Y, class Z>
struct rewrite<expr::Node<
    expr::NegOp,
    expr::Node<expr::SumOp,
               expr::Node<expr::AddOp,
                          expr::Node<expr::MulOp, Y,
                                     expr::Node<expr::MapOp<expr::fn::Log>, expr::Node<expr::MapOp<expr::fn::Sigmoid>, Z>>>,
                          expr::Node<expr::MulOp, expr::Node<expr::SubOp, expr::Const<1>, Y>,
                                     expr::Node<expr::MapOp<expr::fn::Log>,
                                                expr::Node<expr::SubOp, expr::Const<1>,
                                                           expr::Node<expr::MapOp<expr::fn::Sigmoid>, Z>>>>>>>> {
    using type = expr::Node<expr::SigmoidCrossEntropyOp, Z, Y, expr::Node<expr::MapOp<expr::fn::Sigmoid>, Z>>;
};

}  // namespace typegrad::ad
