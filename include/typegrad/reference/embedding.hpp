// The hand-written reference rules of embedding<V, D> and positional (nn/layers/embedding.hpp),
// as the textbook writes them; the autodiff engine derives its own from the layers' expressions.
//   embedding   y_t = E[ids_t]        ∂J/∂E[r] = Σ_{t: ids_t = r} ∂J/∂y_t  (other rows 0); no ∂J/∂ids
//   positional  y = x + P             ∂J/∂P = ∂J/∂y,  ∂J/∂x = ∂J/∂y
// (Included at the end of reference/rule.hpp, so every user of the reference has them.)
#pragma once

#include <cstddef>

#include "typegrad/nn/layers/embedding.hpp"
#include "typegrad/reference/rule.hpp"

namespace typegrad::reference {

template <std::size_t V, std::size_t D>
struct rule<Embedding<V, D>> {
    /// The row that id v names, or V for none (a value that is not an integer in [0, V)).
    template <class T>
    static std::size_t row(T v) noexcept {
        const double d = static_cast<double>(v);
        if (!(d >= 0.0 && d < static_cast<double>(V)) || d != static_cast<double>(static_cast<std::size_t>(d))) return V;
        return static_cast<std::size_t>(d);
    }
    template <class In, class T, class P>
    static void forward(const P& p, const T* ids, T* y) noexcept {
        const T* e = p.template get<"E">().data();
        for (std::size_t t = 0; t < size_v<In>; ++t) {
            const std::size_t r = row(ids[t]);
            for (std::size_t k = 0; k < D; ++k) y[t * D + k] = r == V ? T(0) : e[r * D + k];
        }
    }
    template <class In, class T, class P, class G>
    static void backward(const P&, const T* ids, const T*, const T* gy, T* gx, G& g, Accumulate acc) noexcept {
        T* de = g.template get<"E">().data();
        if (acc == Accumulate::no)
            for (std::size_t i = 0; i < V * D; ++i) de[i] = T(0);
        for (std::size_t t = 0; t < size_v<In>; ++t) {
            const std::size_t r = row(ids[t]);
            if (r == V) continue;
            for (std::size_t k = 0; k < D; ++k) de[r * D + k] += gy[t * D + k];
        }
        if (gx)  // the ids are data: nothing flows into them
            for (std::size_t t = 0; t < size_v<In>; ++t) gx[t] = T(0);
    }
};

template <>
struct rule<Positional> {
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) noexcept {
        const T* pos = p.template get<"P">().data();
        for (std::size_t i = 0; i < size_v<In>; ++i) y[i] = x[i] + pos[i];
    }
    template <class In, class T, class P, class G>
    static void backward(const P&, const T*, const T*, const T* gy, T* gx, G& g, Accumulate acc) noexcept {
        T* dp = g.template get<"P">().data();
        for (std::size_t i = 0; i < size_v<In>; ++i) {
            dp[i] = acc == Accumulate::yes ? dp[i] + gy[i] : gy[i];
            if (gx) gx[i] = gy[i];
        }
    }
};

}  // namespace typegrad::reference
