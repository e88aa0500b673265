// Kernels of the convolution and pooling ops, specialised on compile-time shapes. Activations are
// (C, H, W), row-major; a convolution's weights are (C_out, C_in, K, K), as in PyTorch.
//
// The convolution is computed as im2col + a small matrix product (the faster of the two ways
// measured in benchmarks/bench_conv.cpp; conv2d_direct below is the other, kept as the yardstick):
//   cols (C_in·K·K, Ho·Wo):  cols[(c, ky, kx)][(oy, ox)] = x[c][oy·S + ky − P][ox·S + kx − P] (0 outside)
//   forward:                 z  = W cols + b          (W seen as C_out × C_in·K·K)
//   ∂J/∂W:                   dW = δ colsᵀ             (a correlation of the input with δ)
//   ∂J/∂x:                   x += col2im(Wᵀ δ)        (the full correlation of δ with the flipped kernel)
// The three products are matmul_nn, matmul_nt and matmul_tn, vectorised with xsimd along their
// longest extent (the output positions).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>

#include <xsimd/xsimd.hpp>

#include "typegrad/simd/kernels.hpp"
#include "typegrad/simd/row.hpp"

namespace typegrad::simd {

/// The geometry of a 2-D convolution (or pooling window) over a (C, H, W) input.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S = 1, std::size_t P = 0>
struct Window {
    static constexpr std::size_t channels = C, height = H, width = W, kernel = K, stride = S, padding = P;
    static constexpr bool fits = K <= H + 2 * P && K <= W + 2 * P && S >= 1;
    static constexpr std::size_t out_height = fits ? (H + 2 * P - K) / S + 1 : 1;
    static constexpr std::size_t out_width = fits ? (W + 2 * P - K) / S + 1 : 1;
    static constexpr std::size_t positions = out_height * out_width;  // Ho·Wo
    static constexpr std::size_t patch = C * K * K;                   // C·K·K
    static constexpr std::size_t in_size = C * H * W;
};

namespace detail {
template <class T>
inline constexpr std::size_t lanes = xsimd::batch<T>::size;
}

/// C (M × N) = A (M × K) · B (K × N), plus bias[m] in row m when bias is not null, or C += A·B
/// when accumulating. Vectorised along N; up to 4 batches of N held in registers per row.
template <std::size_t M, std::size_t K, std::size_t N, class T>
void matmul_nn(const T* __restrict A, const T* __restrict B, const T* __restrict bias, T* __restrict C,
               bool accumulate = false) noexcept {
    using V = xsimd::batch<T>;
    constexpr std::size_t L = detail::lanes<T>, block = 4 * L, full = N / block * block;
    for (std::size_t m = 0; m < M; ++m) {
        const T* a = A + m * K;
        T* c = C + m * N;
        const T b0 = bias ? bias[m] : T(0);
        for (std::size_t n = 0; n < full; n += block) {
            V acc[4];
            for (std::size_t j = 0; j < 4; ++j) acc[j] = accumulate ? V::load_unaligned(c + n + j * L) : V(b0);
            for (std::size_t k = 0; k < K; ++k) {
                const V ak(a[k]);
                const T* b = B + k * N + n;
                for (std::size_t j = 0; j < 4; ++j) acc[j] = xsimd::fma(ak, V::load_unaligned(b + j * L), acc[j]);
            }
            for (std::size_t j = 0; j < 4; ++j) acc[j].store_unaligned(c + n + j * L);
        }
        if constexpr (full < N) {
            // the rest: whole batches, then scalars
            constexpr std::size_t vec_end = full + (N - full) / L * L;
            for (std::size_t n = full; n < vec_end; n += L) {
                V acc = accumulate ? V::load_unaligned(c + n) : V(b0);
                for (std::size_t k = 0; k < K; ++k) acc = xsimd::fma(V(a[k]), V::load_unaligned(B + k * N + n), acc);
                acc.store_unaligned(c + n);
            }
            for (std::size_t n = vec_end; n < N; ++n) {
                T acc = accumulate ? c[n] : b0;
                for (std::size_t k = 0; k < K; ++k) acc += a[k] * B[k * N + n];
                c[n] = acc;
            }
        }
    }
}

/// C (M × N) = Aᵀ · B for A (K × M), B (K × N), or C += Aᵀ·B. Vectorised along N.
template <std::size_t M, std::size_t K, std::size_t N, class T>
void matmul_tn(const T* __restrict A, const T* __restrict B, T* __restrict C, bool accumulate = false) noexcept {
    using V = xsimd::batch<T>;
    constexpr std::size_t L = detail::lanes<T>, block = 4 * L, full = N / block * block;
    constexpr std::size_t vec_end = full + (N - full) / L * L;
    for (std::size_t m = 0; m < M; ++m) {
        T* c = C + m * N;
        for (std::size_t n = 0; n < full; n += block) {
            V acc[4];
            for (std::size_t j = 0; j < 4; ++j) acc[j] = accumulate ? V::load_unaligned(c + n + j * L) : V(T(0));
            for (std::size_t k = 0; k < K; ++k) {
                const V ak(A[k * M + m]);
                const T* b = B + k * N + n;
                for (std::size_t j = 0; j < 4; ++j) acc[j] = xsimd::fma(ak, V::load_unaligned(b + j * L), acc[j]);
            }
            for (std::size_t j = 0; j < 4; ++j) acc[j].store_unaligned(c + n + j * L);
        }
        for (std::size_t n = full; n < vec_end; n += L) {
            V acc = accumulate ? V::load_unaligned(c + n) : V(T(0));
            for (std::size_t k = 0; k < K; ++k) acc = xsimd::fma(V(A[k * M + m]), V::load_unaligned(B + k * N + n), acc);
            acc.store_unaligned(c + n);
        }
        for (std::size_t n = vec_end; n < N; ++n) {
            T acc = accumulate ? c[n] : T(0);
            for (std::size_t k = 0; k < K; ++k) acc += A[k * M + m] * B[k * N + n];
            c[n] = acc;
        }
    }
}

/// C (M × N) = A · Bᵀ for A (M × K), B (N × K), or C += A·Bᵀ: dot products of rows, vectorised
/// along K with one accumulator per (m, n) pair of a block of 4 rows of B, reduced once.
template <std::size_t M, std::size_t K, std::size_t N, class T>
void matmul_nt(const T* __restrict A, const T* __restrict B, T* __restrict C, bool accumulate = false) noexcept {
    using V = xsimd::batch<T>;
    constexpr std::size_t L = detail::lanes<T>, kv = K / L * L;
    for (std::size_t m = 0; m < M; ++m) {
        const T* a = A + m * K;
        T* c = C + m * N;
        std::size_t n = 0;
        for (; n + 4 <= N; n += 4) {
            V acc[4] = {V(T(0)), V(T(0)), V(T(0)), V(T(0))};
            for (std::size_t k = 0; k < kv; k += L) {
                const V av = V::load_unaligned(a + k);
                for (std::size_t j = 0; j < 4; ++j) acc[j] = xsimd::fma(av, V::load_unaligned(B + (n + j) * K + k), acc[j]);
            }
            for (std::size_t j = 0; j < 4; ++j) {
                T s = reduce_add(acc[j]);
                for (std::size_t k = kv; k < K; ++k) s += a[k] * B[(n + j) * K + k];
                c[n + j] = accumulate ? c[n + j] + s : s;
            }
        }
        for (; n < N; ++n) {
            V acc(T(0));
            for (std::size_t k = 0; k < kv; k += L) acc = xsimd::fma(V::load_unaligned(a + k), V::load_unaligned(B + n * K + k), acc);
            T s = reduce_add(acc);
            for (std::size_t k = kv; k < K; ++k) s += a[k] * B[n * K + k];
            c[n] = accumulate ? c[n] + s : s;
        }
    }
}

/// cols = im2col(x) for the window G (see the top of this file).
template <class G, class T>
void im2col(const T* __restrict x, T* __restrict cols) noexcept {
    constexpr std::size_t K = G::kernel, S = G::stride, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    for (std::size_t c = 0; c < G::channels; ++c)
        for (std::size_t ky = 0; ky < K; ++ky)
            for (std::size_t kx = 0; kx < K; ++kx) {
                T* row = cols + ((c * K + ky) * K + kx) * G::positions;
                for (std::size_t oy = 0; oy < Ho; ++oy) {
                    T* out = row + oy * Wo;
                    const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * S + ky) - static_cast<std::ptrdiff_t>(P);
                    if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) {
                        std::fill_n(out, Wo, T(0));
                        continue;
                    }
                    const T* in = x + (c * H + static_cast<std::size_t>(iy)) * W;
                    if constexpr (S == 1) {
                        // ix = ox + kx − P lies in [0, W) for ox in [lo, hi)
                        const std::size_t lo = std::min(Wo, kx < P ? P - kx : std::size_t{0});
                        const std::size_t hi = std::max(lo, std::min(Wo, W + P - kx));
                        std::fill_n(out, lo, T(0));
                        std::memcpy(out + lo, in + (lo + kx - P), (hi - lo) * sizeof(T));
                        std::fill_n(out + hi, Wo - hi, T(0));
                    } else {
                        for (std::size_t ox = 0; ox < Wo; ++ox) {
                            const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * S + kx) - static_cast<std::ptrdiff_t>(P);
                            out[ox] = ix >= 0 && ix < static_cast<std::ptrdiff_t>(W) ? in[ix] : T(0);
                        }
                    }
                }
            }
}

