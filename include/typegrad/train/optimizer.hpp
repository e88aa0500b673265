// The optimizer seam: how a step's gradient becomes a change of the parameters.
//
//   template <class O, class M> concept Optimizer = requires(O o, const O co, M& net,
//       const Gradients<M>& g, const Step& s, std::span<const unsigned char> bytes) {
//       optimizer_name(co) -> std::string;                      // saved in checkpoints: a static `name`,
//                                                               // or a member name() when it depends on the settings
//       o.step(net, g, s);                                      // one update from the batch's summed gradient
//       { co.state() } -> std::same_as<std::vector<unsigned char>>;  // what it carries between steps
//       o.restore(bytes);                                       // throws std::invalid_argument if not its state
//   };
//
// The trainer calls step() once per mini-batch and saves name and state() in checkpoints, so a
// resumed run continues exactly (the state of SGD is empty; momentum's velocities and Adam's
// moments fit the same seam).
//
// An optimizer whose update of a parameter element reads only that element (of the parameters,
// the gradient and its own state) — all three here — may also be a SlicedOptimizer:
//
//       o.begin_step(net, s);                 // once per step: state allocated, step counted
//       o.step_slice(net, g, s, Slice{k, n}); // the update of part k of n of every parameter tensor;
//                                             // runs on the pool's threads: must not throw
//
// step() is begin_step() then the one slice {0, 1}. With several threads (train/parallel.hpp) each
// thread reduces the gradient of its slice and updates that slice itself, so the parameters and
// the gradient it updates stay in its own core's cache. Slices are cut at multiples of 16
// elements from each tensor's start (Slice::of), so every element goes through the same code —
// vector part or scalar tail — as in a whole step: the result is bit for bit step()'s, for any n.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/train/state.hpp"

