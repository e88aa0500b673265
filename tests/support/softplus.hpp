// softplus(x) = ln(1 + eˣ), softplus'(x) = σ(x): an activation of the user's own, not built into
// typegrad (docs/layers.md, "A new activation"), for the tests of Activation<F> with a user's F.
#pragma once

#include <cmath>
#include <string_view>

namespace typegrad::test {

struct Softplus {
    static constexpr std::string_view name = "softplus";
    template <class V>
    static V value(V x) noexcept {
        using std::exp;
        using std::log;
        return log(V(1) + exp(x));
    }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept {
        using std::exp;
        return V(1) / (V(1) + exp(-x));
    }
};

}  // namespace typegrad::test
