// Nielsen's learning-rate schedule (halve η on a plateau of the validation accuracy, stop after N
// halvings), early stopping with patience, their state across a checkpoint, and the training
// accuracy per epoch (issue 11).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/train/monitor.hpp"
#include "typegrad/train/sgd.hpp"

using namespace typegrad;
using train::Decision;
using train::Monitor;
using train::PlateauRule;
using train::StopReason;

namespace {

/// Observes the accuracies of epochs 1, 2, … and returns the decisions.
std::vector<Decision> script(Monitor& m, const std::vector<double>& accuracies) {
    std::vector<Decision> out;
    for (std::size_t e = 0; e < accuracies.size(); ++e) out.push_back(m.observe(e + 1, accuracies[e]));
    return out;
}

// A small dataset of 3x3 "images" with labels 0..2 from a seeded generator.
data::Dataset tiny(std::size_t n, std::uint64_t seed) {
    data::Dataset d;
    d.rows = 3;
    d.cols = 3;
    Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t label = static_cast<std::uint8_t>(rng.below(3));
        for (int k = 0; k < 9; ++k)  // the label shows in the pixels, noisily: learnable, not perfectly
            d.pixels.push_back(static_cast<std::uint8_t>(k / 3 == label ? 128 + rng.below(128) : rng.below(160)));
        d.labels.push_back(label);
    }
    return d;
}

using M = Network<float, 9, 5, 3>;

template <class Model>
bool same_parameters(const Model& a, const Model& b) {
    return a.template weights<0>() == b.template weights<0>() && a.template biases<0>() == b.template biases<0>() &&
           a.template weights<1>() == b.template weights<1>() && a.template biases<1>() == b.template biases<1>();
}

}  // namespace

TEST_CASE("patience: stop after P epochs without a strictly greater validation accuracy", "[train][monitor]") {
    Monitor m(PlateauRule{.patience = 3});
    const auto d = script(m, {0.5, 0.6, 0.6, 0.55, 0.6});  // equal is not an improvement
    REQUIRE(d.size() == 5);
    CHECK(d[0].improved);
    CHECK(d[1].improved);
    CHECK_FALSE(d[2].improved);
    CHECK(d[3].stop == StopReason::none);
    CHECK(d[4].stop == StopReason::patience);
    CHECK(m.stopped() == StopReason::patience);
    CHECK(m.state().best_epoch == 2);
    CHECK(m.state().best_accuracy == 0.6);
    CHECK(m.state().epochs_without_improvement == 3);
    CHECK(m.state().halvings == 0);

    Monitor again(PlateauRule{.patience = 2});
    const auto e = script(again, {0.5, 0.4, 0.7, 0.6, 0.8, 0.7, 0.7});  // an improvement resets the count
    CHECK(e[1].stop == StopReason::none);
    CHECK(e[3].stop == StopReason::none);
    CHECK(e[5].stop == StopReason::none);
    CHECK(e[6].stop == StopReason::patience);
    CHECK(again.state().best_epoch == 5);

    Monitor off;  // no rule: the state is kept, nothing is decided
    const auto f = script(off, {0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1});
    for (const auto& x : f) CHECK(x.stop == StopReason::none);
    for (const auto& x : f) CHECK_FALSE(x.halved);
    CHECK(off.stopped() == StopReason::none);
    CHECK(off.state().epochs_without_improvement == 10);
}

TEST_CASE("halve:K:N: η halves after K epochs without improvement, the N-th halving stops", "[train][monitor]") {
    Monitor m(PlateauRule{.halve_after = 2, .max_halvings = 3});
    //                       1    2    3    4    5    6     7    8    9    10   11
    const auto d = script(m, {0.5, 0.7, 0.7, 0.6, 0.8, 0.75, 0.8, 0.8, 0.9, 0.9, 0.85});
    std::vector<std::size_t> halved_at;
    for (std::size_t e = 0; e < d.size(); ++e)
        if (d[e].halved) halved_at.push_back(e + 1);
    // epochs 3, 4 without improvement: halve after 4; 5 improves; 6, 7: halve after 7 (the count
    // restarted at the improvement); 8, 9? 9 improves; 10, 11: the third halving, which stops.
    CHECK(halved_at == std::vector<std::size_t>{4, 7, 11});
    for (std::size_t e = 0; e + 1 < d.size(); ++e) CHECK(d[e].stop == StopReason::none);
    CHECK(d.back().stop == StopReason::halvings);
    CHECK(m.stopped() == StopReason::halvings);
    CHECK(m.state().halvings == 3);
    CHECK(m.state().eta_scale() == 0.125);
    CHECK(m.state().best_epoch == 9);

    // A halving restarts the count: with K = 1 every epoch without improvement halves.
    Monitor k1(PlateauRule{.halve_after = 1, .max_halvings = 7});
    const auto g = script(k1, {0.9, 0.8, 0.8, 0.8});
    CHECK(g[1].halved);
    CHECK(g[2].halved);
    CHECK(g[3].halved);
    CHECK(k1.state().halvings == 3);
    CHECK(k1.state().epochs_since_halving == 0);
    CHECK(k1.state().epochs_without_improvement == 3);
}

