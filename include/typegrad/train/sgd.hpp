// Mini-batch stochastic gradient descent as in the article: shuffle the training set each epoch
// (seeded), split it into batches of m, and for each batch W ← W − η/m · Σ ∂J/∂W (likewise b).
// Nothing is allocated inside a training step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <stdexcept>
#include <string>
#include <vector>

#include "typegrad/ad/model.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad::train {

/// Hyper-parameters of a run (the article's defaults).
struct Options {
    std::size_t epochs = 30;
    std::size_t batch = 10;
    double eta = 3.0;
    std::uint64_t seed = 0;
};

/// What one epoch did.
struct EpochStats {
    std::size_t epoch = 0;   // 1-based
    std::size_t epochs = 0;
    std::size_t correct = 0;
    std::size_t tested = 0;
    double accuracy = 0.0;   // correct / tested
    double seconds = 0.0;    // training time of the epoch (evaluation not included)
    double examples_per_second = 0.0;
};

/// Thrown when training diverges: the cost of a batch, or a parameter after an epoch, is NaN or
/// infinite. The model then holds the diverged parameters; keep a copy (or a checkpoint) of the
/// last good ones.
class Diverged : public std::runtime_error {
public:
    Diverged(std::size_t epoch, std::size_t batch, const std::string& what)
        : std::runtime_error(what), epoch_(epoch), batch_(batch) {}
    std::size_t epoch() const noexcept { return epoch_; }  // 1-based
    std::size_t batch() const noexcept { return batch_; }  // 1-based; 0: found after the epoch
private:
    std::size_t epoch_, batch_;
};

/// Whether every parameter of net is finite.
template <AnyModel M>
bool parameters_finite(const M& net) noexcept {
    bool ok = true;
    net.for_each_layer([&]<std::size_t L>(const auto& p) {
        for (auto v : p.weights) ok &= std::isfinite(v);
        for (auto v : p.biases) ok &= std::isfinite(v);
    });
    return ok;
}

/// Everything besides the parameters that decides how training continues: the epochs done and
/// the shuffling generator. Saved in checkpoints, so that a resumed run is bit-identical.
struct TrainerState {
    std::size_t epochs_done = 0;
    Rng::State rng{};
};

/// Copies image i of d to x[0, input_width) (converting its bytes b to T as the float b / 255)
/// and its one-hot label to y[0, output_width).
template <AnyModel M>
void load_example(const data::Dataset& d, std::size_t i, typename M::value_type* x, typename M::value_type* y) noexcept {
    using T = typename M::value_type;
    const std::uint8_t* p = d.pixels.data() + i * M::input_width;
    for (std::size_t k = 0; k < M::input_width; ++k) x[k] = static_cast<T>(data::unit_pixel(p[k]));
    for (std::size_t k = 0; k < M::output_width; ++k) y[k] = T(0);
    y[d.labels[i]] = T(1);
}
template <AnyModel M>
void load_example(const data::Dataset& d, std::size_t i, typename M::input_type& x, typename M::output_type& y) noexcept {
    load_example<M>(d, i, x.data(), y.data());
}

/// Asks the memory system for image i of d ahead of use: the shuffled order reads images from
/// all over a 47 MB training set, and waiting for each one from DRAM costs more than its
/// gradient (measured with perf).
template <AnyModel M>
void prefetch_example(const data::Dataset& d, std::size_t i) noexcept {
    const char* p = reinterpret_cast<const char*>(d.pixels.data() + i * M::input_width);
    for (std::size_t offset = 0; offset < M::input_width; offset += 64) __builtin_prefetch(p + offset);
}

/// Index of the largest output (the predicted class).
template <class V>
std::size_t argmax(const V& v) noexcept {
    std::size_t best = 0;
    for (std::size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = i;
    return best;
}

/// Number of examples of d whose predicted class equals the label.
template <AnyModel M>
std::size_t count_correct(const M& net, const data::Dataset& d) {
    typename M::input_type x;
    typename M::output_type y;
    std::size_t correct = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        load_example<M>(d, i, x, y);
        if (argmax(net.forward(x)) == d.labels[i]) ++correct;
    }
    return correct;
}

