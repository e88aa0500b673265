#include <catch2/catch.hpp>

#include "typegrad/data/dataset.hpp"
#include "typegrad/train/sgd.hpp"

using namespace typegrad;

namespace {

// A tiny dataset of 3x3 "images" with labels 0..2, enough to exercise the update rule.
data::Dataset tiny(std::size_t n, std::uint64_t seed) {
    data::Dataset d;
    d.rows = 3;
    d.cols = 3;
    Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        for (int k = 0; k < 9; ++k) d.pixels.push_back(static_cast<std::uint8_t>(rng.below(256)));
        d.labels.push_back(static_cast<std::uint8_t>(rng.below(3)));
    }
    return d;
}

}  // namespace

TEST_CASE("one step is W ← W − η/m · Σ ∂J/∂W over the batch (the article's update_mini_batch)", "[train]") {
    using M = Network<double, 9, 4, 3>;
    const auto d = tiny(3, 1);
    M net{2};
    const M before = net;
    train::Trainer<M> trainer(net, {.epochs = 1, .batch = 3, .eta = 0.5, .seed = 3});
    trainer.epoch(d);  // one batch of all three examples, in any order: the sum does not depend on it

    Gradients<M> sum;
    for (std::size_t i = 0; i < 3; ++i) {
        M::input_type x;
        M::output_type y;
        train::load_example<M>(d, i, x, y);
        const auto g = reference::backprop(before, x, y);
        sum.weights<0>() = sum.weights<0>() + g.weights<0>();
        sum.biases<1>() = sum.biases<1>() + g.biases<1>();
    }
    for (std::size_t k = 0; k < 36; ++k)
        CHECK_THAT(net.weights<0>().data()[k],
                   Catch::Matchers::WithinAbs(before.weights<0>().data()[k] - 0.5 / 3 * sum.weights<0>().data()[k], 1e-14));
    for (std::size_t k = 0; k < 3; ++k)
        CHECK_THAT(net.biases<1>()[k], Catch::Matchers::WithinAbs(before.biases<1>()[k] - 0.5 / 3 * sum.biases<1>()[k], 1e-14));
}

TEST_CASE("same seed, same weights; another seed, other weights", "[train]") {
    using M = Network<float, 9, 5, 3>;
    const auto d = tiny(57, 4);  // 57 = 5 batches of 10 and a last batch of 7
    auto run = [&](std::uint64_t seed) {
        M net{seed};
        train::Trainer<M> trainer(net, {.epochs = 2, .batch = 10, .eta = 3.0, .seed = seed});
        trainer.epoch(d);
        trainer.epoch(d);
        return net;
    };
    const M a = run(1), b = run(1), c = run(2);
    REQUIRE((a.weights<0>() == b.weights<0>()));
    REQUIRE((a.biases<1>() == b.biases<1>()));
    REQUIRE((a.weights<0>() != c.weights<0>()));
}

TEST_CASE("the shuffle changes the order from epoch to epoch but not the result for a fixed seed", "[train]") {
    using M = Network<double, 9, 5, 3>;
    const auto d = tiny(40, 5);
    M a{1}, b{1};
    train::Trainer<M> ta(a, {.epochs = 1, .batch = 1, .eta = 1.0, .seed = 7});
    train::Trainer<M> tb(b, {.epochs = 1, .batch = 1, .eta = 1.0, .seed = 8});
    ta.epoch(d);
    tb.epoch(d);
    // batch 1 makes plain SGD order-dependent: different shuffles, different weights
    REQUIRE((a.weights<0>() != b.weights<0>()));
}

TEST_CASE("invalid hyper-parameters are rejected", "[train]") {
    using M = Network<float, 9, 3>;
    M net{1};
    REQUIRE_THROWS_WITH((train::Trainer<M>(net, {.batch = 0})), Catch::Matchers::Contains("batch"));
    REQUIRE_THROWS_WITH((train::Trainer<M>(net, {.eta = 0.0})), Catch::Matchers::Contains("eta"));
    REQUIRE_THROWS_WITH((train::Trainer<M>(net, {.eta = -1.0})), Catch::Matchers::Contains("eta"));
}

TEST_CASE("the default synthetic digits are learned: >= 90% test accuracy within 5 epochs", "[train][synthetic]") {
    using M = Network<float, 784, 30, 10>;
    const auto split = data::synthetic_split(10000, 2000, 42);
    M net{42};
    train::Trainer<M> trainer(net, {.epochs = 5, .batch = 10, .eta = 3.0, .seed = 42});
    const auto history = trainer.run(split.train, split.test, [](const train::EpochStats&) {}, [](std::size_t, std::size_t) {});
    REQUIRE(history.size() == 5);
    for (const auto& e : history) INFO("epoch " << e.epoch << ": " << e.accuracy);
    double best = 0;
    for (const auto& e : history) best = std::max(best, e.accuracy);
    REQUIRE(best >= 0.90);
    // and it is learning, not guessing: the first epoch is already far above chance
    REQUIRE(history.front().accuracy > 0.3);
}

TEST_CASE("a diverging run stops with the epoch and the batch", "[train][diverge]") {
    // A linear output layer with a large step blows up geometrically (a sigmoid output would
    // saturate instead): the cost overflows to inf, then NaN.
    using M = Model<float, decltype(input<9> | dense<5> | tanh_ | dense<3>)>;
    const auto d = tiny(100, 6);
    M net{1};
    train::Trainer<M> trainer(net, {.epochs = 50, .batch = 10, .eta = 50.0, .seed = 1});
    try {
        trainer.run(d, d, [](const train::EpochStats&) {}, [](std::size_t, std::size_t) {});
        FAIL("training with eta = 50 did not diverge");
    } catch (const train::Diverged& e) {
        INFO(e.what());
        CHECK(e.epoch() >= 1);
        CHECK(std::string(e.what()).find("training diverged") != std::string::npos);
        CHECK(std::string(e.what()).find("epoch " + std::to_string(e.epoch())) != std::string::npos);
    }
}

