// The expression language on its own: graph facts known at compile time, shared subexpressions,
// broadcasting, and gradients of hand-written costs.
#include <cmath>

#include <catch2/catch.hpp>

#include "typegrad/ad/print.hpp"
#include "typegrad/ad/program.hpp"
#include "typegrad/expr/build.hpp"

using namespace typegrad::expr;
namespace ad = typegrad::ad;
namespace fn = typegrad::expr::fn;
using typegrad::ad::Accumulate;
using Catch::Matchers::WithinRel;

namespace {
struct W_ {
    static constexpr std::string_view name = "W";
};
struct b_ {
    static constexpr std::string_view name = "b";
};
struct x_ {
    static constexpr std::string_view name = "x";
};
struct y_ {
    static constexpr std::string_view name = "y";
};
constexpr Param<W_, 3, 2> W;
constexpr Param<b_, 2> b;
constexpr Input<x_, 3> x;
constexpr Input<y_, 2> y;
}  // namespace

TEST_CASE("the graph of an expression type: topological order, shared nodes once, first writes", "[ad][graph]") {
    constexpr auto z = matT_vec(W, x) + b;
    constexpr auto J = squared_norm(z) + sum(sigmoid(z));  // z used twice
    using G = ad::Graph<std::remove_const_t<decltype(J)>>;
    using Z = std::remove_const_t<decltype(z)>;
    STATIC_REQUIRE(G::size == 9);  // W, x, Wᵀx, b, z, ‖z‖², σ(z), Σσ, J
    STATIC_REQUIRE(G::index_of<Z> < G::index_of<std::remove_const_t<decltype(J)>>);
    STATIC_REQUIRE(G::needs_adjoint[G::index_of<Z>]);
    STATIC_REQUIRE_FALSE(G::needs_adjoint[G::index_of<std::remove_const_t<decltype(x)>>]);
    // z has two users: exactly one of the two edges into z is the first write
    constexpr std::size_t norm = G::index_of<Node<SquaredNormOp, Z>>;
    constexpr std::size_t sig = G::index_of<Node<MapOp<fn::Sigmoid>, Z>>;
    STATIC_REQUIRE(G::first_write[norm][0] != G::first_write[sig][0]);
}

TEST_CASE("a node used twice gets the sum of both adjoints", "[ad][expr]") {
    constexpr auto z = matT_vec(W, x) + b;
    constexpr auto J = squared_norm(z) + sum(sigmoid(z));
    const double Wv[6] = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, bv[2] = {0.05, -0.1}, xv[3] = {1.0, -2.0, 0.5};
    double dW[6], db[2];
    const double j = ad::gradient(J, ad::bind(W, Wv, dW), ad::bind(b, bv, db), ad::bind(x, xv));
    double expect = 0;
    for (int k = 0; k < 2; ++k) {
        double zk = bv[k];
        for (int i = 0; i < 3; ++i) zk += Wv[i * 2 + k] * xv[i];
        const double s = 1 / (1 + std::exp(-zk));
        expect += zk * zk + s;
        const double dz = 2 * zk + s * (1 - s);
        CHECK_THAT(db[k], WithinRel(dz, 1e-14));
        for (int i = 0; i < 3; ++i) CHECK_THAT(dW[i * 2 + k], WithinRel(xv[i] * dz, 1e-14));
    }
    CHECK_THAT(j, WithinRel(expect, 1e-14));
}

