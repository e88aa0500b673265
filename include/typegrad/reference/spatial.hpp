// The textbook rules of the image layers, written out index by index for one example — no
// im2col, no shared kernel with the autodiff path (simd/conv.hpp), so that the three-way check
// compares two independent derivations:
//
//   conv:     z[o][i][j] = b[o] + Σ_c,u,v W[o][c][u][v] · x̂[c][iS + u][jS + v]      (x̂: x padded by P)
//             ∂J/∂b[o] = Σ_i,j δ[o][i][j]
//             ∂J/∂W[o][c][u][v] = Σ_i,j x̂[c][iS + u][jS + v] · δ[o][i][j]            (x ⋆ δ)
//             ∂J/∂x̂[c][p][q] = Σ_o,u,v δ̃[o][p − u][q − v] · W[o][c][u][v]
//                            = Σ_o,u,v δ̃ₚ[o][p + u][q + v] · flip(W)[o][c][u][v]      (full(δ) ⋆ flip(W))
//             with δ̃ the δ dilated by the stride (S − 1 zeros between entries), δ̃ₚ it padded by
//             K − 1, flip(W)[o][c][u][v] = W[o][c][K−1−u][K−1−v]; ∂J/∂x crops P from ∂J/∂x̂.
//   max pool: ∂J/∂x = δ at the first maximum of each window (row-major), 0 elsewhere
//   avg pool: ∂J/∂x = δ / K² at every element of each window
//   flatten:  ∂J/∂x = δ, the same elements in the same order
//   dropout:  ∂J/∂x = δ ⊙ m, m the mask drawn in the forward step
#pragma once

#include <algorithm>
#include <cstddef>

#include "typegrad/nn/layers/conv2d.hpp"
#include "typegrad/nn/layers/dropout.hpp"
#include "typegrad/nn/layers/flatten.hpp"
#include "typegrad/nn/layers/pool.hpp"
#include "typegrad/reference/rule.hpp"

namespace typegrad::reference {

template <std::size_t Co, std::size_t K, std::size_t S, std::size_t P, std::size_t Ci>
struct rule<Conv2d<Co, K, S, P, Ci>> {
    template <class In>
    struct geometry {
        static constexpr auto e = shape_traits<In>::extents;
        static constexpr std::ptrdiff_t C = e[0], H = e[1], W = e[2];
        static constexpr std::ptrdiff_t Ho = (H + 2 * std::ptrdiff_t(P) - std::ptrdiff_t(K)) / std::ptrdiff_t(S) + 1;
        static constexpr std::ptrdiff_t Wo = (W + 2 * std::ptrdiff_t(P) - std::ptrdiff_t(K)) / std::ptrdiff_t(S) + 1;
        // x̂[c][p][q]: x padded by P zeros
        template <class T>
        static T padded(const T* x, std::ptrdiff_t c, std::ptrdiff_t p, std::ptrdiff_t q) noexcept {
            const std::ptrdiff_t r = p - std::ptrdiff_t(P), s = q - std::ptrdiff_t(P);
            return r >= 0 && r < H && s >= 0 && s < W ? x[(c * H + r) * W + s] : T(0);
        }
        static std::ptrdiff_t w_at(std::ptrdiff_t o, std::ptrdiff_t c, std::ptrdiff_t u, std::ptrdiff_t v) noexcept {
            return ((o * C + c) * std::ptrdiff_t(K) + u) * std::ptrdiff_t(K) + v;
        }
    };

    template <class In, class T, class Ps>
    static void forward(const Ps& p, const T* x, T* z) noexcept {
        using G = geometry<In>;
        const T* w = p.template get<"W">().data();
        const T* b = p.template get<"b">().data();
        for (std::ptrdiff_t o = 0; o < std::ptrdiff_t(Co); ++o)
            for (std::ptrdiff_t i = 0; i < G::Ho; ++i)
                for (std::ptrdiff_t j = 0; j < G::Wo; ++j) {
                    T s = b[o];
                    for (std::ptrdiff_t c = 0; c < G::C; ++c)
                        for (std::ptrdiff_t u = 0; u < std::ptrdiff_t(K); ++u)
                            for (std::ptrdiff_t v = 0; v < std::ptrdiff_t(K); ++v)
                                s += w[G::w_at(o, c, u, v)] * G::padded(x, c, i * std::ptrdiff_t(S) + u, j * std::ptrdiff_t(S) + v);
                    z[(o * G::Ho + i) * G::Wo + j] = s;
                }
    }

