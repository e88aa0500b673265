// Kernels for a mini-batch held as one matrix: X is B examples of width In, stored example after
// example (a row-major B x In array — equivalently the article's In x B matrix of column
// vectors, column-major). Every output element is computed with the same operations in the same order as
// the per-example kernels (kernels.hpp), so the batched and per-example paths agree bit for bit.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "typegrad/simd/kernels.hpp"
#include "typegrad/simd/row.hpp"

namespace typegrad::simd {

/// Z = X W (+ bias in every row): row b of Z is Wᵀ xᵦ + b, for X (B x In), W (In x Out).
/// Example by example: with sparse inputs the per-example kernel, which skips each example's
/// zeros, beats sharing weight loads across the batch (measured in benchmarks/bench_kernels:
/// BM_forward10_*); W stays in L2 between the examples either way.
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_xw(const T* __restrict X, const T* __restrict W, const T* __restrict bias, T* __restrict Z) noexcept {
    for (std::size_t b = 0; b < B; ++b) gemv_t_bias<In, Out>(W, X + b * In, bias, Z + b * Out);
}

namespace detail {
/// The examples of X (B x In) whose inputs i0 … i0 + m − 1 (m ≤ 64) are non-zero: bit b of
/// out[j] for input i0 + j, made a row of X at a time (contiguous, no branch) rather than example
/// by example per input.
template <std::size_t B, std::size_t In, class Bits, class T>
void nonzero_examples(const T* __restrict X, std::size_t i0, std::size_t m, Bits* __restrict out) noexcept {
    static_assert(B <= 8 * sizeof(Bits), "nonzero_examples: a bit per example");
    std::fill_n(out, m, Bits{0});
    for (std::size_t b = 0; b < B; ++b) {
        const T* x = X + b * In + i0;
        for (std::size_t j = 0; j < m; ++j) out[j] |= static_cast<Bits>(x[j] != T(0)) << b;
    }
}
template <std::size_t B>
using example_bits = std::conditional_t<(B <= 32), std::uint32_t, std::uint64_t>;
}  // namespace detail

/// The rows [lo, hi) of gemm_xtd's G below, and nothing else of G: one thread's part of the weight
/// gradient of a first layer split by rows (train/parallel.hpp), each element as gemm_xtd makes it.
///
/// Up to 64 examples (every chunk of the trainer's engines) and rows of 8 to 16 SIMD batches
/// (64–128 floats with AVX2): a row at a time, its sum over the examples held in registers
/// (RowAccumulator: at least 8 independent FMA chains, so their latency is hidden; at most 16
/// registers) and stored once, visiting only the examples whose input of that row is non-zero (a
/// bit mask per row). Each
/// element gets exactly ger's operations in example order — without accumulate the first
/// example's product a₀ᵢ·d₀ (on every row, as ger writes every row), then an fma per further
/// example with a non-zero input; with accumulate an fma per such example into the stored
/// value — so the result is the per-example one bit for bit, signs of zeros included. Rows of
/// MNIST's first layer are used by several examples of a chunk: loading and storing each once
/// per chunk instead of once per example halves the stores, which bound ger (784-100-10 at batch
/// 100: docs/benchmarks.md). Otherwise (narrower rows such as 784-30-10's, where the chains'
/// latency made it no faster) example after example on segments of rows that fit in L1.
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_xtd_rows(const T* __restrict X, const T* __restrict D, T* __restrict G, std::size_t lo, std::size_t hi,
                   bool accumulate) noexcept {
    constexpr std::size_t chains = (Out + width_v<T> - 1) / width_v<T>;  // SIMD batches of a row
    if constexpr (B <= 64 && chains >= 8 && chains <= 16) {
        using Bits = detail::example_bits<B>;
        Bits nonzero[64];
        for (std::size_t i0 = lo; i0 < hi; i0 += 64) {
            const std::size_t m = std::min<std::size_t>(64, hi - i0);
            detail::nonzero_examples<B, In>(X, i0, m, nonzero);
            for (std::size_t j = 0; j < m; ++j) {
                Bits p = nonzero[j];
                const std::size_t i = i0 + j;
                T* row = G + i * Out;
                RowAccumulator<T, Out> g;
                if (accumulate) {
                    if (p == 0) continue;
                    g.load_from(row);
                } else {
                    g.mul(X[i], D);  // example 0, zero or not
                    p &= ~Bits{1};
                }
                for (; p != 0; p &= p - 1) {
                    const auto b = static_cast<std::size_t>(std::countr_zero(p));
                    g.fma(X[b * In + i], D + b * Out);
                }
                g.store_to(row);
            }
        }
    } else {
        constexpr std::size_t segment = std::clamp<std::size_t>(16384 / (Out * sizeof(T)), 1, detail::segment_rows);
        for (std::size_t i0 = lo; i0 < hi; i0 += segment)
            for (std::size_t b = 0; b < B; ++b)
                detail::ger_rows<Out>(X + b * In, D + b * Out, G, i0, std::min(segment, hi - i0), accumulate || b > 0);
    }
}

/// W ← W − rate · (Xᵀ D) on the rows [lo, hi) of W that `flags` marks (every row when it is null;
/// an unmarked row must have a zero input in every example): the weight gradient of gemm_xtd_rows
/// and the SGD step of axpy_neg_n fused, each row's gradient summed in registers and never
/// stored. Every element gets gemm_xtd's operations — the product of the first example whose
/// input is non-zero, then an fma per further such example, in example order — and then
/// axpy_neg_n's fma(−rate, g, w): W ends as gemm_xtd followed by axpy_neg_n (or axpy_neg_rows)
/// leave it, bit for bit, but for a weight of −0 (which the two passes may leave −0 where this
/// leaves +0, or the reverse). For the first layer when one batch is one program (train/).
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_xtd_apply_rows(const T* __restrict X, const T* __restrict D, T* __restrict W, std::size_t lo, std::size_t hi,
                         T rate, const std::uint8_t* __restrict flags) noexcept {
    using Bits = detail::example_bits<B>;
    static_assert(B <= 64, "gemm_xtd_apply_rows: at most 64 examples (a bit each)");
    const auto rows = [&](std::size_t r0, std::size_t r1) {
        for (std::size_t i0 = r0; i0 < r1; i0 += 64) {
            // which examples have a non-zero input i: bit b of nonzero[i − i0]
            const std::size_t m = std::min<std::size_t>(64, r1 - i0);
            Bits nonzero[64];
            detail::nonzero_examples<B, In>(X, i0, m, nonzero);
            for (std::size_t j = 0; j < m; ++j) {
                Bits p = nonzero[j];
                if (p == 0) continue;
                const std::size_t i = i0 + j;
                T* row = W + i * Out;
                auto b = static_cast<std::size_t>(std::countr_zero(p));
                p &= p - 1;
                if constexpr (Out <= 128) {  // the row's gradient in registers, every chunk at once
                    RowAccumulator<T, Out> g;
                    g.mul(X[b * In + i], D + b * Out);
                    for (; p != 0; p &= p - 1) {
                        b = static_cast<std::size_t>(std::countr_zero(p));
                        g.fma(X[b * In + i], D + b * Out);
                    }
                    g.apply(rate, row);
                } else {
                    const Bits rest = p;
                    const std::size_t b0 = b;
                    for_each_chunk<T, Out>([&]<class V, std::size_t Offset>() {
                        V g = broadcast<V>(X[b0 * In + i]) * load<V>(D + b0 * Out + Offset);
                        for (Bits q = rest; q != 0; q &= q - 1) {
                            const auto c = static_cast<std::size_t>(std::countr_zero(q));
                            g = simd::fma(broadcast<V>(X[c * In + i]), load<V>(D + c * Out + Offset), g);
                        }
                        store(simd::fma(broadcast<V>(-rate), g, load<V>(row + Offset)), row + Offset);
                    });
                }
            }
        }
    };
    // the runs of rows the flags mark (detail::for_each_row_run), else every row
    if (flags == nullptr || !detail::for_each_row_run(flags + lo, hi - lo, [&](std::size_t r0, std::size_t r1) { rows(lo + r0, lo + r1); }))
        rows(lo, hi);
}

/// G = Xᵀ D (or G += Xᵀ D): Σᵦ xᵦ dᵦᵀ, the weight gradient of a batch, for X (B x In), D (B x Out).
/// Every element gets the per-example sequence of operations (ger: example after example, each
/// adding only the rows of its non-zero inputs), so a batch split into chunks sums to the same
/// bits as one example at a time; but G is walked in segments of rows that fit in L1 (16 KB),
/// every example in turn on one segment, so a row is fetched from L2 once per batch rather than
/// once per example that uses it; or, for rows of 8 to 16 SIMD batches, a row at a time over the
/// batch (gemm_xtd_rows above).
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_xtd(const T* __restrict X, const T* __restrict D, T* __restrict G, bool accumulate) noexcept {
    gemm_xtd_rows<B, In, Out>(X, D, G, 0, In, accumulate);
}

/// Y = D Wᵀ (or +=): row b of Y is W dᵦ, for D (B x Out), W (In x Out), Y (B x In). Every
/// element as gemv computes it, but a block of 4 rows of W serves every example before the next
/// block is read: W is read from L2 once per batch instead of once per example (LeNet's 400 × 120
/// weights are 192 KB).
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_dwt(const T* __restrict D, const T* __restrict W, T* __restrict Y, bool accumulate) noexcept {
    constexpr std::size_t R = std::min<std::size_t>(4, In), whole = In / R * R;
    for (std::size_t i0 = 0; i0 < whole; i0 += R)
        for (std::size_t b = 0; b < B; ++b) detail::gemv_rows<R, Out>(W, D + b * Out, Y + b * In, i0, accumulate);
    if constexpr (whole < In)
        for (std::size_t b = 0; b < B; ++b) detail::gemv_rows<In - whole, Out>(W, D + b * Out, Y + b * In, whole, accumulate);
}

/// Z = T + bias in every row, for T and Z (B x N).
template <std::size_t B, std::size_t N, class T>
void add_rows(const T* __restrict A, const T* __restrict bias, T* __restrict Z) noexcept {
    for (std::size_t b = 0; b < B; ++b)
        for_each_chunk<T, N>([&]<class V, std::size_t Offset>() {
            store(load<V>(A + b * N + Offset) + load<V>(bias + Offset), Z + b * N + Offset);
        });
}

/// s = Σᵦ rowᵦ (or s += …), in the order b = 0, 1, …: the bias gradient of a batch.
template <std::size_t B, std::size_t N, class T>
void sum_rows(const T* __restrict D, T* __restrict s, bool accumulate) noexcept {
    for (std::size_t b = 0; b < B; ++b) {
        const bool add = accumulate || b > 0;
        for_each_chunk<T, N>([&]<class V, std::size_t Offset>() {
            const V d = load<V>(D + b * N + Offset);
            store(add ? load<V>(s + Offset) + d : d, s + Offset);
        });
    }
}

}  // namespace typegrad::simd