TEST_CASE("patience and halving together: patience counts from the best epoch, halvings notwithstanding",
          "[train][monitor]") {
    Monitor m(PlateauRule{.halve_after = 2, .max_halvings = 7, .patience = 5});
    const auto d = script(m, {0.5, 0.4, 0.4, 0.4, 0.4, 0.4});
    CHECK(d[2].halved);  // epochs 2, 3
    CHECK(d[4].halved);  // epochs 4, 5
    CHECK(d[5].stop == StopReason::patience);
    CHECK_FALSE(d[5].halved);  // a stopping epoch does not halve
    CHECK(m.state().halvings == 2);

    // A state that has stopped stops under the same rules, not under looser ones.
    CHECK(Monitor(PlateauRule{.patience = 5}, m.state()).stopped() == StopReason::patience);
    CHECK(Monitor(PlateauRule{.patience = 6}, m.state()).stopped() == StopReason::none);
    CHECK(Monitor(PlateauRule{.halve_after = 2, .max_halvings = 2}, m.state()).stopped() == StopReason::halvings);
}

TEST_CASE("a patience run stops at the epoch its validation accuracies say, with the weights of that epoch",
          "[train][monitor]") {
    const auto train_set = tiny(300, 1), validation = tiny(40, 2), test = tiny(50, 3);
    const train::Options base{.epochs = 40, .batch = 10, .eta = 2.0, .seed = 5};
    // The run without a rule, epoch by epoch: its validation accuracies give the stopping epoch.
    M straight{7};
    train::Trainer<M> t(straight, base);
    std::vector<double> accuracies;
    std::vector<M> after;
    t.run(train_set, validation, test, [&](const train::EpochStats& s) {
        accuracies.push_back(s.validation_accuracy);
        after.push_back(straight);
    });
    const std::size_t patience = 3;
    Monitor expected(PlateauRule{.patience = patience});
    std::size_t stop_epoch = 0;
    for (std::size_t e = 1; e <= accuracies.size() && stop_epoch == 0; ++e)
        if (expected.observe(e, accuracies[e - 1]).stop == StopReason::patience) stop_epoch = e;
    REQUIRE(stop_epoch > patience);
    REQUIRE(stop_epoch < base.epochs);  // the test is about stopping early

    M net{7};
    train::Options o = base;
    o.plateau.patience = patience;
    train::Trainer<M> stopping(net, o);
    const auto history = stopping.run(train_set, validation, test);
    REQUIRE(history.size() == stop_epoch);
    CHECK(history.back().decision.stop == StopReason::patience);
    CHECK(history.back().monitor == expected.state());
    CHECK(stopping.stopped() == StopReason::patience);
    CHECK(same_parameters(net, after[stop_epoch - 1]));
    CHECK(stopping.run(train_set, validation, test).empty());  // it stays stopped

    o.plateau.patience = 0;
    o.plateau.halve_after = 1;
    o.plateau.max_halvings = 0;
    CHECK_THROWS_AS(train::Trainer<M>(net, o), std::invalid_argument);
    o.plateau.max_halvings = 7;
    train::Trainer<M> no_validation(net, o);
    CHECK_THROWS_WITH(no_validation.run(train_set, test),
                      "the plateau schedule and early stopping need a validation set");
}

TEST_CASE("halving runs at η/2ᵏ from the epoch after each halving and stops at the N-th", "[train][monitor]") {
    const auto train_set = tiny(300, 1), validation = tiny(40, 2), test = tiny(50, 3);
    M net{7};
    train::Trainer<M> t(net, {.epochs = 60, .batch = 10, .eta = 2.0, .seed = 5,
                              .plateau = {.halve_after = 2, .max_halvings = 3}});
    const auto history = t.run(train_set, validation, test);
    REQUIRE(!history.empty());
    double eta = 2.0;
    std::size_t halvings = 0;
    for (const auto& s : history) {
        CHECK(s.eta == eta);
        if (s.decision.halved) {
            eta /= 2;
            ++halvings;
        }
    }
    CHECK(halvings == 3);
    CHECK(history.back().decision.stop == StopReason::halvings);
    CHECK(history.size() < 60);
    CHECK(t.eta() == 0.25);  // η₀/2ᴺ, never trained at
    CHECK(t.state().eta == 0.25);
}

