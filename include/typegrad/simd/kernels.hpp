// The hot loops, specialised on compile-time shapes and vectorised with xsimd. The reference
// backprop and the autodiff engine both call these, so they cost the same and round the same.
//
// Matrices are row-major with the article's orientation W (n_in, n_out): a row of W holds the
// weights out of one input unit, so Wᵀa and a δᵀ walk W row by row, contiguously.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

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

// Sparse inputs are skipped row by row: the kernels first list the rows whose input is not 0
// (nonzero_rows), then walk that list. Listing is branch-free (a compare and a compress per 16
// floats on AVX-512), so noise-like zeros cost no mispredictions, and MNIST's first layer does
// a fifth of the dense work. Inputs are listed a segment of rows at a time, so that the list
// stays small and on the stack whatever the width.
inline constexpr std::size_t segment_rows = 512;

#if defined(__AVX2__)
/// For each 8-bit mask, the positions of its set bits, one byte each, packed from the low end:
/// AVX2 has no compress, so nonzero_rows looks the permutation up (2 KB).
inline constexpr std::array<std::uint64_t, 256> compress_positions = [] {
    std::array<std::uint64_t, 256> t{};
    for (unsigned m = 0; m < 256; ++m) {
        unsigned at = 0;
        for (unsigned bit = 0; bit < 8; ++bit)
            if (m & (1u << bit)) t[m] |= std::uint64_t{bit} << (8 * at++);
    }
    return t;
}();
#endif

/// Writes to idx the positions k < n (plus `base`) with a[k] != 0 (NaN counts as non-zero), in
/// increasing order, and returns their number. n <= Capacity - 16: the vector path stores whole
/// batches of indices. (The bound, known to the compiler, also keeps GCC 12 from warning that a
/// huge iteration "invokes undefined behavior".)
template <std::size_t Capacity, class T>
std::size_t nonzero_rows(const T* __restrict a, std::size_t n, std::uint32_t base, std::uint32_t (&idx)[Capacity]) noexcept {
    static_assert(Capacity > 16);
    n = std::min(n, Capacity - 16);
    std::size_t count = 0, k = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        // the register form of vpcompressd: its memory form is microcoded and slow on Zen 4
        __m512i at = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                      _mm512_set1_epi32(static_cast<int>(base)));
        const __m512i step = _mm512_set1_epi32(16);
        for (; k < n; k += 16) {
            // the last batch masked: nothing read past n, and no scalar tail
            const auto valid = static_cast<__mmask16>(n - k >= 16 ? 0xffffu : (1u << (n - k)) - 1);
            const __mmask16 m =
                _mm512_mask_cmp_ps_mask(valid, _mm512_maskz_loadu_ps(valid, a + k), _mm512_setzero_ps(), _CMP_NEQ_UQ);
            _mm512_storeu_si512(idx + count, _mm512_maskz_compress_epi32(m, at));
            count += static_cast<std::size_t>(__builtin_popcount(m));
            at = _mm512_add_epi32(at, step);
        }
        return count;
    }
#elif defined(__AVX2__)
    // 8 (or 4) values at a time: compare, the mask's set bits' positions from a table, widened to
    // 32-bit indices and stored whole (Capacity leaves room); count += the mask's population.
    // Branch-free, as the AVX-512 compress, where the scalar loop took a cycle per value.
    if constexpr (std::is_same_v<T, float>) {
        // (to a bound computed before the loop: with `k + 8 <= n` GCC 12 warns that the scalar
        // loop below "invokes undefined behavior" at a huge iteration)
        for (const std::size_t whole = n / 8 * 8; k < whole; k += 8) {
            const unsigned m = static_cast<unsigned>(
                _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(a + k), _mm256_setzero_ps(), _CMP_NEQ_UQ)));
            const __m256i at = _mm256_add_epi32(
                _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(compress_positions[m]))),
                _mm256_set1_epi32(static_cast<int>(base + k)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + count), at);
            count += static_cast<std::size_t>(__builtin_popcount(m));
        }
    } else if constexpr (std::is_same_v<T, double>) {
        for (const std::size_t whole = n / 4 * 4; k < whole; k += 4) {
            const unsigned m = static_cast<unsigned>(
                _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(a + k), _mm256_setzero_pd(), _CMP_NEQ_UQ)));
            const __m128i at = _mm_add_epi32(
                _mm_cvtepu8_epi32(_mm_cvtsi32_si128(static_cast<int>(compress_positions[m] & 0xffffffffu))),
                _mm_set1_epi32(static_cast<int>(base + k)));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(idx + count), at);
            count += static_cast<std::size_t>(__builtin_popcount(m));
        }
    }
