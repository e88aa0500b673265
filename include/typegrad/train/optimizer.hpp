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

}  // namespace typegrad::train