TEST_CASE("a run with halving and patience resumed from a checkpoint is bit-identical and stops at the same epoch",
          "[train][monitor][resume]") {
    const auto train_set = tiny(300, 1), validation = tiny(40, 2), test = tiny(50, 3);
    const train::Options o{.epochs = 60, .batch = 10, .eta = 2.0, .seed = 5,
                           .plateau = {.halve_after = 2, .max_halvings = 4, .patience = 6}};
    M straight{7};
    train::Trainer<M> t1(straight, o);
    const auto full = t1.run(train_set, validation, test);
    REQUIRE(full.size() < 60);
    REQUIRE(full.size() > 4);
    std::size_t first_halving = 0;
    for (const auto& s : full)
        if (s.decision.halved && first_halving == 0) first_halving = s.epoch;
    REQUIRE(first_halving > 0);
    REQUIRE(first_halving < full.size());

    // Interrupted right after the first halving, when the state holds something to resume.
    std::vector<unsigned char> bytes;
    {
        M first{7};
        train::Trainer<M> t2(first, o);
        try {
            t2.run(train_set, validation, test, [&](const train::EpochStats& s) {
                if (s.epoch == first_halving) {
                    bytes = io::checkpoint_bytes(first, t2.state(), "note");
                    throw 1;  // interrupted
                }
            });
        } catch (int) {
        }
    }
    REQUIRE(!bytes.empty());
    M resumed{99};
    train::Trainer<M> t3(resumed, {.epochs = 60, .batch = 10, .eta = 2.0, .seed = 1234, .plateau = o.plateau});
    const auto state = io::restore_checkpoint(io::parse_checkpoint(bytes, "x.tgck"), resumed, "x.tgck");
    CHECK(state.monitor.halvings == 1);
    CHECK(state.eta == 1.0);
    t3.restore(state);
    const auto rest = t3.run(train_set, validation, test);
    REQUIRE(rest.size() == full.size() - first_halving);
    CHECK(rest.front().eta == 1.0);
    CHECK(rest.back().epoch == full.back().epoch);
    CHECK(rest.back().decision.stop == full.back().decision.stop);
    CHECK(rest.back().monitor == full.back().monitor);
    CHECK(same_parameters(resumed, straight));
}

TEST_CASE("training accuracy: counted from the training forward passes, or evaluated after the epoch",
          "[train][accuracy]") {
    const auto train_set = tiny(107, 4), test = tiny(50, 3);  // 107: ten chunks of 10 and 7 single examples
    const auto check = [&]<class Engine>(Engine*) {
        // One batch of the whole set: every forward pass sees the initial weights, so the running
        // count is the initial network's accuracy on the training set.
        M net{3};
        const M initial = net;
        train::Trainer<M, Engine> t(net, {.epochs = 1, .batch = 107, .eta = 1.0, .seed = 2,
                                          .training_accuracy = train::Options::TrainingAccuracy::running});
        const auto s = t.run(train_set, test).back();
        CHECK(s.training_counted == 107);
        CHECK(s.training_correct == train::count_correct(initial, train_set));
        CHECK(s.training_accuracy == static_cast<double>(s.training_correct) / 107.0);
        CHECK_FALSE(same_parameters(net, initial));
    };
    check(static_cast<train::AutodiffEngine<M>*>(nullptr));
    check(static_cast<train::ReferenceEngine<M>*>(nullptr));

    // network2's: the network after the epoch on the whole training set.
    M net{3};
    train::Trainer<M> t(net, {.epochs = 2, .batch = 10, .eta = 1.0, .seed = 2,
                              .training_accuracy = train::Options::TrainingAccuracy::evaluated});
    const auto s = t.run(train_set, test).back();
    CHECK(s.training_correct == train::count_correct(net, train_set));
    CHECK(s.training_counted == 107);

    // Off by default: nothing counted, and the weights are the same either way.
    M a{3}, b{3};
    const auto off = train::Trainer<M>(a, {.epochs = 2, .batch = 10, .eta = 1.0, .seed = 2}).run(train_set, test);
    train::Trainer<M>(b, {.epochs = 2, .batch = 10, .eta = 1.0, .seed = 2,
                          .training_accuracy = train::Options::TrainingAccuracy::running})
        .run(train_set, test);
    CHECK(off.back().training_counted == 0);
    CHECK(same_parameters(a, b));
}
