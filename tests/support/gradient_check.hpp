// Test support: central finite differences of a model's cost, in double.
#pragma once

#include <cmath>
#include <cstddef>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/nn/gradients.hpp"
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

/// CHECKs every parameter gradient and every δ of a against b: relative_error ≤ tol (max norm
/// per tensor), each named in the report.
template <class M>
void check_close(const Gradients<M>& a, const Gradients<M>& b, double tol) {
    for_each_parameter_pair<typename M::composition>(a.parameters(), b.parameters(), [&](auto ref, const auto& x, const auto& y) {
        INFO("∂J/∂ " << decltype(ref)::description());
        CHECK(relative_error(x, y) <= tol);
    });
    a.for_each_delta([&]<std::size_t L>(const auto& d) {
        INFO("δ of parameter layer " << L);
        CHECK(relative_error(d, b.template delta<L>()) <= tol);
    });
}

/// CHECKs every parameter of model a against b's: relative_error ≤ tol per tensor.
template <class M>
void check_close(const M& a, const M& b, double tol) {
    for_each_parameter_pair<typename M::composition>(a.parameters(), b.parameters(), [&](auto ref, const auto& x, const auto& y) {
        INFO(decltype(ref)::description());
        CHECK(relative_error(x, y) <= tol);
    });
}

}  // namespace typegrad::test
