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
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

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

namespace detail {

// Register blocks: MR rows of C at a time, each with NB SIMD batches of columns, so that every
// load of B feeds MR FMAs (the column matrix of a convolution, 40-80 KB, is then read once per
// MR output channels rather than once per channel). With 32 vector registers (AVX-512) 4 × 4
// accumulators; with 16 (AVX2) 6 × 2 — 12 accumulators, 2 loads of B and a broadcast of A, the
// shape of BLIS's Haswell kernel: an FMA's 5-cycle latency on Zen 2 at 2 FMAs a cycle needs 10
// chains in flight, and 4 × 2 had 8 (measured: benchmarks/bench_conv, docs/benchmarks.md).
// A block of fewer rows (the last rows of C, or all of them when C has fewer than 6) takes more
// batches of columns on AVX2, as many as 16 registers hold: MR·NB accumulators + NB loads of B
// + 1 broadcast (4 rows × 3 batches, 2 × 5).
template <class T>
inline constexpr std::size_t block_rows = sizeof(xsimd::batch<T>) >= 64 ? 4 : 6;
template <class T, std::size_t MR>
inline constexpr std::size_t column_batches =
    sizeof(xsimd::batch<T>) >= 64 ? 4 : std::clamp<std::size_t>(15 / (MR + 1), 1, 6);

// C[m0, m0 + MR) (M × N) = A·B (+ bias, or += when accumulating), A(m, k) = A[m·SM + k·SK].
// Columns past the last whole batch: when N ≥ one batch, one more batch over the last L columns
// [N − L, N) — stored whole when C is overwritten (the columns it shares with the batch before
// get the same value again: the same FMAs in the same order), its new columns added one by one
// when accumulating; a scalar loop only when N is less than a batch.
template <std::size_t MR, std::size_t SM, std::size_t SK, std::size_t K, std::size_t N, class T>
void rows_times_matrix(const T* __restrict A, const T* __restrict B, const T* __restrict bias, T* __restrict C,
                       std::size_t m0, bool accumulate) noexcept {
    using V = xsimd::batch<T>;
    constexpr std::size_t L = lanes<T>, NB = column_batches<T, MR>, full = N / (NB * L) * (NB * L), vec_end = N / L * L;
    T b0[MR];
    for (std::size_t i = 0; i < MR; ++i) b0[i] = bias ? bias[m0 + i] : T(0);
    for (std::size_t n = 0; n < full; n += NB * L) {
        V acc[MR][NB];
        for (std::size_t i = 0; i < MR; ++i)
            for (std::size_t j = 0; j < NB; ++j)
                acc[i][j] = accumulate ? V::load_unaligned(C + (m0 + i) * N + n + j * L) : V(b0[i]);
        for (std::size_t k = 0; k < K; ++k) {
            V b[NB];
            for (std::size_t j = 0; j < NB; ++j) b[j] = V::load_unaligned(B + k * N + n + j * L);
            for (std::size_t i = 0; i < MR; ++i) {
                const V a(A[(m0 + i) * SM + k * SK]);
                for (std::size_t j = 0; j < NB; ++j) acc[i][j] = xsimd::fma(a, b[j], acc[i][j]);
            }
        }
        for (std::size_t i = 0; i < MR; ++i)
            for (std::size_t j = 0; j < NB; ++j) acc[i][j].store_unaligned(C + (m0 + i) * N + n + j * L);
    }
    for (std::size_t n = full; n < vec_end; n += L) {  // whole batches left
        V acc[MR];
        for (std::size_t i = 0; i < MR; ++i) acc[i] = accumulate ? V::load_unaligned(C + (m0 + i) * N + n) : V(b0[i]);
        for (std::size_t k = 0; k < K; ++k) {
            const V b = V::load_unaligned(B + k * N + n);
            for (std::size_t i = 0; i < MR; ++i) acc[i] = xsimd::fma(V(A[(m0 + i) * SM + k * SK]), b, acc[i]);
        }
        for (std::size_t i = 0; i < MR; ++i) acc[i].store_unaligned(C + (m0 + i) * N + n);
    }
    if constexpr (vec_end < N && N >= L) {  // the last columns, fewer than a batch: one batch ending at N
        constexpr std::size_t n = N - L, fresh = N - vec_end;  // its last `fresh` lanes are new columns
        V acc[MR];
        for (std::size_t i = 0; i < MR; ++i) acc[i] = V(accumulate ? T(0) : b0[i]);
        for (std::size_t k = 0; k < K; ++k) {
            const V b = V::load_unaligned(B + k * N + n);
            for (std::size_t i = 0; i < MR; ++i) acc[i] = xsimd::fma(V(A[(m0 + i) * SM + k * SK]), b, acc[i]);
        }
        for (std::size_t i = 0; i < MR; ++i) {
            T* c = C + (m0 + i) * N + n;
            if (!accumulate) {
                acc[i].store_unaligned(c);
            } else {
                alignas(64) T lane[L];
                acc[i].store_aligned(lane);
                for (std::size_t l = L - fresh; l < L; ++l) c[l] += lane[l];
            }
        }
    } else {
        for (std::size_t i = 0; i < MR; ++i)  // fewer columns than a batch
            for (std::size_t n = vec_end; n < N; ++n) {
                T acc = accumulate ? C[(m0 + i) * N + n] : b0[i];
                for (std::size_t k = 0; k < K; ++k) acc += A[(m0 + i) * SM + k * SK] * B[k * N + n];
                C[(m0 + i) * N + n] = acc;
            }
    }
}

template <std::size_t M, std::size_t SM, std::size_t SK, std::size_t K, std::size_t N, class T>
void matrix_times_matrix(const T* __restrict A, const T* __restrict B, const T* __restrict bias, T* __restrict C,
                         bool accumulate) noexcept {
    constexpr std::size_t MR = std::min(block_rows<T>, M), whole = M / MR * MR;
    for (std::size_t m0 = 0; m0 < whole; m0 += MR) rows_times_matrix<MR, SM, SK, K, N>(A, B, bias, C, m0, accumulate);
    if constexpr (whole < M) rows_times_matrix<M - whole, SM, SK, K, N>(A, B, bias, C, whole, accumulate);
}

// C[m0, m0 + MR) × [n0, n0 + NR) of C = A·Bᵀ: MR × NR dot products along K, each reduced once.
template <std::size_t MR, std::size_t NR, std::size_t K, std::size_t N, class T>
void dot_block(const T* __restrict A, const T* __restrict B, T* __restrict C, std::size_t m0, std::size_t n0,
               bool accumulate) noexcept {
    using V = xsimd::batch<T>;
    constexpr std::size_t L = lanes<T>, kv = K / L * L;
    V acc[MR][NR];
    for (std::size_t i = 0; i < MR; ++i)
        for (std::size_t j = 0; j < NR; ++j) acc[i][j] = V(T(0));
    for (std::size_t k = 0; k < kv; k += L) {
        V a[MR];
        for (std::size_t i = 0; i < MR; ++i) a[i] = V::load_unaligned(A + (m0 + i) * K + k);
        for (std::size_t j = 0; j < NR; ++j) {
            const V b = V::load_unaligned(B + (n0 + j) * K + k);
            for (std::size_t i = 0; i < MR; ++i) acc[i][j] = xsimd::fma(a[i], b, acc[i][j]);
        }
    }
    for (std::size_t i = 0; i < MR; ++i)
        for (std::size_t j = 0; j < NR; ++j) {
            T s = reduce_add(acc[i][j]);
            for (std::size_t k = kv; k < K; ++k) s += A[(m0 + i) * K + k] * B[(n0 + j) * K + k];
            T& c = C[(m0 + i) * N + n0 + j];
            c = accumulate ? c + s : s;
        }
}
template <std::size_t MR, std::size_t K, std::size_t N, class T>
void dot_rows(const T* __restrict A, const T* __restrict B, T* __restrict C, std::size_t m0, bool accumulate) noexcept {
    constexpr std::size_t NR = std::min<std::size_t>(5, N), whole = N / NR * NR;
    for (std::size_t n0 = 0; n0 < whole; n0 += NR) dot_block<MR, NR, K, N>(A, B, C, m0, n0, accumulate);
    if constexpr (whole < N) dot_block<MR, N - whole, K, N>(A, B, C, m0, whole, accumulate);
}

}  // namespace detail

