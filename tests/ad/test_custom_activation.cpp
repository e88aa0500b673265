// A new activation is one struct: its name, its value and its local derivative. Nothing else is
// written for it, and gradients flow through any network or expression that uses it.
#include <cmath>

#include <catch2/catch.hpp>

#include "typegrad/expr/build.hpp"
#include "typegrad/autodiff/gradcheck.hpp"
#include "../support/gradient_check.hpp"
#include "../support/softplus.hpp"  // the one struct: softplus(x) = ln(1 + eˣ), softplus'(x) = σ(x)

using typegrad::test::Softplus;

using namespace typegrad;

TEST_CASE("a user-defined activation trains through autodiff and matches finite differences", "[ad][custom]") {
    STATIC_REQUIRE(ElementwiseFunction<Softplus>);
    using M = Model<double, decltype(input<6> | dense<5> | Activation<Softplus>{} | dense<3> | sigmoid)>;
    M m{1};
    Rng rng(2);
    M::input_type x;
    M::output_type y;
    test::random_example<M>(rng, x, y);
    const auto r = gradcheck(m, x, y);
    CHECK(r.autodiff_vs_fd <= 1e-6);
    CHECK(r.autodiff_vs_reference <= 1e-12);
    const auto lines = autodiff::derivation<M>();
    CHECK(std::find(lines.begin(), lines.end(), "δ₀ = (W₁ δ₁) ⊙ softplus'(z₀)") != lines.end());
}

TEST_CASE("a user-defined activation in a hand-written expression", "[ad][custom][expr]") {
    using namespace typegrad::expr;
    constexpr expr::Param<struct w_, 4> w;
    constexpr expr::Input<struct u_, 4> u;
    constexpr auto J = sum(map<Softplus>(hadamard(w, u)));
    const double wv[4] = {0.5, -1.0, 2.0, 0.0}, uv[4] = {1.0, 2.0, -0.5, 3.0};
    double dw[4];
    const double j = ad::gradient(J, ad::bind(w, wv, dw), ad::bind(u, uv));
    double expect_j = 0;
    for (int i = 0; i < 4; ++i) {
        expect_j += std::log(1 + std::exp(wv[i] * uv[i]));
        // d/dw softplus(w u) = σ(w u) u
        CHECK_THAT(dw[i], Catch::Matchers::WithinRel(uv[i] / (1 + std::exp(-wv[i] * uv[i])), 1e-14));
    }
    CHECK_THAT(j, Catch::Matchers::WithinRel(expect_j, 1e-14));
}
