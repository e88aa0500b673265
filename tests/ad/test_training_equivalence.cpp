// Training with the autodiff engine and with the hand-written reference from the same seed gives
// the same weights: relative error ≤ 1e-9 in the max norm per tensor after one epoch (double).
#include <catch2/catch.hpp>

#include "typegrad/data/dataset.hpp"
#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/train/sgd.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

TEST_CASE("one epoch with autodiff = one epoch with the reference", "[ad][train]") {
    using M = Network<double, 784, 30, 10>;
    const auto data = data::synthetic_digits(2000, 5);
    M a{9}, b{9};
    train::Trainer<M, train::AutodiffEngine<M>> ta(a, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 1});
    train::Trainer<M, train::ReferenceEngine<M>> tb(b, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 1});
    ta.epoch(data);
    tb.epoch(data);
    const M start{9};
    test::check_close(a, b, 1e-9);
    // and training moved the weights
    for_each_parameter_pair<typename M::composition>(a.parameters(), start.parameters(), [](auto, const auto& p, const auto& p0) {
        CHECK(relative_error(p, p0) > 1e-3);
    });
}

TEST_CASE("the default engine is autodiff", "[ad][train]") {
    using M = Network<float, 4, 3>;
    STATIC_REQUIRE(std::is_same_v<train::Trainer<M>, train::Trainer<M, train::AutodiffEngine<M>>>);
}
