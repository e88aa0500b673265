// Random test inputs for the kernel tests: n values uniform in [−1, 1) from a seeded generator,
// and the tolerance of a kernel that sums in another order than the scalar loop it is checked
// against (FMA, lane-wise partial sums): a few ulps per accumulated term, relative 1e-5 (float) /
// 1e-13 (double) of the sum of magnitudes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "typegrad/util/random.hpp"

namespace typegrad::testing {

template <class T>
std::vector<T> random_vector(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(rng.uniform(-1, 1));
    return v;
}

template <class T>
constexpr double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-13;

}  // namespace typegrad::testing
