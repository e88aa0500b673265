// The training driver of `typegrad train`: the training entry point of every network's plugin
// (plugin.hpp), compiled in (compiled_in.hpp) or compiled on first use (jit.hpp). The driver
// itself — the options, the output files, what a run says, interruption and divergence — is
// compiled once, in the executable (drive.cpp), over TrainingSession: what it needs of one
// network and its trainer, behind virtual calls made per run and per epoch, none per batch or
// example. NetworkSession<M, Engine> implements it; that, the trainer and the engines are what
// each network compiles. What the driver is made of: the --grad menu (engines.hpp), what the
// options make (run_setup.hpp), what a run says (run_report.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "distributed.hpp"
#include "engines.hpp"
#include "menu.hpp"
#include "report.hpp"
#include "run_setup.hpp"
#include "text.hpp"
#include "train.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/monitor.hpp"
#include "typegrad/train/sgd.hpp"

namespace typegrad::cli {

/// What the driver knows of a network without its type.
struct NetworkFacts {
    std::size_t input_width = 0, output_width = 0, parameter_count = 0;
    std::string description;           // network_description<M>(): "784-30-10 sigmoid"
    std::string_view cost;             // M::cost_type::name
    const char* element_type = "";     // "float" or "double"
    double default_eta = 0;            // the entry's η, before the optimizer's own default
    const char* default_schedule = "";
    bool couples_examples = false;     // batch normalisation: the mini-batch is one program
    std::size_t whole_batch = 0;       // the batch it was compiled for, when couples_examples
};

/// The driver's hook after every batch: the progress bar, the place an interruption reports, the
/// stop at SIGINT/SIGTERM (agreed by an MPI job's processes). Not virtual: a direct call.
struct BatchProgress {
    ProgressBar& bar;
    std::size_t done = 0, batches = 0;  // in the epoch under way
    void after(std::size_t batch_done, std::size_t total);  // drive.cpp
};

/// One network's part of a training run: its parameters, its trainer (train::Trainer with the
/// --grad engine, data-parallel over an MPI job's processes) and what those processes add.
class TrainingSession {
public:
    virtual ~TrainingSession() = default;
    [[nodiscard]] virtual const NetworkFacts& facts() const = 0;
    /// The network, initialised from `seed` with `scheme`.
    virtual void create(std::uint64_t seed, init::Scheme scheme) = 0;
    /// The network restored from a checkpoint, and the trainer's state in it (io::CheckpointError
    /// when the checkpoint does not fit); `file` names it in messages.
    virtual train::TrainerState restore(const io::CheckpointImage& image, const std::string& file) = 0;
    [[nodiscard]] virtual bool parameters_finite() const = 0;
    /// The trainer with `options` and `optimizer`; in an MPI job its engine joins the processes.
    virtual void start(const TrainOptions& o, const train::Options& options, train::AnyOptimizer optimizer) = 0;
    /// The trainer continues from `state` (std::invalid_argument: another optimizer's state).
    virtual void continue_from(const train::TrainerState& state) = 0;
    /// Trains (train::Trainer::run): `on_epoch` after each epoch, progress.after after each batch.
    virtual void run(const data::Dataset& train, const data::Dataset& validation, const data::Dataset& test,
                     const std::function<void(const train::EpochStats&)>& on_epoch, BatchProgress& progress) = 0;
    /// Saves the network and the trainer's state (io::save_checkpoint).
    virtual void save(const std::filesystem::path& file, const std::string& note, const std::string& vocabulary) const = 0;
    [[nodiscard]] virtual double eta() const = 0;
    [[nodiscard]] virtual train::StopReason stopped() const = 0;
    [[nodiscard]] virtual std::size_t epochs_done() const = 0;
    [[nodiscard]] virtual train::MonitorState monitor_state() const = 0;
};

/// The training run of the session's network with the options `given`, from scratch or from
/// `resume`: the exit code (drive.cpp).
int drive_session(const TrainOptions& given, const io::CheckpointImage* resume, TrainingSession& session);

/// TrainingSession for network M and gradient engine Engine.
template <class M, class Engine>
class NetworkSession final : public TrainingSession {
public:
    NetworkSession()
        : facts_{M::input_width,
                 M::output_width,
                 M::parameter_count,
                 network_description<M>(),
                 M::cost_type::name,
                 std::is_same_v<typename M::value_type, float> ? "float" : "double",
                 default_eta<M>(),
                 entry_of_t<M>::default_schedule,
                 train::couples_examples_v<M>,
                 whole_batch()} {}
    const NetworkFacts& facts() const override { return facts_; }
    void create(std::uint64_t seed, init::Scheme scheme) override { net_.emplace(seed, scheme); }
    train::TrainerState restore(const io::CheckpointImage& image, const std::string& file) override {
        return io::restore_checkpoint(image, *net_, file);
    }
    bool parameters_finite() const override { return train::parameters_finite(*net_); }
    void start(const TrainOptions& o, const train::Options& options, train::AnyOptimizer optimizer) override {
        trainer_.emplace(*net_, options, std::move(optimizer));
        processes_.emplace(o, *trainer_, *net_);
    }
    void continue_from(const train::TrainerState& state) override { trainer_->restore(state); }
    void run(const data::Dataset& train, const data::Dataset& validation, const data::Dataset& test,
             const std::function<void(const train::EpochStats&)>& on_epoch, BatchProgress& progress) override {
        trainer_->run(
            train, validation, test,
            [&](train::EpochStats s) {
                processes_->on_epoch(s, train.size());
                on_epoch(s);
            },
            [&](std::size_t done, std::size_t total) {
                processes_->after_batch(done, total);
                progress.after(done, total);
            });
    }
    void save(const std::filesystem::path& file, const std::string& note, const std::string& vocabulary) const override {
        io::save_checkpoint(file, *net_, trainer_->state(), note, vocabulary);
    }
    double eta() const override { return trainer_->eta(); }
    train::StopReason stopped() const override { return trainer_->stopped(); }
    std::size_t epochs_done() const override { return trainer_->epochs_done(); }
    train::MonitorState monitor_state() const override { return trainer_->monitor().state(); }

private:
    using Trainer = train::Trainer<M, dist::DataParallelEngine<M, Engine>, train::AnyOptimizer>;
    static constexpr std::size_t whole_batch() {
        if constexpr (train::couples_examples_v<M>) return whole_batch_of<Engine>();
        else return 0;
    }
    NetworkFacts facts_;
    std::optional<M> net_;
    std::optional<Trainer> trainer_;
    std::optional<DataParallelRun<M, Trainer>> processes_;
};

/// The training run of network M with gradient engine Engine.
template <class M, class Engine>
int drive(const TrainOptions& o, const io::CheckpointImage* resume) {
    NetworkSession<M, Engine> session;
    return drive_session(o, resume, session);
}

template <class M, class... Es>
inline int run_with_engine(const TrainOptions& o, const io::CheckpointImage* resume, type_list<Es...>) {
    int rc = -1;
    const bool found =
        ((o.grad == Es::name ? (rc = drive<M, typename Es::template type<M>>(o, resume), true) : false) || ...);
    if (!found) {
        const auto all = engine_names();
        if (std::find(all.begin(), all.end(), o.grad) == all.end())
            throw UsageError(cat("--grad: unknown engine '", o.grad, "'; the engines are ", join(all)));
        // an engine of the menu this network was compiled without (the loader asks for every
        // engine when --grad is not the default: train.cpp)
        throw RunError(cat("--grad ", o.grad, ": this compiled network has the engines ",
                           join(std::vector<std::string>{std::string(Es::name)...}), " only"));
    }
    return rc;
}

/// Trains network M with the --grad engine, one of Engines: the training entry point of a
/// network's plugin (plugin.hpp), compiled in (every engine) or compiled on first use (the
/// default engine, or every engine when --grad names another).
template <class M, class Engines = engines>
int train_network(const TrainOptions& o, const io::CheckpointImage* resume) {
    return run_with_engine<M>(o, resume, Engines{});
}

}  // namespace typegrad::cli
