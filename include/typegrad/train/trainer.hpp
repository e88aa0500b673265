// Mini-batch training as in the article: shuffle the training set each epoch (seeded), split it
// into batches of m, and for each batch one optimizer step from the batch's summed gradient
// (SGD: W ← W − η/m · Σ ∂J/∂W). The gradient engine and the optimizer are parameters;
// nothing is allocated inside a training step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/expr/noise.hpp"
#include "typegrad/train/engine.hpp"
#include "typegrad/train/evaluate.hpp"
#include "typegrad/train/example.hpp"
#include "typegrad/train/monitor.hpp"
#include "typegrad/train/optimizer.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/state.hpp"
#include "typegrad/util/random.hpp"
#include "typegrad/util/thread_pool.hpp"

namespace typegrad::train {

/// Hyper-parameters of a run (the article's defaults).
struct Options {
    std::size_t epochs = 30;
    std::size_t batch = 10;
    double eta = 3.0;
    std::uint64_t seed = 0;
    /// Step decay: η is multiplied by decay_factor every decay_every epochs (0: a constant η).
    std::size_t decay_every = 0;
    double decay_factor = 1.0;
    /// L2 regularisation: J + (λ/2n) Σ w² over the weights W of every layer (not the biases), n
    /// the training set's size (Nielsen's network2.py).
    double lambda = 0.0;
    /// Nielsen's schedule (halve η on a plateau of the validation accuracy, stop after N
    /// halvings) and early stopping (patience): monitor.hpp. Needs a validation set.
    PlateauRule plateau{};
    /// The training accuracy of every epoch (EpochStats::training_accuracy).
    enum class TrainingAccuracy {
        off,
        running,   // counted from the forward passes of the training steps (Keras' `accuracy` in fit): the
                   // weights change during the epoch and dropout is on; costs an argmax per example
        evaluated  // network2.py's: the trained network evaluated on the whole training set after the epoch
    };
    TrainingAccuracy training_accuracy = TrainingAccuracy::off;
    /// Threads of synchronous parallel training and evaluation (parallel.hpp), in [1, 256]: each
    /// computes the gradient of its share of the batch, the shares are added in a fixed order, one
    /// update — or, for a network whose first dense layer holds nearly all the parameters and a
    /// small batch, each owns the rows of that layer's weight (Parallelism::rows). The result depends on the number
    /// only: 1 is the serial trainer's bit for bit; other numbers differ from it in the last bits
    /// of the sums (and in dropout masks, with Parallelism::examples).
    std::size_t threads = 1;
    /// Whether SGD's step on a first dense layer's weight (without L2) is fused into that
    /// weight's gradient when a batch is one chunk of the autodiff engine (the article's batch of
    /// 10): each touched row of the gradient is summed in registers and applied, never stored,
    /// and the other rows are not visited. The same parameters bit for bit (simd::
    /// gemm_xtd_apply_rows); only the trainer's own gradient buffer no longer holds that weight's
    /// gradient. Off: the gradient, then the optimizer's step, as for every other optimizer.
    bool fuse = true;
    /// How the threads share a step (parallel.hpp): unset, the engine's default for the network
    /// and the batch (ParallelEngine::parallelism(batch)); Parallelism::rows where the network
    /// cannot split rows is Parallelism::examples.
    std::optional<Parallelism> parallelism{};

