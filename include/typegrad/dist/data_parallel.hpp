// Data-parallel training over the processes of a Communicator, as a gradient engine around
// another one (AutodiffEngine, ReferenceEngine, …), so that Trainer is unchanged but for asking
// the engine how many examples the gradient it returned sums.
//
// Sharding. Every process runs the same Trainer with the same seed, so every process shuffles
// the training set into the same order and cuts it into the same global batches of P·m
// examples (P processes, --batch m). Process r takes the r-th contiguous share of each global
// batch: examples [⌊r·k/P⌋, ⌊(r+1)·k/P⌋) of a batch of k (m each, but in a last, shorter batch).
//
// Two modes:
//   Mode::gradient_sum — synchronous data parallelism: the shares' summed gradients (and their
//     costs and correct predictions) are added over the processes (Communicator::sum, in rank
//     order), and every process takes the same optimizer step with m = k, the whole global
//     batch: the step of one process with batch P·m, up to the order of the additions.
//   Mode::local_sgd — local SGD (Stich 2018; Lin et al. 2020): each process steps on its own
//     share alone (m = its share's size; a process whose share is empty takes no step), and
//     average() makes the parameters — and the optimizer's per-parameter state — their mean over
//     the processes every H steps and at the end of every epoch (AveragingSchedule).
//
// Dropout: with more than one process, the masks of a step are drawn from a generator seeded
// from the trainer's generator's state, the step's first example and the rank, so that the
// trainer's own generator — which shuffles — draws nothing but the shuffles and stays the same
// on every process; a resumed run draws the same masks. With one process the trainer's generator
// draws them, as without this engine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/dist/communicator.hpp"
#include "typegrad/expr/noise.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/engine.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad::dist {

enum class Mode { gradient_sum, local_sgd };

/// Process `rank`'s share of a global batch of k examples: [first, last).
struct Share {
    std::size_t first = 0, last = 0;
};
[[nodiscard]] constexpr Share share_of(std::size_t k, int rank, int size) noexcept {
    const auto r = static_cast<std::size_t>(rank), p = static_cast<std::size_t>(size);
    return {r * k / p, (r + 1) * k / p};
}

/// Inner, run on this process's share of every batch, joined to the other processes (see above).
/// Until join() it is Inner itself: all the examples, no communication.
template <AnyModel M, class Inner>
class DataParallelEngine {
public:
    using T = typename M::value_type;
    using inner_type = Inner;

    Inner& inner() noexcept { return inner_; }
    [[nodiscard]] const Communicator* communicator() const noexcept { return comm_; }
    [[nodiscard]] Mode mode() const noexcept { return mode_; }

    /// A model that couples the examples of a batch (batch norm): the one batch size it trains
    /// with, Inner's (0: any). One process only: the statistics of a batch are not shared
    /// between processes (join() refuses more).
    static constexpr std::size_t whole_batch = [] {
        if constexpr (requires { Inner::whole_batch; }) return std::size_t(Inner::whole_batch);
        else return std::size_t{0};
    }();

    /// Takes part in a data-parallel run over comm (which must outlive the engine's use). Throws
    /// std::invalid_argument for a model with batch norm over more than one process.
    void join(Communicator& comm, Mode mode) {
        if (whole_batch > 0 && comm.size() > 1)
            throw std::invalid_argument("batch norm normalises over the whole mini-batch, which one process computes: "
                                        "data-parallel training over " + std::to_string(comm.size()) +
                                        " processes would normalise each share on its own");
        comm_ = &comm;
        mode_ = mode;
        buffer_.assign(M::parameter_count + 2, T(0));
    }

