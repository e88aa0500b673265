// What a trainer carries between epochs besides the model: saved in checkpoints.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/train/monitor.hpp"
#include "typegrad/util/random.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::train {

/// Everything besides the parameters that decides how training continues: the epochs done, the
/// shuffling generator, the optimizer's state and what the validation monitor knows (the best
/// validation accuracy and its epoch, the epochs without improvement, the halvings of η). Saved
/// in checkpoints, so that a resumed run is bit-identical and stops where an uninterrupted one
/// stops.
struct TrainerState {
    std::size_t epochs_done = 0;
    Rng::State rng = Rng(0).state();             // a valid generator (an all-zero state never changes)
    std::string optimizer = "sgd";               // Optimizer::name
    std::vector<unsigned char> optimizer_state;  // Optimizer::state()
    MonitorState monitor;                        // see monitor.hpp
    double eta = 0.0;  // the learning rate of the next epoch (informative: it follows from the options and monitor.halvings)
};

/// The most steps an Adam state may have counted: 2^53, the last count a double (in which its
/// bias corrections β^t are computed) holds exactly; no run gets near it (at a million steps a
/// second it is 285 years). A state of 2^64 - 1 steps would wrap to 0 at the next one and divide by 0.
inline constexpr std::uint64_t max_adam_steps = std::uint64_t{1} << 53;

/// Empty if `state` can be the state of the built-in optimizer named `optimizer` (optimizer.hpp)
/// for a network of `parameters` values of `value_size` bytes (4: float, 8: double); else what
/// is wrong, e.g. "the adam step count is 0 (…)". The states, all values little-endian:
///   sgd                 none
///   momentum, nesterov  none before the first step, else a velocity per parameter (finite)
///   adam                none before the first step, else the step count t (u64, 1 to
///                       max_adam_steps), then the first moments (finite) and the second moments
///                       (finite, >= 0), one per parameter each
/// Any other name (an optimizer of the library's user) is not checked: empty.
inline std::string optimizer_state_problem(std::string_view optimizer, std::span<const unsigned char> state,
                                           std::uint64_t parameters, std::size_t value_size) {
    const bool momentum = optimizer == "momentum" || optimizer == "nesterov";
    const bool adam = optimizer == "adam";
    if (optimizer == "sgd")
        return state.empty() ? std::string() : cat("the sgd state is ", state.size(), " bytes; sgd carries no state");
    if ((!momentum && !adam) || state.empty()) return {};
    const char* type = value_size == 4 ? "float" : "double";
    std::uint64_t values = 0, bytes = 0;  // the values of the state and its bytes
    const bool fits = !__builtin_mul_overflow(parameters, std::uint64_t{adam ? 2u : 1u}, &values) &&
                      !__builtin_mul_overflow(values, std::uint64_t{value_size}, &bytes) &&
                      !__builtin_add_overflow(bytes, std::uint64_t{adam ? 8u : 0u}, &bytes);
    if (!fits || state.size() != bytes)
        return cat("the ", optimizer, " state is ", state.size(), " bytes; for ", parameters, " ", type,
                   " parameters it is ", fits ? std::to_string(bytes) : std::string("more than 2^64"),
                   adam ? " (the step count, then two moments per parameter)" : " (a velocity per parameter)",
                   ", or 0 before the first step");
    const auto u64 = [&](std::size_t at) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{state[at + i]} << (8 * i);
        return v;
    };
    const auto value = [&](std::size_t k) {
        const std::size_t at = (adam ? 8 : 0) + k * value_size;
        if (value_size == 8) return std::bit_cast<double>(u64(at));
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v |= std::uint32_t{state[at + i]} << (8 * i);
        return static_cast<double>(std::bit_cast<float>(v));
    };
    if (adam) {
        if (const std::uint64_t t = u64(0); t == 0 || t > max_adam_steps)
            return cat("the adam step count is ", t, " (a state with moments has made 1 to 2^53 steps)");
    }
    for (std::size_t k = 0; k < values; ++k) {
        const double v = value(k);
        if (!adam && !std::isfinite(v)) return cat("velocity ", k, " of the ", optimizer, " state is not a finite number");
        if (adam && k < parameters && !std::isfinite(v))
            return cat("first moment ", k, " of the adam state is not a finite number");
        if (adam && k >= parameters && !(std::isfinite(v) && v >= 0))
            return cat("second moment ", k - parameters, " of the adam state is not a finite number >= 0");
    }
    return {};
}

}  // namespace typegrad::train