namespace typegrad::train {

/// What the trainer tells the optimizer about one step.
struct Step {
    double eta = 0;                  // the learning rate of this step
    std::size_t batch = 0;           // m: examples in this mini-batch (the gradient is their sum)
    std::size_t training_examples = 0;  // n: size of the training set (for regularisation)
    double lambda = 0;               // L2 regularisation λ: J + (λ/2n) Σ w² over every weight W (not biases)
    /// The rows of the first dense layer's weight gradient that can be non-zero, when the engine
    /// that computed the gradient knows them (nn/gradients.hpp): Sgd updates only those.
    InputRows input_rows{};
    /// The engine has already applied this optimizer's update to the first dense layer's weight
    /// (fused into its gradient, at the rate first_layer_rate(s) gave; that gradient was not
    /// stored): the optimizer leaves that tensor alone.
    bool first_layer_applied = false;
};

/// The rate r at which optimizer o's step s is w ← w − r·g on every element of the first dense
/// layer's weight — an update an engine can fuse into that weight's gradient — or 0 when it is
/// not that (momentum, Adam, L2, or an optimizer that does not say).
template <class O>
double first_layer_rate(const O& o, const Step& s) noexcept {
    if constexpr (requires { { o.first_layer_rate(s) } -> std::convertible_to<double>; }) return o.first_layer_rate(s);
    else return 0;
}

/// Part `part` of `parts` of every parameter tensor: what one thread of a sliced update updates.
struct Slice {
    std::size_t part = 0, parts = 1;
    /// A multiple of 16: the slices are cut at multiples of it (ParallelEngine's rows parallelism
    /// makes it a multiple of the first layer's width as well, so that its weight is cut at rows).
    std::size_t block = 16;
    /// The elements [first, last) of a tensor of n elements that are this part's: contiguous
    /// blocks (of 16 by default: a cache line of floats, a multiple of every SIMD width), the first
    /// parts one block longer; the last block may be short. The slices of 0 … parts − 1 cover
    /// [0, n) in order.
    [[nodiscard]] constexpr std::pair<std::size_t, std::size_t> of(std::size_t n) const noexcept {
        const std::size_t blocks = (n + block - 1) / block, q = blocks / parts, r = blocks % parts;
        const std::size_t b0 = part * q + std::min(part, r), b1 = b0 + q + (part < r ? 1 : 0);
        return {std::min(n, b0 * block), std::min(n, b1 * block)};
    }
};

namespace detail {
/// Whether a parameter is regularised by L2: the weights of a layer (ParamRole::weight: "W" unless
/// the layer says otherwise), not its biases (as Nielsen's network2.py; other parameters, e.g.
/// PReLU's slopes and normalisation's scales, are not either).
template <class Ref>
inline constexpr bool decayed_v = param_role_v<typename Ref::descriptor> == ParamRole::weight;
/// Whether an optimizer updates a parameter: every role but a running statistic (batch norm's
/// running mean and variance), which the trainer updates from the forward pass.
template <class Ref>
inline constexpr bool trained_v = param_role_v<typename Ref::descriptor> != ParamRole::statistic;

/// The mean gradient of one parameter element with L2: (1/m) Σ ∂J/∂w + (λ/n) w.
template <class T>
T regularised(T sum, T w, T inv_m, T decay) noexcept {
    return sum * inv_m + decay * w;
}
}  // namespace detail

/// The name an optimizer is saved under: its static `name`, or its name() (Momentum says
/// "nesterov" when it is).
template <class O>
std::string optimizer_name(const O& o) {
    if constexpr (requires { { o.name() } -> std::convertible_to<std::string>; }) return std::string(o.name());
    else return std::string(O::name);
}

template <class O, class M>
concept Optimizer = requires(O o, const O co, M& net, const Gradients<M>& g, const Step& s,
                             std::span<const unsigned char> bytes) {
    { optimizer_name(co) } -> std::same_as<std::string>;
    o.step(net, g, s);
    { co.state() } -> std::same_as<std::vector<unsigned char>>;
    o.restore(bytes);
};

/// An optimizer whose update can be split into slices of every tensor (see above).
template <class O, class M>
concept SlicedOptimizer = Optimizer<O, M> && requires(O o, M& net, const Gradients<M>& g, const Step& s, Slice slice) {
    o.begin_step(net, s);
    o.step_slice(net, g, s, slice);
};

/// The article's mini-batch gradient descent: p ← p − (η/m) Σ ∂J/∂p for every parameter; with
/// L2 (Step::lambda), network2.py's rule for the weights: W ← (1 − ηλ/n) W − (η/m) Σ ∂J/∂W.
/// Without L2, the first dense layer's weight is updated only on the rows Step::input_rows lists
/// when it is known (the others' gradient is 0): the same result, half the traffic on MNIST.
struct Sgd {
    static constexpr std::string_view name = "sgd";

