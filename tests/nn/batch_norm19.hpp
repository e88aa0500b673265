// What test_batch_norm19 and test_batch_norm_train19 share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "typegrad/typegrad.hpp"

namespace typegrad::test {

/// The batch of the three-way checks and of the trainer's whole-batch cases.
inline constexpr std::size_t B = 8;

/// γ, β and the running statistics of every batch_norm away from 1, 0, 0, 1 (so that a swapped
/// or ignored one would show).
template <class M>
void perturb_norm(M& net, std::uint64_t seed) {
    Rng rng(seed);
    net.for_each_parameter([&](auto ref, auto& t) {
        constexpr std::string_view name = decltype(ref)::name;
        if constexpr (name == "γ") for (auto& v : t) v = rng.uniform(0.5, 1.5);
        else if constexpr (name == "β" || name == "running_mean") for (auto& v : t) v = rng.uniform(-0.5, 0.5);
        else if constexpr (name == "running_var") for (auto& v : t) v = rng.uniform(0.5, 2.0);
    });
}

}  // namespace typegrad::test
