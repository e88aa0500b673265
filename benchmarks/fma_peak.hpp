// The single-core float FMA peak kernel, shared by fma_peak (the number docs/benchmarks.md and
// scripts/compare.py quote) and bench_anchor (the FLOP floor measured in the same run as the
// epochs it is compared with). See fma_peak.cpp for how the kernel is built and counted.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include <xsimd/xsimd.hpp>

namespace typegrad_bench::fma_peak {

using batch = xsimd::batch<float>;
constexpr std::size_t lanes = batch::size;
constexpr std::size_t accumulators = 12;

inline volatile float g_mul = 0.999999f;  // a in acc = acc * a + b
inline volatile float g_add = 1.0e-6f;    // b
inline volatile float g_sink = 0.0f;      // the result goes here, so the loop must run

// Keeps the compiler from assuming anything about v across this point (GCC/Clang).
inline void opaque(batch& v) {
    auto reg = v.data;
    asm volatile("" : "+x"(reg));
    v = batch(reg);
}

// Runs `iterations` rounds of `accumulators` independent FMAs; returns seconds.
inline double run(std::uint64_t iterations) {
    const batch a(static_cast<float>(g_mul));
    const batch b(static_cast<float>(g_add));
    std::array<batch, accumulators> acc;
    for (std::size_t i = 0; i < accumulators; ++i) {
        acc[i] = batch(1.0f + static_cast<float>(i) * 0.01f);
        opaque(acc[i]);
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t it = 0; it < iterations; ++it) {
        // Written out so every accumulator stays in a register (12 x zmm, no spills).
        acc[0] = xsimd::fma(acc[0], a, b);
        acc[1] = xsimd::fma(acc[1], a, b);
        acc[2] = xsimd::fma(acc[2], a, b);
        acc[3] = xsimd::fma(acc[3], a, b);
        acc[4] = xsimd::fma(acc[4], a, b);
        acc[5] = xsimd::fma(acc[5], a, b);
        acc[6] = xsimd::fma(acc[6], a, b);
        acc[7] = xsimd::fma(acc[7], a, b);
        acc[8] = xsimd::fma(acc[8], a, b);
        acc[9] = xsimd::fma(acc[9], a, b);
        acc[10] = xsimd::fma(acc[10], a, b);
        acc[11] = xsimd::fma(acc[11], a, b);
    }
    const auto t1 = std::chrono::steady_clock::now();
    batch total(0.0f);
    for (const auto& v : acc) {
        total += v;
    }
    g_sink = g_sink + xsimd::hadd(total);
    return std::chrono::duration<double>(t1 - t0).count();
}

inline double flops(std::uint64_t iterations) {
    return static_cast<double>(iterations) * static_cast<double>(accumulators * lanes * 2);
}


/// Calibrates the iteration count to about target_seconds a run and returns the best GFLOP/s
/// of `reps` runs; each run's seconds and GFLOP/s go to on_rep(rep, seconds, gflops).
template <class OnRep>
double measure(double target_seconds, int reps, OnRep&& on_rep) {
    std::uint64_t iterations = 1u << 16;
    double seconds = run(iterations);
    while (seconds < 0.05) {
        iterations *= 2;
        seconds = run(iterations);
    }
    iterations = static_cast<std::uint64_t>(static_cast<double>(iterations) * target_seconds / seconds);
    if (iterations == 0) iterations = 1;
    double best = 0.0;
    for (int r = 0; r < reps; ++r) {
        const double s = run(iterations);
        const double gflops = flops(iterations) / s * 1e-9;
        on_rep(r + 1, s, gflops, iterations);
        if (gflops > best) best = gflops;
    }
    return best;
}

}  // namespace typegrad_bench::fma_peak
