// Gradients and training, autodiff against the hand-written reference, on the article's shapes.
// Names: BM_<workload>_<impl>, impl ∈ {ref, ad, adExample}:
//   ref        the hand-written backprop, example by example (the article's loop)
//   ad         the autodiff engine (for a batch: the batched path, the batch as one matrix)
//   adExample  the autodiff engine example by example
// Inputs are real MNIST images when TYPEGRAD_MNIST_DIR is set (their zeros matter: the kernels
// skip them), else the built-in synthetic digits.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_data.hpp"
#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/train/sgd.hpp"

namespace {

using namespace typegrad;

using bench::data_name;
const data::Split& dataset() { return bench::dataset<60000, 10000>(); }

template <class M>
struct Batch {
    static constexpr std::size_t size = 10;
    std::vector<typename M::input_type> x = std::vector<typename M::input_type>(size);
    std::vector<typename M::output_type> y = std::vector<typename M::output_type>(size);
    std::vector<typename M::value_type> X = std::vector<typename M::value_type>(size * M::input_width);
    std::vector<typename M::value_type> Y = std::vector<typename M::value_type>(size * M::output_width);
    Batch() {
        for (std::size_t b = 0; b < size; ++b) {
            train::load_example<M>(dataset().train, b, x[b], y[b]);
            std::copy(x[b].begin(), x[b].end(), X.begin() + static_cast<std::ptrdiff_t>(b * M::input_width));
            std::copy(y[b].begin(), y[b].end(), Y.begin() + static_cast<std::ptrdiff_t>(b * M::output_width));
        }
    }
};

template <class M>
void example_ref(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    Gradients<M> g;
    reference::Workspace<M> ws;
    for (auto _ : state) {
        reference::backprop_into(*net, batch.x[0], batch.y[0], g, ws);
        benchmark::DoNotOptimize(g.template weights<0>().data());
        benchmark::ClobberMemory();
    }
}
template <class M>
void example_ad(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    Gradients<M> g;
    auto ws = std::make_unique<autodiff::Workspace<M>>();
    for (auto _ : state) {
        autodiff::backprop_into(*net, batch.x[0], batch.y[0], g, *ws);
        benchmark::DoNotOptimize(g.template weights<0>().data());
        benchmark::ClobberMemory();
    }
}
template <class M>
void batch_ref(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    Gradients<M> g;
    reference::Workspace<M> ws;
    for (auto _ : state) {
        for (std::size_t b = 0; b < batch.size; ++b)
            reference::backprop_into(*net, batch.x[b], batch.y[b], g, ws, b ? Accumulate::yes : Accumulate::no);
        benchmark::DoNotOptimize(g.template weights<0>().data());
        benchmark::ClobberMemory();
    }
}
template <class M>
void batch_ad_example(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    Gradients<M> g;
    auto ws = std::make_unique<autodiff::Workspace<M>>();
    for (auto _ : state) {
        for (std::size_t b = 0; b < batch.size; ++b)
            autodiff::backprop_into(*net, batch.x[b], batch.y[b], g, *ws, b ? Accumulate::yes : Accumulate::no);
        benchmark::DoNotOptimize(g.template weights<0>().data());
        benchmark::ClobberMemory();
    }
}
template <class M>
void batch_ad(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    Gradients<M> g;
    auto ws = std::make_unique<autodiff::Workspace<M, Batch<M>::size>>();
    for (auto _ : state) {
        autodiff::backprop_batch_into(*net, batch.X.data(), batch.Y.data(), g, *ws);
        benchmark::DoNotOptimize(g.template weights<0>().data());
        benchmark::ClobberMemory();
    }
}

// One epoch at mini-batch state.range(0) (10 unless given): any batch size goes through the
// engine's chunks of 10 and, for the rest, one example at a time.
template <class M, class Engine>
void epoch(benchmark::State& state) {
    const auto& train_set = dataset().train;
    auto net = std::make_unique<M>(1);
    const auto batch = static_cast<std::size_t>(state.range(0));
    train::Trainer<M, Engine> trainer(*net, {.epochs = 1, .batch = batch, .eta = 3.0, .seed = 1});
    for (auto _ : state) trainer.epoch(train_set);
    state.counters["examples/s"] =
        benchmark::Counter(double(train_set.size()), benchmark::Counter::kIsIterationInvariantRate);
}

template <std::size_t... N>
void register_shape(const std::string& shape) {
    using M = Network<float, N...>;
    using benchmark::RegisterBenchmark;
    RegisterBenchmark(("BM_gradExample_" + shape + "_ref").c_str(), example_ref<M>);
    RegisterBenchmark(("BM_gradExample_" + shape + "_ad").c_str(), example_ad<M>);
    RegisterBenchmark(("BM_gradBatch10_" + shape + "_ref").c_str(), batch_ref<M>);
    RegisterBenchmark(("BM_gradBatch10_" + shape + "_adExample").c_str(), batch_ad_example<M>);
    RegisterBenchmark(("BM_gradBatch10_" + shape + "_ad").c_str(), batch_ad<M>);
    RegisterBenchmark(("BM_epoch_" + shape + "_ref").c_str(), epoch<M, train::ReferenceEngine<M>>)
        ->Arg(10)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    RegisterBenchmark(("BM_epoch_" + shape + "_ad").c_str(), epoch<M, train::AutodiffEngine<M>>)
        ->Arg(10)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    RegisterBenchmark(("BM_epochBatch_" + shape + "_ad").c_str(), epoch<M, train::AutodiffEngine<M>>)
        ->Arg(32)
        ->Arg(100)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
}

// A softmax classifier (ReLU hidden layer, log-likelihood): it trains through the batched path too.
void register_softmax() {
    using M = Model<float, decltype(input<784> | dense<100> | relu | dense<10> | softmax), cost::LogLikelihood>;
    benchmark::RegisterBenchmark("BM_epoch_784x100x10softmax_ad", epoch<M, train::AutodiffEngine<M>>)
        ->Arg(10)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    benchmark::RegisterBenchmark("BM_epoch_784x100x10softmax_ref", epoch<M, train::ReferenceEngine<M>>)
        ->Arg(10)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
}

}  // namespace

int main(int argc, char** argv) {
    dataset();
    std::cout << "typegrad gradients: SIMD architecture " << simd::arch_name() << ", " << simd::width_v<float>
              << " floats per batch; mini-batch 10; float; data: " << data_name << "\n";
    register_shape<784, 30, 10>("784x30x10");
    register_shape<784, 100, 10>("784x100x10");
    register_softmax();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
