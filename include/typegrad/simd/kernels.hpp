// The hot loops, specialised on compile-time shapes and vectorised with xsimd. The reference
// backprop and the autodiff engine both call these, so they cost the same and round the same.
//
// Matrices are row-major with the article's orientation W (n_in, n_out): a row of W holds the
// weights out of one input unit, so Wᵀa and a δᵀ walk W row by row, contiguously.
#pragma once

#include <algorithm>
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "typegrad/simd/row.hpp"

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
// Columns per block in gemv_t: enough accumulators to hide the FMA latency, few enough not to
// spill (8 full batches).
template <class T>
inline constexpr std::size_t block_columns = 8 * width_v<T>;

// Sparse inputs are skipped a block of rows at a time: a block whose inputs are all 0 adds
// nothing. Blocks rather than single rows keep the branch predictable (MNIST's zeros come in
// runs; noise-like zeros would make a per-row branch mispredict every other row).
inline constexpr std::size_t skip_block = 8;

template <class T>
bool all_zero(const T* a, std::size_t n) noexcept {
    bool nonzero = false;
    for (std::size_t k = 0; k < n; ++k) nonzero |= a[k] != T(0);
    return !nonzero;
}

// Rows i of a (Rows x Cols) row-major matrix for which a padded read of `padded` values from
// column J0 stays inside the matrix.
template <std::size_t Rows, std::size_t Cols, std::size_t J0, std::size_t Padded>
inline constexpr std::size_t safe_rows = Rows * Cols >= J0 + Padded ? std::min(Rows, (Rows * Cols - J0 - Padded) / Cols + 1) : 0;

// z[J0, J0 + width) of z = Wᵀa + b, then the next block.
template <std::size_t In, std::size_t Out, std::size_t J0, class T>
void gemv_t_block(const T* __restrict W, const T* __restrict a, const T* __restrict b, T* __restrict z) noexcept {
    constexpr std::size_t width = std::min(block_columns<T>, Out - J0);
    using Row = PaddedRow<T, width>;
    constexpr std::size_t safe = safe_rows<In, Out, J0, Row::padded>;
    Row acc;
    acc.zero();
    alignas(64) T scratch[Row::padded] = {};  // the last rows, copied so that padded reads stay in bounds
    for (std::size_t i0 = 0; i0 < In; i0 += skip_block) {
        const std::size_t n = std::min(skip_block, In - i0);
        if (all_zero(a + i0, n)) continue;  // see the note on sparse inputs at gemv_t_bias
        for (std::size_t i = i0; i < i0 + n; ++i) {
            const T* row = W + i * Out + J0;
            if (i >= safe) row = std::copy_n(row, width, scratch) - width;
            acc.fma(a[i], row);
        }
    }
    acc.store_to(z + J0, b ? b + J0 : nullptr);
    if constexpr (J0 + width < Out) gemv_t_block<In, Out, J0 + width>(W, a, b, z);
}

}  // namespace detail

/// z = Wᵀ a + b   for W (In x Out), a (In), b and z (Out); b may be null (z = Wᵀ a).
///
/// Sparse inputs: rows of W whose inputs aᵢ are all exactly 0, in blocks of 8, contribute 0 and
/// are skipped, here and in ger. MNIST images are 81 % zeros, mostly in runs, so the first layer
/// does about a third of the work; hidden layers pay one predictable branch per 8 rows. The
/// result is the same as without skipping (but for the sign of a zero sum) unless W holds an inf
/// or a NaN (0·inf is NaN).
template <std::size_t In, std::size_t Out, class T, Mode M = Mode::vector>
void gemv_t_bias(const T* __restrict W, const T* __restrict a, const T* __restrict b, T* __restrict z) noexcept {
    if constexpr (M == Mode::scalar) {
        T acc[Out] = {};
        for (std::size_t i0 = 0; i0 < In; i0 += detail::skip_block) {
            const std::size_t n = std::min(detail::skip_block, In - i0);
            if (detail::all_zero(a + i0, n)) continue;  // see the note on sparse inputs above
            for (std::size_t i = i0; i < i0 + n; ++i) {
                const T ai = a[i];
                const T* row = W + i * Out;
                for (std::size_t j = 0; j < Out; ++j) acc[j] += ai * row[j];
            }
        }
        // the bias is added last, as in the vector kernel, so that z = Wᵀa + b and
        // (Wᵀa) + b round the same
        for (std::size_t j = 0; j < Out; ++j) z[j] = b ? acc[j] + b[j] : acc[j];
    } else {
        detail::gemv_t_block<In, Out, 0>(W, a, b, z);
    }
}

