// Test support: whether two models' parameters are the same bits (the claims of determinism:
// two runs with the same number of threads, a path that must not change a result).
#pragma once

#include <cstring>

#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"

namespace typegrad::test {

template <AnyModel M>
bool same_parameters(const M& a, const M& b) {
    bool same = true;
    for_each_parameter_pair<typename M::composition>(a.parameters(), b.parameters(), [&](auto, const auto& x, const auto& y) {
        same &= std::memcmp(x.data(), y.data(), x.size() * sizeof(typename M::value_type)) == 0;
    });
    return same;
}

}  // namespace typegrad::test