#endif
    for (; k < n; ++k) {
        idx[count] = base + static_cast<std::uint32_t>(k);
        count += !(a[k] == T(0));
    }
    return count;
}

// The old rule, kept for the scalar fallbacks: a block of 8 rows whose inputs are all 0 adds
// nothing.
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

// Independent accumulator rows in Wᵀa: one FMA chain per row of accumulators would wait on the
// FMA latency at every listed row; Sets chains, summed at the end, keep both FMA pipes busy
// (without spilling: at most 24 of the 32 vector registers).
template <std::size_t Batches>
inline constexpr std::size_t accumulator_sets = std::max<std::size_t>(1, std::min<std::size_t>(4, 24 / Batches));

// z[J0, J0 + width) of z = Wᵀa + b, then the next block; the sum over the rows [lo, hi) of W
// only (all of them but for a thread's share of a first layer split by rows, train/parallel.hpp).
template <std::size_t In, std::size_t Out, std::size_t J0, class T>
void gemv_t_block(const T* __restrict W, const T* __restrict a, const T* __restrict b, T* __restrict z,
                  std::size_t lo = 0, std::size_t hi = In) noexcept {
    constexpr std::size_t width = std::min(block_columns<T>, Out - J0);
    using Row = PaddedRow<T, width>;
    constexpr std::size_t safe = safe_rows<In, Out, J0, Row::padded>;
    constexpr std::size_t S = accumulator_sets<Row::batches>;
    constexpr std::size_t segment = std::min(In, segment_rows);
    Row acc[S];
#pragma GCC unroll 4
    for (std::size_t s = 0; s < S; ++s) acc[s].zero();
    alignas(64) T scratch[Row::padded] = {};  // the last rows, copied so that padded reads stay in bounds
    std::uint32_t idx[segment + 16];
    for (std::size_t i0 = lo; i0 < hi; i0 += segment) {
        const std::size_t n = nonzero_rows(a + i0, std::min(segment, hi - i0), static_cast<std::uint32_t>(i0), idx);
        std::size_t direct = n;  // the listed rows a padded read may take from W itself
        while (direct > 0 && idx[direct - 1] >= safe) --direct;
        std::size_t k = 0;
        for (; k + S <= direct; k += S) {
#pragma GCC unroll 4
            for (std::size_t s = 0; s < S; ++s) acc[s].fma(a[idx[k + s]], W + std::size_t{idx[k + s]} * Out + J0);
        }
        for (; k < direct; ++k) acc[0].fma(a[idx[k]], W + std::size_t{idx[k]} * Out + J0);
        for (; k < n; ++k) {
            std::copy_n(W + std::size_t{idx[k]} * Out + J0, width, scratch);
            acc[0].fma(a[idx[k]], scratch);
        }
    }
    // a fixed pairwise order: (0 + 1) + (2 + 3)
    if constexpr (S >= 2) acc[0].add(acc[1]);
    if constexpr (S >= 4) {
        acc[2].add(acc[3]);
        acc[0].add(acc[2]);
    } else if constexpr (S == 3) {
        acc[0].add(acc[2]);
    }
    acc[0].store_to(z + J0, b ? b + J0 : nullptr);
    if constexpr (J0 + width < Out) gemv_t_block<In, Out, J0 + width>(W, a, b, z, lo, hi);
}