/// dx (+)= col2im(dcols): every entry of the columns added back to the input element it was
/// copied from (entries from the padding are dropped).
template <class G, class T>
void col2im(const T* __restrict dcols, T* __restrict dx, bool accumulate) noexcept {
    constexpr std::size_t K = G::kernel, S = G::stride, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    if (!accumulate) std::fill_n(dx, G::in_size, T(0));
    for (std::size_t c = 0; c < G::channels; ++c)
        for (std::size_t ky = 0; ky < K; ++ky)
            for (std::size_t kx = 0; kx < K; ++kx) {
                const T* row = dcols + ((c * K + ky) * K + kx) * G::positions;
                for (std::size_t oy = 0; oy < Ho; ++oy) {
                    const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * S + ky) - static_cast<std::ptrdiff_t>(P);
                    if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                    T* in = dx + (c * H + static_cast<std::size_t>(iy)) * W;
                    const T* g = row + oy * Wo;
                    if constexpr (S == 1) {
                        const std::size_t lo = std::min(Wo, kx < P ? P - kx : std::size_t{0});
                        const std::size_t hi = std::max(lo, std::min(Wo, W + P - kx));
                        T* d = in + (lo + kx - P);
                        for (std::size_t ox = lo; ox < hi; ++ox) d[ox - lo] += g[ox];
                    } else {
                        for (std::size_t ox = 0; ox < Wo; ++ox) {
                            const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * S + kx) - static_cast<std::ptrdiff_t>(P);
                            if (ix >= 0 && ix < static_cast<std::ptrdiff_t>(W)) in[ix] += g[ox];
                        }
                    }
                }
            }
}

