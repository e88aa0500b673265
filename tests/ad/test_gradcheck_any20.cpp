// gradcheck for any layer (issue 20, item 5). A layer without a hand-written reference rule is
// checked two ways — autodiff against central finite differences of J — and the result says the
// reference was not there, rather than the check failing to compile. And every Activation<F> has
// its own derivative compared with finite differences of F::value at 64 points of [−4, 4]: for a
// user's F the reference rule calls the same F::derivative as autodiff, so a wrong derivative
// would agree with itself there; this check (and finite differences of J) catches it. All in
// double, tolerances written below.
#include <catch2/catch.hpp>

#include <cmath>
#include <string_view>
#include <type_traits>

#include <typegrad/typegrad.hpp>

#include "../support/softplus.hpp"

using namespace typegrad;

namespace {

/// y = α ⊙ tanh(x), α one per unit: a layer of the user's with no reference::rule.
struct ScaledTanh {
    static constexpr std::string_view name = "scaled_tanh";
    template <class In>
    using output_shape = In;
    template <class In>
    using parameters = params<param<"α", In, init::Constant<3, 2>, ParamRole::scale>>;
    template <class X, class Alpha>
    using expression = expr::Hadamard<Alpha, expr::Map<fn::Tanh, X>>;
};

/// softplus with a wrong derivative: σ(x) + 0.01 (off by 1 % of its range).
struct WrongSoftplus {
    static constexpr std::string_view name = "wrong_softplus";
    template <class V>
    static V value(V x) noexcept {
        return test::Softplus::value(x);
    }
    template <class V>
    static V derivative(V x, V y) noexcept {
        return test::Softplus::derivative(x, y) + V(0.01);
    }
};

template <class M>
GradcheckResult check(std::uint64_t seed) {
    M net{seed};
    typename M::input_type x;
    typename M::output_type y;
    Rng rng(seed + 1);
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    y.fill(0.0);
    y[1] = 1.0;
    return gradcheck(net, x, y);
}

constexpr double fd_limit = 1e-6;   // central differences, h = 1e-6, in double
constexpr double ad_ref_limit = 1e-12;

}  // namespace

TEST_CASE("gradcheck: a layer without a reference rule is checked against finite differences", "[gradcheck][custom]") {
    using M = Model<double, decltype(input<5> | dense<4> | ScaledTanh{} | dense<3> | softmax), cost::LogLikelihood>;
    STATIC_REQUIRE_FALSE(reference::has_rules_v<M>);
    const GradcheckResult r = check<M>(7);
    CHECK_FALSE(r.reference);
    CHECK(r.fd_entries == M::parameter_count);
    CHECK(r.autodiff_vs_fd <= fd_limit);
    CHECK(r.autodiff_vs_fd > 0);  // it did compare something
    // inside a block too: the block's rule needs every inner layer's
    using B = Model<double, decltype(input<4> | residual(dense<4> | ScaledTanh{}) | dense<2> | softmax), cost::LogLikelihood>;
    STATIC_REQUIRE_FALSE(reference::has_rules_v<B>);
    const GradcheckResult rb = check<B>(8);
    CHECK_FALSE(rb.reference);
    CHECK(rb.autodiff_vs_fd <= fd_limit);
}

TEST_CASE("gradcheck: with every rule present, the three-way check as before", "[gradcheck]") {
    using M = Model<double, decltype(input<5> | dense<4> | gelu | residual(dense<4> | silu) | dense<3> | softmax), cost::LogLikelihood>;
    STATIC_REQUIRE(reference::has_rules_v<M>);
    const GradcheckResult r = check<M>(9);
    CHECK(r.reference);
    CHECK(r.autodiff_vs_reference <= ad_ref_limit);
    CHECK(r.autodiff_vs_fd <= fd_limit);
    CHECK(r.reference_vs_fd <= fd_limit);
    // GELU and the SiLU inside the block, 64 points each
    CHECK(r.activation_points == 2 * 64);
    CHECK(r.activations_vs_fd <= fd_limit);
}

TEST_CASE("gradcheck: an activation's derivative is checked against its function", "[gradcheck][custom]") {
    using Good = Model<double, decltype(input<5> | dense<4> | Activation<test::Softplus>{} | dense<3> | softmax), cost::LogLikelihood>;
    const GradcheckResult good = check<Good>(10);
    CHECK(good.activation_points == 64);
    CHECK(good.activations_vs_fd <= fd_limit);
    CHECK(good.autodiff_vs_reference <= ad_ref_limit);

    using Wrong = Model<double, decltype(input<5> | dense<4> | Activation<WrongSoftplus>{} | dense<3> | softmax), cost::LogLikelihood>;
    const GradcheckResult wrong = check<Wrong>(10);
    // the reference calls the same wrong derivative: autodiff and reference agree with each other
    CHECK(wrong.autodiff_vs_reference <= ad_ref_limit);
    // but not with the function: 0.01 against a derivative of at most 1
    CHECK(wrong.activations_vs_fd > 5e-3);
    CHECK(wrong.autodiff_vs_fd > fd_limit);
}