    /// The gradient of this step (see the modes above) into g; returns the cost the gradient
    /// belongs to: the global batch's in gradient_sum mode, this process's share's in local_sgd.
    T gradient(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
               std::size_t* correct = nullptr) {
        return compute(net, d, examples, g, correct, false);
    }
    /// As gradient(), for a caller that passes the g of the last call and has not written it since
    /// (Inner's gradient_again, when that g was Inner's gradient alone or zero).
    T gradient_again(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
                     std::size_t* correct = nullptr)
        requires requires(Inner& i, Gradients<M>& h) { i.gradient_again(net, d, examples, h, correct); }
    {
        return compute(net, d, examples, g, correct, g_is_inner_);
    }

    /// The rows of the first dense layer's weight gradient the last gradient() can have made
    /// non-zero (nn/gradients.hpp): Inner's, when the gradient is Inner's alone (no other process's
    /// was added to it); nothing known otherwise.
    [[nodiscard]] InputRows input_rows() const noexcept
        requires requires(const Inner& i) { i.input_rows(); }
    {
        return rows_are_inner_ ? inner_.input_rows() : InputRows{};
    }

private:
    T compute(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
              std::size_t* correct, bool again) {
        if (comm_ == nullptr) {
            summed_ = examples.size();
            rows_are_inner_ = g_is_inner_ = true;
            return run_inner(net, d, examples, g, correct, again);
        }
        const int p = comm_->size(), r = comm_->rank();
        const Share s = share_of(examples.size(), r, p);
        const auto share = examples.subspan(s.first, s.last - s.first);
        // a local step's gradient, or one process's sum, is Inner's alone (or zero, for no share)
        rows_are_inner_ = !share.empty() && (mode_ == Mode::local_sgd || p == 1);
        g_is_inner_ = share.empty() || mode_ == Mode::local_sgd || p == 1;
        std::size_t counted = 0;
        T cost = 0;
        if (share.empty()) {
            g.zero();
        } else if (p > 1 && expr::current_noise() != nullptr) {
            Rng masks(mask_seed(*expr::current_noise(), examples.front(), r));
            const expr::NoiseScope scope(masks);
            cost = run_inner(net, d, share, g, correct ? &counted : nullptr, again);
        } else {
            cost = run_inner(net, d, share, g, correct ? &counted : nullptr, again);
        }
        if (mode_ == Mode::local_sgd) {
            summed_ = share.size();
            epoch_cost_ += static_cast<double>(cost);
            epoch_correct_ += counted;
            if (correct) *correct += counted;
            return cost;
        }
        // gradient_sum: the gradient, the cost and the count in one buffer, one collective
        std::size_t at = 0;
        g.for_each_parameter([&](auto, const auto& t) {
            for (auto v : t) buffer_[at++] = v;
        });
        buffer_[at] = cost;
        buffer_[at + 1] = static_cast<T>(counted);
        comm_->sum(std::span<T>(buffer_));
        at = 0;
        g.for_each_parameter([&](auto, auto& t) {
            for (auto& v : t) v = buffer_[at++];
        });
        if (correct) *correct += static_cast<std::size_t>(buffer_[at + 1]);
        summed_ = examples.size();
        return buffer_[at];
    }

public:
    /// After a step: Inner's running statistics (batch norm), if it keeps any.
    void update_state(M& net) noexcept {
        if constexpr (requires { inner_.update_state(net); }) inner_.update_state(net);
    }

    /// How many examples the last gradient() sums: the optimizer's m (Trainer asks).
    [[nodiscard]] std::size_t examples_in_gradient() const noexcept { return summed_; }

    /// Local SGD: the training cost and correct predictions of the epoch over all processes
    /// (the trainer sees this process's only); resets the counts. A collective.
    struct Totals {
        double cost = 0;
        std::size_t correct = 0;
    };
    Totals epoch_totals() {
        double v[2] = {epoch_cost_, static_cast<double>(epoch_correct_)};
        if (comm_) comm_->sum(std::span<double>(v));
        epoch_cost_ = 0;
        epoch_correct_ = 0;
        return {v[0], static_cast<std::size_t>(v[1])};
    }

private:
    T run_inner(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
                std::size_t* correct, bool again) {
        if constexpr (requires { inner_.gradient_again(net, d, examples, g, correct); })
            if (again) return inner_.gradient_again(net, d, examples, g, correct);
        if constexpr (requires { inner_.gradient(net, d, examples, g, correct); })
            return inner_.gradient(net, d, examples, g, correct);
        else
            return inner_.gradient(net, d, examples, g);
    }

