// The hot kernels on the article's shapes: scalar fallback vs xsimd, float.
// Names: BM_<workload>_<impl>.
#include <iostream>
#include <vector>

#include <benchmark/benchmark.h>

#include "typegrad/simd/kernels.hpp"
#include "typegrad/util/random.hpp"

namespace {

using typegrad::simd::Mode;

template <class T>
std::vector<T> random_vector(std::size_t n, std::uint64_t seed) {
    typegrad::Rng rng(seed);
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(rng.uniform(-1, 1));
    return v;
}

template <std::size_t In, std::size_t Out, Mode M>
void BM_gemv_t(benchmark::State& state) {
    const auto W = random_vector<float>(In * Out, 1), a = random_vector<float>(In, 2), b = random_vector<float>(Out, 3);
    std::vector<float> z(Out);
    for (auto _ : state) {
        typegrad::simd::gemv_t_bias<In, Out, float, M>(W.data(), a.data(), b.data(), z.data());
        benchmark::DoNotOptimize(z.data());
        benchmark::ClobberMemory();
    }
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * In * Out, benchmark::Counter::kIsIterationInvariantRate);
}

template <std::size_t In, std::size_t Out, Mode M>
void BM_ger(benchmark::State& state) {
    const auto a = random_vector<float>(In, 2), d = random_vector<float>(Out, 3);
    auto G = random_vector<float>(In * Out, 1);
    for (auto _ : state) {
        typegrad::simd::ger<In, Out, float, M>(a.data(), d.data(), G.data(), true);
        benchmark::DoNotOptimize(G.data());
        benchmark::ClobberMemory();
    }
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * In * Out, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_gemv_t<784, 30, Mode::scalar>)->Name("BM_gemvt_784x30_scalar");
BENCHMARK(BM_gemv_t<784, 30, Mode::vector>)->Name("BM_gemvt_784x30_simd");
BENCHMARK(BM_gemv_t<784, 100, Mode::scalar>)->Name("BM_gemvt_784x100_scalar");
BENCHMARK(BM_gemv_t<784, 100, Mode::vector>)->Name("BM_gemvt_784x100_simd");
BENCHMARK(BM_ger<784, 30, Mode::scalar>)->Name("BM_ger_784x30_scalar");
BENCHMARK(BM_ger<784, 30, Mode::vector>)->Name("BM_ger_784x30_simd");
BENCHMARK(BM_ger<784, 100, Mode::scalar>)->Name("BM_ger_784x100_scalar");
BENCHMARK(BM_ger<784, 100, Mode::vector>)->Name("BM_ger_784x100_simd");

int main(int argc, char** argv) {
    std::cout << "typegrad kernels: SIMD architecture " << typegrad::simd::arch_name() << ", "
              << typegrad::simd::width_v<float> << " floats per batch\n";
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
