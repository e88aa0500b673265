// bench_anchor: one MNIST epoch of typegrad against a plain-C++ anchor and against the FLOP
// floor, all measured in the same run (docs/benchmarks.md, issue 12).
//
//   anchor    the article's net written the straightforward fast way, self-contained: sizes as
//             template constants, weights in std::array, the batch's forward pass as one
//             (B x In)·(In x Out) loop nest, the backward pass batched too, and the SGD step
//             fused into the weight-gradient loops (no gradient buffer); plain loops that GCC
//             auto-vectorises (-O3 -march=native, as the library). No zero-skipping, no
//             intrinsics: what a careful programmer writes without a library.
//   typegrad  Trainer<Network<float, …>> with the default AutodiffEngine, as bench_gradient's
//             BM_epoch_*_ad.
//   floor     the epoch's FLOPs counted densely (docs/benchmarks.md: forward and weight
//             gradients 2·(n_in·n_out) per layer per example, W δ of the hidden layer, 2·#params
//             per update) ÷ the single-core FMA peak, measured at start-up with fma_peak's kernel.
//
// Both epochs: MNIST's 60 000 training images (TYPEGRAD_MNIST_DIR, else the synthetic digits),
// float, sigmoid layers, quadratic cost, batch 10, η = 3, a fresh shuffle each epoch; pixels
// are converted from bytes per batch. Counters: floor_ms (the floor of one epoch) and x_floor
// (CPU time per epoch ÷ floor); the summary after the table gives typegrad ÷ anchor.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_data.hpp"
#include "fma_peak.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/train/sgd.hpp"

namespace {

namespace tg = typegrad;

using tg::bench::data_name;
double peak_gflops = 0;
std::map<std::string, double> cpu_ms;  // per epoch, for the summary

const tg::data::Dataset& train_set() { return tg::bench::dataset<60000, 10000>().train; }

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Dense FLOPs of one epoch of In-H-Out at batch B over n examples (docs/benchmarks.md).
double epoch_flops(std::size_t in, std::size_t h, std::size_t out, std::size_t n, std::size_t batch) {
    const double per_example = 2.0 * double(in * h + h * out)    // forward
                               + 2.0 * double(in * h + h * out)  // weight gradients
                               + 2.0 * double(h * out);          // W δ into the hidden layer
    const double params = double(in * h + h + h * out + out);
    const double updates = double((n + batch - 1) / batch);
    return per_example * double(n) + 2.0 * params * updates;
}

// ---- the anchor -------------------------------------------------------------------------------

template <std::size_t In, std::size_t H, std::size_t Out, std::size_t B>
struct Anchor {
    // W (n_in x n_out), row-major: a row holds the weights out of one input unit
    alignas(64) std::array<float, In * H> W1;
    alignas(64) std::array<float, H> b1;
    alignas(64) std::array<float, H * Out> W2;
    alignas(64) std::array<float, Out> b2;
    // the batch
    alignas(64) std::array<float, B * In> X;
    alignas(64) std::array<float, B * H> A1, D1;
    alignas(64) std::array<float, B * Out> A2, D2;
    std::array<std::uint8_t, B> label;

    explicit Anchor(std::uint64_t seed) {
        std::mt19937_64 g(seed);
        std::normal_distribution<float> n01(0.0f, 1.0f);
        for (auto& w : W1) w = n01(g);
        for (auto& w : b1) w = n01(g);
        for (auto& w : W2) w = n01(g);
        for (auto& w : b2) w = n01(g);
    }

    static float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

    // a (B x N) = σ(x (B x K) · W (K x N) + b), the whole batch in one loop nest
    template <std::size_t K, std::size_t N>
    static void forward(const float* x, const float* W, const float* b, float* a) {
        for (std::size_t e = 0; e < B; ++e) {
            std::array<float, N> z;  // a local accumulator, which the compiler may keep in registers
            for (std::size_t j = 0; j < N; ++j) z[j] = b[j];
            for (std::size_t k = 0; k < K; ++k) {
                const float xk = x[e * K + k];
                const float* w = W + k * N;
                for (std::size_t j = 0; j < N; ++j) z[j] += xk * w[j];
            }
            for (std::size_t j = 0; j < N; ++j) a[e * N + j] = sigmoid(z[j]);
        }
    }
    // W (K x N) -= c Σₑ x[e] d[e]ᵀ and b -= c Σₑ d[e]: the gradient and the step in one pass
    template <std::size_t K, std::size_t N>
    static void fused_update(float c, const float* x, const float* d, float* W, float* b) {
        for (std::size_t k = 0; k < K; ++k) {
            std::array<float, N> w;  // the row, updated by the whole batch, then stored once
            std::copy_n(W + k * N, N, w.begin());
            for (std::size_t e = 0; e < B; ++e) {
                const float cx = c * x[e * K + k];
                const float* de = d + e * N;
                for (std::size_t j = 0; j < N; ++j) w[j] -= cx * de[j];
            }
            std::copy_n(w.begin(), N, W + k * N);
        }
        for (std::size_t e = 0; e < B; ++e)
            for (std::size_t j = 0; j < N; ++j) b[j] -= c * d[e * N + j];
    }