/// C (M × N) = A (M × K) · B (K × N), plus bias[m] in row m when bias is not null, or C += A·B
/// when accumulating. Vectorised along N, in register blocks of rows × batches.
template <std::size_t M, std::size_t K, std::size_t N, class T>
void matmul_nn(const T* __restrict A, const T* __restrict B, const T* __restrict bias, T* __restrict C,
               bool accumulate = false) noexcept {
    detail::matrix_times_matrix<M, K, 1, K, N>(A, B, bias, C, accumulate);
}

/// C (M × N) = Aᵀ · B for A (K × M), B (K × N), or C += Aᵀ·B. Vectorised along N.
template <std::size_t M, std::size_t K, std::size_t N, class T>
void matmul_tn(const T* __restrict A, const T* __restrict B, T* __restrict C, bool accumulate = false) noexcept {
    detail::matrix_times_matrix<M, 1, M, K, N>(A, B, static_cast<const T*>(nullptr), C, accumulate);
}

/// C (M × N) = A · Bᵀ for A (M × K), B (N × K), or C += A·Bᵀ: dot products of rows, vectorised
/// along K, in blocks of 2 rows of A × 5 rows of B (each load feeds several FMAs), reduced once.
template <std::size_t M, std::size_t K, std::size_t N, class T>
void matmul_nt(const T* __restrict A, const T* __restrict B, T* __restrict C, bool accumulate = false) noexcept {
    constexpr std::size_t MR = std::min<std::size_t>(2, M), whole = M / MR * MR;
    for (std::size_t m0 = 0; m0 < whole; m0 += MR) detail::dot_rows<MR, K, N>(A, B, C, m0, accumulate);
    if constexpr (whole < M) detail::dot_rows<M - whole, K, N>(A, B, C, whole, accumulate);
}