    template <AnyModel M>
    void step(M& net, const Gradients<M>& g, const Step& s) noexcept {
        begin_step(net, s);
        step_slice(net, g, s, Slice{});
    }
    template <AnyModel M>
    void begin_step(M&, const Step&) noexcept {}
    /// η/m without L2: the step is w ← w − (η/m)·g, which an engine may fuse (Step::first_layer_applied).
    [[nodiscard]] double first_layer_rate(const Step& s) const noexcept {
        return s.lambda == 0 && s.batch > 0 ? s.eta / static_cast<double>(s.batch) : 0.0;
    }
    template <AnyModel M>
    void step_slice(M& net, const Gradients<M>& g, const Step& s, Slice slice) noexcept {
        using T = typename M::value_type;
        const T c = static_cast<T>(s.eta / static_cast<double>(s.batch));
        const T shrink = static_cast<T>(1.0 - s.eta * s.lambda / static_cast<double>(s.training_examples ? s.training_examples : 1));
        for_each_parameter(net, g, [&](auto ref, auto& p, const auto& dp) {
            if constexpr (!detail::trained_v<decltype(ref)>) return;
            if constexpr (input_row_weight_v<decltype(ref)>)
                if (s.first_layer_applied) return;  // the engine applied it (first_layer_rate)
            const auto [first, last] = slice.of(decltype(ref)::size);
            // the rows of the first layer's weight the batch touched (nn/gradients.hpp)
            if constexpr (input_row_weight_v<decltype(ref)>)
                if (s.input_rows.known() && s.lambda == 0) {
                    constexpr std::size_t in = decltype(ref)::composition::input_width;
                    simd::axpy_neg_rows(c, dp.data(), p.data(), s.input_rows.flags, in, decltype(ref)::size / in, first, last);
                    return;
                }
            T* w = p.data() + first;
            if constexpr (detail::decayed_v<decltype(ref)>)
                if (s.lambda != 0)
                    for (std::size_t i = 0; i < last - first; ++i) w[i] *= shrink;
            simd::axpy_neg_n(c, dp.data() + first, w, last - first);
        });
    }
    std::vector<unsigned char> state() const { return {}; }
    void restore(std::span<const unsigned char> bytes) {
        if (!bytes.empty())
            throw std::invalid_argument("sgd carries no state, but " + std::to_string(bytes.size()) + " bytes were given");
    }
};

/// SGD with momentum, as PyTorch's torch.optim.SGD(momentum=μ, nesterov=…): with g = (1/m) Σ ∂J/∂p,
///   v ← μ v + g,   p ← p − η v            (classical)
///   v ← μ v + g,   p ← p − η (g + μ v)    (Nesterov)
/// The velocities start at 0 and are the optimizer's state (saved in checkpoints).
struct Momentum {
    double mu = 0.9;
    bool nesterov = false;
    std::string name() const { return nesterov ? "nesterov" : "momentum"; }

    template <AnyModel M>
    void step(M& net, const Gradients<M>& g, const Step& s) {
        begin_step(net, s);
        step_slice(net, g, s, Slice{});
    }
    /// Allocates the velocities at the first step; throws std::invalid_argument if the restored
    /// state is for another network.
    template <AnyModel M>
    void begin_step(M&, const Step&) {
        using T = typename M::value_type;
        if (velocity_.empty()) velocity_.assign(M::parameter_count * sizeof(T), 0);
        if (velocity_.size() != M::parameter_count * sizeof(T))
            throw std::invalid_argument("momentum: the state is for another network");
    }
    template <AnyModel M>
    void step_slice(M& net, const Gradients<M>& g, const Step& s, Slice slice) noexcept {
        using T = typename M::value_type;
        T* v = reinterpret_cast<T*>(velocity_.data());
        const T inv_m = T(1) / static_cast<T>(s.batch), eta = static_cast<T>(s.eta), mu_t = static_cast<T>(mu);
        const T decay = static_cast<T>(s.lambda / static_cast<double>(s.training_examples ? s.training_examples : 1));
        std::size_t at = 0;
        for_each_parameter(net, g, [&](auto ref, auto& p, const auto& dp) {
            const T d = detail::decayed_v<decltype(ref)> ? decay : T(0);
            const auto [first, last] = slice.of(p.size());
            if constexpr (detail::trained_v<decltype(ref)>) {
                for (std::size_t i = first; i < last; ++i) {
                    const T gi = detail::regularised(dp.data()[i], p.data()[i], inv_m, d);
                    T& vi = v[at + i];
                    vi = mu_t * vi + gi;
                    p.data()[i] -= eta * (nesterov ? gi + mu_t * vi : vi);
                }
            }
            at += p.size();
        });
    }
    std::vector<unsigned char> state() const { return velocity_; }
    /// Takes the bytes as they are: their length is checked at the next step, and a checkpoint's
    /// when it is read (optimizer_state_problem in state.hpp, which also checks the values).
    void restore(std::span<const unsigned char> bytes) { velocity_.assign(bytes.begin(), bytes.end()); }
    /// The velocities, as the bytes of the network's values (empty before the first step): what
    /// local SGD averages over processes with the parameters (dist/data_parallel.hpp).
    std::span<unsigned char> per_parameter_state() noexcept { return velocity_; }

private:
    std::vector<unsigned char> velocity_;
};

/// Adam (Kingma & Ba 2015), as PyTorch's torch.optim.Adam: with g = (1/m) Σ ∂J/∂p (+ (λ/n) W),
///   m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
///   p ← p − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ),  t the step count.
/// Its state (t, m and v) is saved in checkpoints.
struct Adam {
    static constexpr std::string_view name = "adam";
    double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;

