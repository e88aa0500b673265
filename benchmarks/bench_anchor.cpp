// bench_anchor: one MNIST epoch of typegrad against a plain-C++ anchor and against the FLOP
// floor, all measured in the same run (docs/benchmarks.md, issue 12).
//
//   anchor    the article's net as a competent engineer writes it in an afternoon without a
//             library (issue 22, item 2): sizes as template constants, widths padded to 16
//             floats, the batch as one (B x In) matrix times (In x Out) in register blocks, the
//             backward pass batched too, the SGD step fused into the weight-gradient loops (no
//             gradient buffer), nothing allocated per step; plain loops that GCC vectorises
//             (-O3 -march=native, as the library). No zero-skipping, no intrinsics. It starts
//             from typegrad's weights, and main() checks one of its steps against
//             reference::backprop (aborting on a mismatch); both report test_accuracy after
//             their timed epochs.
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
#include "typegrad/reference/backprop.hpp"
#include "typegrad/train/sgd.hpp"

namespace {

namespace tg = typegrad;

using tg::bench::data_name;
double peak_gflops = 0;
std::map<std::string, double> cpu_ms;  // per epoch, for the summary

const tg::data::Dataset& train_set() { return tg::bench::dataset<60000, 10000>().train; }
const tg::data::Dataset& test_set() { return tg::bench::dataset<60000, 10000>().test; }

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

/// Register blocks of the anchor's two loop nests: the forward product works on E examples x J
/// outputs at a time (E x J / 8 accumulators of 8 floats, held in registers), the fused update
/// on E examples x J weights of a row (J = the whole row: in place). Chosen per shape by trying
/// a dozen, as one would in an afternoon, on Zen 2 (AVX2), MNIST: 784-30-10 179 ms per epoch with
/// {2, 32, 2, 16}, 210–2460 ms with the others; 784-100-10 514 ms with {5, 16, 10, whole rows},
/// 585–800 ms with the others. Not tuned on AVX-512.
struct Blocking {
    std::size_t forward_e, forward_j, update_e, update_j;
};

template <std::size_t In, std::size_t H, std::size_t Out, std::size_t B, Blocking Blk>
struct Anchor {
    /// Widths padded to 16 floats: whole SIMD vectors, no scalar tails. The padded weights stay
    /// zero (their δ is zero), so the padded network computes exactly the unpadded one.
    static constexpr std::size_t padded(std::size_t n) { return (n + 15) / 16 * 16; }
    static constexpr std::size_t HP = padded(H), OP = padded(Out);

    // W (n_in x n_out), row-major as typegrad's: a row holds the weights out of one input unit
    alignas(64) float W1[In][HP]{};
    alignas(64) float b1[HP]{};
    alignas(64) float W2[HP][OP]{};
    alignas(64) float b2[OP]{};
    // the batch: each a (B x width) matrix
    alignas(64) float X[B][In];
    alignas(64) float A1[B][HP], D1[B][HP];
    alignas(64) float A2[B][OP], D2[B][OP];
    std::uint8_t label[B];

    /// The starting point of the typegrad network m (the same draw, so both train alike).
    template <class M>
    explicit Anchor(const M& m) {
        const auto &w1 = m.template weights<0>(), &w2 = m.template weights<1>();
        const auto &c1 = m.template biases<0>(), &c2 = m.template biases<1>();
        for (std::size_t k = 0; k < In; ++k)
            for (std::size_t j = 0; j < H; ++j) W1[k][j] = w1(k, j);
        for (std::size_t k = 0; k < H; ++k)
            for (std::size_t j = 0; j < Out; ++j) W2[k][j] = w2(k, j);
        for (std::size_t j = 0; j < H; ++j) b1[j] = c1(j);
        for (std::size_t j = 0; j < Out; ++j) b2[j] = c2(j);
    }

    static float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

