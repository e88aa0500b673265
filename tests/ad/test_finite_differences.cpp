// autodiff against central finite differences, in double, for every built-in activation and
// cost, through the public three-way check (typegrad::gradcheck). Tolerance: with h = 1e-6 the
// central difference is good to about 1e-9 relative, so a correct gradient agrees to ≤ 1e-6 in
// the max norm per tensor; wrong derivative rules miss by far more.
#include <catch2/catch.hpp>

#include "typegrad/autodiff/gradcheck.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

constexpr double fd_tolerance = 1e-6;

template <class M>
void check(std::uint64_t seed) {
    M m{seed};
    Rng rng(seed + 100);
    typename M::input_type x;
    typename M::output_type y;
    test::random_example<M>(rng, x, y);
    const auto r = gradcheck(m, x, y);
    INFO("autodiff vs fd " << r.autodiff_vs_fd << ", reference vs fd " << r.reference_vs_fd << ", autodiff vs reference "
                           << r.autodiff_vs_reference);
    CHECK(r.fd_entries == M::parameter_count);
    CHECK(r.autodiff_vs_fd <= fd_tolerance);
    CHECK(r.reference_vs_fd <= fd_tolerance);
    CHECK(r.autodiff_vs_reference <= 1e-12);
}

}  // namespace

TEST_CASE("sigmoid + quadratic (the article's)", "[ad][fd]") { check<Network<double, 9, 7, 4>>(1); }
TEST_CASE("tanh hidden layers", "[ad][fd]") {
    check<Model<double, decltype(input<6> | dense<5> | tanh_ | dense<4> | tanh_ | dense<3> | sigmoid)>>(2);
}
TEST_CASE("relu hidden layers", "[ad][fd]") {
    // relu is not differentiable at 0; with random weights no pre-activation lands within h of 0
    check<Model<double, decltype(input<6> | dense<8> | relu | dense<3> | sigmoid)>>(3);
}
TEST_CASE("softmax output + log-likelihood", "[ad][fd]") {
    check<Model<double, decltype(input<6> | dense<5> | sigmoid | dense<4> | softmax), cost::LogLikelihood>>(4);
}
TEST_CASE("sigmoid output + cross-entropy", "[ad][fd]") { check<Model<double, sigmoid_mlp_t<6, 5, 3>, cost::CrossEntropy>>(5); }
TEST_CASE("a linear output layer (no activation) + quadratic", "[ad][fd]") {
    check<Model<double, decltype(input<5> | dense<4> | tanh_ | dense<2>)>>(6);
}
TEST_CASE("the article's 784-30-10, sampled", "[ad][fd]") {
    using M = Network<double, 784, 30, 10>;
    M m{7};
    Rng rng(8);
    M::input_type x;
    M::output_type y;
    test::random_example<M>(rng, x, y);
    const auto r = gradcheck(m, x, y, {.step = 1e-6, .samples_per_tensor = 500});
    CHECK(r.autodiff_vs_fd <= fd_tolerance);
    CHECK(r.reference_vs_fd <= fd_tolerance);
    CHECK(r.autodiff_vs_reference <= 1e-12);
}
