// The optimizer seam: how a step's gradient becomes a change of the parameters.
//
//   template <class O, class M> concept Optimizer = requires(O o, const O co, M& net,
//       const Gradients<M>& g, const Step& s, std::span<const unsigned char> bytes) {
//       { O::name } -> std::convertible_to<std::string_view>;   // saved in checkpoints
//       o.step(net, g, s);                                      // one update from the batch's summed gradient
//       { co.state() } -> std::same_as<std::vector<unsigned char>>;  // what it carries between steps
//       o.restore(bytes);                                       // throws std::invalid_argument if not its state
//   };
//
// The trainer calls step() once per mini-batch and saves name and state() in checkpoints, so a
// resumed run continues exactly (the state of SGD is empty; momentum's velocities and Adam's
// moments fit the same seam).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/simd/kernels.hpp"

namespace typegrad::train {

/// What the trainer tells the optimizer about one step.
struct Step {
    double eta = 0;                  // the learning rate of this step
    std::size_t batch = 0;           // m: examples in this mini-batch (the gradient is their sum)
    std::size_t training_examples = 0;  // n: size of the training set (for regularisation)
};

template <class O, class M>
concept Optimizer = requires(O o, const O co, M& net, const Gradients<M>& g, const Step& s,
                             std::span<const unsigned char> bytes) {
    { O::name } -> std::convertible_to<std::string_view>;
    o.step(net, g, s);
    { co.state() } -> std::same_as<std::vector<unsigned char>>;
    o.restore(bytes);
};

/// The article's mini-batch gradient descent: p ← p − (η/m) Σ ∂J/∂p for every parameter.
struct Sgd {
    static constexpr std::string_view name = "sgd";

    template <AnyModel M>
    void step(M& net, const Gradients<M>& g, const Step& s) noexcept {
        using T = typename M::value_type;
        const T c = static_cast<T>(s.eta / static_cast<double>(s.batch));
        for_each_parameter(net, g, [&](auto ref, auto& p, const auto& dp) {
            simd::axpy_neg<decltype(ref)::size>(c, dp.data(), p.data());
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
    static constexpr std::string_view name = "momentum";
    double mu = 0.9;
    bool nesterov = false;

    template <AnyModel M>
    void step(M& net, const Gradients<M>& g, const Step& s) {
        using T = typename M::value_type;
        if (velocity_.empty()) velocity_.assign(M::parameter_count * sizeof(T), 0);
        if (velocity_.size() != M::parameter_count * sizeof(T))
            throw std::invalid_argument("momentum: the state is for another network");
        T* v = reinterpret_cast<T*>(velocity_.data());
        const T inv_m = T(1) / static_cast<T>(s.batch), eta = static_cast<T>(s.eta), mu_t = static_cast<T>(mu);
        std::size_t at = 0;
        for_each_parameter(net, g, [&](auto, auto& p, const auto& dp) {
            for (std::size_t i = 0; i < p.size(); ++i) {
                const T gi = dp.data()[i] * inv_m;
                T& vi = v[at + i];
                vi = mu_t * vi + gi;
                p.data()[i] -= eta * (nesterov ? gi + mu_t * vi : vi);
            }
            at += p.size();
        });
    }
    std::vector<unsigned char> state() const { return velocity_; }
    void restore(std::span<const unsigned char> bytes) { velocity_.assign(bytes.begin(), bytes.end()); }

private:
    alignas(64) std::vector<unsigned char> velocity_;
};

}  // namespace typegrad::train