    /// The learning rate of epoch e (1-based), before any halving by the plateau rule.
    [[nodiscard]] double eta_at(std::size_t e) const noexcept {
        if (decay_every == 0 || e == 0) return eta;
        return eta * std::pow(decay_factor, static_cast<double>((e - 1) / decay_every));
    }
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
    double eta = 0.0;        // the learning rate of the epoch
    double training_cost = 0.0;  // the cost per training example, averaged over the epoch's batches as they were trained
    std::size_t validation_correct = 0;
    std::size_t validated = 0;   // 0: no validation set
    double validation_accuracy = 0.0;
    std::size_t training_correct = 0;
    std::size_t training_counted = 0;  // 0: training accuracy not monitored (Options::training_accuracy)
    double training_accuracy = 0.0;    // training_correct / training_counted
    /// With a validation set: the monitor's state after this epoch and what it decided.
    MonitorState monitor{};
    Decision decision{};
    /// Whether the targets are real values (regression: the metrics are MSE and MAE, the
    /// accuracies stay 0) or classes.
    bool regression = false;
    double test_cost = 0.0;        // the cost per test example
    double validation_cost = 0.0;  // the cost per validation example (0 without validation set)
    double test_mse = 0.0, test_mae = 0.0;              // regression: over every output of every example
    double validation_mse = 0.0, validation_mae = 0.0;  // regression, with a validation set
    /// What model selection compares (higher is better): the validation accuracy, or for a
    /// regression the negated validation MSE; for a text, the negated validation cost per token.
    std::size_t positions = 1;  // predictions per example: a text's window, else 1 (accuracies count positions)
    [[nodiscard]] double validation_score() const noexcept {
        return regression ? -validation_mse : positions > 1 ? -validation_cost : validation_accuracy;
    }
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
    net.for_each_parameter([&](auto, const auto& t) {
        for (auto v : t) ok &= std::isfinite(v);
    });
    return ok;
}

namespace detail {
struct NoEpochHook {
    void operator()(const EpochStats&) const noexcept {}
};
struct NoBatchHook {
    void operator()(std::size_t, std::size_t) const noexcept {}
};
}  // namespace detail

/// Mini-batch training of one model. Engine computes the gradients (AutodiffEngine, the default,
/// or ReferenceEngine); Optimizer turns them into updates (Sgd, the article's, by default).
template <AnyModel M, class Engine = AutodiffEngine<M>, class Opt = Sgd>
    requires GradientEngine<Engine, M> && Optimizer<Opt, M>
class Trainer {
public:
    using T = typename M::value_type;

    Trainer(M& net, Options options, Opt optimizer = Opt{})
        : net_(net), options_(options), optimizer_(std::move(optimizer)), rng_(options.seed ^ 0x5851f42d4c957f2dULL) {
        if (options_.batch == 0) throw std::invalid_argument("batch size must be at least 1");
        if (!(options_.eta > 0.0) || !std::isfinite(options_.eta))
            throw std::invalid_argument("learning rate eta must be a positive number");
        if (!(options_.lambda >= 0.0) || !std::isfinite(options_.lambda))
            throw std::invalid_argument("the L2 regularisation lambda must be a number >= 0");
        if (!(options_.decay_factor > 0.0) || !std::isfinite(options_.decay_factor))
            throw std::invalid_argument("the decay factor of the learning rate must be a positive number");
        if (options_.plateau.halve_after > 0 && options_.plateau.max_halvings == 0)
            throw std::invalid_argument("the plateau rule's number of halvings must be at least 1");
        if (options_.threads == 0 || options_.threads > ThreadPool::max_threads)
            throw std::invalid_argument("the number of threads must be in [1, " + std::to_string(ThreadPool::max_threads) +
                                        "]");
        if (options_.threads > 1) {
            pool_ = std::make_unique<ThreadPool>(options_.threads);
            parallel_ = std::make_unique<ParallelEngine<M, Engine>>(*pool_);
            if (options_.parallelism) parallel_->parallelism(*options_.parallelism);
            if constexpr (requires { parallel_->fuse(false); }) parallel_->fuse(options_.fuse);
            parallel_evaluator_ = std::make_unique<ParallelEvaluator<M>>(*pool_);
        }
        if constexpr (couples_examples_v<M>) check_whole_batch();
        if constexpr (!counts_correct)
            if (options_.training_accuracy == Options::TrainingAccuracy::running)
                throw std::invalid_argument(
                    "this gradient engine cannot count correct predictions (gradient(..., std::size_t* correct)): "
                    "use TrainingAccuracy::evaluated");
    }

    Engine& engine() noexcept { return *engine_; }
    Opt& optimizer() noexcept { return optimizer_; }
    const Options& options() const noexcept { return options_; }