TEST_CASE("resuming from a trainer's state gives bit-identical weights", "[train][resume]") {
    using M = Network<float, 9, 5, 3>;
    const auto d = tiny(57, 7);
    M straight{3};
    train::Trainer<M> t1(straight, {.epochs = 3, .batch = 10, .eta = 3.0, .seed = 4});
    for (int e = 0; e < 3; ++e) t1.epoch(d);

    M first{3};
    train::Trainer<M> t2(first, {.epochs = 3, .batch = 10, .eta = 3.0, .seed = 4});
    t2.epoch(d);
    const auto saved_state = t2.state();
    const M saved_net = first;  // what a checkpoint holds

    M resumed = saved_net;
    train::Trainer<M> t3(resumed, {.epochs = 3, .batch = 10, .eta = 3.0, .seed = 999});  // the seed is restored too
    t3.restore(saved_state);
    REQUIRE(t3.epochs_done() == 1);
    t3.epoch(d);
    t3.epoch(d);
    REQUIRE((resumed.weights<0>() == straight.weights<0>()));
    REQUIRE((resumed.biases<1>() == straight.biases<1>()));
}

TEST_CASE("step decay: η × factor every k epochs, reported per epoch, and applied to the steps", "[train][schedule]") {
    const train::Options o{.epochs = 5, .batch = 10, .eta = 0.5, .seed = 1, .decay_every = 2, .decay_factor = 0.1};
    CHECK(o.eta_at(1) == 0.5);
    CHECK(o.eta_at(2) == 0.5);
    CHECK(o.eta_at(3) == Approx(0.05).epsilon(1e-15));
    CHECK(o.eta_at(5) == Approx(0.005).epsilon(1e-15));
    CHECK(train::Options{.eta = 0.5}.eta_at(7) == 0.5);  // no schedule: constant
    using M = Network<float, 784, 10, 10>;
    const auto d = data::synthetic_split(200, 50, 2);
    M a{3}, b{3};
    const auto history = train::Trainer<M>(a, o).run(d.train, d.test);
    REQUIRE(history.size() == 5);
    CHECK(history[0].eta == 0.5);
    CHECK(history[2].eta == Approx(0.05).epsilon(1e-15));
    // the third epoch's steps use η/10: a constant-η run differs from epoch 3 on
    train::Trainer<M>(b, {.epochs = 5, .batch = 10, .eta = 0.5, .seed = 1}).run(d.train, d.test);
    CHECK_FALSE((a.weights<0>() == b.weights<0>()));
    CHECK_THROWS_AS(train::Trainer<M>(a, {.decay_every = 1, .decay_factor = 0.0}), std::invalid_argument);
}

TEST_CASE("momentum: v ← μv + g, p ← p − ηv (and Nesterov's p ← p − η(g + μv)); its state resumes a run exactly", "[train][optimizer]") {
    using M = Network<double, 784, 10, 10>;
    const auto d = data::synthetic_split(100, 20, 4);
    const std::vector<std::size_t> first{0, 1, 2, 3}, second{4, 5, 6, 7};
    for (const bool nesterov : {false, true}) {
        INFO("nesterov " << nesterov);
        M net{5};
        const M start = net;
        train::Momentum opt;
        opt.mu = 0.9;
        opt.nesterov = nesterov;
        train::Trainer<M, train::AutodiffEngine<M>, train::Momentum> trainer(net, {.batch = 4, .eta = 0.1, .seed = 6}, opt);
        // the gradients of the two steps, computed independently
        train::AutodiffEngine<M> engine;
        Gradients<M> g1, g2;
        engine.gradient(start, d.train, first, g1);
        trainer.step(d.train, first);
        const M after_one = net;
        engine.gradient(after_one, d.train, second, g2);
        trainer.step(d.train, second);
        // by hand, for one weight: v1 = g1/m, v2 = μ v1 + g2/m
        const double v1 = g1.weights<0>()(300, 3) / 4, v2 = 0.9 * v1 + g2.weights<0>()(300, 3) / 4;
        const double step1 = nesterov ? g1.weights<0>()(300, 3) / 4 + 0.9 * v1 : v1;
        const double step2 = nesterov ? g2.weights<0>()(300, 3) / 4 + 0.9 * v2 : v2;
        CHECK(after_one.weights<0>()(300, 3) == Approx(start.weights<0>()(300, 3) - 0.1 * step1).epsilon(1e-12));
        CHECK(net.weights<0>()(300, 3) == Approx(after_one.weights<0>()(300, 3) - 0.1 * step2).epsilon(1e-12));
        // resuming from the state after the first step gives the same second step, bit for bit
        M resumed = after_one;
        train::Trainer<M, train::AutodiffEngine<M>, train::Momentum> again(resumed, {.batch = 4, .eta = 0.1, .seed = 6}, opt);
        auto state = trainer.state();
        state.optimizer_state = [&] {
            M scratch = start;
            train::Trainer<M, train::AutodiffEngine<M>, train::Momentum> one(scratch, {.batch = 4, .eta = 0.1, .seed = 6}, opt);
            one.step(d.train, first);
            return one.state().optimizer_state;
        }();
        again.restore(state);
        again.step(d.train, second);
        CHECK((resumed.weights<0>() == net.weights<0>()));
        CHECK((resumed.biases<1>() == net.biases<1>()));
    }
}
