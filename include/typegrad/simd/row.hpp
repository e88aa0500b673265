// A row of N values processed with the widest SIMD batches that fit, then narrower ones, then
// scalars — all decided at compile time. For 30 floats on AVX-512 that is 16 + 8 + 4 lanes and
// 2 scalars, instead of one 16-lane batch and 14 scalars.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#if defined(__FMA__) || defined(__AVX512F__)
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
    /// acc = a · row[Offset, N)
    void mul(T a, const T* row) noexcept {
        acc = broadcast<V>(a) * load<V>(row + Offset);
        rest.mul(a, row);
    }
    /// acc = row[Offset, N)
    void load_from(const T* row) noexcept {
        acc = load<V>(row + Offset);
        rest.load_from(row);
    }
    /// out[Offset, N) = fma(−r, acc, out): an SGD step by the accumulated gradient
    void apply(T r, T* out) const noexcept {
        store(simd::fma(broadcast<V>(-r), acc, load<V>(out + Offset)), out + Offset);
        rest.apply(r, out);
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
    void mul(T, const T*) noexcept {}
    void load_from(const T*) noexcept {}
    void apply(T, T*) const noexcept {}
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
    /// acc += other.acc
    void add(const PaddedRow& other) noexcept {
#pragma GCC unroll 16
        for (std::size_t k = 0; k < batches; ++k) acc[k] = acc[k] + other.acc[k];
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

namespace detail {
/// The chunks of a row [Offset, N) of values of T: from Offset on, the widest batch that fits
/// what is left, again and again (whole batches of the widest width, then at most a few
/// narrower ones), as `count` offsets and lane counts, computed in a constexpr loop.
template <class T, std::size_t N, std::size_t Offset>
struct chunks {
    static constexpr std::size_t S = xsimd::batch<T>::size;
    /// lanes_v<widest_batch<T, n>::type>: the widths are powers of two, so that of the largest
    /// power of two <= min(n, S) (one type per power of two instead of one per n).
    static constexpr std::size_t widest(std::size_t n) noexcept {
        constexpr auto by_power = []<std::size_t... P>(std::index_sequence<P...>) {
            return std::array<std::size_t, sizeof...(P)>{lanes_v<typename widest_batch<T, std::size_t{1} << P>::type>...};
        }(std::make_index_sequence<std::bit_width(S)>{});
        std::size_t p = 0;
        while ((std::size_t{2} << p) <= std::min(n, S)) ++p;
        return by_power[p];
    }
    static constexpr std::size_t count = [] {
        std::size_t c = 0;
        for (std::size_t at = Offset; at < N; at += widest(N - at)) ++c;
        return c;
    }();
    struct Chunk {
        std::size_t offset, lanes;
    };
    static constexpr std::array<Chunk, count> list = [] {
        std::array<Chunk, count> v{};
        std::size_t at = Offset;
        for (auto& c : v) {
            c = {at, widest(N - at)};
            at += c.lanes;
        }
        return v;
    }();
};
}  // namespace detail

/// Calls f.template operator()<V, Offset>() for the chunks of a row [Offset, N) of values of T,
/// in order: the widest batch that fits what is left, again and again. One fold over the chunks
/// (detail::chunks), not one recursion level per chunk, which made layers wider than ~7200
/// floats exceed the compiler's template depth; the calls, and so the results, are the same.
template <class T, std::size_t N, std::size_t Offset = 0, class F>
void for_each_chunk(F&& f) noexcept {
    using C = detail::chunks<T, N, Offset>;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (f.template operator()<typename detail::widest_batch<T, C::list[K].lanes>::type, C::list[K].offset>(), ...);
    }(std::make_index_sequence<C::count>{});
}

template <class T, std::size_t N>
template <std::size_t M, std::size_t Offset, class F>
void PaddedRow<T, N>::for_each_chunk_(F&& f) noexcept {
    for_each_chunk<T, M, Offset>(f);
}

#if defined(__AVX512F__)
namespace detail {
// The few AVX-512 operations update_row needs, for float and double.
template <class T>
struct avx512;
template <>
struct avx512<float> {
    using R = __m512;
    using Mask = __mmask16;
    static R set1(float x) noexcept { return _mm512_set1_ps(x); }
    static R loadu(const float* p) noexcept { return _mm512_loadu_ps(p); }
    static R loadu(Mask m, const float* p) noexcept { return _mm512_maskz_loadu_ps(m, p); }
    static void storeu(float* p, R v) noexcept { _mm512_storeu_ps(p, v); }
    static void storeu(Mask m, float* p, R v) noexcept { _mm512_mask_storeu_ps(p, m, v); }
    static R fmadd(R x, R y, R z) noexcept { return _mm512_fmadd_ps(x, y, z); }
    static R mul(R x, R y) noexcept { return _mm512_mul_ps(x, y); }
};
template <>
struct avx512<double> {
    using R = __m512d;
    using Mask = __mmask8;
    static R set1(double x) noexcept { return _mm512_set1_pd(x); }
    static R loadu(const double* p) noexcept { return _mm512_loadu_pd(p); }
    static R loadu(Mask m, const double* p) noexcept { return _mm512_maskz_loadu_pd(m, p); }
    static void storeu(double* p, R v) noexcept { _mm512_storeu_pd(p, v); }
    static void storeu(Mask m, double* p, R v) noexcept { _mm512_mask_storeu_pd(p, m, v); }
    static R fmadd(R x, R y, R z) noexcept { return _mm512_fmadd_pd(x, y, z); }
    static R mul(R x, R y) noexcept { return _mm512_mul_pd(x, y); }
};
}  // namespace detail
#endif

/// row[0, N) = a·d[0, N) + row[0, N) with one rounding per element (Add), or a·d[0, N) (not
/// Add): the update of one row of a weight gradient. On AVX-512 whole batches and one masked
/// batch for the rest (two operations for a row of 30 floats instead of four chunks of 16 + 8 +
/// 4 + 2), nothing read or written past N; elsewhere chunk by chunk. Either way every element
/// is fma(a, dⱼ, rowⱼ) (or a·dⱼ), so the bits do not depend on the path.
template <bool Add, class T, std::size_t N>
void update_row(T a, const T* __restrict d, T* __restrict row) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        using X = detail::avx512<T>;
        using R = typename X::R;
        constexpr std::size_t S = 64 / sizeof(T), full = N / S, rest = N % S;
        const R av = X::set1(a);
#pragma GCC unroll 16
        for (std::size_t j = 0; j < full; ++j) {
            const R dj = X::loadu(d + j * S);
            if constexpr (Add) X::storeu(row + j * S, X::fmadd(av, dj, X::loadu(row + j * S)));
            else X::storeu(row + j * S, X::mul(av, dj));
        }
        if constexpr (rest > 0) {
            constexpr std::size_t o = full * S;
            constexpr auto m = static_cast<typename X::Mask>((1u << rest) - 1);
            const R dj = X::loadu(m, d + o);
            if constexpr (Add) X::storeu(m, row + o, X::fmadd(av, dj, X::loadu(m, row + o)));
            else X::storeu(m, row + o, X::mul(av, dj));
        }
        return;
    }