    template <AnyModel M>
    void step(M& net, const Gradients<M>& g, const Step& s) {
        begin_step(net, s);
        step_slice(net, g, s, Slice{});
    }
    /// Allocates the moments at the first step and counts the step (t); throws
    /// std::invalid_argument if the restored state is for another network.
    template <AnyModel M>
    void begin_step(M&, const Step&) {
        using T = typename M::value_type;
        constexpr std::size_t n = M::parameter_count;
        if (moments_.empty()) moments_.assign(2 * n * sizeof(T), 0);
        if (moments_.size() != 2 * n * sizeof(T)) throw std::invalid_argument("adam: the state is for another network");
        ++t_;
    }
    template <AnyModel M>
    void step_slice(M& net, const Gradients<M>& g, const Step& s, Slice slice) noexcept {
        using T = typename M::value_type;
        constexpr std::size_t n = M::parameter_count;
        T* m1 = reinterpret_cast<T*>(moments_.data());
        T* m2 = m1 + n;
        const T inv_m = T(1) / static_cast<T>(s.batch);
        const T decay = static_cast<T>(s.lambda / static_cast<double>(s.training_examples ? s.training_examples : 1));
        const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), eps = static_cast<T>(epsilon);
        const T c1 = static_cast<T>(1.0 - std::pow(beta1, static_cast<double>(t_)));
        const T c2 = static_cast<T>(1.0 - std::pow(beta2, static_cast<double>(t_)));
        const T eta = static_cast<T>(s.eta);
        std::size_t at = 0;
        // one element, for T or an xsimd batch of T (the same operations in both)
        const auto update = [&](auto w, auto gsum, auto a, auto b, auto decay_of_w) {
            using V = decltype(w);
            const V gi = gsum * V(inv_m) + decay_of_w * w;
            a = V(b1) * a + V(T(1) - b1) * gi;
            b = V(b2) * b + V(T(1) - b2) * gi * gi;
            using std::sqrt;
            using xsimd::sqrt;
            w = w - V(eta) * (a / V(c1)) / (sqrt(b / V(c2)) + V(eps));
            return std::array<V, 3>{w, a, b};
        };
        for_each_parameter(net, g, [&](auto ref, auto& p, const auto& dp) {
            if constexpr (!detail::trained_v<decltype(ref)>) {
                at += p.size();
                return;
            }
            const T d = detail::decayed_v<decltype(ref)> ? decay : T(0);
            using V = xsimd::batch<T>;
            constexpr std::size_t L = V::size;
            T* w = p.data();
            const T* gs = dp.data();
            T* a = m1 + at;
            T* b = m2 + at;
            const auto [first, last] = slice.of(p.size());
            // the vector part of the slice: [first, vec_end); first is a multiple of 16, so the
            // tail is the whole tensor's tail in the last slice and empty in the others
            const std::size_t vec_end = first + (last - first) / L * L;
            for (std::size_t i = first; i < vec_end; i += L) {
                const auto r = update(V::load_unaligned(w + i), V::load_unaligned(gs + i), V::load_unaligned(a + i),
                                      V::load_unaligned(b + i), V(d));
                r[0].store_unaligned(w + i);
                r[1].store_unaligned(a + i);
                r[2].store_unaligned(b + i);
            }
            for (std::size_t i = vec_end; i < last; ++i) {
                const auto r = update(w[i], gs[i], a[i], b[i], d);
                w[i] = r[0];
                a[i] = r[1];
                b[i] = r[2];
            }
            at += p.size();
        });
    }
    /// t (8 bytes, little-endian), then m and v.
    std::vector<unsigned char> state() const {
        if (moments_.empty()) return {};
        std::vector<unsigned char> out(8);
        for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(t_ >> (8 * i));
        out.insert(out.end(), moments_.begin(), moments_.end());
        return out;
    }
    void restore(std::span<const unsigned char> bytes) {
        if (bytes.empty()) {
            t_ = 0;
            moments_.clear();
            return;
        }
        if (bytes.size() < 8) throw std::invalid_argument("adam: the state is " + std::to_string(bytes.size()) + " bytes, too short");
        std::uint64_t t = 0;
        for (std::size_t i = 0; i < 8; ++i) t |= std::uint64_t(bytes[i]) << (8 * i);
        if (t == 0 || t > max_adam_steps)  // the next step would wrap t to 0 (a division by 0), or none was made
            throw std::invalid_argument("adam: the state's step count is " + std::to_string(t) +
                                        " (a state with moments has made 1 to 2^53 steps)");
        t_ = t;
        moments_.assign(bytes.begin() + 8, bytes.end());
    }
    /// m and v, as the bytes of the network's values (empty before the first step); not t.
    std::span<unsigned char> per_parameter_state() noexcept { return moments_; }

private:
    std::uint64_t t_ = 0;
    std::vector<unsigned char> moments_;
};