/// The im2col buffer of one thread for window G: static storage (no allocation per call, no
/// large stack frame), one per thread.
template <class G, class T>
T* columns_buffer() noexcept {
    alignas(64) static thread_local T cols[G::patch * G::positions];
    return cols;
}

/// z = W ⋆ x + b for one example: W (Co, C, K, K), x (C, H, W), b (Co), z (Co, Ho, Wo).
template <class G, std::size_t Co, class T>
void conv2d_forward(const T* __restrict w, const T* __restrict x, const T* __restrict b, T* __restrict z) noexcept {
    T* cols = columns_buffer<G, T>();
    im2col<G>(x, cols);
    matmul_nn<Co, G::patch, G::positions>(w, cols, b, z);
}

/// ∂J/∂W (+)= δ ⋆ x (the correlation of the input with δ) for one example.
template <class G, std::size_t Co, class T>
void conv2d_weight_gradient(const T* __restrict x, const T* __restrict delta, T* __restrict dw, bool accumulate) noexcept {
    T* cols = columns_buffer<G, T>();
    im2col<G>(x, cols);
    matmul_nt<Co, G::positions, G::patch>(delta, cols, dw, accumulate);
}

/// ∂J/∂x (+)= the full correlation of δ with the flipped kernel, for one example.
template <class G, std::size_t Co, class T>
void conv2d_input_gradient(const T* __restrict w, const T* __restrict delta, T* __restrict dx, bool accumulate) noexcept {
    T* cols = columns_buffer<G, T>();
    matmul_tn<G::patch, Co, G::positions>(w, delta, cols);
    col2im<G>(cols, dx, accumulate);
}

