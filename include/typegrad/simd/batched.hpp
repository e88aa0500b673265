// Kernels for a mini-batch held as one matrix: X is B examples of width In, stored example after
// example (a row-major B x In array — equivalently the article's In x B matrix of column
// vectors, column-major). Every output element is computed with the same operations in the same order as
// the per-example kernels (kernels.hpp), so the batched and per-example paths agree bit for bit.
#pragma once

#include <algorithm>
#include <cstddef>

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

/// The rows [lo, hi) of gemm_xtd's G below, and nothing else of G: one thread's part of the weight
/// gradient of a first layer split by rows (train/parallel.hpp), each element as gemm_xtd makes it.
template <std::size_t B, std::size_t In, std::size_t Out, class T>
void gemm_xtd_rows(const T* __restrict X, const T* __restrict D, T* __restrict G, std::size_t lo, std::size_t hi,
                   bool accumulate) noexcept {
    constexpr std::size_t segment = std::clamp<std::size_t>(16384 / (Out * sizeof(T)), 1, detail::segment_rows);
    for (std::size_t i0 = lo; i0 < hi; i0 += segment)
        for (std::size_t b = 0; b < B; ++b)
            detail::ger_rows<Out>(X + b * In, D + b * Out, G, i0, std::min(segment, hi - i0), accumulate || b > 0);
}

/// G = Xᵀ D (or G += Xᵀ D): Σᵦ xᵦ dᵦᵀ, the weight gradient of a batch, for X (B x In), D (B x Out).
/// Every element gets the per-example sequence of operations (ger: example after example, each
/// adding only the rows of its non-zero inputs), so a batch split into chunks sums to the same
/// bits as one example at a time; but G is walked in segments of rows that fit in L1 (16 KB),
/// every example in turn on one segment, so a row is fetched from L2 once per batch rather than
/// once per example that uses it. (A row at a time over the batch would load and store each row
/// once, but visits every row any example uses and pays the FMA latency per example: measured
/// slower on MNIST, whose images are 81 % zeros.)
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