TEST_CASE("softmax with log-likelihood written as an expression", "[ad][expr]") {
    constexpr auto J = -sum(y * log(softmax(matT_vec(W, x) + b)));
    const double Wv[6] = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, bv[2] = {0.05, -0.1}, xv[3] = {1.0, -2.0, 0.5}, yv[2] = {0.0, 1.0};
    double dW[6], db[2];
    ad::gradient(J, ad::bind(W, Wv, dW), ad::bind(b, bv, db), ad::bind(x, xv), ad::bind(y, yv));
    // the classic result: ∂J/∂z = softmax(z) − y
    double z[2], p[2];
    for (int k = 0; k < 2; ++k) {
        z[k] = bv[k];
        for (int i = 0; i < 3; ++i) z[k] += Wv[i * 2 + k] * xv[i];
    }
    const double m = std::max(z[0], z[1]);
    const double s = std::exp(z[0] - m) + std::exp(z[1] - m);
    for (int k = 0; k < 2; ++k) p[k] = std::exp(z[k] - m) / s;
    for (int k = 0; k < 2; ++k) CHECK_THAT(db[k], WithinRel(p[k] - yv[k], 1e-13));
}

TEST_CASE("a scalar broadcast against a vector receives the sum", "[ad][expr]") {
    constexpr Param<struct c_> c;  // a scalar parameter
    constexpr auto J = sum((x - c) * (x - c));
    const double cv[1] = {0.25}, xv[3] = {1.0, -2.0, 0.5};
    double dc[1];
    ad::gradient(J, ad::bind(c, cv, dc), ad::bind(x, xv));
    double expect = 0;
    for (double v : xv) expect += -2 * (v - cv[0]);
    CHECK_THAT(dc[0], WithinRel(expect, 1e-14));
}

TEST_CASE("gradients accumulate with Accumulate::yes and are overwritten with Accumulate::no", "[ad][expr]") {
    constexpr auto J = half * squared_norm(sigmoid(matT_vec(W, x) + b) - y);
    ad::Program<double, std::remove_const_t<decltype(J)>> p;
    const double Wv[6] = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, bv[2] = {0.05, -0.1}, xv[3] = {1.0, -2.0, 0.5}, yv[2] = {1, 0};
    double dW[6], db[2];
    p.bind_all(ad::bind(W, Wv, dW), ad::bind(b, bv, db), ad::bind(x, xv), ad::bind(y, yv));
    p.forward();
    p.backward();
    const double once = db[0];
    p.forward();
    p.backward(Accumulate::yes);
    CHECK_THAT(db[0], WithinRel(2 * once, 1e-15));
    p.forward();
    p.backward(Accumulate::no);
    CHECK(db[0] == once);
}

TEST_CASE("the derivation of a hand-written expression is printed from its types", "[ad][print]") {
    constexpr auto J = half * squared_norm(sigmoid(matT_vec(W, x) + b) - y);
    using D = ad::Derivation<std::remove_const_t<decltype(J)>>;
    CHECK(D::print<std::remove_const_t<decltype(J)>>().s == "½ ‖σ(Wᵀ x + b) − y‖²");
    const auto lines = D::gradients();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "∂J/∂W = x ((σ(Wᵀ x + b) − y) ⊙ σ'(Wᵀ x + b))ᵀ");
    CHECK(lines[1] == "∂J/∂b = (σ(Wᵀ x + b) − y) ⊙ σ'(Wᵀ x + b)");
}

TEST_CASE("DifferentiableOp names the contract of an op the engine differentiates through", "[ad][expr]") {
    using Wt = std::remove_const_t<decltype(W)>;
    using Xt = std::remove_const_t<decltype(x)>;
    using Yt = std::remove_const_t<decltype(y)>;
    STATIC_REQUIRE(DifferentiableOp<MatTVecOp, Wt, Xt>);
    STATIC_REQUIRE(DifferentiableOp<MapOp<fn::Sigmoid>, Xt>);
    // a fused cost differentiates only through z: the target and the output need no rule
    STATIC_REQUIRE(DifferentiableOp<SoftmaxLogLikelihoodOp, Yt, Yt, Node<SoftmaxOp, Yt>>);
    // f' has no rule of its own (typegrad differentiates once)
    STATIC_REQUIRE_FALSE(DifferentiableOp<DerivOp<fn::Sigmoid>, Xt, Xt>);
}