/// The hand-written gradient (the article's backprop) as a training engine.
template <AnyModel M>
struct ReferenceEngine {
    reference::Workspace<M> workspace;
    typename M::value_type operator()(const M& net, const typename M::input_type& x, const typename M::output_type& y,
                                      Gradients<M>& g, Accumulate acc) noexcept {
        return reference::backprop_into(net, x, y, g, workspace, acc);
    }
};

/// The per-example autodiff gradient only (the article's loop over the batch).
template <AnyModel M>
struct AutodiffExampleEngine {
    autodiff::Workspace<M> workspace;
    typename M::value_type operator()(const M& net, const typename M::input_type& x, const typename M::output_type& y,
                                      Gradients<M>& g, Accumulate acc) noexcept {
        return autodiff::backprop_into(net, x, y, g, workspace, acc);
    }
};

/// The gradient derived by reverse mode from the model's type (the default). A mini-batch of
/// exactly Batch examples goes through the batched path (the batch as one matrix, one forward
/// and one reverse sweep); any other size, example by example. Both give the same numbers.
template <AnyModel M, std::size_t Batch = 10>
struct AutodiffEngine : AutodiffExampleEngine<M> {
    static constexpr std::size_t batch_size = Batch;
    autodiff::Workspace<M, Batch> batch_workspace;

    typename M::value_type batch(const M& net, const typename M::value_type* X, const typename M::value_type* Y,
                                 Gradients<M>& g) noexcept {
        return autodiff::backprop_batch_into(net, X, Y, g, batch_workspace, Accumulate::no);
    }
};

template <class E>
concept BatchedEngine = requires { E::batch_size; };

/// W ← W − c·∂W, b ← b − c·∂b for every layer.
template <AnyModel M>
void apply_gradients(M& net, const Gradients<M>& g, typename M::value_type c) noexcept {
    net.for_each_layer([&]<std::size_t L>(auto& p) {
        simd::axpy_neg<M::template fan_in<L> * M::template fan_out<L>>(c, g.template weights<L>().data(), p.weights.data());
        simd::axpy_neg<M::template fan_out<L>>(c, g.template biases<L>().data(), p.biases.data());
    });
}

/// Mini-batch SGD on one model. Engine computes the gradients: AutodiffEngine (the default;
/// batched when the batch has its compile-time size), AutodiffExampleEngine or ReferenceEngine
/// (example by example).
template <AnyModel M, class Engine = AutodiffEngine<M>>
class Trainer {
public:
    using T = typename M::value_type;

    Trainer(M& net, Options options) : net_(net), options_(options), rng_(options.seed ^ 0x5851f42d4c957f2dULL) {
        if (options_.batch == 0) throw std::invalid_argument("batch size must be at least 1");
        if (!(options_.eta > 0.0) || !std::isfinite(options_.eta))
            throw std::invalid_argument("learning rate eta must be a positive number");
        if constexpr (BatchedEngine<Engine>) {
            batch_x_.resize(Engine::batch_size * M::input_width);
            batch_y_.resize(Engine::batch_size * M::output_width);
        }
    }

    Engine& engine() noexcept { return engine_; }

    /// The epochs done and the shuffling generator's state (see TrainerState).
    TrainerState state() const noexcept { return {epochs_done_, rng_.state()}; }
    /// Continues from a saved state: the next epoch is state.epochs_done + 1.
    void restore(const TrainerState& state) noexcept {
        epochs_done_ = state.epochs_done;
        rng_.set_state(state.rng);
    }
    std::size_t epochs_done() const noexcept { return epochs_done_; }

