// The hand-written reference rule of attention<H> (nn/layers/attention.hpp): the textbook forward
// and backward of causal multi-head self-attention, in plain loops with double accumulators; the
// autodiff engine derives its own from the layer's expression and never reads this.
//   forward   q,k,v = Wᵀx_i + b (split),  S_h[i,j] = q_h[i]·k_h[j]/√d for j ≤ i,
//             P_h[i,·] = softmax(S_h[i, 0..i]),  o_h[i] = Σ_{j≤i} P_h[i,j] v_h[j],  y_i = Woᵀ o_i + bo
//   backward  ∂o_i = Wo ∂y_i;  ∂Wo = Σ_i o_i ∂y_iᵀ;  ∂bo = Σ_i ∂y_i
//             ∂P_h[i,j] = ∂o_h[i]·v_h[j];  ∂S_h[i,j] = P_h[i,j] (∂P_h[i,j] − Σ_{j'} P_h[i,j'] ∂P_h[i,j'])
//             ∂q_h[i] = Σ_j ∂S_h[i,j] k_h[j]/√d;  ∂k_h[j] = Σ_i ∂S_h[i,j] q_h[i]/√d;  ∂v_h[j] = Σ_i P_h[i,j] ∂o_h[i]
//             ∂W = Σ_i x_i ∂[q k v]_iᵀ;  ∂b = Σ_i ∂[q k v]_i;  ∂x_i = W ∂[q k v]_i
// (Included at the end of reference/rule.hpp, so every user of the reference has it.)
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "typegrad/nn/layers/attention.hpp"
#include "typegrad/reference/rule.hpp"

namespace typegrad::reference {

template <std::size_t H>
struct rule<Attention<H>> {
    /// The forward pass's intermediates of one sequence of n positions of width D.
    struct Pass {
        std::size_t n, D, d;
        std::vector<double> qkv, p, o;  // (n, 3D), (H, n, n), (n, D)
    };
    template <class T, class P>
    static Pass run(const P& par, const T* x, std::size_t n, std::size_t D) {
        Pass r{n, D, D / H, std::vector<double>(n * 3 * D), std::vector<double>(H * n * n, 0.0), std::vector<double>(n * D, 0.0)};
        const T* W = par.template get<"W">().data();
        const T* b = par.template get<"b">().data();
        const std::size_t W3 = 3 * D, d = r.d;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < W3; ++c) {
                double s = b[c];
                for (std::size_t a = 0; a < D; ++a) s += static_cast<double>(W[a * W3 + c]) * static_cast<double>(x[i * D + a]);
                r.qkv[i * W3 + c] = s;
            }
        const double scale = 1.0 / std::sqrt(static_cast<double>(d));
        for (std::size_t h = 0; h < H; ++h)
            for (std::size_t i = 0; i < n; ++i) {
                double* row = &r.p[(h * n + i) * n];
                double m = -INFINITY;
                for (std::size_t j = 0; j <= i; ++j) {
                    double s = 0;
                    for (std::size_t k = 0; k < d; ++k) s += r.qkv[i * W3 + h * d + k] * r.qkv[j * W3 + D + h * d + k];
                    row[j] = s * scale;
                    m = std::max(m, row[j]);
                }
                double z = 0;
                for (std::size_t j = 0; j <= i; ++j) z += (row[j] = std::exp(row[j] - m));
                for (std::size_t j = 0; j <= i; ++j) row[j] /= z;
                for (std::size_t j = 0; j <= i; ++j)
                    for (std::size_t k = 0; k < d; ++k) r.o[i * D + h * d + k] += row[j] * r.qkv[j * W3 + 2 * D + h * d + k];
            }
        return r;
    }