    void step(const tg::data::Dataset& d, const std::size_t* examples, float eta) {
        for (std::size_t e = 0; e < B; ++e) {
            const std::uint8_t* p = d.pixels.data() + examples[e] * In;
            for (std::size_t k = 0; k < In; ++k) X[e * In + k] = static_cast<float>(p[k]) / 255.0f;
            label[e] = d.labels[examples[e]];
        }
        forward<In, H>(X.data(), W1.data(), b1.data(), A1.data());
        forward<H, Out>(A1.data(), W2.data(), b2.data(), A2.data());
        // δ² = (a² − y) ⊙ σ'(z²);  δ¹ = (W² δ²) ⊙ σ'(z¹), with the old W²
        for (std::size_t e = 0; e < B; ++e)
            for (std::size_t j = 0; j < Out; ++j) {
                const float a = A2[e * Out + j];
                D2[e * Out + j] = (a - (j == label[e] ? 1.0f : 0.0f)) * a * (1.0f - a);
            }
        for (std::size_t e = 0; e < B; ++e)
            for (std::size_t k = 0; k < H; ++k) {
                float s = 0;
                for (std::size_t j = 0; j < Out; ++j) s += W2[k * Out + j] * D2[e * Out + j];
                const float a = A1[e * H + k];
                D1[e * H + k] = s * a * (1.0f - a);
            }
        const float c = eta / static_cast<float>(B);
        fused_update<H, Out>(c, A1.data(), D2.data(), W2.data(), b2.data());
        fused_update<In, H>(c, X.data(), D1.data(), W1.data(), b1.data());
    }

    void epoch(const tg::data::Dataset& d, std::vector<std::size_t>& order, std::mt19937_64& rng, float eta) {
        std::shuffle(order.begin(), order.end(), rng);
        for (std::size_t k = 0; k + B <= order.size(); k += B) step(d, order.data() + k, eta);
    }
};

template <class Run>
void timed_epochs(benchmark::State& state, const std::string& name, double flops, Run&& run_epoch) {
    const double floor_ms = flops / (peak_gflops * 1e9) * 1e3;
    double cpu = 0;
    for (auto _ : state) {
        const double t0 = process_cpu_seconds();
        run_epoch();
        cpu += process_cpu_seconds() - t0;
    }
    const double ms = cpu / static_cast<double>(state.iterations()) * 1e3;
    cpu_ms[name] = ms;
    state.counters["floor_ms"] = floor_ms;
    state.counters["x_floor"] = ms / floor_ms;
    state.counters["dense_GFLOP"] = flops * 1e-9;
}

template <std::size_t In, std::size_t H, std::size_t Out>
void anchor_epoch(benchmark::State& state, const std::string& name) {
    const auto& d = train_set();
    constexpr std::size_t B = 10;
    auto net = std::make_unique<Anchor<In, H, Out, B>>(1);
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(1);
    timed_epochs(state, name, epoch_flops(In, H, Out, d.size(), B), [&] { net->epoch(d, order, rng, 3.0f); });
    benchmark::DoNotOptimize(net->W1.data());
}

template <std::size_t In, std::size_t H, std::size_t Out>
void typegrad_epoch(benchmark::State& state, const std::string& name) {
    using M = tg::Network<float, In, H, Out>;
    const auto& d = train_set();
    auto net = std::make_unique<M>(1);
    tg::train::Trainer<M, tg::train::AutodiffEngine<M>> trainer(*net, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 1});
    timed_epochs(state, name, epoch_flops(In, H, Out, d.size(), 10), [&] { trainer.epoch(d); });
}

template <std::size_t In, std::size_t H, std::size_t Out>
void register_shape(const std::string& shape) {
    const std::string a = "BM_epoch_" + shape + "_anchor", t = "BM_epoch_" + shape + "_typegrad";
    benchmark::RegisterBenchmark(a.c_str(), [a](benchmark::State& s) { anchor_epoch<In, H, Out>(s, a); })
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    benchmark::RegisterBenchmark(t.c_str(), [t](benchmark::State& s) { typegrad_epoch<In, H, Out>(s, t); })
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
}

}  // namespace

int main(int argc, char** argv) {
    train_set();
    peak_gflops = typegrad_bench::fma_peak::measure(0.3, 3, [](int, double, double, std::uint64_t) {});
    std::printf("bench_anchor: SIMD architecture %s, %zu floats per batch; FMA peak (one core, fma_peak's kernel) "
                "%.1f GFLOP/s; data: %s\n",
                tg::simd::arch_name(), tg::simd::width_v<float>, peak_gflops, data_name.c_str());
    register_shape<784, 30, 10>("784x30x10");
    register_shape<784, 100, 10>("784x100x10");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    for (const char* shape : {"784x30x10", "784x100x10"}) {
        const std::string s = shape;
        const auto a = cpu_ms.find("BM_epoch_" + s + "_anchor"), t = cpu_ms.find("BM_epoch_" + s + "_typegrad");
        if (a == cpu_ms.end() || t == cpu_ms.end()) continue;
        std::printf("%s: typegrad %.1f ms, anchor %.1f ms (CPU per epoch): anchor / typegrad = %.2f\n", shape, t->second,
                    a->second, a->second / t->second);
    }
    return 0;
}
