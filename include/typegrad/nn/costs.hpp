// Costs C(a, y) of one example (summed over the examples of a batch). Each gives its textbook
// expression, which the autodiff engine differentiates (and, for cross-entropy after a sigmoid
// and log-likelihood after a softmax, rewrites into a stable fused form: the rewrite rule is
// stated here, after the cost, in terms of its expression (ad/rewrite.hpp)); and, for the
// hand-written reference only, its value and gradient ∂C/∂a written out by hand, plus the value
// from the output layer's pre-activation z where the textbook pairs them (`fused_output`: the
// output layer after which the reference starts from δ = a − y).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "typegrad/ad/rewrite.hpp"
#include "typegrad/expr/build.hpp"
#include "typegrad/expr/functions.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"

namespace typegrad::cost {

/// The article's cost: C = ½‖a − y‖²,  ∂C/∂a = a − y.
struct Quadratic {
    static constexpr std::string_view name = "quadratic";
    /// J = ½ ‖a − y‖² as an expression of the output A and the target Y.
    template <class A, class Y>
    using expression = expr::Node<expr::MulOp, expr::Const<1, 2>, expr::Node<expr::SquaredNormOp, expr::Node<expr::SubOp, A, Y>>>;
    template <class T, std::size_t N>
    static T value(const T* a, const T* y) noexcept {
        T s = 0;
        for (std::size_t i = 0; i < N; ++i) s += (a[i] - y[i]) * (a[i] - y[i]);
        return s / 2;
    }
    template <class T, std::size_t N>
    static void gradient(const T* a, const T* y, T* g) noexcept {
        for (std::size_t i = 0; i < N; ++i) g[i] = a[i] - y[i];
    }
};

/// Cross-entropy for outputs in (0, 1): C = −Σ [y ln a + (1 − y) ln(1 − a)],
/// ∂C/∂a = (a − y) / (a (1 − a)).
struct CrossEntropy {
    static constexpr std::string_view name = "cross-entropy";
    /// J = −Σ [y ⊙ ln a + (1 − y) ⊙ ln(1 − a)]
    template <class A, class Y>
    using expression = expr::Node<
        expr::NegOp,
        expr::Node<expr::SumOp,
                   expr::Node<expr::AddOp, expr::Node<expr::MulOp, Y, expr::Node<expr::MapOp<expr::fn::Log>, A>>,
                              expr::Node<expr::MulOp, expr::Node<expr::SubOp, expr::Const<1>, Y>,
                                         expr::Node<expr::MapOp<expr::fn::Log>, expr::Node<expr::SubOp, expr::Const<1>, A>>>>>>;
    template <class T, std::size_t N>
    static T value(const T* a, const T* y) noexcept {
        T s = 0;
        for (std::size_t i = 0; i < N; ++i) s -= y[i] * std::log(a[i]) + (1 - y[i]) * std::log(1 - a[i]);
        return s;
    }
    template <class T, std::size_t N>
    static void gradient(const T* a, const T* y, T* g) noexcept {
        for (std::size_t i = 0; i < N; ++i) g[i] = (a[i] - y[i]) / (a[i] * (1 - a[i]));
    }
    /// The output layer the textbook pairs it with: after σ, δ = a − y at z.
    using fused_output = expr::MapFn<expr::fn::Sigmoid>;
    /// C for a = σ(z), from z: Σ [max(z, 0) − z y + ln(1 + e^−|z|)], finite for any finite z.
    template <class T, std::size_t N>
    static T value_from_logits(const T* z, const T* y) noexcept {
        T s = 0;
        for (std::size_t i = 0; i < N; ++i) s += std::max(z[i], T(0)) - z[i] * y[i] + std::log1p(std::exp(-std::abs(z[i])));
        return s;
    }
};

/// Negative log-likelihood of a probability vector (after a softmax): C = −Σ y ln a,
/// ∂C/∂a = −y / a.
struct LogLikelihood {
    static constexpr std::string_view name = "log-likelihood";
    /// J = −Σ y ⊙ ln a
    template <class A, class Y>
    using expression =
        expr::Node<expr::NegOp, expr::Node<expr::SumOp, expr::Node<expr::MulOp, Y, expr::Node<expr::MapOp<expr::fn::Log>, A>>>>;
    template <class T, std::size_t N>
    static T value(const T* a, const T* y) noexcept {
        T s = 0;
        for (std::size_t i = 0; i < N; ++i) s -= y[i] * std::log(a[i]);
        return s;
    }
    template <class T, std::size_t N>
    static void gradient(const T* a, const T* y, T* g) noexcept {
        for (std::size_t i = 0; i < N; ++i) g[i] = -y[i] / a[i];
    }
    /// The output layer the textbook pairs it with: after softmax, δ = a − y at z.
    using fused_output = expr::SoftmaxFn;
    /// C for a = softmax(z), from z: −Σ yᵢ (zᵢ − ln Σⱼ e^zⱼ), finite for any finite z.
    template <class T, std::size_t N>
    static T value_from_logits(const T* z, const T* y) noexcept {
        const T m = *std::max_element(z, z + N);
        T s = 0;
        for (std::size_t i = 0; i < N; ++i) s += std::exp(z[i] - m);
        const T lse = m + std::log(s);
        T c = 0;
        for (std::size_t i = 0; i < N; ++i)
            if (y[i] != T(0)) c -= y[i] * (z[i] - lse);
        return c;
    }
};

}  // namespace typegrad::cost

// The engine's rewrite rules for the costs above (ad/rewrite.hpp): the textbook expression after
// the output it pairs with becomes one fused op, finite for any finite z, whose local rule is the
// textbook δ = a − y.
template <class Z, class Y>
struct typegrad::ad::rewrite<typegrad::cost::LogLikelihood::expression<typegrad::expr::Node<typegrad::expr::SoftmaxOp, Z>, Y>> {
    using type = expr::Node<expr::SoftmaxLogLikelihoodOp, Z, Y, expr::Node<expr::SoftmaxOp, Z>>;
};
template <class Z, class Y>
struct typegrad::ad::rewrite<
    typegrad::cost::CrossEntropy::expression<typegrad::expr::Node<typegrad::expr::MapOp<typegrad::expr::fn::Sigmoid>, Z>, Y>> {
    using type = expr::Node<expr::SigmoidCrossEntropyOp, Z, Y, expr::Node<expr::MapOp<expr::fn::Sigmoid>, Z>>;
};
