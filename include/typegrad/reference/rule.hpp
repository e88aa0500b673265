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

#include <cstddef>

#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/simd/kernels.hpp"

namespace typegrad::reference {

template <class Layer>
struct rule;  // a layer without a reference rule cannot be used with the reference

/// Dense: z = Wᵀx + b;  ∂J/∂b = δ,  ∂J/∂W = x δᵀ,  ∂J/∂x = W δ   (δ = ∂J/∂z).
template <std::size_t Out, std::size_t In_>
struct rule<Dense<Out, In_>> {
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* z) noexcept {
        simd::gemv_t_bias<size_v<In>, Out>(p.template get<"W">().data(), x, p.template get<"b">().data(), z);
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T*, const T* delta, T* gx, G& g, Accumulate acc) noexcept {
        constexpr std::size_t n = size_v<In>;
        auto& db = g.template get<"b">();
        if (acc == Accumulate::yes)
            for (std::size_t j = 0; j < Out; ++j) db[j] += delta[j];
        else
            for (std::size_t j = 0; j < Out; ++j) db[j] = delta[j];
        simd::ger<n, Out>(x, delta, g.template get<"W">().data(), acc == Accumulate::yes);
        if (gx) simd::gemv<n, Out>(p.template get<"W">().data(), delta, gx);
    }
};

/// Elementwise activation a = f(z):  ∂J/∂z = ∂J/∂a ⊙ f'(z), with f'(z) from z and a = f(z).
template <class F>
struct rule<expr::MapFn<F>> {
    template <class In, class T, class P>
    static void forward(const P&, const T* z, T* a) noexcept {
        simd::map<F, size_v<In>>(z, a);
    }
    template <class In, class T, class P, class G>
    static void backward(const P&, const T* z, const T* a, const T* ga, T* gz, G&, Accumulate) noexcept {
        if (gz)
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