    static std::uint64_t mask_seed(const Rng& trainer, std::size_t first_example, int rank) noexcept {
        const Rng::State s = trainer.state();
        std::uint64_t h = 0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(rank) + 1);
        for (std::uint64_t w : {s.words[0], s.words[1], s.words[2], s.words[3], std::uint64_t(first_example)}) {
            h ^= w + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        }
        return h;
    }

    Inner inner_;
    Communicator* comm_ = nullptr;
    Mode mode_ = Mode::gradient_sum;
    std::vector<T> buffer_;
    std::size_t summed_ = 0;
    bool rows_are_inner_ = false;  // input_rows(): whether the last gradient is Inner's alone
    bool g_is_inner_ = false;      // gradient_again(): whether it is Inner's alone or zero
    double epoch_cost_ = 0;
    std::size_t epoch_correct_ = 0;
};

/// When local SGD averages: after every `every` steps of an epoch (0: never within it) and after
/// its last step, so that the network evaluated and saved after an epoch is one model. The count
/// restarts each epoch, so a run resumed after an epoch averages where an uninterrupted one does.
class AveragingSchedule {
public:
    explicit AveragingSchedule(std::size_t every = 0) noexcept : every_(every) {}
    /// After a step: whether to average now.
    bool after_step(bool last_of_epoch) noexcept {
        ++since_;
        if (last_of_epoch || (every_ > 0 && since_ % every_ == 0)) {
            if (last_of_epoch) since_ = 0;
            return true;
        }
        return false;
    }

private:
    std::size_t every_, since_ = 0;
};

/// The bytes of an optimizer's per-parameter state (momentum's velocities, Adam's moments), if
/// it exposes them; an empty span otherwise.
template <class Opt>
std::span<unsigned char> per_parameter_state(Opt& opt) {
    if constexpr (requires { { opt.per_parameter_state() } -> std::convertible_to<std::span<unsigned char>>; })
        return opt.per_parameter_state();
    else
        return {};
}

/// Local SGD's averaging: every parameter of net, and every value of the optimizer's
/// per-parameter state, becomes its mean over the processes (sum in rank order, then ÷ P).
/// A collective; buffer is reused between calls. Adam's step count is not averaged: it is the
/// same on every process that has stepped as often (see docs/distributed.md).
template <AnyModel M, class Opt>
void average(Communicator& comm, M& net, Opt& opt, std::vector<typename M::value_type>& buffer) {
    using T = typename M::value_type;
    const std::span<unsigned char> state = per_parameter_state(opt);
    if (state.size() % sizeof(T) != 0) throw std::logic_error("average: the optimizer's state is not made of the network's values");
    // Every process must send as many values: the optimizers create their state at their first
    // step, and every process has stepped before the first averaging when the first global batch
    // is full (P·m ≤ n, which the command line checks).
    const std::size_t state_values = state.size() / sizeof(T);
    buffer.resize(M::parameter_count + state_values);
    std::size_t at = 0;
    net.for_each_parameter([&](auto, const auto& t) {
        for (auto v : t) buffer[at++] = v;
    });
    auto* values = reinterpret_cast<T*>(state.data());
    std::copy(values, values + state_values, buffer.begin() + static_cast<std::ptrdiff_t>(at));
    comm.sum(std::span<T>(buffer));
    const T p = static_cast<T>(comm.size());
    for (auto& v : buffer) v /= p;
    at = 0;
    net.for_each_parameter([&](auto, auto& t) {
        for (auto& v : t) v = buffer[at++];
    });
    std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(at), buffer.end(), values);
}

}  // namespace typegrad::dist
