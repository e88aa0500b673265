// Kernels for a mini-batch held as one matrix: X is B examples of width In, stored example after
// example (a row-major B x In array — equivalently the article's In x B matrix of column
// vectors, column-major). Each weight row is loaded once per group of examples instead of once
// per example. Every output element is computed with the same operations in the same order as
// the per-example kernels (kernels.hpp), so the batched and per-example paths agree bit for bit.
#pragma once

#include <algorithm>
#include <cstddef>

#include "typegrad/simd/kernels.hpp"
#include "typegrad/simd/row.hpp"

namespace typegrad::simd {

namespace detail {

template <std::size_t B, std::size_t In, std::size_t Out, std::size_t J0, class T>
void gemm_xtd_block(const T* __restrict X, const T* __restrict D, T* __restrict G, bool accumulate) noexcept {
    constexpr std::size_t width = std::min(block_columns<T>, Out - J0);
    using Row = PaddedRow<T, width>;
    constexpr std::size_t safe = safe_rows<In, Out, J0, Row::padded>;  // rows of G a padded load stays inside
    // the batch's rows of D for these columns, zero-padded to whole SIMD batches
    alignas(64) T dpad[B * Row::padded] = {};
    for (std::size_t b = 0; b < B; ++b) std::copy_n(D + b * Out + J0, width, dpad + b * Row::padded);
    for (std::size_t i0 = 0; i0 < In; i0 += skip_block) {
        const std::size_t n = std::min(skip_block, In - i0);
        bool any = false;  // does any example use these rows? (sparse inputs, see gemv_t_bias)
        for (std::size_t b = 0; b < B; ++b) any |= !all_zero(X + b * In + i0, n);
        for (std::size_t i = i0; i < i0 + n; ++i) {
            T* row = G + i * Out + J0;
            if (!any) {
                if (!accumulate) RowAccumulator<T, width>::fill_zero(row);
                continue;
            }
            // G + Σᵦ xᵦᵢ dᵦ with one FMA per example in the order b = 0, 1, …, starting from what
            // G holds when accumulating: exactly the per-example kernel's sequence, so a batch
            // split into chunks sums to the same bits as one example at a time
            Row acc;
            if (!accumulate) acc.zero();
            else if (i < safe) acc.load_padded(row);  // reads past the row, inside G; those lanes are never stored
            else acc.load_row(row);
            for (std::size_t b = 0; b < B; ++b) acc.fma(X[b * In + i], dpad + b * Row::padded);
            acc.store_to(row);
        }
    }
    if constexpr (J0 + width < Out) gemm_xtd_block<B, In, Out, J0 + width>(X, D, G, accumulate);
}

}  // namespace detail

/// Z = X W (+ bias in every row): row b of Z is Wᵀ xᵦ + b, for X (B x In), W (In x Out).
/// Example by example: with sparse inputs the per-example kernel, which skips each example's
/// zeros, beats sharing weight loads across the batch (measured in benchmarks/bench_kernels:
/// BM_forward10_*); W stays in L2 between the examples either way.
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_xw(const T* __restrict X, const T* __restrict W, const T* __restrict bias, T* __restrict Z) noexcept {
    for (std::size_t b = 0; b < B; ++b) gemv_t_bias<In, Out>(W, X + b * In, bias, Z + b * Out);
}

/// G = Xᵀ D (or G += Xᵀ D): Σᵦ xᵦ dᵦᵀ, the weight gradient of a batch, for X (B x In), D (B x Out).
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_xtd(const T* __restrict X, const T* __restrict D, T* __restrict G, bool accumulate) noexcept {
    detail::gemm_xtd_block<B, In, Out, 0>(X, D, G, accumulate);
}

/// Y = D Wᵀ (or +=): row b of Y is W dᵦ, for D (B x Out), W (In x Out), Y (B x In).
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_dwt(const T* __restrict D, const T* __restrict W, T* __restrict Y, bool accumulate) noexcept {
    for (std::size_t b = 0; b < B; ++b) gemv<In, Out>(W, D + b * Out, Y + b * In, accumulate);
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
