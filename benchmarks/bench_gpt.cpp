// bench_gpt: training steps of a small GPT, typegrad against PyTorch (issue 21, item 6 "Speed";
// docs/benchmarks.md, scripts/compare_gpt.sh, scripts/gpt_pytorch.py is the PyTorch side).
//
// The model and its data: gpt_model.hpp (T = 32 tokens, V = 65, D = 64, 2 transformer blocks,
// next-token log-likelihood summed over positions); float, one thread, mini-batches of B = 16.
//
// The path a user's training takes: train::Trainer::epoch over a data::Dataset of N = 1024
// windows (the T token ids of a window as float inputs, its T next tokens as one-hot (T, V)
// targets), i.e. 64 steps an epoch, each: gather the batch (load_example), its summed gradient
// (train::AutodiffEngine<Gpt, 16>: the whole batch as one (16, T) program), one optimizer step.
//   BM_gpt_sgd      train::Sgd, η = 0.01: p ← p − (η/B) Σ ∂J/∂p
//   BM_gpt_adam     train::Adam, η = 0.001 (β = 0.9, 0.999, ε = 1e-8)
// Counters: tokens_per_s (N·T tokens an epoch, over CPU time), and loss: the mean cost per token
// over one more epoch after the timed ones, in order, as it trains — a check that training
// trains (ln 65 = 4.17 untrained; about ln 3 = 1.10 once the text's steps are learnt, see
// gpt_model.hpp); epochs: the timed epochs of that run.
#include <cstddef>
#include <cstdio>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "gpt_model.hpp"
#include "typegrad/train/sgd.hpp"

namespace {

namespace tg = typegrad;
using namespace typegrad;
using namespace typegrad::bench::gpt;

template <class Engine, class Opt>
void train_epochs(benchmark::State& state, double eta, Opt opt = Opt{}) {
    const data::Dataset& d = windows();
    auto net = std::make_unique<Gpt>(1);
    train::Trainer<Gpt, Engine, Opt> trainer(*net, {.epochs = 1, .batch = B, .eta = eta, .seed = 1}, opt);
    for (auto _ : state) {
        trainer.epoch(d);
        benchmark::DoNotOptimize(net.get());
    }
    // the cost per token of one more epoch in order, as it trains (after the timed loop)
    double sum = 0;
    std::vector<std::size_t> order(B);
    for (std::size_t k = 0; k < N; k += B) {
        for (std::size_t b = 0; b < B; ++b) order[b] = k + b;
        sum += static_cast<double>(trainer.step(d, order));
    }
    const double loss = sum / static_cast<double>(N * T);
    state.counters["tokens_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * N * T), benchmark::Counter::kIsRate);
    state.counters["loss"] = loss;
    state.counters["epochs"] = static_cast<double>(trainer.epochs_done());
}

void BM_gpt_sgd(benchmark::State& state) { train_epochs<train::AutodiffEngine<Gpt, B>, train::Sgd>(state, 0.01); }
void BM_gpt_adam(benchmark::State& state) { train_epochs<train::AutodiffEngine<Gpt, B>, train::Adam>(state, 0.001); }

}  // namespace

BENCHMARK(BM_gpt_sgd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_gpt_adam)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    std::printf("bench_gpt: SIMD architecture %s, %zu floats per batch; GPT T=%zu V=%zu D=%zu, 2 blocks, %zu parameters; "
                "batch %zu, %zu windows an epoch (%zu tokens)\n",
                tg::simd::arch_name(), tg::simd::width_v<float>, T, V, D, Gpt::parameter_count, B, N, N * T);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
