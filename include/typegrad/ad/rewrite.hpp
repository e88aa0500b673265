// Rewrite rules of the engine, applied to the type of J before its graph is formed: a pattern of
// nodes is replaced by one op that computes the same value in a numerically stable way and whose
// local rule is the textbook one. Nothing outside the engine branches on them: a trainer knows
// nothing of them, and the printer shows the rewritten rule (δ = a − y). A rule is a
// specialisation of `rewrite`, stated where its pattern is defined: each cost states its own in
// nn/costs.hpp, after its textbook expression, in terms of that expression —
//
//   LogLikelihood::expression<softmax(z), y>  = −Σ y ⊙ ln softmax(z)                       →  SoftmaxLogLikelihoodOp(z, y, softmax(z))
//   CrossEntropy::expression<σ(z), y>         = −Σ [y ⊙ ln σ(z) + (1 − y) ⊙ ln(1 − σ(z))]  →  SigmoidCrossEntropyOp(z, y, σ(z))
//
// In floating point the textbook forms give NaN for a confident correct prediction (σ(17) is
// 1.0f, and ln(1 − 1) · 0 is NaN); the fused forms are finite for any finite z.
#pragma once

#include <type_traits>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"

namespace typegrad::ad {

template <class E>
struct rewrite {
    using type = E;
};
template <class E>
using rewrite_t = typename rewrite<E>::type;

}  // namespace typegrad::ad
