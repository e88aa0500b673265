// Test support: central finite differences of a model's cost, in double.
#pragma once

#include <cmath>
#include <cstddef>

#include "typegrad/nn/model.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad::test {

/// J = C(forward(x), y) for the model's cost.
template <class M>
double cost_of(const M& m, const typename M::input_type& x, const typename M::output_type& y) {
    const auto a = m.forward(x);
    return M::cost_type::template value<typename M::value_type, M::output_width>(a.data(), y.data());
}

/// (J(p + h) − J(p − h)) / 2h for the parameter p, which is modified and restored.
template <class M, class P>
double central_difference(M& m, P& p, const typename M::input_type& x, const typename M::output_type& y, double h) {
    const auto saved = p;
    p = saved + h;
    const double up = cost_of(m, x, y);
    p = saved - h;
    const double down = cost_of(m, x, y);
    p = saved;
    return (up - down) / (2 * h);
}

/// A reproducible input in [0, 1] with about a third zeros (like a digit's pixels) and a one-hot
/// target.
template <class M>
void random_example(Rng& rng, typename M::input_type& x, typename M::output_type& y) {
    for (auto& v : x) v = rng.uniform() < 0.35 ? 0.0 : rng.uniform();
    y.fill(0);
    y[rng.below(M::output_width)] = 1;
}

}  // namespace typegrad::test
