// The hot loops, specialised on compile-time shapes and vectorised with xsimd. The reference
// backprop and the autodiff engine both call these, so they cost the same and round the same.
//
// Matrices are row-major with the article's orientation W (n_in, n_out): a row of W holds the
// weights out of one input unit, so Wᵀa and a δᵀ walk W row by row, contiguously.
#pragma once

#include <algorithm>
#include <cstddef>

#include <xsimd/xsimd.hpp>

namespace typegrad::simd {

/// The SIMD batch used for element type T on the architecture chosen at compile time.
template <class T>
using batch = xsimd::batch<T>;

template <class T>
inline constexpr std::size_t width_v = batch<T>::size;

/// Name of the instruction set the kernels were compiled for (e.g. "avx2", "sse2").
inline const char* arch_name() noexcept { return xsimd::default_arch::name(); }

/// Whether a kernel runs vectorised or as plain loops (the scalar fallback, also used by the
/// tests and benchmarks as the yardstick).
enum class Mode { vector, scalar };

namespace detail {
template <class T>
inline constexpr std::size_t round_up(std::size_t n) {
    return (n + width_v<T> - 1) / width_v<T> * width_v<T>;
}
// Number of accumulator registers a column block keeps live in gemv_t/ger: enough to hide the
// FMA latency, few enough not to spill on AVX2's 16 registers.
inline constexpr std::size_t block_batches = 8;
}  // namespace detail

/// z = Wᵀ a + b   for W (In x Out), a (In), b and z (Out); b may be null (z = Wᵀ a).
///
/// Sparse inputs: a row of W whose input aᵢ is exactly 0 contributes 0 and is skipped, here and
/// in ger. MNIST images are 81 % zeros, so the first layer does a fifth of the work; hidden
/// layers (sigmoid outputs are never exactly 0) pay one predictable branch per row. The result
/// is the same as without skipping unless W holds an inf or a NaN (0·inf is NaN).
template <std::size_t In, std::size_t Out, class T, Mode M = Mode::vector>
void gemv_t_bias(const T* __restrict W, const T* __restrict a, const T* __restrict b, T* __restrict z) noexcept {
    if constexpr (M == Mode::scalar || Out < width_v<T>) {
        T acc[Out] = {};
        for (std::size_t i = 0; i < In; ++i) {
            const T ai = a[i];
            if (ai == T(0)) continue;  // see the note on sparse inputs above
            const T* row = W + i * Out;
            for (std::size_t j = 0; j < Out; ++j) acc[j] += ai * row[j];
        }
        // the bias is added last, as in the vector kernel, so that z = Wᵀa + b and
        // (Wᵀa) + b round the same
        for (std::size_t j = 0; j < Out; ++j) z[j] = b ? acc[j] + b[j] : acc[j];
    } else {
        using B = batch<T>;
        constexpr std::size_t S = width_v<T>;
        constexpr std::size_t block = detail::block_batches * S;
        for (std::size_t j0 = 0; j0 < Out; j0 += block) {
            const std::size_t cols = std::min(block, Out - j0);
            const std::size_t full = cols / S;  // whole batches inside the row
            B acc[detail::block_batches];
            for (std::size_t k = 0; k < detail::block_batches; ++k) acc[k] = B(T(0));
            T tail[S] = {};
            const std::size_t rest = cols - full * S;
            for (std::size_t i = 0; i < In; ++i) {
                if (a[i] == T(0)) continue;  // see the note on sparse inputs above
                const B ai(a[i]);
                const T* row = W + i * Out + j0;
                for (std::size_t k = 0; k < full; ++k) acc[k] = xsimd::fma(ai, B::load_unaligned(row + k * S), acc[k]);
                for (std::size_t r = 0; r < rest; ++r) tail[r] += a[i] * row[full * S + r];
            }
            if (b) {
                for (std::size_t k = 0; k < full; ++k)
                    (acc[k] + B::load_unaligned(b + j0 + k * S)).store_unaligned(z + j0 + k * S);
                for (std::size_t r = 0; r < rest; ++r) z[j0 + full * S + r] = tail[r] + b[j0 + full * S + r];
            } else {
                for (std::size_t k = 0; k < full; ++k) acc[k].store_unaligned(z + j0 + k * S);
                for (std::size_t r = 0; r < rest; ++r) z[j0 + full * S + r] = tail[r];
            }
        }
    }
}

/// y = W d (or y += W d)   for W (In x Out), d (Out), y (In): the backward step Wᴸ δᴸ.
template <std::size_t In, std::size_t Out, class T, Mode M = Mode::vector>
void gemv(const T* __restrict W, const T* __restrict d, T* __restrict y, bool accumulate = false) noexcept {
    if constexpr (M == Mode::scalar || Out < width_v<T>) {
        for (std::size_t i = 0; i < In; ++i) {
            const T* row = W + i * Out;
            T s = 0;
            for (std::size_t j = 0; j < Out; ++j) s += row[j] * d[j];
            y[i] = accumulate ? y[i] + s : s;
        }
    } else {
        using B = batch<T>;
        constexpr std::size_t S = width_v<T>;
        constexpr std::size_t full = Out / S;
        for (std::size_t i = 0; i < In; ++i) {
            const T* row = W + i * Out;
            B acc(T(0));
            for (std::size_t k = 0; k < full; ++k)
                acc = xsimd::fma(B::load_unaligned(row + k * S), B::load_unaligned(d + k * S), acc);
            T s = xsimd::hadd(acc);
            for (std::size_t j = full * S; j < Out; ++j) s += row[j] * d[j];
            y[i] = accumulate ? y[i] + s : s;
        }
    }
}

/// G = a dᵀ (accumulate = false) or G += a dᵀ (accumulate = true) for a (In), d (Out),
/// G (In x Out): ∂J/∂W = a δᵀ.
template <std::size_t In, std::size_t Out, class T, Mode M = Mode::vector>
void ger(const T* __restrict a, const T* __restrict d, T* __restrict G, bool accumulate) noexcept {
    if constexpr (M == Mode::scalar || Out < width_v<T>) {
        for (std::size_t i = 0; i < In; ++i) {
            const T ai = a[i];
            T* row = G + i * Out;
            if (accumulate) {
                if (ai == T(0)) continue;  // adds nothing (sparse inputs, see gemv_t_bias)
                for (std::size_t j = 0; j < Out; ++j) row[j] += ai * d[j];
            } else {
                for (std::size_t j = 0; j < Out; ++j) row[j] = ai * d[j];
            }
        }
    } else {
        using B = batch<T>;
        constexpr std::size_t S = width_v<T>;
        constexpr std::size_t full = Out / S;
        B dk[full > 0 ? full : 1];
        for (std::size_t k = 0; k < full; ++k) dk[k] = B::load_unaligned(d + k * S);
        for (std::size_t i = 0; i < In; ++i) {
            if (accumulate && a[i] == T(0)) continue;  // adds nothing (sparse inputs, see gemv_t_bias)
            const B ai(a[i]);
            T* row = G + i * Out;
            if (accumulate) {
                for (std::size_t k = 0; k < full; ++k)
                    xsimd::fma(ai, dk[k], B::load_unaligned(row + k * S)).store_unaligned(row + k * S);
                for (std::size_t j = full * S; j < Out; ++j) row[j] += a[i] * d[j];
            } else {
                for (std::size_t k = 0; k < full; ++k) (ai * dk[k]).store_unaligned(row + k * S);
                for (std::size_t j = full * S; j < Out; ++j) row[j] = a[i] * d[j];
            }
        }
    }
}

/// x ← x − c·g elementwise over N values (the SGD step W ← W − η/m ΣdW).
template <std::size_t N, class T, Mode M = Mode::vector>
void axpy_neg(T c, const T* __restrict g, T* __restrict x) noexcept {
    // the vector part covers [0, head); head is a constant, so when N is a multiple of the batch
    // width no tail loop is emitted at all (GCC 12 otherwise warns, wrongly, that an empty tail
    // "invokes undefined behavior" under -Waggressive-loop-optimizations)
    constexpr std::size_t head = M == Mode::vector ? N / width_v<T> * width_v<T> : 0;
    if constexpr (head > 0) {
        using B = batch<T>;
        const B cb(c);
        for (std::size_t i = 0; i < head; i += width_v<T>)
            xsimd::fnma(cb, B::load_unaligned(g + i), B::load_unaligned(x + i)).store_unaligned(x + i);
    }
    if constexpr (head < N)
        for (std::size_t i = head; i < N; ++i) x[i] -= c * g[i];
}

/// y = F(x) elementwise over N values, F an elementwise function (see nn/functions.hpp).
template <class F, std::size_t N, class T, Mode M = Mode::vector>
void map(const T* __restrict x, T* __restrict y) noexcept {
    constexpr std::size_t head = M == Mode::vector ? N / width_v<T> * width_v<T> : 0;
    if constexpr (head > 0) {
        using B = batch<T>;
        for (std::size_t i = 0; i < head; i += width_v<T>) F::value(B::load_unaligned(x + i)).store_unaligned(y + i);
    }
    if constexpr (head < N)
        for (std::size_t i = head; i < N; ++i) y[i] = F::value(x[i]);
}

}  // namespace typegrad::simd
