// The hand-written rules of the reference, one per kind of layer: forward y = f(x; p) and the
// textbook backward step — given ∂J/∂y, the gradient of each parameter (assigned, or added to
// with Accumulate::yes) and ∂J/∂x. A layer of your own specialises typegrad::reference::rule in
// its own header (docs/layers.md); the autodiff engine never reads these.
//
//   template <> struct typegrad::reference::rule<MyLayer> {
//       template <class In, class T, class P>            // In: the input shape, P: its ParameterSet
//       static void forward(const P& p, const T* x, T* y);
//       template <class In, class T, class P, class G>   // G: the ParameterSet of the gradients
//       static void backward(const P& p, const T* x, const T* y, const T* gy, T* gx, G& g, Accumulate acc);
//   };                                                   // gx is null for the first layer
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <type_traits>

#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/simd/kernels.hpp"

namespace typegrad::reference {

template <class Layer>
struct rule;  // a layer without a reference rule cannot be used with the reference

/// Whether layer L (after input shape In) has a hand-written rule here: its specialisation of
/// rule is defined (a block's: every inner layer has one; reference/graph.hpp, shared.hpp).
/// gradcheck compares autodiff with finite differences only when a layer has none.
template <class L, class In>
struct has_rule : std::bool_constant<requires { sizeof(rule<L>); }> {};

/// Dense: z = Wᵀx + b;  ∂J/∂b = δ,  ∂J/∂W = x δᵀ,  ∂J/∂x = W δ   (δ = ∂J/∂z). On a sequence
/// (T, n) the same at every position t: z_t = Wᵀx_t + b;  ∂J/∂b = Σ_t δ_t,  ∂J/∂W = Σ_t x_t δ_tᵀ,
/// ∂J/∂x_t = W δ_t.
template <std::size_t Out, std::size_t In_>
struct rule<Dense<Out, In_>> {
    template <class In>
    static constexpr std::size_t width = shape_traits<In>::extents[rank_v<In> - 1];
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* z) noexcept {
        constexpr std::size_t n = width<In>, positions = size_v<In> / n;
        for (std::size_t t = 0; t < positions; ++t)
            simd::gemv_t_bias<n, Out>(p.template get<"W">().data(), x + t * n, p.template get<"b">().data(), z + t * Out);
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T*, const T* delta, T* gx, G& g, Accumulate acc) noexcept {
        constexpr std::size_t n = width<In>, positions = size_v<In> / n;
        auto& db = g.template get<"b">();
        for (std::size_t t = 0; t < positions; ++t) {
            const bool add = acc == Accumulate::yes || t > 0;
            for (std::size_t j = 0; j < Out; ++j) db[j] = add ? db[j] + delta[t * Out + j] : delta[t * Out + j];
            simd::ger<n, Out>(x + t * n, delta + t * Out, g.template get<"W">().data(), add);
            if (gx) simd::gemv<n, Out>(p.template get<"W">().data(), delta + t * Out, gx + t * n);
        }
    }
};

/// An activation's f and f' as the textbook writes them, in plain double arithmetic with the C
/// library's functions: for the activations that have one, the reference computes these instead
/// of the ElementwiseFunction's own value and derivative (which autodiff uses), so a wrong rule
/// in expr/functions.hpp is a disagreement between the two, not a shared mistake. An activation
/// without one (the original sigmoid, tanh, relu, and a user's own) uses F's rules here too, and
/// only the finite differences check them.
template <class F>
struct textbook {};

/// gelu(x) = ½x(1 + erf(x/√2)),  gelu'(x) = Φ(x) + x φ(x) = ½(1 + erf(x/√2)) + x e^(−x²/2)/√(2π).
template <>
struct textbook<expr::fn::Gelu> {
    static double value(double x) noexcept { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
    static double derivative(double x) noexcept {
        return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
    }
};
/// silu(x) = x/(1 + e^−x),  silu'(x) = σ(x) + x σ(x)(1 − σ(x)).
template <>
struct textbook<expr::fn::Silu> {
    static double sigma(double x) noexcept { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }
    static double value(double x) noexcept { return x * sigma(x); }
    static double derivative(double x) noexcept { return sigma(x) + x * sigma(x) * (1 - sigma(x)); }
};
/// leaky_relu(x) = max(x, 0.01x) (x > 0 ? x : 0.01x),  derivative x > 0 ? 1 : 0.01, as PyTorch.
template <>
struct textbook<expr::fn::LeakyRelu> {
    static double value(double x) noexcept { return x > 0 ? x : 0.01 * x; }
    static double derivative(double x) noexcept { return x > 0 ? 1.0 : 0.01; }
};

/// Elementwise activation a = f(z):  ∂J/∂z = ∂J/∂a ⊙ f'(z), with f'(z) from z and a = f(z).
template <class F>
struct rule<expr::MapFn<F>> {
    static constexpr bool own_rules = requires(double x) { textbook<F>::derivative(x); };
    template <class In, class T, class P>
    static void forward(const P&, const T* z, T* a) noexcept {
        if constexpr (own_rules)
            for (std::size_t i = 0; i < size_v<In>; ++i) a[i] = static_cast<T>(textbook<F>::value(static_cast<double>(z[i])));
        else
            simd::map<F, size_v<In>>(z, a);
    }
    template <class In, class T, class P, class G>
    static void backward(const P&, const T* z, const T* a, const T* ga, T* gz, G&, Accumulate) noexcept {
        if (!gz) return;
        if constexpr (own_rules)
            for (std::size_t i = 0; i < size_v<In>; ++i) gz[i] = ga[i] * static_cast<T>(textbook<F>::derivative(static_cast<double>(z[i])));
        else
            for (std::size_t i = 0; i < size_v<In>; ++i) gz[i] = ga[i] * F::derivative(z[i], a[i]);
    }
};

/// softmax over the last extent:  ∂J/∂z = a ⊙ (∂J/∂a − ⟨∂J/∂a, a⟩), row by row.
template <>
struct rule<expr::SoftmaxFn> {
    template <class In, class T, class P>
    static void forward(const P&, const T* z, T* a) noexcept {
        expr::SoftmaxOp::compute<expr::leaf_of_shape_t<expr::Role::input, struct softmax_in, In>>(a, z);
    }
    template <class In, class T, class P, class G>
    static void backward(const P&, const T*, const T* a, const T* ga, T* gz, G&, Accumulate) noexcept {
        if (!gz) return;
        constexpr std::size_t n = shape_traits<In>::extents[rank_v<In> - 1], rows = size_v<In> / n;
        for (std::size_t r = 0; r < rows; ++r) {
            T dot = 0;
            for (std::size_t i = 0; i < n; ++i) dot += ga[r * n + i] * a[r * n + i];
            for (std::size_t i = 0; i < n; ++i) gz[r * n + i] = a[r * n + i] * (ga[r * n + i] - dot);
        }
    }
};

}  // namespace typegrad::reference

// The rules of built-in layers kept in a header of their own, so that every user of the
// reference (reference/backprop.hpp, gradcheck) has them.
#include "typegrad/reference/attention.hpp"
#include "typegrad/reference/batch_norm.hpp"
#include "typegrad/reference/embedding.hpp"
#include "typegrad/reference/layer_norm.hpp"