// Rows [i0, i0 + n) of G = a dᵀ (accumulate = false) or G += a dᵀ (true), n <= segment_rows:
// when adding, only the rows with a non-zero input (adding 0·d changes nothing); when
// overwriting, every row. Row by row, nothing stored past a row's end: padded full-width stores
// would reach into the next row, and loading it right after stalls on store forwarding
// (measured; update_rows).
template <std::size_t Out, class T>
void ger_rows(const T* __restrict a, const T* __restrict d, T* __restrict G, std::size_t i0, std::size_t n,
              bool accumulate) noexcept {
    if (accumulate) {
        std::uint32_t idx[segment_rows + 16];
        const std::size_t listed = nonzero_rows(a + i0, n, static_cast<std::uint32_t>(i0), idx);
        update_rows<T, Out>(idx, listed, a, d, G);
    } else {
        for (std::size_t i = i0; i < i0 + n; ++i) update_row<false, T, Out>(a[i], d, G + i * Out);
    }
}

}  // namespace detail

/// z = Wᵀ a + b   for W (In x Out), a (In), b and z (Out); b may be null (z = Wᵀ a).
///
/// Sparse inputs: rows of W whose input aᵢ is exactly 0 contribute 0 and are skipped, here and
/// in ger (the vector kernels list the non-zero inputs first; the scalar fallbacks skip blocks
/// of 8). MNIST images are 81 % zeros, so the first layer does a fifth of the dense work. The
/// result is the same as without skipping (but for the sign of a zero sum) unless W holds an
/// inf or a NaN (0·inf is NaN). The vector kernel sums the listed rows in up to 4 interleaved
/// chains, added pairwise at the end: every caller (reference, autodiff, one example or a
/// batch) rounds the same way.
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

/// z = Σ_{lo ≤ i < hi} aᵢ Wᵢ  (the rows [lo, hi) of Wᵀ a): one thread's part of a first layer split
/// by rows (train/parallel.hpp), as gemv_t_bias computes the whole, zeros of a skipped.
template <std::size_t In, std::size_t Out, class T>
void gemv_t_rows(const T* __restrict W, const T* __restrict a, T* __restrict z, std::size_t lo, std::size_t hi) noexcept {
    detail::gemv_t_block<In, Out, 0>(W, a, static_cast<const T*>(nullptr), z, lo, hi);
}

namespace detail {
// y[i0, i0 + R) (+)= rows i0 … of W times d: each row's full-width batches summed lane-wise in one
// accumulator (R rows at once, so R chains are in flight, d loaded once for all), reduced once at
// the end; a narrower chunk at the end of a row (30 = 3 × 8 + 4 + 2 on AVX2) is reduced on its
// own. (Reducing every batch — 15 horizontal adds and a chain of 15 scalar adds for a row of 120
// — made LeNet's 400 × 120 Wδ cost more than its forward product.)
template <std::size_t R, std::size_t Out, class T>
void gemv_rows(const T* __restrict W, const T* __restrict d, T* __restrict y, std::size_t i0, bool accumulate) noexcept {
    using B = batch<T>;
    B acc[R];
    T tail[R];
    for (std::size_t r = 0; r < R; ++r) {
        acc[r] = B(T(0));
        tail[r] = T(0);
    }
    for_each_chunk<T, Out>([&]<class V, std::size_t Offset>() {
        const V dv = load<V>(d + Offset);
        for (std::size_t r = 0; r < R; ++r) {
            const V w = load<V>(W + (i0 + r) * Out + Offset);
            if constexpr (lanes_v<V> == lanes_v<B>) acc[r] = simd::fma(w, dv, acc[r]);
            else tail[r] += reduce_add(w * dv);
        }
    });
    for (std::size_t r = 0; r < R; ++r) {
        const T s = reduce_add(acc[r]) + tail[r];
        y[i0 + r] = accumulate ? y[i0 + r] + s : s;
    }
}
}  // namespace detail

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
        constexpr std::size_t R = std::min<std::size_t>(4, In), whole = In / R * R;
        for (std::size_t i0 = 0; i0 < whole; i0 += R) detail::gemv_rows<R, Out>(W, d, y, i0, accumulate);
        if constexpr (whole < In) detail::gemv_rows<In - whole, Out>(W, d, y, whole, accumulate);
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
        for (std::size_t i0 = 0; i0 < In; i0 += detail::segment_rows)
            detail::ger_rows<Out>(a, d, G, i0, std::min(detail::segment_rows, In - i0), accumulate);
    }
}

