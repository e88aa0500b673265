// A row of N values processed with the widest SIMD batches that fit, then narrower ones, then
// scalars — all decided at compile time. For 30 floats on AVX-512 that is 16 + 8 + 4 lanes and
// 2 scalars, instead of one 16-lane batch and 14 scalars.
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#if defined(__FMA__)
#include <immintrin.h>
#endif

namespace typegrad::simd {

namespace detail {

template <class T, std::size_t Lanes>
struct sized_batch {
    using type = xsimd::make_sized_batch_t<T, Lanes>;
};

// The widest batch of T with at most N lanes among the architectures compiled for; T itself
// (a scalar) when none fits.
template <class T, std::size_t N, std::size_t Lanes = xsimd::batch<T>::size>
struct widest_batch {
    using candidate = typename sized_batch<T, Lanes>::type;
    using type = std::conditional_t<(Lanes <= N && !std::is_void_v<candidate>), candidate,
                                    typename widest_batch<T, N, Lanes / 2>::type>;
};
template <class T, std::size_t N>
struct widest_batch<T, N, 1> {
    using type = T;
};
template <class T, std::size_t N>
struct widest_batch<T, N, 0> {
    using type = T;
};

}  // namespace detail

template <class V>
inline constexpr std::size_t lanes_v = [] {
    if constexpr (std::is_arithmetic_v<V>) return std::size_t{1};
    else return V::size;
}();

template <class V, class T>
V load(const T* p) noexcept {
    if constexpr (std::is_arithmetic_v<V>) return *p;
    else return V::load_unaligned(p);
}
template <class V, class T>
void store(V v, T* p) noexcept {
    if constexpr (std::is_arithmetic_v<V>) *p = v;
    else v.store_unaligned(p);
}
template <class V, class T>
V broadcast(T x) noexcept {
    return V(x);
}
// a·b + c with one rounding wherever the hardware has FMA — scalars, and every batch width
// alike — so that an element gets the same bits whichever chunk, batch width or path computes it.
// Not left to xsimd or the compiler: xsimd 8.1's fma is a separate multiply and add for its
// avx512bw and sse4_2 batches (only its fma3<…> types fuse), and GCC fuses those only when it
// contracts (not with -ffp-contract=off, not under the sanitizers' -O1), nor does GCC 12 at -O3
// fuse vectorised pairs of scalar tails.
template <class V>
V fma(V a, V b, V c) noexcept {
    if constexpr (std::is_arithmetic_v<V>) {
#if defined(__FMA__)
        return std::fma(a, b, c);
#else
        return a * b + c;
#endif
    } else {
#if defined(__FMA__)
        using T = typename V::value_type;
        constexpr std::size_t bytes = sizeof(T) * V::size;
        if constexpr (bytes == 16) {
            if constexpr (std::is_same_v<T, float>) return V(_mm_fmadd_ps(a, b, c));
            else return V(_mm_fmadd_pd(a, b, c));
        } else if constexpr (bytes == 32) {
            if constexpr (std::is_same_v<T, float>) return V(_mm256_fmadd_ps(a, b, c));
            else return V(_mm256_fmadd_pd(a, b, c));
        }
#if defined(__AVX512F__)
        else if constexpr (bytes == 64) {
            if constexpr (std::is_same_v<T, float>) return V(_mm512_fmadd_ps(a, b, c));
            else return V(_mm512_fmadd_pd(a, b, c));
        }
#endif
        else {
            return xsimd::fma(a, b, c);
        }
#else
        return xsimd::fma(a, b, c);
#endif
    }
}

/// Accumulators for the columns [Offset, N) of a row: one batch for the widest chunk that fits,
/// the rest recursively.
template <class T, std::size_t N, std::size_t Offset = 0>
struct RowAccumulator {
    using V = typename detail::widest_batch<T, N - Offset>::type;
    static constexpr std::size_t width = lanes_v<V>;
    using Rest = RowAccumulator<T, N, Offset + width>;

    V acc;
    Rest rest;