namespace detail {

// out[0, N) = in[0, N) and out[0, N) += in[0, N), in the widest batches that fit (N known: no
// call to memcpy for a row of 10 or 28 floats, no scalar loop for its tail).
template <std::size_t N, class T>
void copy_row(T* __restrict out, const T* __restrict in) noexcept {
    if constexpr (N > 0) {
        using V = typename widest_batch<T, N>::type;
        store(load<V>(in), out);
        copy_row<N - lanes_v<V>>(out + lanes_v<V>, in + lanes_v<V>);
    }
}
template <std::size_t N, class T>
void add_row(T* __restrict out, const T* __restrict in) noexcept {
    if constexpr (N > 0) {
        using V = typename widest_batch<T, N>::type;
        store(load<V>(out) + load<V>(in), out);
        add_row<N - lanes_v<V>>(out + lanes_v<V>, in + lanes_v<V>);
    }
}
template <std::size_t N, class T>
void zero_row(T* out) noexcept {
    if constexpr (N > 0) {
        using V = typename widest_batch<T, N>::type;
        store(V(T(0)), out);
        zero_row<N - lanes_v<V>>(out + lanes_v<V>);
    }
}

// Stride 1: of the output columns ox, those that read inside the image for the kernel column kx
// are [lo, hi) — known at compile time when kx is.
template <class G, std::size_t kx>
struct tap {
    static constexpr std::size_t P = G::padding, W = G::width, Wo = G::out_width;
    static constexpr std::size_t lo = std::min(Wo, kx < P ? P - kx : std::size_t{0});
    static constexpr std::size_t hi = std::max(lo, std::min(Wo, W + P - kx));
};

// The rows (c, ky, kx) of cols for one kernel row (c, ky), stride 1, kx = 0 … K − 1.
template <class G, class T, std::size_t... kx>
void im2col_kernel_row(const T* __restrict x, T* __restrict cols, std::size_t c, std::size_t ky,
                       std::index_sequence<kx...>) noexcept {
    constexpr std::size_t K = G::kernel, P = G::padding, H = G::height, W = G::width, Ho = G::out_height,
                          Wo = G::out_width;
    T* base = cols + (c * K + ky) * K * G::positions;
    for (std::size_t oy = 0; oy < Ho; ++oy) {
        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy + ky) - static_cast<std::ptrdiff_t>(P);
        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) {
            (zero_row<Wo>(base + kx * G::positions + oy * Wo), ...);
            continue;
        }
        const T* in = x + (c * H + static_cast<std::size_t>(iy)) * W;
        ([&] {
            using tk = tap<G, kx>;
            T* out = base + kx * G::positions + oy * Wo;
            zero_row<tk::lo>(out);
            copy_row<tk::hi - tk::lo>(out + tk::lo, in + (tk::lo + kx - P));
            zero_row<Wo - tk::hi>(out + tk::hi);
        }(), ...);
    }
}