    /// The epochs done, the shuffling generator, the optimizer's state and the validation
    /// monitor's (see TrainerState).
    TrainerState state() const {
        return {epochs_done_, rng_.state(), optimizer_name(optimizer_), optimizer_.state(), monitor_.state(), eta()};
    }
    /// Continues from a saved state: the next epoch is state.epochs_done + 1. Throws
    /// std::invalid_argument (and changes nothing) if the state is another optimizer's.
    void restore(const TrainerState& state) {
        if (state.optimizer != optimizer_name(optimizer_))
            throw std::invalid_argument("the state is of optimizer '" + state.optimizer + "', this trainer uses '" +
                                        optimizer_name(optimizer_) + "'");
        Opt restored = optimizer_;
        restored.restore(state.optimizer_state);
        optimizer_ = std::move(restored);
        epochs_done_ = state.epochs_done;
        rng_.set_state(state.rng);
        monitor_ = Monitor(options_.plateau, state.monitor);
    }
    std::size_t epochs_done() const noexcept { return epochs_done_; }

    /// The learning rate of the next epoch: options.eta_at(epoch), halved by the plateau rule.
    double eta() const noexcept {
        const double e = options_.eta_at(epochs_done_ + 1);
        return options_.plateau.halve_after > 0 ? e * monitor_.state().eta_scale() : e;
    }
    /// The validation monitor (its state after the epochs done).
    const Monitor& monitor() const noexcept { return monitor_; }
    /// Why run() stops: a rule of options.plateau was met (also when a restored state had met it
    /// already: then run() trains nothing), or none.
    StopReason stopped() const noexcept { return options_.plateau.active() ? monitor_.stopped() : StopReason::none; }

