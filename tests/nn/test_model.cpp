#include <cmath>

#include <catch2/catch.hpp>

#include "typegrad/nn/model.hpp"

using namespace typegrad;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

TEST_CASE("weights have the article's orientation (n_in, n_out)", "[nn][model]") {
    using Net = Network<double, 784, 30, 10>;
    STATIC_REQUIRE(Net::layers == 2);
    STATIC_REQUIRE(std::is_same_v<Net::weights_type<0>, xt::xtensor_fixed<double, xt::xshape<784, 30>>>);
    STATIC_REQUIRE(std::is_same_v<Net::biases_type<1>, xt::xtensor_fixed<double, xt::xshape<10>>>);
    STATIC_REQUIRE(Net::parameter_count == 784 * 30 + 30 + 30 * 10 + 10);
    Net net{1};
    REQUIRE(net.weights<0>().shape()[0] == 784);
    REQUIRE(net.weights<0>().shape()[1] == 30);
}

TEST_CASE("initialisation is N(0, 1) and a function of the seed only", "[nn][model]") {
    Network<double, 784, 100, 10> a{7}, b{7}, c{8};
    REQUIRE((a.weights<0>() == b.weights<0>()));
    REQUIRE((a.biases<1>() == b.biases<1>()));
    REQUIRE((a.weights<0>() != c.weights<0>()));
    double sum = 0, sq = 0;
    for (double v : a.weights<0>()) {
        sum += v;
        sq += v * v;
    }
    const double n = 784.0 * 100.0;
    // 78400 draws: the sample mean is within 5 standard errors (5/sqrt(n) = 0.018) of 0 and the
    // variance within 0.05 of 1.
    CHECK_THAT(sum / n, WithinAbs(0.0, 0.018));
    CHECK_THAT(sq / n, WithinAbs(1.0, 0.05));
}

TEST_CASE("copies are deep", "[nn][model]") {
    Network<float, 5, 4, 3> a{3};
    auto b = a;
    b.weights<0>()(0, 0) += 1.0f;
    REQUIRE(a.weights<0>()(0, 0) != b.weights<0>()(0, 0));
    a = b;
    REQUIRE((a.weights<0>() == b.weights<0>()));
}

TEMPLATE_TEST_CASE("forward computes a = σ(Wᵀa + b) layer by layer", "[nn][model]", float, double) {
    using T = TestType;
    Network<T, 7, 5, 4, 3> net{11};
    Vector<T, 7> x;
    for (std::size_t i = 0; i < 7; ++i) x[i] = static_cast<T>(0.1 * static_cast<double>(i) - 0.3);
    // the same thing in plain loops, in double
    std::vector<double> a(x.begin(), x.end());
    auto layer = [&](const auto& W, const auto& b) {
        const std::size_t n_in = W.shape()[0], n_out = W.shape()[1];
        std::vector<double> z(n_out);
        for (std::size_t j = 0; j < n_out; ++j) {
            double s = b[j];
            for (std::size_t i = 0; i < n_in; ++i) s += double(W(i, j)) * a[i];
            z[j] = 1.0 / (1.0 + std::exp(-s));
        }
        a = z;
    };
    layer(net.template weights<0>(), net.template biases<0>());
    layer(net.template weights<1>(), net.template biases<1>());
    layer(net.template weights<2>(), net.template biases<2>());
    const auto out = net.forward(x);
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    for (std::size_t j = 0; j < 3; ++j) CHECK_THAT(double(out[j]), WithinAbs(a[j], tol));
}

TEST_CASE("models of other compositions: tanh, relu and a stated input width", "[nn][model]") {
    Model<double, decltype(input<4> | linear<4, 3> | tanh_ | dense<2> | relu)> m{5};
    Vector<double, 4> x = {0.5, -1.0, 0.25, 2.0};
    const auto out = m.forward(x);
    std::vector<double> h(3);
    for (std::size_t j = 0; j < 3; ++j) {
        double s = m.biases<0>()[j];
        for (std::size_t i = 0; i < 4; ++i) s += m.weights<0>()(i, j) * x[i];
        h[j] = std::tanh(s);
    }
    for (std::size_t j = 0; j < 2; ++j) {
        double s = m.biases<1>()[j];
        for (std::size_t i = 0; i < 3; ++i) s += m.weights<1>()(i, j) * h[i];
        CHECK_THAT(out[j], WithinAbs(s > 0 ? s : 0.0, 1e-14));
    }
}
