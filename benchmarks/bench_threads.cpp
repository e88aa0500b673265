// Synchronous data-parallel training (issue 12): one epoch, and one batch's gradient, with 1, 2, …
// threads. Names: BM_<workload>_<impl>, impl ∈ {ad} (the autodiff engine); the arguments are
// (batch, threads, rows[, fuse]): rows:1 runs the steps with train::Parallelism::rows (the first
// layer's rows split between the threads; ParallelEngine::gradient alone always shares the
// examples, so BM_gradThreads' rows:1 is its rows:0); the epochs' fuse:0 turns off SGD's step
// fused into the first layer's gradient (train::Options::fuse). Wall time (UseRealTime): the threads' CPU time is not the calling thread's,
// and the speed-up is what a user waits for. Inputs are real MNIST images when
// TYPEGRAD_MNIST_DIR is set, else the built-in synthetic digits.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_data.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/sgd.hpp"
#include "typegrad/util/thread_pool.hpp"

namespace {

using namespace typegrad;

using bench::data_name;
const data::Split& dataset() { return bench::dataset<60000, 10000>(); }

// One epoch (shuffle, every step, the updates) at batch state.range(0) with state.range(1) threads,
// over the first Examples training examples (0: all).
template <class M, std::size_t Examples = 0>
void epoch(benchmark::State& state) {
    const data::Dataset train_set = Examples ? dataset().train.head(Examples) : dataset().train;
    auto net = std::make_unique<M>(1);
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto threads = static_cast<std::size_t>(state.range(1));
    const auto parallelism = state.range(2) != 0 ? train::Parallelism::rows : train::Parallelism::examples;
    const bool fuse = state.range(3) != 0;
    train::Trainer<M> trainer(*net, {.epochs = 1, .batch = batch, .eta = 3.0, .seed = 1, .threads = threads,
                                     .fuse = fuse, .parallelism = parallelism});
    for (auto _ : state) trainer.epoch(train_set);
    state.counters["examples/s"] =
        benchmark::Counter(double(train_set.size()), benchmark::Counter::kIsIterationInvariantRate);
}

// One batch (the first state.range(0) training examples) on state.range(1) threads, measured
// either as its gradient only or as a whole training step (gradient and SGD update, as the trainer
// runs it: ParallelEngine::step, the update sliced over the threads), without the shuffle or the
// loading of new examples.
template <class M, bool WithUpdate>
void batch(benchmark::State& state) {
    const auto& train_set = dataset().train;
    const auto net = std::make_unique<M>(1);
    std::vector<std::size_t> examples(static_cast<std::size_t>(state.range(0)));
    std::iota(examples.begin(), examples.end(), std::size_t{0});
    ThreadPool pool(static_cast<std::size_t>(state.range(1)));
    train::ParallelEngine<M, train::AutodiffEngine<M>> engine(pool);
    engine.parallelism(state.range(2) != 0 ? train::Parallelism::rows : train::Parallelism::examples);
    train::Sgd sgd;
    const train::Step s{1e-6, examples.size(), train_set.size(), 0.0};  // a tiny η: the weights stay usable
    Gradients<M> g;
    for (auto _ : state) {
        if constexpr (WithUpdate) benchmark::DoNotOptimize(engine.step(*net, train_set, examples, g, sgd, s));
        else benchmark::DoNotOptimize(engine.gradient(*net, train_set, examples, g));
        benchmark::ClobberMemory();
    }
}

// Counting the correct predictions of the test set.
template <class M>
void evaluate(benchmark::State& state) {
    const auto& test_set = dataset().test;
    const auto net = std::make_unique<M>(1);
    ThreadPool pool(static_cast<std::size_t>(state.range(0)));
    train::ParallelEvaluator<M> evaluator(pool);
    for (auto _ : state) benchmark::DoNotOptimize(evaluator.count_correct(*net, test_set));
}

template <std::size_t... N>
void register_shape(const std::string& shape) {
    using M = Network<float, N...>;
    using benchmark::RegisterBenchmark;
    // batch 10 and 100, on 1 and 2 threads; with 2, the examples shared (rows:0) or the first
    // layer's rows (rows:1, train::Parallelism::rows)
    const auto batches_and_threads = [](benchmark::internal::Benchmark* b) {
        b->ArgNames({"batch", "threads", "rows"});
        for (const long batch : {10, 100}) b->Args({batch, 1, 0})->Args({batch, 2, 0})->Args({batch, 2, 1});
        b->UseRealTime();
    };
    // the epochs also with SGD's step on the first layer not fused into its gradient (fuse:0)
    RegisterBenchmark(("BM_epochThreads_" + shape + "_ad").c_str(), epoch<M>)
        ->Apply([](benchmark::internal::Benchmark* b) {
            b->ArgNames({"batch", "threads", "rows", "fuse"});
            for (const long batch : {10, 100})
                b->Args({batch, 1, 0, 1})->Args({batch, 1, 0, 0})->Args({batch, 2, 0, 1})->Args({batch, 2, 1, 1})->Args({batch, 2, 1, 0});
            b->UseRealTime();
        })
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    RegisterBenchmark(("BM_gradThreads_" + shape + "_ad").c_str(), batch<M, false>)
        ->Apply(batches_and_threads)
        ->Unit(benchmark::kMicrosecond);
    RegisterBenchmark(("BM_stepThreads_" + shape + "_ad").c_str(), batch<M, true>)
        ->Apply(batches_and_threads)
        ->Unit(benchmark::kMicrosecond);
    RegisterBenchmark(("BM_evalThreads_" + shape + "_ad").c_str(), evaluate<M>)
        ->ArgNames({"threads"})
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

// LeNet-5 (as `typegrad train --net lenet`): ~50 µs of arithmetic per example for 62 k
// parameters, where 784-100-10 has ~3 µs for 80 k.
void register_lenet() {
    constexpr auto lenet = input<1, 28, 28> | conv2d<6, 5, 1, 2> | relu | max_pool<2> | conv2d<16, 5> | relu |
                           max_pool<2> | flatten | dense<120> | relu | dense<84> | relu | dense<10> | softmax;
    using M = Model<float, decltype(lenet), cost::LogLikelihood>;
    benchmark::RegisterBenchmark("BM_epochThreads_lenet10k_ad", epoch<M, 10000>)
        ->ArgNames({"batch", "threads", "rows", "fuse"})
        ->Args({10, 1, 0, 1})
        ->Args({10, 2, 0, 1})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(1.0);
}

}  // namespace

int main(int argc, char** argv) {
    dataset();
    std::cout << "typegrad threads: SIMD architecture " << simd::arch_name() << ", " << simd::width_v<float>
              << " floats per batch; float; " << std::thread::hardware_concurrency() << " hardware threads; data: "
              << data_name << "\n";
    register_shape<784, 100, 10>("784x100x10");
    register_shape<784, 30, 10>("784x30x10");
    register_lenet();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
