// autodiff::backprop against the hand-written reference, in double: every δᴸ, ∂J/∂Wᴸ and
// ∂J/∂bᴸ agree to a relative error ≤ 1e-12 in the max norm, ‖ad − ref‖∞ / max(‖ad‖∞, ‖ref‖∞),
// tensor by tensor (typegrad::relative_error).
#include <catch2/catch.hpp>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/autodiff/gradcheck.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

constexpr double tolerance = 1e-12;

template <class M>
void check(std::uint64_t seed) {
    M m{seed};
    Rng rng(seed * 7 + 1);
    for (int example = 0; example < 3; ++example) {
        typename M::input_type x;
        typename M::output_type y;
        test::random_example<M>(rng, x, y);
        const auto ad = autodiff::backprop(m, x, y);
        const auto ref = reference::backprop(m, x, y);
        INFO("example " << example);
        test::check_close(ad, ref, tolerance);
        // and the gradient is not trivially zero
        REQUIRE(relative_error(ad.template biases<0>(), Vector<double, M::template fan_out<0>>{}) > 0);
    }
}

}  // namespace

TEST_CASE("autodiff = reference on the article's 784-30-10", "[ad][reference]") { check<Network<double, 784, 30, 10>>(1); }
TEST_CASE("autodiff = reference on 784-100-10", "[ad][reference]") { check<Network<double, 784, 100, 10>>(2); }
TEST_CASE("autodiff = reference on odd widths 7-5-4-3", "[ad][reference]") { check<Network<double, 7, 5, 4, 3>>(3); }
TEST_CASE("autodiff = reference with a layer of width 1 and four layers: 4-1-6-2-3", "[ad][reference]") {
    check<Network<double, 4, 1, 6, 2, 3>>(4);
}
TEST_CASE("autodiff = reference on six layers 13-9-8-7-6-5-2", "[ad][reference]") {
    check<Network<double, 13, 9, 8, 7, 6, 5, 2>>(5);
}
TEST_CASE("autodiff = reference without a hidden layer: 20-10", "[ad][reference]") { check<Network<double, 20, 10>>(6); }
TEST_CASE("autodiff = reference with tanh, relu and a stated input width", "[ad][reference]") {
    check<Model<double, decltype(input<6> | linear<6, 5> | tanh_ | dense<4> | relu | dense<3> | sigmoid)>>(7);
}
TEST_CASE("autodiff = reference with softmax and log-likelihood", "[ad][reference]") {
    check<Model<double, decltype(input<6> | dense<5> | tanh_ | dense<4> | softmax), cost::LogLikelihood>>(8);
}
TEST_CASE("autodiff = reference with sigmoid and cross-entropy", "[ad][reference]") {
    check<Model<double, sigmoid_mlp_t<8, 6, 4>, cost::CrossEntropy>>(9);
}

TEST_CASE("the autodiff δᴸ is the adjoint at zᴸ, and autodiff returns J", "[ad]") {
    using M = Network<double, 5, 4, 3>;
    M m{10};
    Rng rng(11);
    M::input_type x;
    M::output_type y;
    test::random_example<M>(rng, x, y);
    Gradients<M> g;
    autodiff::Workspace<M> ws;
    const double j = autodiff::backprop_into(m, x, y, g, ws);
    CHECK_THAT(j, Catch::Matchers::WithinRel(test::cost_of(m, x, y), 1e-14));
    using E = autodiff::ModelExpression<M>;
    const double* adj = ws.program.adjoint<E::z<1>>();
    for (std::size_t j2 = 0; j2 < 3; ++j2) CHECK(adj[j2] == g.delta<1>()[j2]);
    STATIC_REQUIRE(std::is_same_v<decltype(autodiff::backprop(m, x, y)), decltype(reference::backprop(m, x, y))>);
}