    void zero() noexcept {
        acc = V(T(0));
        rest.zero();
    }
    /// acc += a · row[Offset, N)
    void fma(T a, const T* row) noexcept {
        acc = simd::fma(broadcast<V>(a), load<V>(row + Offset), acc);
        rest.fma(a, row);
    }
    /// out[Offset, N) = acc (+ bias)
    void store_to(T* out) const noexcept {
        store(acc, out + Offset);
        rest.store_to(out);
    }
    void store_to(T* out, const T* bias) const noexcept {
        store(acc + load<V>(bias + Offset), out + Offset);
        rest.store_to(out, bias);
    }
    /// out[Offset, N) = 0
    static void fill_zero(T* out) noexcept {
        store(V(T(0)), out + Offset);
        Rest::fill_zero(out);
    }
};
template <class T, std::size_t N>
struct RowAccumulator<T, N, N> {
    void zero() noexcept {}
    void fma(T, const T*) noexcept {}
    void store_to(T*) const noexcept {}
    void store_to(T*, const T*) const noexcept {}
    static void fill_zero(T*) noexcept {}
};

/// A row of N values held in ceil(N / S) full batches. Loading a row of a row-major matrix this
/// way reads past its end into the next row; the extra lanes are never stored. Callers keep such
/// loads inside the matrix (see detail::safe_rows in kernels.hpp); the last rows go through a
/// padded copy.
template <class T, std::size_t N>
struct PaddedRow {
    using V = xsimd::batch<T>;
    static constexpr std::size_t S = V::size;
    static constexpr std::size_t batches = (N + S - 1) / S;
    static constexpr std::size_t padded = batches * S;
    V acc[batches];

    // The loops over the row's batches are unrolled at -O2 too (GCC 12 unrolls them only at
    // -O3, and a rolled loop keeps the accumulators in memory instead of registers: measured 2×).
    void zero() noexcept {
#pragma GCC unroll 16
        for (std::size_t k = 0; k < batches; ++k) acc[k] = V(T(0));
    }
    /// acc = row[0, padded): whole batches, reading past N (the caller keeps that inside its array).
    void load_padded(const T* row) noexcept {
#pragma GCC unroll 16
        for (std::size_t k = 0; k < batches; ++k) acc[k] = V::load_unaligned(row + k * S);
    }
    /// acc = row[0, N) (zero-padded), through a copy, so nothing past N is read.
    void load_row(const T* row) noexcept {
        alignas(64) T tmp[padded] = {};
        for (std::size_t i = 0; i < N; ++i) tmp[i] = row[i];
#pragma GCC unroll 16
        for (std::size_t k = 0; k < batches; ++k) acc[k] = V::load_aligned(tmp + k * S);
    }
    void fma(T a, const T* row) noexcept {
        const V av(a);
#pragma GCC unroll 16
        for (std::size_t k = 0; k < batches; ++k) acc[k] = simd::fma(av, V::load_unaligned(row + k * S), acc[k]);
    }
    /// out[0, N) = acc (+ bias): through a spill, so nothing past N is touched.
    void store_to(T* out, const T* bias = nullptr) const noexcept {
        alignas(64) T tmp[padded];
#pragma GCC unroll 16
        for (std::size_t k = 0; k < batches; ++k) acc[k].store_aligned(tmp + k * S);
        if (bias)
            for_each_chunk_<N>([&]<class W, std::size_t Offset>() { store(load<W>(tmp + Offset) + load<W>(bias + Offset), out + Offset); });
        else
            for_each_chunk_<N>([&]<class W, std::size_t Offset>() { store(load<W>(tmp + Offset), out + Offset); });
    }

private:
    template <std::size_t M, std::size_t Offset = 0, class F>
    static void for_each_chunk_(F&& f) noexcept;
};

/// Calls f.template operator()<V, Offset>() for the chunks of a row of N values of T.
template <class T, std::size_t N, std::size_t Offset = 0, class F>
void for_each_chunk(F&& f) noexcept {
    if constexpr (Offset < N) {
        using V = typename detail::widest_batch<T, N - Offset>::type;
        f.template operator()<V, Offset>();
        for_each_chunk<T, N, Offset + lanes_v<V>>(f);
    }
}

template <class T, std::size_t N>
template <std::size_t M, std::size_t Offset, class F>
void PaddedRow<T, N>::for_each_chunk_(F&& f) noexcept {
    for_each_chunk<T, M, Offset>(f);
}

/// Σ of a batch's lanes (the scalar itself for a scalar).
template <class V>
auto reduce_add(V v) noexcept {
    if constexpr (std::is_arithmetic_v<V>) return v;
    else return xsimd::hadd(v);
}

}  // namespace typegrad::simd