/// x ← x − c·g over n values, every element fma(−c, g, x) — one rounding wherever the hardware
/// has FMA (simd::fma; xsimd's fnma is two for some batch types) — on whole batches from the
/// start, then the scalar rest. Every element rounds alike whichever path computes it: a slice
/// of a tensor (train::Slice), or the first layer's update fused into its weight gradient
/// (gemm_xtd_apply_rows).
template <class T>
void axpy_neg_n(T c, const T* __restrict g, T* __restrict x, std::size_t n) noexcept {
    using B = batch<T>;
    const std::size_t head = n / width_v<T> * width_v<T>;
    const B cb(-c);
    for (std::size_t i = 0; i < head; i += width_v<T>)
        simd::fma(cb, B::load_unaligned(g + i), B::load_unaligned(x + i)).store_unaligned(x + i);
    for (std::size_t i = head; i < n; ++i) x[i] = simd::fma(-c, g[i], x[i]);
}

/// flags[i] |= p[i] for i < n: the inputs an engine has seen non-zero (InputRows).
inline void or_bytes(std::uint8_t* __restrict flags, const std::uint8_t* __restrict p, std::size_t n) noexcept {
    using B = xsimd::batch<std::uint8_t>;
    constexpr std::size_t L = B::size;
    std::size_t i = 0;
    for (const std::size_t whole = n / L * L; i < whole; i += L)
        (B::load_unaligned(flags + i) | B::load_unaligned(p + i)).store_unaligned(flags + i);
    for (; i < n; ++i) flags[i] |= p[i];
}

/// flags[i] |= (x[i] != 0) for i < n (NaN counts as non-zero, as in nonzero_rows).
template <class T>
void flag_nonzero(std::uint8_t* __restrict flags, const T* __restrict x, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) flags[i] |= static_cast<std::uint8_t>(x[i] != T(0));
}

namespace detail {
/// Bit i % 64 of word i / 64: flags[i] != 0, for i < n (words: (n + 63) / 64 of them).
inline void flag_bits(const std::uint8_t* __restrict flags, std::size_t n, std::uint64_t* __restrict words) noexcept {
    std::size_t i = 0;
#if defined(__AVX2__)
    for (; i + 64 <= n; i += 64) {
        const __m256i zero = _mm256_setzero_si256();
        const auto lo = static_cast<std::uint32_t>(_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(flags + i)), zero)));
        const auto hi = static_cast<std::uint32_t>(_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(flags + i + 32)), zero)));
        words[i / 64] = ~(std::uint64_t{hi} << 32 | lo);
    }
#endif
    for (; i < n; i += 64) {
        std::uint64_t w = 0;
        for (std::size_t k = 0; k < 64 && i + k < n; ++k) w |= std::uint64_t{flags[i + k] != 0} << k;
        words[i / 64] = w;
    }
}

