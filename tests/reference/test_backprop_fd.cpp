// The hand-written backprop against central finite differences of J = ½‖a − y‖², in double.
#include <cmath>

#include <catch2/catch.hpp>

#include "typegrad/reference/backprop.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

// Step h = 1e-6: truncation error O(h²) ≈ 1e-12, rounding error ≈ ε·J/h ≈ 1e-10, so a
// correct gradient agrees to within |fd − g| ≤ 1e-8 + 1e-6·|g|; a wrong one (a missing σ', a
// transposed W) misses by orders of magnitude more.
constexpr double h = 1e-6;
constexpr double abs_tol = 1e-8;
constexpr double rel_tol = 1e-6;

bool close(double fd, double g) { return std::abs(fd - g) <= abs_tol + rel_tol * std::abs(g); }

// Checks every parameter, or every `stride`-th weight of large layers (all biases always).
template <class M>
void check_against_finite_differences(std::uint64_t seed, std::size_t stride) {
    M m{seed};
    Rng rng(seed + 1);
    typename M::input_type x;
    typename M::output_type y;
    test::random_example<M>(rng, x, y);
    const auto g = reference::backprop(m, x, y);

    std::size_t checked = 0, failed = 0;
    for_each_parameter(m, g, [&](auto ref, auto& p, const auto& dp) {
        using R = decltype(ref);
        // every entry of small tensors (biases), every stride-th of the weight matrices
        const std::size_t step = R::name == "W" ? stride : 1;
        for (std::size_t k = 0; k < p.size(); k += step) {
            const double fd = test::central_difference(m, p.data()[k], x, y, h);
            ++checked;
            if (!close(fd, dp.data()[k])) {
                ++failed;
                UNSCOPED_INFO(R::description() << "[" << k << "]: finite difference " << fd << ", backprop " << dp.data()[k]);
            }
        }
        // δᴸ = ∂J/∂zᴸ = ∂J/∂bᴸ for one example
        if constexpr (R::name == "b") REQUIRE((g.template delta<R::layer_index>() == dp));
    });
    INFO(checked << " parameters checked");
    REQUIRE(failed == 0);
    REQUIRE(checked > 0);
}

}  // namespace

TEST_CASE("reference backprop matches finite differences: 7-5-4-3 (two hidden layers)", "[reference][fd]") {
    check_against_finite_differences<Network<double, 7, 5, 4, 3>>(1, 1);
}

TEST_CASE("reference backprop matches finite differences: 4-1-6-2-3 (a width-1 layer, three hidden)",
          "[reference][fd]") {
    check_against_finite_differences<Network<double, 4, 1, 6, 2, 3>>(2, 1);
}

TEST_CASE("reference backprop matches finite differences: 20-10 (no hidden layer)", "[reference][fd]") {
    check_against_finite_differences<Network<double, 20, 10>>(3, 1);
}

TEST_CASE("reference backprop matches finite differences: the article's 784-30-10", "[reference][fd]") {
    check_against_finite_differences<Network<double, 784, 30, 10>>(4, 1);
}

TEST_CASE("reference backprop matches finite differences: tanh and relu layers", "[reference][fd]") {
    using M = Model<double, decltype(input<6> | dense<5> | tanh_ | dense<4> | relu | dense<3> | sigmoid)>;
    check_against_finite_differences<M>(5, 1);
}

TEST_CASE("reference backprop matches finite differences: cross-entropy cost", "[reference][fd]") {
    using M = Model<double, sigmoid_mlp_t<8, 6, 4>, cost::CrossEntropy>;
    check_against_finite_differences<M>(6, 1);
}

TEST_CASE("the reference's output δ is (a − y) ⊙ σ'(z) for the quadratic cost", "[reference]") {
    Network<double, 3, 2> m{9};
    typename Network<double, 3, 2>::input_type x = {0.2, 0.0, 0.7};
    typename Network<double, 3, 2>::output_type y = {1.0, 0.0};
    const auto g = reference::backprop(m, x, y);
    for (std::size_t j = 0; j < 2; ++j) {
        double z = m.biases<0>()[j];
        for (std::size_t i = 0; i < 3; ++i) z += m.weights<0>()(i, j) * x[i];
        const double a = 1 / (1 + std::exp(-z));
        CHECK_THAT(g.delta<0>()[j], Catch::Matchers::WithinRel((a - y[j]) * a * (1 - a), 1e-12));
        for (std::size_t i = 0; i < 3; ++i) CHECK(g.weights<0>()(i, j) == x[i] * g.delta<0>()[j]);
    }
}

TEST_CASE("Accumulate::yes sums gradients over examples", "[reference]") {
    using M = Network<double, 5, 4, 3>;
    M m{10};
    Rng rng(11);
    M::input_type x1, x2;
    M::output_type y1, y2;
    test::random_example<M>(rng, x1, y1);
    test::random_example<M>(rng, x2, y2);
    const auto g1 = reference::backprop(m, x1, y1);
    const auto g2 = reference::backprop(m, x2, y2);
    Gradients<M> sum;
    reference::Workspace<M> ws;
    reference::backprop_into(m, x1, y1, sum, ws, Accumulate::no);
    reference::backprop_into(m, x2, y2, sum, ws, Accumulate::yes);
    for (std::size_t k = 0; k < 20; ++k)
        CHECK_THAT(sum.weights<0>().data()[k], Catch::Matchers::WithinRel(g1.weights<0>().data()[k] + g2.weights<0>().data()[k], 1e-14));
    for (std::size_t k = 0; k < 3; ++k)
        CHECK_THAT(sum.biases<1>()[k], Catch::Matchers::WithinRel(g1.biases<1>()[k] + g2.biases<1>()[k], 1e-14));
}