    // a (B x N) = σ(x (B x K) · W (K x N) + b): the batch as one matrix, in E x J register blocks
    template <std::size_t K, std::size_t N>
    static void forward(const float (&x)[B][K], const float (&W)[K][N], const float (&b)[N], float (&a)[B][N]) {
        constexpr std::size_t E = Blk.forward_e, J = std::min(Blk.forward_j, N);
        static_assert(B % E == 0 && N % J == 0);
        for (std::size_t e0 = 0; e0 < B; e0 += E)
            for (std::size_t j0 = 0; j0 < N; j0 += J) {
                float z[E][J];
                for (std::size_t e = 0; e < E; ++e)
                    for (std::size_t j = 0; j < J; ++j) z[e][j] = b[j0 + j];
                for (std::size_t k = 0; k < K; ++k)
                    for (std::size_t e = 0; e < E; ++e)
                        for (std::size_t j = 0; j < J; ++j) z[e][j] += x[e0 + e][k] * W[k][j0 + j];
                for (std::size_t e = 0; e < E; ++e)
                    for (std::size_t j = 0; j < J; ++j) a[e0 + e][j0 + j] = sigmoid(z[e][j]);
            }
    }
    // W (K x N) -= c Σₑ x[e] d[e]ᵀ and b -= c Σₑ d[e]: the gradient and the step in one pass (no
    // gradient buffer), E x J weights of a row at a time, the E rows of c·d in registers
    template <std::size_t K, std::size_t N>
    static void fused_update(float c, const float (&x)[B][K], const float (&d)[B][N], float (&W)[K][N], float (&b)[N]) {
        constexpr std::size_t E = Blk.update_e, J = std::min(Blk.update_j, N);
        // The same block loops as forward's; a helper taking the block's body as a lambda made
        // GCC keep the blocks in memory (784-30-10: 340 ms per epoch instead of 183).
        static_assert(B % E == 0 && N % J == 0);
        for (std::size_t e0 = 0; e0 < B; e0 += E)
            for (std::size_t j0 = 0; j0 < N; j0 += J) {
                float cd[E][J];  // c·d
                for (std::size_t e = 0; e < E; ++e)
                    for (std::size_t j = 0; j < J; ++j) cd[e][j] = c * d[e0 + e][j0 + j];
                for (std::size_t k = 0; k < K; ++k) {
                    if constexpr (J == N) {  // whole rows, too wide for registers: in place
                        for (std::size_t e = 0; e < E; ++e) {
                            const float xe = x[e0 + e][k];
                            for (std::size_t j = 0; j < J; ++j) W[k][j] -= xe * cd[e][j];
                        }
                    } else {  // a block of the row, in registers while the E examples update it
                        float w[J];
                        for (std::size_t j = 0; j < J; ++j) w[j] = W[k][j0 + j];
                        for (std::size_t e = 0; e < E; ++e)
                            for (std::size_t j = 0; j < J; ++j) w[j] -= x[e0 + e][k] * cd[e][j];
                        for (std::size_t j = 0; j < J; ++j) W[k][j0 + j] = w[j];
                    }
                }
            }
        for (std::size_t e = 0; e < B; ++e)
            for (std::size_t j = 0; j < N; ++j) b[j] -= c * d[e][j];
    }

    /// X and label from B examples of d; then a¹ and a² of the batch.
    void forward(const tg::data::Dataset& d, const std::size_t* examples) {
        for (std::size_t e = 0; e < B; ++e) {
            const std::uint8_t* p = d.pixels.data() + examples[e] * In;
            for (std::size_t k = 0; k < In; ++k) X[e][k] = static_cast<float>(p[k]) / 255.0f;
            label[e] = d.labels[examples[e]];
        }
        forward(X, W1, b1, A1);
        forward(A1, W2, b2, A2);
    }

    void step(const tg::data::Dataset& d, const std::size_t* examples, float eta) {
        forward(d, examples);
        // δ² = (a² − y) ⊙ σ'(z²);  δ¹ = (W² δ²) ⊙ σ'(z¹), with the old W²; zero in the padding
        for (std::size_t e = 0; e < B; ++e)
            for (std::size_t j = 0; j < OP; ++j) {
                const float a = A2[e][j];
                D2[e][j] = j < Out ? (a - (j == label[e] ? 1.0f : 0.0f)) * a * (1.0f - a) : 0.0f;
            }
        for (std::size_t e = 0; e < B; ++e)
            for (std::size_t k = 0; k < HP; ++k) {
                float s = 0;
                for (std::size_t j = 0; j < OP; ++j) s += W2[k][j] * D2[e][j];
                const float a = A1[e][k];
                D1[e][k] = k < H ? s * a * (1.0f - a) : 0.0f;
            }
        const float c = eta / static_cast<float>(B);
        fused_update(c, A1, D2, W2, b2);
        fused_update(c, X, D1, W1, b1);
    }

    void epoch(const tg::data::Dataset& d, std::vector<std::size_t>& order, std::mt19937_64& rng, float eta) {
        std::shuffle(order.begin(), order.end(), rng);
        for (std::size_t k = 0; k + B <= order.size(); k += B) step(d, order.data() + k, eta);
    }