    /// One pass over `train` in a fresh seeded order. on_batch(done, total) is called after
    /// each batch (for progress reporting). Returns the seconds spent.
    template <class OnBatch>
    double epoch(const data::Dataset& train, OnBatch&& on_batch) {
        order_.resize(train.size());
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        rng_.shuffle(order_.begin(), order_.end());
        const auto start = std::chrono::steady_clock::now();
        const std::size_t n = train.size();
        const std::size_t batches = (n + options_.batch - 1) / options_.batch;
        const std::size_t epoch_number = epochs_done_ + 1;
        for (std::size_t b = 0; b < batches; ++b) {
            const std::size_t first = b * options_.batch;
            const std::size_t last = std::min(n, first + options_.batch);
            const T cost = step(train, first, last);
            if (!std::isfinite(cost))
                throw Diverged(epoch_number, b + 1,
                               "training diverged at epoch " + std::to_string(epoch_number) + ", batch " +
                                   std::to_string(b + 1) + " of " + std::to_string(batches) + ": the cost is " +
                                   (std::isnan(cost) ? "NaN" : "infinite"));
            on_batch(b + 1, batches);
        }
        if (!parameters_finite(net_))
            throw Diverged(epoch_number, 0,
                           "training diverged in epoch " + std::to_string(epoch_number) +
                               ": a weight or bias is NaN or infinite");
        ++epochs_done_;
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    double epoch(const data::Dataset& train) {
        return epoch(train, [](std::size_t, std::size_t) {});
    }

    /// One SGD step on the examples order[first, last) of `train` (the article's
    /// update_mini_batch); returns the batch's summed cost before the step. No allocation.
    T step(const data::Dataset& train, std::size_t first, std::size_t last) noexcept {
        // the next batch's images, while this one computes
        for (std::size_t k = last; k < std::min(order_.size(), 2 * last - first); ++k) prefetch_example<M>(train, order_[k]);
        if constexpr (BatchedEngine<Engine>) {
            if (last - first == Engine::batch_size) {
                // gather the batch into one matrix, example after example
                for (std::size_t k = first; k < last; ++k)
                    load_example<M>(train, order_[k], batch_x_.data() + (k - first) * M::input_width,
                                    batch_y_.data() + (k - first) * M::output_width);
                const T cost = engine_.batch(net_, batch_x_.data(), batch_y_.data(), grads_);
                apply_gradients(net_, grads_, static_cast<T>(options_.eta / static_cast<double>(last - first)));
                return cost;
            }
        }
        T cost = 0;
        for (std::size_t k = first; k < last; ++k) {
            load_example<M>(train, order_[k], x_, y_);
            cost += engine_(net_, x_, y_, grads_, k == first ? Accumulate::no : Accumulate::yes);
        }
        apply_gradients(net_, grads_, static_cast<T>(options_.eta / static_cast<double>(last - first)));
        return cost;
    }

    /// Trains until options.epochs epochs are done (continuing after restore()), evaluating on
    /// `test` after each; on_epoch(EpochStats) and on_batch(done, total) are the reporting
    /// hooks. Throws Diverged if the cost or the parameters stop being finite.
    template <class OnEpoch, class OnBatch>
    std::vector<EpochStats> run(const data::Dataset& train, const data::Dataset& test, OnEpoch&& on_epoch,
                                OnBatch&& on_batch) {
        std::vector<EpochStats> history;
        for (std::size_t e = epochs_done_ + 1; e <= options_.epochs; ++e) {
            EpochStats s;
            s.epoch = e;
            s.epochs = options_.epochs;
            s.seconds = epoch(train, on_batch);
            s.examples_per_second = s.seconds > 0 ? static_cast<double>(train.size()) / s.seconds : 0.0;
            s.tested = test.size();
            s.correct = count_correct(net_, test);
            s.accuracy = s.tested ? static_cast<double>(s.correct) / static_cast<double>(s.tested) : 0.0;
            on_epoch(s);
            history.push_back(s);
        }
        return history;
    }

private:
    M& net_;
    Options options_;
    Rng rng_;
    Engine engine_{};
    Gradients<M> grads_;
    typename M::input_type x_;
    typename M::output_type y_;
    std::vector<std::size_t> order_;
    std::vector<T> batch_x_, batch_y_;  // the gathered batch (batched engines only), sized once
    std::size_t epochs_done_ = 0;
};

}  // namespace typegrad::train