// dx += the rows (c, ky, kx) of dcols for one kernel row (c, ky), stride 1: kx outer, so that
// consecutive adds go to different rows of dx (with oy outer, the add of kx + 1 reloads what the
// add of kx has just stored one element over — a failed store forwarding each time, 5× slower).
template <class G, class T, std::size_t... kx>
void col2im_kernel_row(const T* __restrict dcols, T* __restrict dx, std::size_t c, std::size_t ky,
                       std::index_sequence<kx...>) noexcept {
    constexpr std::size_t K = G::kernel, P = G::padding, H = G::height, W = G::width, Ho = G::out_height,
                          Wo = G::out_width;
    const T* base = dcols + (c * K + ky) * K * G::positions;
    ([&] {
        using tk = tap<G, kx>;
        for (std::size_t oy = 0; oy < Ho; ++oy) {
            const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy + ky) - static_cast<std::ptrdiff_t>(P);
            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
            add_row<tk::hi - tk::lo>(dx + (c * H + static_cast<std::size_t>(iy)) * W + (tk::lo + kx - P),
                                     base + kx * G::positions + oy * Wo + tk::lo);
        }
    }(), ...);
}

}  // namespace detail

/// cols = im2col(x) for the window G (see the top of this file).
template <class G, class T>
void im2col(const T* __restrict x, T* __restrict cols) noexcept {
    constexpr std::size_t K = G::kernel, S = G::stride, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    if constexpr (S == 1) {
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                detail::im2col_kernel_row<G>(x, cols, c, ky, std::make_index_sequence<K>{});
        return;
    }
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
                    for (std::size_t ox = 0; ox < Wo; ++ox) {
                        const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * S + kx) - static_cast<std::ptrdiff_t>(P);
                        out[ox] = ix >= 0 && ix < static_cast<std::ptrdiff_t>(W) ? in[ix] : T(0);
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
    if constexpr (S == 1) {
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                detail::col2im_kernel_row<G>(dcols, dx, c, ky, std::make_index_sequence<K>{});
        return;
    }
    for (std::size_t c = 0; c < G::channels; ++c)
        for (std::size_t ky = 0; ky < K; ++ky)
            for (std::size_t kx = 0; kx < K; ++kx) {
                const T* row = dcols + ((c * K + ky) * K + kx) * G::positions;
                for (std::size_t oy = 0; oy < Ho; ++oy) {
                    const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * S + ky) - static_cast<std::ptrdiff_t>(P);
                    if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                    T* in = dx + (c * H + static_cast<std::size_t>(iy)) * W;
                    const T* g = row + oy * Wo;
                    for (std::size_t ox = 0; ox < Wo; ++ox) {
                        const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * S + kx) - static_cast<std::ptrdiff_t>(P);
                        if (ix >= 0 && ix < static_cast<std::ptrdiff_t>(W)) in[ix] += g[ox];
                    }
                }
            }
}

