// Cross-entropy after a sigmoid and log-likelihood after a softmax: finite J and gradient for any
// finite pre-activation, δ = a − y at the output (the engine's rewrite, ad/rewrite.hpp), the
// same from the reference, and the three-way check where the textbook formulas are still
// finite. Tolerances: 1e-12 relative (autodiff vs reference, double), 1e-6 (vs central
// differences, h = 1e-6), exact where a value is known exactly.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/train/sgd.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

template <class T>
using SigmoidCE = Model<T, decltype(input<5> | dense<4> | tanh | dense<3> | sigmoid), cost::CrossEntropy>;
template <class T>
using SoftmaxLL = Model<T, decltype(input<5> | dense<4> | relu | dense<3> | softmax), cost::LogLikelihood>;

/// Output logits z = bias exactly: the last layer's weights are 0.
template <class M>
void set_logits(M& net, std::initializer_list<double> z) {
    net.template weights<1>().fill(0);
    std::size_t i = 0;
    for (double v : z) net.template biases<1>()[i++] = static_cast<typename M::value_type>(v);
}

template <class G>
bool all_finite(const G& g) {
    bool ok = true;
    g.for_each_parameter([&](auto, const auto& t) {
        for (auto v : t) ok &= std::isfinite(v);
    });
    return ok;
}

}  // namespace

TEMPLATE_TEST_CASE("sigmoid + cross-entropy: confident predictions give a finite J and δ = a − y", "[ad][stable]", float,
                   double) {
    using M = SigmoidCE<TestType>;
    M net{1};
    set_logits(net, {17, -40, 120});  // σ(17) is 1.0f; the textbook ln(1 − a) is −∞ there
    typename M::input_type x;
    x.fill(TestType(0.5));
    typename M::output_type y{};
    y[0] = 1;  // right and confident; wrong and confident; wrong and very confident
    const auto ad = autodiff::backprop(net, x, y);
    const auto ref = reference::backprop(net, x, y);
    CHECK(all_finite(ad));
    CHECK(all_finite(ref));
    const double j = autodiff::cost(net, x, y);
    CHECK(std::isfinite(j));
    CHECK_THAT(j, Catch::Matchers::WithinRel(120.0, 1e-6));  // ≈ 0 + 0 + 120: ln(1 + e^−|z|) + max(z, 0) − z y
    // δ at the output is a − y, exactly as computed from a = σ(z)
    const auto a = net.forward(x);
    for (std::size_t i = 0; i < 3; ++i) CHECK(ad.template delta<1>()[i] == a[i] - y[i]);
    CHECK(max_relative_error(ad, ref) <= (std::is_same_v<TestType, float> ? 1e-6 : 1e-12));
}

TEMPLATE_TEST_CASE("softmax + log-likelihood: logits (120, 0, −5) give a finite J and δ = a − y", "[ad][stable]", float,
                   double) {
    using M = SoftmaxLL<TestType>;
    M net{2};
    set_logits(net, {120, 0, -5});
    typename M::input_type x;
    x.fill(TestType(0.25));
    for (std::size_t label : {0, 1}) {
        INFO("label " << label);
        typename M::output_type y{};
        y[label] = 1;
        const auto ad = autodiff::backprop(net, x, y);
        const auto ref = reference::backprop(net, x, y);
        CHECK(all_finite(ad));
        CHECK(all_finite(ref));
        const double j = autodiff::cost(net, x, y);
        CHECK(std::isfinite(j));
        // −ln softmax(z)_label = lse(z) − z_label, lse(z) ≈ 120
        CHECK_THAT(j, Catch::Matchers::WithinAbs(label == 0 ? 0.0 : 120.0, 1e-3));
        const auto a = net.forward(x);
        for (std::size_t i = 0; i < 3; ++i) CHECK(ad.template delta<1>()[i] == a[i] - y[i]);
        CHECK(max_relative_error(ad, ref) <= (std::is_same_v<TestType, float> ? 1e-6 : 1e-12));
    }
}

TEST_CASE("the fused costs: autodiff = reference = finite differences where all are finite", "[ad][stable][gradient]") {
    SigmoidCE<double> a{3};
    SoftmaxLL<double> b{4};
    Rng rng(5);
    for (int example = 0; example < 3; ++example) {
        INFO("example " << example);
        typename SigmoidCE<double>::input_type x;
        typename SigmoidCE<double>::output_type y;
        test::random_example<SigmoidCE<double>>(rng, x, y);
        const auto ra = gradcheck(a, x, y, {.step = 1e-6});
        CHECK(ra.autodiff_vs_reference <= 1e-12);
        CHECK(ra.autodiff_vs_fd <= 1e-6);
        CHECK(ra.reference_vs_fd <= 1e-6);
        // J agrees with the textbook formula where that is finite
        CHECK_THAT(ra.cost, Catch::Matchers::WithinRel(test::cost_of(a, x, y), 1e-12));
        const auto rb = gradcheck(b, x, y, {.step = 1e-6});
        CHECK(rb.autodiff_vs_reference <= 1e-12);
        CHECK(rb.autodiff_vs_fd <= 1e-6);
        CHECK(rb.reference_vs_fd <= 1e-6);
        CHECK_THAT(rb.cost, Catch::Matchers::WithinRel(test::cost_of(b, x, y), 1e-12));
    }
}

TEST_CASE("a ReLU network trains with cross-entropy without diverging", "[ad][stable][train]") {
    using M = Model<float, decltype(input<784> | dense<30> | relu | dense<10> | sigmoid), cost::CrossEntropy>;
    const auto data = data::synthetic_split(3000, 500, 6);
    M net{7, init::Scheme::article};  // N(0, 1) weights: large pre-activations, saturated sigmoids from the first batch
    train::Trainer<M> trainer(net, {.epochs = 2, .batch = 10, .eta = 0.5, .seed = 8});
    const auto history = trainer.run(data.train, data.test);  // throws train::Diverged on a NaN
    CHECK(train::parameters_finite(net));
    CHECK(history.back().accuracy > 0.3);
}

TEST_CASE("a softmax classifier trains through the default (batched) engine", "[ad][stable][train]") {
    using M = Model<float, decltype(input<784> | dense<30> | tanh | dense<10> | softmax), cost::LogLikelihood>;
    STATIC_REQUIRE(std::is_same_v<train::Trainer<M>, train::Trainer<M, train::AutodiffEngine<M>>>);
    const auto data = data::synthetic_split(3000, 500, 9);
    M net{10};
    train::Trainer<M> trainer(net, {.epochs = 2, .batch = 10, .eta = 0.1, .seed = 11});
    const auto history = trainer.run(data.train, data.test);
    CHECK(history.back().accuracy > 0.5);
}
