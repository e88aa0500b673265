// fma_peak: this machine's single-core float FMA peak, in GFLOP/s, with xsimd.
//
// The FLOP floor of docs/benchmarks.md (scripts/compare.py parses the `peak_gflops` line).
// Kernel: Acc independent accumulators of xsimd::batch<float> (the widest the compiler was
// allowed, -march=native), each updated acc = fma(acc, a, b) in a loop. The accumulators are
// independent, so the loop is bound by FMA throughput, not latency (Acc >= latency x pipes).
// a and b are read from volatiles (no constant folding), a < 1 keeps every value normal (no
// overflow, no denormals), and the accumulators are summed into a volatile sink afterwards (the
// loop cannot be removed). FLOPs = iterations x Acc x lanes x 2 (an FMA is a multiply and an
// add). The iteration count is calibrated to about --seconds per repetition (default 0.5 s) and
// the best of --reps repetitions (default 5) is reported.
//
// Usage: fma_peak [--seconds S] [--reps N]
#include <xsimd/xsimd.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using batch = xsimd::batch<float>;
constexpr std::size_t lanes = batch::size;
constexpr std::size_t accumulators = 12;

volatile float g_mul = 0.999999f;  // a in acc = acc * a + b
volatile float g_add = 1.0e-6f;    // b
volatile float g_sink = 0.0f;      // the result goes here, so the loop must run

// Keeps the compiler from assuming anything about v across this point (GCC/Clang).
inline void opaque(batch& v) {
    auto reg = v.data;
    asm volatile("" : "+x"(reg));
    v = batch(reg);
}

// Runs `iterations` rounds of `accumulators` independent FMAs; returns seconds.
double run(std::uint64_t iterations) {
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

double flops(std::uint64_t iterations) {
    return static_cast<double>(iterations) * static_cast<double>(accumulators * lanes * 2);
}

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s [--seconds S] [--reps N]\n", argv0);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    double target_seconds = 0.5;
    int reps = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--seconds" && i + 1 < argc) {
            target_seconds = std::strtod(argv[++i], nullptr);
        } else if (arg == "--reps" && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else {
            usage(argv[0]);
        }
    }
    if (!(target_seconds > 0.0) || reps < 1) {
        usage(argv[0]);
    }

    // Calibrate: double the iteration count until a run takes >= 50 ms, then scale to target.
    std::uint64_t iterations = 1u << 16;
    double seconds = run(iterations);
    while (seconds < 0.05) {
        iterations *= 2;
        seconds = run(iterations);
    }
    iterations = static_cast<std::uint64_t>(static_cast<double>(iterations) * target_seconds / seconds);
    if (iterations == 0) {
        iterations = 1;
    }

    double best = 0.0;
    for (int r = 0; r < reps; ++r) {
        const double s = run(iterations);
        const double gflops = flops(iterations) / s * 1e-9;
        std::printf("rep %d  %.3f s  %.2f GFLOP/s\n", r + 1, s, gflops);
        if (gflops > best) {
            best = gflops;
        }
    }

    std::printf("arch %s\n", xsimd::default_arch::name());
    std::printf("lanes %zu\n", lanes);
    std::printf("accumulators %zu\n", accumulators);
    std::printf("iterations %llu\n", static_cast<unsigned long long>(iterations));
    std::printf("flops_per_iteration %zu\n", accumulators * lanes * 2);
    std::printf("peak_gflops %.3f\n", best);
    return g_sink == 12345.0f ? 3 : 0;  // never true in practice; one more use of the sink
}