/// Σ p[0, N): four chains of SIMD batches (a chain of scalar adds waits 3-4 cycles per element:
/// the bias gradient of a 28 × 28 channel took longer than its weight gradient), then the lanes.
template <std::size_t N, class T>
T sum_row(const T* __restrict p) noexcept {
    using V = xsimd::batch<T>;
    constexpr std::size_t L = detail::lanes<T>, whole = N / (4 * L) * (4 * L), vec_end = N / L * L;
    V acc[4] = {V(T(0)), V(T(0)), V(T(0)), V(T(0))};
    for (std::size_t i = 0; i < whole; i += 4 * L)
        for (std::size_t j = 0; j < 4; ++j) acc[j] += V::load_unaligned(p + i + j * L);
    for (std::size_t i = whole; i < vec_end; i += L) acc[0] += V::load_unaligned(p + i);
    T s = reduce_add((acc[0] + acc[1]) + (acc[2] + acc[3]));
    for (std::size_t i = vec_end; i < N; ++i) s += p[i];
    return s;
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

/// ∂J/∂W (+)= δ ⋆ x (the correlation of the input with δ) for one example: δ·colsᵀ. With as
/// many output channels as a SIMD batch (or a multiple), as (cols·δᵀ)ᵀ — the channels as the
/// vector, each load of cols feeding 4 rows of FMAs — else as dot products (matmul_nt).
template <class G, std::size_t Co, class T>
void conv2d_weight_gradient(const T* __restrict x, const T* __restrict delta, T* __restrict dw, bool accumulate) noexcept {
    T* cols = columns_buffer<G, T>();
    im2col<G>(x, cols);
    constexpr std::size_t P = G::patch, Q = G::positions;
    if constexpr (Co % detail::lanes<T> == 0) {
        alignas(64) static thread_local T delta_t[Q * Co];  // δᵀ (positions × channels)
        alignas(64) static thread_local T dw_t[P * Co];     // ∂Wᵀ (patch × channels)
        for (std::size_t o = 0; o < Co; ++o)
            for (std::size_t q = 0; q < Q; ++q) delta_t[q * Co + o] = delta[o * Q + q];
        detail::matrix_times_matrix<P, Q, 1, Q, Co>(cols, delta_t, static_cast<const T*>(nullptr), dw_t, false);
        for (std::size_t o = 0; o < Co; ++o)
            for (std::size_t p = 0; p < P; ++p) dw[o * P + p] = accumulate ? dw[o * P + p] + dw_t[p * Co + o] : dw_t[p * Co + o];
    } else {
        matmul_nt<Co, Q, P>(delta, cols, dw, accumulate);
    }
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

namespace detail {
// One row of 2 × 2 windows: x and dx the two image rows (2 × W, row-major), m and g the row's
// W / 2 maxima and gradients. The first element equal to the maximum (row-major order) takes g,
// the fourth when none of the first three does. The choices are bit masks (all ones or zero)
// and g is selected by an and of its bits, so that the loop has no branch: written with bools
// and ?:, GCC 12 kept a compare and two jumps per element (measured on Zen 3: 14 % of a LeNet
// epoch, mispredicted on every other window). Added to dx when Accumulate, else written.
template <bool Accumulate, class T>
inline void put(T& d, T v) noexcept {
    d = Accumulate ? d + v : v;
}
template <bool Accumulate, std::size_t W, class T>
inline void max_pool2_backward_row(const T* __restrict x, const T* __restrict m, const T* __restrict g,
                                   T* __restrict dx) noexcept {
    using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const T* x1 = x + W;
    T* d1 = dx + W;
    for (std::size_t ox = 0; ox < W / 2; ++ox) {
        const U all = ~U(0), go = std::bit_cast<U>(g[ox]);
        const U a = x[2 * ox] == m[ox] ? all : U(0);
        const U b = ~a & (x[2 * ox + 1] == m[ox] ? all : U(0));
        const U e = ~(a | b) & (x1[2 * ox] == m[ox] ? all : U(0));
        const U f = ~(a | b | e);
        put<Accumulate>(dx[2 * ox], std::bit_cast<T>(go & a));
        put<Accumulate>(dx[2 * ox + 1], std::bit_cast<T>(go & b));
        put<Accumulate>(d1[2 * ox], std::bit_cast<T>(go & e));
        put<Accumulate>(d1[2 * ox + 1], std::bit_cast<T>(go & f));
    }
}
}  // namespace detail

/// dx (+)= g routed to each window's maximum (the first one, in row-major order, on ties; the
/// last element when none equals it, a NaN); the other elements of the window get 0. Without
/// branches: the position of the first match is the number of elements before it, counted with
/// a running "none yet" flag (a float == that decides a jump mispredicts on every other window,
/// and made this the largest kernel of LeNet's backward pass on Zen 2).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, class T>
void max_pool_backward(const T* __restrict x, const T* __restrict y, const T* __restrict g, T* __restrict dx,
                       bool accumulate) noexcept {
    constexpr std::size_t Ho = H / K, Wo = W / K;
    if constexpr (K == 2 && W % 2 == 0 && H % 2 == 0) {
        // 2 × 2 windows tiling the image: each writes its four elements, no zeroing first; the
        // loop over the windows of a row has no branch and the compiler vectorises it
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t oy = 0; oy < Ho; ++oy) {
                const std::size_t row = (c * H + 2 * oy) * W, pooled = (c * Ho + oy) * Wo;
                if (accumulate) detail::max_pool2_backward_row<true, W>(x + row, y + pooled, g + pooled, dx + row);
                else detail::max_pool2_backward_row<false, W>(x + row, y + pooled, g + pooled, dx + row);
            }
        return;
    }
    if (!accumulate) std::fill_n(dx, C * H * W, T(0));
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t oy = 0; oy < Ho; ++oy)
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const std::size_t o = (c * Ho + oy) * Wo + ox, base = (c * H + oy * K) * W + ox * K;
                const T m = y[o];
                unsigned none = 1, at = 0;
                for (std::size_t k = 0; k + 1 < K * K; ++k) {
                    none &= static_cast<unsigned>(!(x[base + (k / K) * W + k % K] == m));
                    at += none;
                }
                dx[base + (at / K) * W + at % K] += g[o];
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