/// f(r0, r1) for every run [r0, r1) of consecutive rows with flags[r] != 0, r < rows, in order
/// (a run that crosses a multiple of 64 rows comes as two adjacent runs). Returns false, having
/// called nothing, when rows is more than the list on the stack holds (4096).
template <class F>
bool for_each_row_run(const std::uint8_t* __restrict flags, std::size_t rows, F&& f) noexcept {
    constexpr std::size_t max_words = 64;
    if (rows > 64 * max_words) return false;
    std::uint64_t words[max_words];
    flag_bits(flags, rows, words);
    for (std::size_t w = 0; w < (rows + 63) / 64; ++w) {
        std::uint64_t m = words[w];
        while (m != 0) {
            const unsigned s = static_cast<unsigned>(__builtin_ctzll(m));
            const std::uint64_t rest = ~(m >> s);
            const unsigned t = rest == 0 ? 64 - s : static_cast<unsigned>(__builtin_ctzll(rest));  // the run's length
            m = t + s >= 64 ? 0 : m & (~std::uint64_t{0} << (s + t));
            f(w * 64 + s, w * 64 + s + t);
        }
    }
    return true;
}
}  // namespace detail

/// The SGD step x ← x − c·g over the elements [from, to) of a matrix of `rows` rows of `cols`
/// values, on the rows r with flags[r] != 0 only (and on the rest of the batches of width_v<T>
/// values they share): the rows of a first dense layer's weight that a batch's inputs touched
/// (InputRows). from is a multiple of width_v<T> (a train::Slice's start), to one too or
/// rows · cols. Every element it updates is updated exactly as axpy_neg_n over all rows · cols
/// values does (the same batches from the start, the same scalar tail); the elements it skips
/// must hold g == 0, which the dense step leaves unchanged (but for a weight of −0, which it may
/// turn into +0).
template <class T>
void axpy_neg_rows(T c, const T* __restrict g, T* __restrict x, const std::uint8_t* __restrict flags, std::size_t rows,
                   std::size_t cols, std::size_t from = 0, std::size_t to = SIZE_MAX) noexcept {
    constexpr std::size_t L = width_v<T>;
    const std::size_t n = rows * cols, head = n / L * L;
    to = std::min(to, n);
    // [a, b), a a multiple of L and b one too or n: axpy_neg_n's batches there are the whole
    // matrix's, and its scalar tail the matrix's tail
    const auto update = [&](std::size_t a, std::size_t b) { axpy_neg_n(c, g + a, x + a, b - a); };
    std::size_t a = 0, b = 0;  // the pending range of elements
    const bool listed = detail::for_each_row_run(flags, rows, [&](std::size_t r0, std::size_t r1) {
        const std::size_t end = (r1 * cols + L - 1) / L * L;
        const std::size_t lo = std::max(from, r0 * cols / L * L), hi = std::min(to, end > head ? n : end);
        if (lo >= hi) return;
        if (lo <= b && b > a) {
            b = std::max(b, hi);
        } else {
            update(a, b);
            a = lo;
            b = hi;
        }
    });
    if (!listed) {  // more rows than the list holds: every one
        a = from;
        b = to;
    }
    update(a, b);
}

/// x += y over the elements [from, to) of a matrix of `rows` rows of `cols` values, on the rows r
/// with flags[r] != 0 only; y must be 0 on the others (where the dense sum would add 0).
template <class T>
void add_rows(T* __restrict x, const T* __restrict y, const std::uint8_t* __restrict flags, std::size_t rows,
              std::size_t cols, std::size_t from = 0, std::size_t to = SIZE_MAX) noexcept {
    to = std::min(to, rows * cols);
    const auto add = [&](std::size_t a, std::size_t b) {
        for (std::size_t i = a; i < b; ++i) x[i] += y[i];
    };
    if (!detail::for_each_row_run(flags, rows, [&](std::size_t r0, std::size_t r1) {
            add(std::max(from, r0 * cols), std::min(to, r1 * cols));
        }))
        add(from, to);
}

/// x ← x − c·g elementwise over N values (the SGD step W ← W − η/m ΣdW); Mode::scalar without
/// batches (the kernels' scalar reference).
template <std::size_t N, class T, Mode M = Mode::vector>
void axpy_neg(T c, const T* __restrict g, T* __restrict x) noexcept {
    if constexpr (M == Mode::vector) axpy_neg_n(c, g, x, N);
    else
        for (std::size_t i = 0; i < N; ++i) x[i] -= c * g[i];
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
