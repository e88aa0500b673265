// The hot kernels on the article's shapes, three ways: plain scalar loops (the fallback),
// xtensor expressions, and typegrad's xsimd kernels. Names: BM_<workload>_<impl>.
#include <iostream>
#include <vector>

#include <benchmark/benchmark.h>
#include <xtensor/xfixed.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include "typegrad/expr/functions.hpp"
#include "typegrad/simd/batched.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/tensor/tensor.hpp"
#include "typegrad/util/random.hpp"

namespace {

using typegrad::simd::Mode;

template <class C>
void fill_random(C& c, std::uint64_t seed, double zero_fraction = 0.0) {
    typegrad::Rng rng(seed);
    for (auto& x : c) x = rng.uniform() < zero_fraction ? 0.0f : static_cast<float>(rng.uniform(-1, 1));
}

// inputs like MNIST pixels: about 81 % zeros (the kernels skip those rows)
constexpr double mnist_zeros = 0.81;

template <std::size_t In, std::size_t Out>
struct Operands {
    std::unique_ptr<typegrad::Matrix<float, In, Out>> W = std::make_unique<typegrad::Matrix<float, In, Out>>();
    std::unique_ptr<typegrad::Matrix<float, In, Out>> G = std::make_unique<typegrad::Matrix<float, In, Out>>();
    typegrad::Vector<float, In> a;
    typegrad::Vector<float, Out> b, d, z;
    explicit Operands(double zeros) {
        fill_random(*W, 1);
        fill_random(*G, 2);
        fill_random(a, 3, zeros);
        fill_random(b, 4);
        fill_random(d, 5);
    }
};

void set_flops(benchmark::State& state, double flops) {
    state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// --- z = Wᵀa + b -----------------------------------------------------------------------------
template <std::size_t In, std::size_t Out, Mode M>
void gemvt(benchmark::State& state, double zeros) {
    Operands<In, Out> o(zeros);
    for (auto _ : state) {
        typegrad::simd::gemv_t_bias<In, Out, float, M>(o.W->data(), o.a.data(), o.b.data(), o.z.data());
        benchmark::DoNotOptimize(o.z.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, 2.0 * In * Out);
}
template <std::size_t In, std::size_t Out>
void gemvt_xtensor(benchmark::State& state, double zeros) {
    Operands<In, Out> o(zeros);
    for (auto _ : state) {
        xt::noalias(o.z) = xt::sum(*o.W * xt::view(o.a, xt::all(), xt::newaxis()), {0}) + o.b;
        benchmark::DoNotOptimize(o.z.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, 2.0 * In * Out);
}

// --- G += a dᵀ -----------------------------------------------------------------------------------
template <std::size_t In, std::size_t Out, Mode M>
void ger(benchmark::State& state, double zeros) {
    Operands<In, Out> o(zeros);
    for (auto _ : state) {
        typegrad::simd::ger<In, Out, float, M>(o.a.data(), o.d.data(), o.G->data(), true);
        benchmark::DoNotOptimize(o.G->data());
        benchmark::ClobberMemory();
    }
    set_flops(state, 2.0 * In * Out);
}
template <std::size_t In, std::size_t Out>
void ger_xtensor(benchmark::State& state, double zeros) {
    Operands<In, Out> o(zeros);
    for (auto _ : state) {
        // xtensor 0.24: noalias(x) += e does not compile for fixed containers; x = x + e does
        xt::noalias(*o.G) = *o.G + xt::view(o.a, xt::all(), xt::newaxis()) * xt::view(o.d, xt::newaxis(), xt::all());
        benchmark::DoNotOptimize(o.G->data());
        benchmark::ClobberMemory();
    }
    set_flops(state, 2.0 * In * Out);
}

// --- y = σ(x) ------------------------------------------------------------------------------------
template <std::size_t N, Mode M>
void sigmoid(benchmark::State& state) {
    typegrad::Vector<float, N> x, y;
    fill_random(x, 6);
    x *= 8.0f;
    for (auto _ : state) {
        typegrad::simd::map<typegrad::expr::fn::Sigmoid, N, float, M>(x.data(), y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.counters["values/s"] = benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
}
template <std::size_t N>
void sigmoid_xtensor(benchmark::State& state) {
    typegrad::Vector<float, N> x, y;
    fill_random(x, 6);
    x *= 8.0f;
    for (auto _ : state) {
        xt::noalias(y) = 1.0f / (1.0f + xt::exp(-x));
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.counters["values/s"] = benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
}

// --- the batched product Z = X W for a mini-batch of 10, vs 10 matrix-vector products -----------
template <std::size_t B, std::size_t In, std::size_t Out>
void batch_forward(benchmark::State& state, bool batched) {
    Operands<In, Out> o(0.0);
    std::vector<float> X(B * In), Z(B * Out);
    fill_random(X, 7, mnist_zeros);
    for (auto _ : state) {
        if (batched) {
            typegrad::simd::gemm_xw<B, In, Out>(X.data(), o.W->data(), o.b.data(), Z.data());
        } else {
            for (std::size_t k = 0; k < B; ++k)
                typegrad::simd::gemv_t_bias<In, Out>(o.W->data(), X.data() + k * In, o.b.data(), Z.data() + k * Out);
        }
        benchmark::DoNotOptimize(Z.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, 2.0 * B * In * Out);
}

}  // namespace

void register_all() {
    using benchmark::RegisterBenchmark;
    using benchmark::State;
    // dense inputs
    RegisterBenchmark("BM_gemvt_784x30_scalar", [](State& s) { gemvt<784, 30, Mode::scalar>(s, 0.0); });
    RegisterBenchmark("BM_gemvt_784x30_xtensor", [](State& s) { gemvt_xtensor<784, 30>(s, 0.0); });
    RegisterBenchmark("BM_gemvt_784x30_simd", [](State& s) { gemvt<784, 30, Mode::vector>(s, 0.0); });
    RegisterBenchmark("BM_gemvt_784x100_scalar", [](State& s) { gemvt<784, 100, Mode::scalar>(s, 0.0); });
    RegisterBenchmark("BM_gemvt_784x100_xtensor", [](State& s) { gemvt_xtensor<784, 100>(s, 0.0); });
    RegisterBenchmark("BM_gemvt_784x100_simd", [](State& s) { gemvt<784, 100, Mode::vector>(s, 0.0); });
    // MNIST-like inputs, 81 % zeros
    RegisterBenchmark("BM_gemvtSparse_784x30_scalar", [](State& s) { gemvt<784, 30, Mode::scalar>(s, mnist_zeros); });
    RegisterBenchmark("BM_gemvtSparse_784x30_xtensor", [](State& s) { gemvt_xtensor<784, 30>(s, mnist_zeros); });
    RegisterBenchmark("BM_gemvtSparse_784x30_simd", [](State& s) { gemvt<784, 30, Mode::vector>(s, mnist_zeros); });

    RegisterBenchmark("BM_ger_784x30_scalar", [](State& s) { ger<784, 30, Mode::scalar>(s, 0.0); });
    RegisterBenchmark("BM_ger_784x30_xtensor", [](State& s) { ger_xtensor<784, 30>(s, 0.0); });
    RegisterBenchmark("BM_ger_784x30_simd", [](State& s) { ger<784, 30, Mode::vector>(s, 0.0); });
    RegisterBenchmark("BM_ger_784x100_scalar", [](State& s) { ger<784, 100, Mode::scalar>(s, 0.0); });
    RegisterBenchmark("BM_ger_784x100_xtensor", [](State& s) { ger_xtensor<784, 100>(s, 0.0); });
    RegisterBenchmark("BM_ger_784x100_simd", [](State& s) { ger<784, 100, Mode::vector>(s, 0.0); });

    RegisterBenchmark("BM_sigmoid_30_scalar", [](State& s) { sigmoid<30, Mode::scalar>(s); });
    RegisterBenchmark("BM_sigmoid_30_xtensor", [](State& s) { sigmoid_xtensor<30>(s); });
    RegisterBenchmark("BM_sigmoid_30_simd", [](State& s) { sigmoid<30, Mode::vector>(s); });
    RegisterBenchmark("BM_sigmoid_100_scalar", [](State& s) { sigmoid<100, Mode::scalar>(s); });
    RegisterBenchmark("BM_sigmoid_100_xtensor", [](State& s) { sigmoid_xtensor<100>(s); });
    RegisterBenchmark("BM_sigmoid_100_simd", [](State& s) { sigmoid<100, Mode::vector>(s); });

    RegisterBenchmark("BM_forward10_784x30_simd", [](State& s) { batch_forward<10, 784, 30>(s, false); });
    RegisterBenchmark("BM_forward10_784x30_simdBatched", [](State& s) { batch_forward<10, 784, 30>(s, true); });
}

int main(int argc, char** argv) {
    std::cout << "typegrad kernels: SIMD architecture " << typegrad::simd::arch_name() << ", "
              << typegrad::simd::width_v<float> << " floats per batch, mini-batch 10\n";
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