/// One of the optimizers above, chosen at run time (the command line's --optimizer): one trainer
/// type serves them all. Saved under the name of the one it holds.
class AnyOptimizer {
public:
    AnyOptimizer() = default;
    AnyOptimizer(Sgd o) : held_(o) {}       // NOLINT: implicit on purpose
    AnyOptimizer(Momentum o) : held_(o) {}  // NOLINT
    AnyOptimizer(Adam o) : held_(std::move(o)) {}  // NOLINT

    [[nodiscard]] double first_layer_rate(const Step& s) const noexcept {
        return std::visit([&](const auto& o) { return train::first_layer_rate(o, s); }, held_);
    }
    std::string name() const {
        return std::visit([](const auto& o) { return optimizer_name(o); }, held_);
    }
    // The updates are defined below the class, so not inline: a plugin compiled in two parts
    // instantiates them in one part only (src/cli/plugin.hpp).
    template <AnyModel M>
    void step(M& net, const Gradients<M>& g, const Step& s);
    template <AnyModel M>
    void begin_step(M& net, const Step& s);
    template <AnyModel M>
    void step_slice(M& net, const Gradients<M>& g, const Step& s, Slice slice) noexcept;
    std::vector<unsigned char> state() const {
        return std::visit([](const auto& o) { return o.state(); }, held_);
    }
    void restore(std::span<const unsigned char> bytes) {
        std::visit([&](auto& o) { o.restore(bytes); }, held_);
    }
    /// The held optimizer's per-parameter state (none for SGD).
    std::span<unsigned char> per_parameter_state() noexcept {
        return std::visit(
            [](auto& o) -> std::span<unsigned char> {
                if constexpr (requires { o.per_parameter_state(); }) return o.per_parameter_state();
                else return {};
            },
            held_);
    }

private:
    std::variant<Sgd, Momentum, Adam> held_;
};

template <AnyModel M>
void AnyOptimizer::step(M& net, const Gradients<M>& g, const Step& s) {
    std::visit([&](auto& o) { o.step(net, g, s); }, held_);
}
template <AnyModel M>
void AnyOptimizer::begin_step(M& net, const Step& s) {
    std::visit([&](auto& o) { o.begin_step(net, s); }, held_);
}
template <AnyModel M>
void AnyOptimizer::step_slice(M& net, const Gradients<M>& g, const Step& s, Slice slice) noexcept {
    std::visit([&](auto& o) { o.step_slice(net, g, s, slice); }, held_);
}

}  // namespace typegrad::train