    /// One pass over `train` in a fresh seeded order, in batches of options.batch (the last one
    /// smaller when the size is not a multiple). on_batch(done, total) is called after each
    /// batch. Returns the seconds spent. Throws Diverged.
    ///
    /// A text (data::Dataset::is_text) is cut into windows afresh each epoch, from an offset drawn
    /// in [0, window) by the same generator, so that no window boundary sits at the same place
    /// every epoch; an epoch is one pass over the text.
    template <class OnBatch = detail::NoBatchHook>
    double epoch(const data::Dataset& given, OnBatch&& on_batch = {}) {
        if (given.is_text()) windows_ = given.windows(static_cast<std::size_t>(rng_.below(given.window)));
        const data::Dataset& train = given.is_text() ? windows_ : given;
        order_.resize(train.size());
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        rng_.shuffle(order_.begin(), order_.end());
        const auto start = std::chrono::steady_clock::now();
        const std::size_t n = train.size();
        last_epoch_examples_ = n;
        // a model that couples the examples of a batch (batch norm) trains on whole batches only:
        // the last n mod batch examples of the shuffled order sit this epoch out (drop_last)
        if constexpr (couples_examples_v<M>)
            if (n < options_.batch)
                throw std::invalid_argument("batch norm trains on whole mini-batches of " + std::to_string(options_.batch) +
                                            " examples, but the training set has " + std::to_string(n));
        const std::size_t batches = couples_examples_v<M> ? n / options_.batch : (n + options_.batch - 1) / options_.batch;
        const std::size_t epoch_number = epochs_done_ + 1;
        double cost_sum = 0;
        last_training_correct_ = 0;
        std::size_t* correct = nullptr;
        if constexpr (counts_correct)
            if (options_.training_accuracy == Options::TrainingAccuracy::running) correct = &last_training_correct_;
        for (std::size_t b = 0; b < batches; ++b) {
            const std::size_t first = b * options_.batch;
            const std::size_t last = std::min(n, first + options_.batch);
            const std::span<const std::size_t> next(order_.data() + last,
                                                    b + 1 < batches ? std::min(n, last + options_.batch) - last : 0);
            const T cost =
                step_unchecked(train, std::span<const std::size_t>(order_.data() + first, last - first), correct, next);
            if (!std::isfinite(cost))
                throw Diverged(epoch_number, b + 1,
                               "training diverged at epoch " + std::to_string(epoch_number) + ", batch " +
                                   std::to_string(b + 1) + " of " + std::to_string(batches) + ": the cost is " +
                                   (std::isnan(cost) ? "NaN" : "infinite"));
            cost_sum += static_cast<double>(cost);
            on_batch(b + 1, batches);
        }
        last_training_cost_ = n ? cost_sum / static_cast<double>(n * train.positions()) : 0.0;
        if (!parameters_finite(net_))
            throw Diverged(epoch_number, 0,
                           "training diverged in epoch " + std::to_string(epoch_number) +
                               ": a weight or bias is NaN or infinite");
        ++epochs_done_;
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    /// One optimizer step on the examples of `d` the caller chooses (the article's
    /// update_mini_batch): their summed gradient, then the update with m = examples.size().
    /// Returns the examples' summed cost before the step. Throws std::invalid_argument for an
    /// empty list and std::out_of_range for an index past the dataset; nothing changes then.
    T step(const data::Dataset& d, std::span<const std::size_t> examples) {
        if (examples.empty()) throw std::invalid_argument("step: no examples given");
        if constexpr (couples_examples_v<M>)
            if (examples.size() != options_.batch)
                throw std::invalid_argument("step: batch norm normalises over the whole mini-batch, which is " +
                                            std::to_string(options_.batch) + " examples for this trainer; " +
                                            std::to_string(examples.size()) + " were given");
        for (std::size_t i : examples)
            if (i >= d.size())
                throw std::out_of_range("step: example " + std::to_string(i) + " is past the dataset's " +
                                        std::to_string(d.size()) + " examples");
        return step_unchecked(d, examples);
    }

    /// Trains until options.epochs epochs are done (continuing after restore()), evaluating on
    /// `test` after each; on_epoch(EpochStats) and on_batch(done, total) are optional reporting
    /// hooks. Throws Diverged if the cost or the parameters stop being finite.
    template <class OnEpoch = detail::NoEpochHook, class OnBatch = detail::NoBatchHook>
    std::vector<EpochStats> run(const data::Dataset& train, const data::Dataset& test, OnEpoch&& on_epoch = {},
                                OnBatch&& on_batch = {}) {
        return run(train, data::Dataset{}, test, std::forward<OnEpoch>(on_epoch), std::forward<OnBatch>(on_batch));
    }

    /// The same, also evaluating on a validation set after each epoch (network2's
    /// monitor_evaluation_accuracy); an empty one is skipped. The validation accuracy feeds the
    /// monitor (monitor.hpp): with options.plateau, η is halved on plateaus and training stops
    /// early, after the epoch whose EpochStats::decision.stop says why (on_epoch sees it first).
    /// Throws std::invalid_argument if options.plateau has a rule and `validation` is empty.
    template <class OnEpoch = detail::NoEpochHook, class OnBatch = detail::NoBatchHook>
    std::vector<EpochStats> run(const data::Dataset& train, const data::Dataset& validation, const data::Dataset& test,
                                OnEpoch&& on_epoch = {}, OnBatch&& on_batch = {}) {
        if (options_.plateau.active() && validation.size() == 0)
            throw std::invalid_argument("the plateau schedule and early stopping need a validation set");
        std::vector<EpochStats> history;
        for (std::size_t e = epochs_done_ + 1; e <= options_.epochs && stopped() == StopReason::none; ++e) {
            EpochStats s;
            s.epoch = e;
            s.epochs = options_.epochs;
            s.eta = eta();
            s.seconds = epoch(train, on_batch);
            s.training_cost = last_training_cost_;
            if (options_.training_accuracy != Options::TrainingAccuracy::off) {
                s.training_counted = (options_.training_accuracy == Options::TrainingAccuracy::running ? last_epoch_examples_
                                                                                                     : train.size()) *
                                     train.positions();
                s.training_correct = options_.training_accuracy == Options::TrainingAccuracy::running
                                         ? last_training_correct_
                                         : count_correct(train);
                s.training_accuracy = s.training_counted ? static_cast<double>(s.training_correct) /
                                                               static_cast<double>(s.training_counted)
                                                         : 0.0;
            }
            s.regression = test.task == data::Task::regression;
            s.positions = test.positions();
            if (validation.size() > 0) {
                const Scores v = evaluate(validation);
                s.validated = validation.size();
                s.validation_correct = v.correct;
                s.validation_accuracy = v.accuracy();
                s.validation_cost = v.mean_loss();
                s.validation_mse = v.mse();
                s.validation_mae = v.mae();
                s.decision = monitor_.observe(e, s.validation_score());
                s.monitor = monitor_.state();
            }
            s.examples_per_second = s.seconds > 0 ? static_cast<double>(train.size()) / s.seconds : 0.0;
            const Scores t = evaluate(test);
            s.tested = test.size() * test.positions();
            s.correct = t.correct;
            s.accuracy = t.accuracy();
            s.test_cost = t.mean_loss();
            s.test_mse = t.mse();
            s.test_mae = t.mae();
            on_epoch(s);
            history.push_back(s);
        }
        return history;
    }

private:
    // Whether the engine counts correct predictions as it computes the gradient (engine.hpp).
    static constexpr bool counts_correct = requires(Engine e, const M& net, const data::Dataset& d,
                                                    std::span<const std::size_t> examples, Gradients<M>& g,
                                                    std::size_t* c) { e.gradient(net, d, examples, g, c); };

    // One step on `examples`; `next`: the examples of the following step, whose images are
    // prefetched while this one computes.
    T step_unchecked(const data::Dataset& d, std::span<const std::size_t> examples, std::size_t* correct = nullptr,
                     std::span<const std::size_t> next = {}) noexcept {
        const expr::NoiseScope noise(rng_);  // dropout masks come from the trainer's generator
        std::size_t m = examples.size();
        // with threads, an optimizer that can be sliced is applied by the threads, each to its
        // slice, in the same hand-off as the gradient, and each thread prefetches its share of
        // `next` into its own core's cache (parallel.hpp); the result is the same bit for bit
        if constexpr (SlicedOptimizer<Opt, M>)
            if (parallel_)
                // grads_ is written by this engine alone (`again`: it may clear only what it wrote)
                return m > 0 ? parallel_->step(net_, d, examples, grads_, optimizer_, Step{eta(), m, d.size(), options_.lambda},
                                               correct, next, true)
                             : T(0);
        for (const std::size_t k : next) prefetch_example<M>(d, k);
        T cost;
        InputRows rows;  // the rows of the first dense layer's weight this step touched, when the engine says
        bool applied = false;  // SGD's step on that weight already applied (fuse_into)
        if (parallel_) {
            if constexpr (counts_correct) cost = parallel_->gradient(net_, d, examples, grads_, correct);
            else cost = parallel_->gradient(net_, d, examples, grads_);
        } else {
            // SGD's step on the first layer's weight fused into its gradient (Options::fuse)
            expr::InputSplit<T> fused;
            std::optional<expr::InputSplitScope<T>> fusing;
            if constexpr (can_fuse) fuse_into(fused, fusing, d, examples);
            // grads_ is written by this engine alone: it may clear only what its last gradient wrote
            if constexpr (requires { engine_->gradient_again(net_, d, examples, grads_, correct); })
                cost = engine_->gradient_again(net_, d, examples, grads_, correct);
            else if constexpr (counts_correct) cost = engine_->gradient(net_, d, examples, grads_, correct);
            else cost = engine_->gradient(net_, d, examples, grads_);
            applied = fusing.has_value();
            // m: the examples the gradient sums — all of them, but for a data-parallel engine's
            // local steps, which sum this process's share (dist/data_parallel.hpp); none, no step.
            if constexpr (requires { engine_->examples_in_gradient(); }) m = engine_->examples_in_gradient();
            // batch norm's running statistics, from this forward pass
            if constexpr (couples_examples_v<M>) engine_->update_state(net_);
            if constexpr (requires { engine_->input_rows(); }) rows = engine_->input_rows();
        }
        if (m > 0) optimizer_.step(net_, grads_, Step{eta(), m, d.size(), options_.lambda, rows, applied});
        return cost;
    }

    // Fusing SGD's step into the first layer's weight gradient: a model that starts with a dense
    // layer on a vector input, an engine that runs the autodiff program (or wraps one), no batch
    // norm.
    static constexpr bool can_fuse = [] {
        if constexpr (has_input_row_weight_v<M> && !couples_examples_v<M>) return !std::is_void_v<split_engine_t<Engine>>;
        else return false;
    }();
    // With Options::fuse, a batch that is one chunk of the engine and an optimizer whose step on
    // that weight is w − r·g (first_layer_rate): a one-part split in scope that applies it
    // (expr/split.hpp). The engine reads the scope; nothing else changes.
    void fuse_into(expr::InputSplit<T>& f, std::optional<expr::InputSplitScope<T>>& scope, const data::Dataset& d,
                   std::span<const std::size_t> examples) noexcept {
        auto* e = whole_engine_of(*engine_);
        if (!options_.fuse || e == nullptr || !fusable_batch<split_engine_t<Engine>>(examples.size())) return;
        const double rate = first_layer_rate(optimizer_, Step{eta(), examples.size(), d.size(), options_.lambda});
        if (rate <= 0) return;
        f.weight = f.apply_to = input_row_weight_data<T>(net_);
        f.bound_gradient = input_row_weight_data<T>(grads_);
        f.input = e->X.data();
        f.first = 0;
        f.last = M::input_width;
        f.rate = static_cast<T>(rate);
        f.flags = e->seen.data();
        scope.emplace(f);
    }

    // A model that couples the examples of a mini-batch (batch norm) needs an engine that runs
    // exactly the mini-batch as one program (AutodiffEngine<M, batch>), one thread, and at least
    // two examples.
    void check_whole_batch() const {
        std::size_t whole = 0;
        if constexpr (requires { Engine::whole_batch; }) whole = Engine::whole_batch;
        if (whole == 0)
            throw std::invalid_argument(
                "batch norm normalises over the whole mini-batch, and this gradient engine works one example (or one "
                "share of the batch) at a time: train with AutodiffEngine<M, batch>");
        if (options_.batch != whole)
            throw std::invalid_argument("batch norm normalises over the whole mini-batch, which this engine runs as one "
                                        "program of " + std::to_string(whole) + " examples: the batch size must be " +
                                        std::to_string(whole) + " (it is " + std::to_string(options_.batch) +
                                        "; use AutodiffEngine<M, " + std::to_string(options_.batch) + ">)");
        if (options_.batch < 2)
            throw std::invalid_argument("batch norm needs at least 2 examples per mini-batch (the batch size is 1)");
        if (options_.threads > 1)
            throw std::invalid_argument("batch norm normalises over the whole mini-batch, which one thread computes: "
                                        "train with 1 thread");
    }

    std::size_t count_correct(const data::Dataset& d) { return evaluate(d).correct; }
    Scores evaluate(const data::Dataset& d) {
        return parallel_evaluator_ ? parallel_evaluator_->evaluate(net_, d) : evaluator_->evaluate(net_, d);
    }

    M& net_;
    Options options_;
    Opt optimizer_;
    Rng rng_;
    double last_training_cost_ = 0;
    std::size_t last_training_correct_ = 0;
    Monitor monitor_{options_.plateau};
    std::unique_ptr<Engine> engine_ = std::make_unique<Engine>();
    std::unique_ptr<Evaluator<M>> evaluator_ = std::make_unique<Evaluator<M>>();
    Gradients<M> grads_;
    // with options.threads > 1: the pool, and the engines and evaluators of its threads
    std::unique_ptr<ThreadPool> pool_;
    std::unique_ptr<ParallelEngine<M, Engine>> parallel_;
    std::unique_ptr<ParallelEvaluator<M>> parallel_evaluator_;
    std::vector<std::size_t> order_;
    data::Dataset windows_;  // a text's windows of the current epoch
    std::size_t last_epoch_examples_ = 0;
    std::size_t epochs_done_ = 0;
};

}  // namespace typegrad::train