/// y = W d (or y += W d)   for W (In x Out), d (Out), y (In): the backward step Wᴸ δᴸ.
template <std::size_t In, std::size_t Out, class T, Mode M = Mode::vector>
void gemv(const T* __restrict W, const T* __restrict d, T* __restrict y, bool accumulate = false) noexcept {
    if constexpr (M == Mode::scalar) {
        for (std::size_t i = 0; i < In; ++i) {
            const T* row = W + i * Out;
            T s = 0;
            for (std::size_t j = 0; j < Out; ++j) s += row[j] * d[j];
            y[i] = accumulate ? y[i] + s : s;
        }
    } else {
        for (std::size_t i = 0; i < In; ++i) {
            const T* row = W + i * Out;
            T s = 0;
            for_each_chunk<T, Out>([&]<class V, std::size_t Offset>() {
                s += reduce_add(load<V>(row + Offset) * load<V>(d + Offset));
            });
            y[i] = accumulate ? y[i] + s : s;
        }
    }
}

/// G = a dᵀ (accumulate = false) or G += a dᵀ (accumulate = true) for a (In), d (Out),
/// G (In x Out): ∂J/∂W = a δᵀ.
template <std::size_t In, std::size_t Out, class T, Mode M = Mode::vector>
void ger(const T* __restrict a, const T* __restrict d, T* __restrict G, bool accumulate) noexcept {
    if constexpr (M == Mode::scalar) {
        for (std::size_t i0 = 0; i0 < In; i0 += detail::skip_block) {
            const std::size_t n = std::min(detail::skip_block, In - i0);
            if (accumulate && detail::all_zero(a + i0, n)) continue;  // adds nothing (see gemv_t_bias)
            for (std::size_t i = i0; i < i0 + n; ++i) {
                const T ai = a[i];
                T* row = G + i * Out;
                if (accumulate)
                    for (std::size_t j = 0; j < Out; ++j) row[j] += ai * d[j];
                else
                    for (std::size_t j = 0; j < Out; ++j) row[j] = ai * d[j];
            }
        }
    } else {
        // chunk by chunk (16 + 8 + 4 + 2 for 30 floats): padded full-width stores would reach
        // into the next row, and loading it right after stalls on store forwarding (measured)
        if (accumulate) {
            for (std::size_t i0 = 0; i0 < In; i0 += detail::skip_block) {
                const std::size_t n = std::min(detail::skip_block, In - i0);
                if (detail::all_zero(a + i0, n)) continue;  // adds nothing (see gemv_t_bias)
                for (std::size_t i = i0; i < i0 + n; ++i) {
                    const T ai = a[i];
                    T* row = G + i * Out;
                    for_each_chunk<T, Out>([&]<class V, std::size_t Offset>() {
                        store(simd::fma(broadcast<V>(ai), load<V>(d + Offset), load<V>(row + Offset)), row + Offset);
                    });
                }
            }
        } else {
            for (std::size_t i = 0; i < In; ++i) {
                const T ai = a[i];
                T* row = G + i * Out;
                for_each_chunk<T, Out>([&]<class V, std::size_t Offset>() {
                    store(broadcast<V>(ai) * load<V>(d + Offset), row + Offset);
                });
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

/// y = F(x) elementwise over N values, F an elementwise function (see expr/functions.hpp).
template <class F, std::size_t N, class T, Mode M = Mode::vector>
void map(const T* __restrict x, T* __restrict y) noexcept {
    if constexpr (M == Mode::scalar) {
        for (std::size_t i = 0; i < N; ++i) y[i] = F::value(x[i]);
    } else {
        constexpr std::size_t head = N / width_v<T> * width_v<T>;
        if constexpr (head > 0) {
            using B = batch<T>;
            for (std::size_t i = 0; i < head; i += width_v<T>) F::value(B::load_unaligned(x + i)).store_unaligned(y + i);
        }
        // the rest with narrower batches (16 + 8 + 4 + 2 for 30 floats on AVX-512)
        for_each_chunk<T, N - head>([&]<class V, std::size_t Offset>() {
            store(F::value(load<V>(x + head + Offset)), y + head + Offset);
        });
    }
}

}  // namespace typegrad::simd