    template <class In, class T, class P>
    static void forward(const P& par, const T* x, T* y) {
        constexpr std::size_t n = shape_traits<In>::extents[0], D = shape_traits<In>::extents[1];
        const Pass r = run(par, x, n, D);
        const T* Wo = par.template get<"Wo">().data();
        const T* bo = par.template get<"bo">().data();
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < D; ++c) {
                double s = bo[c];
                for (std::size_t a = 0; a < D; ++a) s += static_cast<double>(Wo[a * D + c]) * r.o[i * D + a];
                y[i * D + c] = static_cast<T>(s);
            }
    }

    template <class In, class T, class P, class G>
    static void backward(const P& par, const T* x, const T*, const T* gy, T* gx, G& g, Accumulate acc) {
        constexpr std::size_t n = shape_traits<In>::extents[0], D = shape_traits<In>::extents[1];
        const std::size_t W3 = 3 * D;
        const Pass r = run(par, x, n, D);
        const std::size_t d = r.d;
        const double scale = 1.0 / std::sqrt(static_cast<double>(d));
        const T* W = par.template get<"W">().data();
        const T* Wo = par.template get<"Wo">().data();
        T* dW = g.template get<"W">().data();
        T* db = g.template get<"b">().data();
        T* dWo = g.template get<"Wo">().data();
        T* dbo = g.template get<"bo">().data();
        const auto put = [&](T& to, double v) { to = acc == Accumulate::yes ? static_cast<T>(to + v) : static_cast<T>(v); };
        // the output projection
        std::vector<double> go(n * D, 0.0);
        for (std::size_t a = 0; a < D; ++a)
            for (std::size_t c = 0; c < D; ++c) {
                double s = 0;
                for (std::size_t i = 0; i < n; ++i) s += r.o[i * D + a] * static_cast<double>(gy[i * D + c]);
                put(dWo[a * D + c], s);
            }
        for (std::size_t c = 0; c < D; ++c) {
            double s = 0;
            for (std::size_t i = 0; i < n; ++i) s += gy[i * D + c];
            put(dbo[c], s);
        }
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t a = 0; a < D; ++a) {
                double s = 0;
                for (std::size_t c = 0; c < D; ++c) s += static_cast<double>(Wo[a * D + c]) * static_cast<double>(gy[i * D + c]);
                go[i * D + a] = s;
            }
        // through the heads
        std::vector<double> gqkv(n * W3, 0.0);
        for (std::size_t h = 0; h < H; ++h)
            for (std::size_t i = 0; i < n; ++i) {
                const double* row = &r.p[(h * n + i) * n];
                std::vector<double> dp(i + 1);
                double dot = 0;
                for (std::size_t j = 0; j <= i; ++j) {
                    double s = 0;
                    for (std::size_t k = 0; k < d; ++k) s += go[i * D + h * d + k] * r.qkv[j * W3 + 2 * D + h * d + k];
                    dp[j] = s;
                    dot += row[j] * s;
                }
                for (std::size_t j = 0; j <= i; ++j) {
                    const double ds = row[j] * (dp[j] - dot) * scale;
                    for (std::size_t k = 0; k < d; ++k) {
                        gqkv[i * W3 + h * d + k] += ds * r.qkv[j * W3 + D + h * d + k];
                        gqkv[j * W3 + D + h * d + k] += ds * r.qkv[i * W3 + h * d + k];
                        gqkv[j * W3 + 2 * D + h * d + k] += row[j] * go[i * D + h * d + k];
                    }
                }
            }
        // the input projection
        for (std::size_t a = 0; a < D; ++a)
            for (std::size_t c = 0; c < W3; ++c) {
                double s = 0;
                for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i * D + a]) * gqkv[i * W3 + c];
                put(dW[a * W3 + c], s);
            }
        for (std::size_t c = 0; c < W3; ++c) {
            double s = 0;
            for (std::size_t i = 0; i < n; ++i) s += gqkv[i * W3 + c];
            put(db[c], s);
        }
        if (gx)
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t a = 0; a < D; ++a) {
                    double s = 0;
                    for (std::size_t c = 0; c < W3; ++c) s += static_cast<double>(W[a * W3 + c]) * gqkv[i * W3 + c];
                    gx[i * D + a] = static_cast<T>(s);
                }
    }
};

}  // namespace typegrad::reference