#endif
    for_each_chunk<T, N>([&]<class V, std::size_t Offset>() {
        if constexpr (Add) store(simd::fma(broadcast<V>(a), load<V>(d + Offset), load<V>(row + Offset)), row + Offset);
        else store(broadcast<V>(a) * load<V>(d + Offset), row + Offset);
    });
}

/// G[i] += a[i]·d (one rounding per element) for the rows i listed in idx[0, n) of G (rows of N
/// values): the accumulating weight-gradient update, sparse inputs' rows only. On AVX-512 a row
/// is whole batches and one masked batch, and the next listed row is loaded before this one is
/// stored: a masked store still covers the first lanes of the next row, and a load of that row
/// issued after it stalls on store forwarding (measured: 40 % slower epochs than chunk by
/// chunk). Elsewhere (or for rows wider than 8 batches) chunk by chunk, update_row.
template <class T, std::size_t N>
void update_rows(const std::uint32_t* __restrict idx, std::size_t n, const T* __restrict a, const T* __restrict d,
                 T* __restrict G) noexcept {
#if defined(__AVX512F__)
    if constexpr ((std::is_same_v<T, float> || std::is_same_v<T, double>) && N <= 8 * (64 / sizeof(T))) {
        using X = detail::avx512<T>;
        using R = typename X::R;
        constexpr std::size_t S = 64 / sizeof(T), full = N / S, rest = N % S, batches = full + (rest > 0);
        constexpr auto m = static_cast<typename X::Mask>((std::uint64_t{1} << rest) - 1);
        if (n == 0) return;
        R dv[batches], cur[batches], next[batches] = {};  // next: zero after the last row, never stored
#pragma GCC unroll 8
        for (std::size_t j = 0; j < batches; ++j) dv[j] = j < full ? X::loadu(d + j * S) : X::loadu(m, d + j * S);
        const auto load_row = [&](R* r, const T* row) {
#pragma GCC unroll 8
            for (std::size_t j = 0; j < batches; ++j) r[j] = j < full ? X::loadu(row + j * S) : X::loadu(m, row + j * S);
        };
        load_row(cur, G + std::size_t{idx[0]} * N);
        for (std::size_t k = 0; k < n; ++k) {
            T* row = G + std::size_t{idx[k]} * N;
            if (k + 1 < n) load_row(next, G + std::size_t{idx[k + 1]} * N);
            const R av = X::set1(a[idx[k]]);
#pragma GCC unroll 8
            for (std::size_t j = 0; j < batches; ++j) {
                const R v = X::fmadd(av, dv[j], cur[j]);
                if (j < full) X::storeu(row + j * S, v);
                else X::storeu(m, row + j * S, v);
                cur[j] = next[j];
            }
        }
        return;
    }
#endif
    for (std::size_t k = 0; k < n; ++k) update_row<true, T, N>(a[idx[k]], d, G + std::size_t{idx[k]} * N);
}

/// Σ of a batch's lanes (the scalar itself for a scalar).
template <class V>
auto reduce_add(V v) noexcept {
    if constexpr (std::is_arithmetic_v<V>) return v;
    else return xsimd::hadd(v);
}

}  // namespace typegrad::simd