    /// Examples of d whose largest output is at their label (the last partial batch padded with
    /// its first example, which is not counted twice).
    std::size_t count_correct(const tg::data::Dataset& d) {
        std::size_t correct = 0;
        for (std::size_t i = 0; i < d.size(); i += B) {
            std::size_t examples[B];
            for (std::size_t e = 0; e < B; ++e) examples[e] = i + e < d.size() ? i + e : i;
            forward(d, examples);
            for (std::size_t e = 0; e < B && i + e < d.size(); ++e)
                correct += static_cast<std::size_t>(std::max_element(A2[e], A2[e] + Out) - A2[e]) == label[e];
        }
        return correct;
    }
};

/// The block sizes of each shape (Blocking) and the anchor at batch 10.
template <std::size_t In, std::size_t H, std::size_t Out>
using AnchorOf = Anchor<In, H, Out, 10, H <= 32 ? Blocking{2, 32, 2, 16} : Blocking{5, 16, 10, 1024}>;

/// The anchor computes the article's step: after one batch, its weights and biases equal the
/// typegrad network's minus η/B Σ reference::backprop (the hand-written backprop), else the
/// benchmark aborts rather than time something else.
template <std::size_t In, std::size_t H, std::size_t Out>
void check_anchor_step(const tg::data::Dataset& d) {
    using M = tg::Network<float, In, H, Out>;
    constexpr std::size_t B = 10;
    constexpr float eta = 3.0f;
    const auto net = std::make_unique<M>(1);
    auto a = std::make_unique<AnchorOf<In, H, Out>>(*net);
    std::size_t examples[B];
    for (std::size_t e = 0; e < B; ++e) examples[e] = 37 * e + 5;
    std::vector<double> dw1(In * H, 0.0), dw2(H * Out, 0.0), db1(H, 0.0), db2(Out, 0.0);
    for (std::size_t e = 0; e < B; ++e) {
        tg::Vector<float, In> x;
        for (std::size_t k = 0; k < In; ++k) x[k] = tg::data::unit_pixel(d.pixels[examples[e] * In + k]);
        tg::Vector<float, Out> y;
        y.fill(0.0f);
        y[d.labels[examples[e]]] = 1.0f;
        const auto g = tg::reference::backprop(*net, x, y);
        for (std::size_t k = 0; k < In; ++k)
            for (std::size_t j = 0; j < H; ++j) dw1[k * H + j] += g.template weights<0>()(k, j);
        for (std::size_t k = 0; k < H; ++k)
            for (std::size_t j = 0; j < Out; ++j) dw2[k * Out + j] += g.template weights<1>()(k, j);
        for (std::size_t j = 0; j < H; ++j) db1[j] += g.template biases<0>()(j);
        for (std::size_t j = 0; j < Out; ++j) db2[j] += g.template biases<1>()(j);
    }
    a->step(d, examples, eta);
    // the largest difference of the step's change, relative to the largest change
    double err = 0, scale = 0;
    const auto compare = [&](double before, double after, double grad_sum) {
        const double expected = -eta / B * grad_sum;
        err = std::max(err, std::abs((after - before) - expected));
        scale = std::max(scale, std::abs(expected));
    };
    const auto &w1 = net->template weights<0>(), &w2 = net->template weights<1>();
    for (std::size_t k = 0; k < In; ++k)
        for (std::size_t j = 0; j < H; ++j) compare(w1(k, j), a->W1[k][j], dw1[k * H + j]);
    for (std::size_t k = 0; k < H; ++k)
        for (std::size_t j = 0; j < Out; ++j) compare(w2(k, j), a->W2[k][j], dw2[k * Out + j]);
    for (std::size_t j = 0; j < H; ++j) compare(net->template biases<0>()(j), a->b1[j], db1[j]);
    for (std::size_t j = 0; j < Out; ++j) compare(net->template biases<1>()(j), a->b2[j], db2[j]);
    std::printf("anchor %zux%zux%zu: one SGD step against typegrad's reference::backprop: max error %.2e of the "
                "largest change %.2e\n",
                In, H, Out, err, scale);
    if (!(scale > 0 && err <= 1e-4 * scale)) {
        std::fprintf(stderr, "bench_anchor: the anchor's step differs from reference::backprop; not timing it\n");
        std::abort();
    }
}

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
    const auto start = std::make_unique<tg::Network<float, In, H, Out>>(1);  // typegrad's starting point
    auto net = std::make_unique<AnchorOf<In, H, Out>>(*start);
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(1);
    timed_epochs(state, name, epoch_flops(In, H, Out, d.size(), 10), [&] { net->epoch(d, order, rng, 3.0f); });
    const auto& test = test_set();
    state.counters["test_accuracy"] = static_cast<double>(net->count_correct(test)) / static_cast<double>(test.size());
}

template <std::size_t In, std::size_t H, std::size_t Out>
void typegrad_epoch(benchmark::State& state, const std::string& name) {
    using M = tg::Network<float, In, H, Out>;
    const auto& d = train_set();
    auto net = std::make_unique<M>(1);
    tg::train::Trainer<M, tg::train::AutodiffEngine<M>> trainer(*net, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 1});
    timed_epochs(state, name, epoch_flops(In, H, Out, d.size(), 10), [&] { trainer.epoch(d); });
    const auto& test = test_set();
    state.counters["test_accuracy"] = static_cast<double>(tg::train::count_correct(*net, test)) / static_cast<double>(test.size());
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
    check_anchor_step<784, 30, 10>(train_set());
    check_anchor_step<784, 100, 10>(train_set());
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