/// The direct convolution, plain loops over compile-time bounds (auto-vectorised by the
/// compiler where it can): the yardstick of the benchmarks, not used by the engine.
template <class G, std::size_t Co, class T>
void conv2d_direct(const T* __restrict w, const T* __restrict x, const T* __restrict b, T* __restrict z) noexcept {
    constexpr std::size_t K = G::kernel, S = G::stride, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    for (std::size_t o = 0; o < Co; ++o) {
        T* zo = z + o * Ho * Wo;
        std::fill_n(zo, Ho * Wo, b ? b[o] : T(0));
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                for (std::size_t kx = 0; kx < K; ++kx) {
                    const T wk = w[((o * G::channels + c) * K + ky) * K + kx];
                    for (std::size_t oy = 0; oy < Ho; ++oy) {
                        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * S + ky) - static_cast<std::ptrdiff_t>(P);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                        const T* in = x + (c * H + static_cast<std::size_t>(iy)) * W;
                        for (std::size_t ox = 0; ox < Wo; ++ox) {
                            const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * S + kx) - static_cast<std::ptrdiff_t>(P);
                            if (ix >= 0 && ix < static_cast<std::ptrdiff_t>(W)) zo[oy * Wo + ox] += wk * in[ix];
                        }
                    }
                }
    }
}

// --- pooling: K × K windows, stride K, over the last two extents of (C, H, W) ---------------

/// y = the maximum of each window.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, class T>
void max_pool_forward(const T* __restrict x, T* __restrict y) noexcept {
    constexpr std::size_t Ho = H / K, Wo = W / K;
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t oy = 0; oy < Ho; ++oy)
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const T* in = x + (c * H + oy * K) * W + ox * K;
                T m = in[0];
                for (std::size_t ky = 0; ky < K; ++ky)
                    for (std::size_t kx = 0; kx < K; ++kx) m = std::max(m, in[ky * W + kx]);
                y[(c * Ho + oy) * Wo + ox] = m;
            }
}

/// dx (+)= g routed to each window's maximum (the first one, in row-major order, on ties); the
/// other elements of the window get 0.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, class T>
void max_pool_backward(const T* __restrict x, const T* __restrict y, const T* __restrict g, T* __restrict dx,
                       bool accumulate) noexcept {
    constexpr std::size_t Ho = H / K, Wo = W / K;
    if (!accumulate) std::fill_n(dx, C * H * W, T(0));
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t oy = 0; oy < Ho; ++oy)
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const std::size_t o = (c * Ho + oy) * Wo + ox, base = (c * H + oy * K) * W + ox * K;
                const T m = y[o];
                std::size_t at = base;
                for (std::size_t k = 0; k < K * K; ++k)
                    if (x[base + (k / K) * W + k % K] == m) {
                        at = base + (k / K) * W + k % K;
                        break;
                    }
                dx[at] += g[o];
            }
}

/// y = the mean of each window.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, class T>
void avg_pool_forward(const T* __restrict x, T* __restrict y) noexcept {
    constexpr std::size_t Ho = H / K, Wo = W / K;
    constexpr T scale = T(1) / T(K * K);
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t oy = 0; oy < Ho; ++oy)
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const T* in = x + (c * H + oy * K) * W + ox * K;
                T s = 0;
                for (std::size_t ky = 0; ky < K; ++ky)
                    for (std::size_t kx = 0; kx < K; ++kx) s += in[ky * W + kx];
                y[(c * Ho + oy) * Wo + ox] = s * scale;
            }
}

/// dx (+)= g / K² spread over each window.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, class T>
void avg_pool_backward(const T* __restrict g, T* __restrict dx, bool accumulate) noexcept {
    constexpr std::size_t Ho = H / K, Wo = W / K;
    constexpr T scale = T(1) / T(K * K);
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t iy = 0; iy < Ho * K; ++iy)
            for (std::size_t ix = 0; ix < W; ++ix) {
                const std::size_t i = (c * H + iy) * W + ix;
                const T v = ix < Wo * K ? g[(c * Ho + iy / K) * Wo + ix / K] * scale : T(0);
                dx[i] = accumulate ? dx[i] + v : v;
            }
}

}  // namespace typegrad::simd
