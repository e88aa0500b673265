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
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fma_peak.hpp"

namespace {

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s [--seconds S] [--reps N]\n", argv0);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace typegrad_bench::fma_peak;
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
    std::uint64_t iterations = 0;
    const double best = measure(target_seconds, reps, [&](int r, double s, double gflops, std::uint64_t it) {
        std::printf("rep %d  %.3f s  %.2f GFLOP/s\n", r, s, gflops);
        iterations = it;
    });
    std::printf("arch %s\n", xsimd::default_arch::name());
    std::printf("lanes %zu\n", lanes);
    std::printf("accumulators %zu\n", accumulators);
    std::printf("iterations %llu\n", static_cast<unsigned long long>(iterations));
    std::printf("flops_per_iteration %zu\n", accumulators * lanes * 2);
    std::printf("peak_gflops %.3f\n", best);
    return g_sink == 12345.0f ? 3 : 0;  // never true in practice; one more use of the sink
}