    template <class In, class T, class Ps, class Gs>
    static void backward(const Ps& p, const T* x, const T*, const T* delta, T* gx, Gs& g, Accumulate acc) noexcept {
        using G = geometry<In>;
        constexpr std::ptrdiff_t k = std::ptrdiff_t(K), s = std::ptrdiff_t(S);
        const bool add = acc == Accumulate::yes;
        const T* w = p.template get<"W">().data();
        auto& db = g.template get<"b">();
        auto& dw = g.template get<"W">();
        const auto d = [&](std::ptrdiff_t o, std::ptrdiff_t i, std::ptrdiff_t j) { return delta[(o * G::Ho + i) * G::Wo + j]; };
        for (std::ptrdiff_t o = 0; o < std::ptrdiff_t(Co); ++o) {
            T sb = 0;
            for (std::ptrdiff_t i = 0; i < G::Ho; ++i)
                for (std::ptrdiff_t j = 0; j < G::Wo; ++j) sb += d(o, i, j);
            db[o] = add ? db[o] + sb : sb;
            for (std::ptrdiff_t c = 0; c < G::C; ++c)
                for (std::ptrdiff_t u = 0; u < k; ++u)
                    for (std::ptrdiff_t v = 0; v < k; ++v) {
                        T sw = 0;
                        for (std::ptrdiff_t i = 0; i < G::Ho; ++i)
                            for (std::ptrdiff_t j = 0; j < G::Wo; ++j) sw += G::padded(x, c, i * s + u, j * s + v) * d(o, i, j);
                        const std::ptrdiff_t at = G::w_at(o, c, u, v);
                        dw.data()[at] = add ? dw.data()[at] + sw : sw;
                    }
        }
        if (!gx) return;
        // δ̃ₚ: δ dilated by the stride and padded by K − 1, read in place
        const auto dilated = [&](std::ptrdiff_t o, std::ptrdiff_t a, std::ptrdiff_t b) -> T {
            a -= k - 1;
            b -= k - 1;
            if (a < 0 || b < 0 || a % s != 0 || b % s != 0 || a / s >= G::Ho || b / s >= G::Wo) return T(0);
            return d(o, a / s, b / s);
        };
        for (std::ptrdiff_t c = 0; c < G::C; ++c)
            for (std::ptrdiff_t r = 0; r < G::H; ++r)
                for (std::ptrdiff_t q = 0; q < G::W; ++q) {
                    const std::ptrdiff_t pr = r + std::ptrdiff_t(P), pq = q + std::ptrdiff_t(P);  // position in x̂
                    T sx = 0;
                    for (std::ptrdiff_t o = 0; o < std::ptrdiff_t(Co); ++o)
                        for (std::ptrdiff_t u = 0; u < k; ++u)
                            for (std::ptrdiff_t v = 0; v < k; ++v)
                                sx += dilated(o, pr + u, pq + v) * w[G::w_at(o, c, k - 1 - u, k - 1 - v)];
                    gx[(c * G::H + r) * G::W + q] = sx;
                }
    }
};

namespace detail {
template <class In>
struct pool_geometry {
    static constexpr auto e = shape_traits<In>::extents;
    static constexpr std::size_t C = e[0], H = e[1], W = e[2];
};
}  // namespace detail

template <std::size_t K>
struct rule<MaxPool<K>> {
    template <class In, class T, class Ps>
    static void forward(const Ps&, const T* x, T* y) noexcept {
        using G = detail::pool_geometry<In>;
        for (std::size_t c = 0; c < G::C; ++c)
            for (std::size_t i = 0; i < G::H / K; ++i)
                for (std::size_t j = 0; j < G::W / K; ++j) {
                    T m = x[(c * G::H + i * K) * G::W + j * K];
                    for (std::size_t u = 0; u < K; ++u)
                        for (std::size_t v = 0; v < K; ++v) m = std::max(m, x[(c * G::H + i * K + u) * G::W + j * K + v]);
                    y[(c * (G::H / K) + i) * (G::W / K) + j] = m;
                }
    }
    template <class In, class T, class Ps, class Gs>
    static void backward(const Ps&, const T* x, const T* y, const T* gy, T* gx, Gs&, Accumulate) noexcept {
        if (!gx) return;
        using G = detail::pool_geometry<In>;
        std::fill_n(gx, G::C * G::H * G::W, T(0));
        for (std::size_t c = 0; c < G::C; ++c)
            for (std::size_t i = 0; i < G::H / K; ++i)
                for (std::size_t j = 0; j < G::W / K; ++j) {
                    const std::size_t o = (c * (G::H / K) + i) * (G::W / K) + j;
                    bool routed = false;
                    for (std::size_t u = 0; u < K && !routed; ++u)
                        for (std::size_t v = 0; v < K && !routed; ++v) {
                            const std::size_t at = (c * G::H + i * K + u) * G::W + j * K + v;
                            if (x[at] == y[o]) {
                                gx[at] = gy[o];
                                routed = true;
                            }
                        }
                }
    }
};

template <std::size_t K>
struct rule<AvgPool<K>> {
    template <class In, class T, class Ps>
    static void forward(const Ps&, const T* x, T* y) noexcept {
        using G = detail::pool_geometry<In>;
        for (std::size_t c = 0; c < G::C; ++c)
            for (std::size_t i = 0; i < G::H / K; ++i)
                for (std::size_t j = 0; j < G::W / K; ++j) {
                    T s = 0;
                    for (std::size_t u = 0; u < K; ++u)
                        for (std::size_t v = 0; v < K; ++v) s += x[(c * G::H + i * K + u) * G::W + j * K + v];
                    y[(c * (G::H / K) + i) * (G::W / K) + j] = s / T(K * K);
                }
    }
    template <class In, class T, class Ps, class Gs>
    static void backward(const Ps&, const T*, const T*, const T* gy, T* gx, Gs&, Accumulate) noexcept {
        if (!gx) return;
        using G = detail::pool_geometry<In>;
        for (std::size_t c = 0; c < G::C; ++c)
            for (std::size_t r = 0; r < G::H; ++r)
                for (std::size_t q = 0; q < G::W; ++q)
                    gx[(c * G::H + r) * G::W + q] = gy[(c * (G::H / K) + r / K) * (G::W / K) + q / K] / T(K * K);
    }
};

template <>
struct rule<Flatten> {
    template <class In, class T, class Ps>
    static void forward(const Ps&, const T* x, T* y) noexcept {
        std::copy_n(x, size_v<In>, y);
    }
    template <class In, class T, class Ps, class Gs>
    static void backward(const Ps&, const T*, const T*, const T* gy, T* gx, Gs&, Accumulate) noexcept {
        if (gx) std::copy_n(gy, size_v<In>, gx);
    }
};

/// Inverted dropout: y = x ⊙ m with the mask drawn as the engine draws it (the same generator,
/// the same order), kept for the backward step ∂J/∂x = ∂J/∂y ⊙ m.
template <auto Rate>
struct rule<Dropout<Rate>> {
    template <class In, class T>
    static T* mask() noexcept {
        alignas(64) static thread_local T m[size_v<In>];
        return m;
    }
    template <class In, class T, class Ps>
    static void forward(const Ps&, const T* x, T* y) noexcept {
        T* m = mask<In, T>();
        expr::draw_dropout_mask<Rate>(m, size_v<In>);
        for (std::size_t i = 0; i < size_v<In>; ++i) y[i] = x[i] * m[i];
    }
    template <class In, class T, class Ps, class Gs>
    static void backward(const Ps&, const T*, const T*, const T* gy, T* gx, Gs&, Accumulate) noexcept {
        if (!gx) return;
        const T* m = mask<In, T>();
        for (std::size_t i = 0; i < size_v<In>; ++i) gx[i] = gy[i] * m[i];
    }
};

}  // namespace typegrad::reference
