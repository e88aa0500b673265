// batch_norm in the trainer (issue 19, item 3), split from test_batch_norm19.cpp (which checks the
// layer's forward and its gradients three ways, and PyTorch) so that neither translation unit
// takes a minute and a half to compile:
//  - the running statistics after a trainer's step, against the reference's statistics (≤ 1e-13
//    relative, double);
//  - the trainer's rules: the whole mini-batch as one program, drop_last, one thread, the
//    autodiff engine; the optimizers leave the running statistics alone;
//  - checkpoints carry the running statistics.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "typegrad/reference/batch.hpp"
#include "typegrad/typegrad.hpp"
#include "batch_norm19.hpp"

using namespace typegrad;
using test::B;
using test::perturb_norm;

TEST_CASE("batch_norm: the trainer's step updates the running statistics as PyTorch", "[nn][batch_norm][train]") {
    using M = Model<double, decltype(input<784> | dense<6> | batch_norm | relu | dense<10> | softmax), cost::LogLikelihood>;
    const auto data = data::synthetic_split(40, 20, 31);
    M net{32, init::Scheme::pytorch};
    perturb_norm(net, 33);
    const M before = net;
    train::Trainer<M, train::AutodiffEngine<M, B>, train::Adam> trainer(net, {.epochs = 1, .batch = B, .eta = 0.01, .seed = 34});
    const std::vector<std::size_t> examples{3, 1, 4, 15, 9, 26, 5, 35};
    trainer.step(data.train, examples);
    // the dense layer's outputs for those examples (the weights before the step), and their statistics
    std::vector<double> z(B * 6);
    for (std::size_t b = 0; b < B; ++b) {
        M::input_type x;
        M::output_type y;
        train::load_example<M>(data.train, examples[b], x, y);
        reference::rule<Dense<6>>::forward<Shape<784>>(std::get<0>(before.parameters()), x.data(), z.data() + b * 6);
    }
    for (std::size_t c = 0; c < 6; ++c) {
        const auto s = reference::rule<BatchNorm>::statistics<Shape<6>>(z.data(), B, c);
        INFO("feature " << c);
        const double mean_was = before.parameter<1, "running_mean">()[c], var_was = before.parameter<1, "running_var">()[c];
        const double mean_now = net.parameter<1, "running_mean">()[c], var_now = net.parameter<1, "running_var">()[c];
        CHECK_THAT(mean_now, Catch::Matchers::WithinRel(0.9 * mean_was + 0.1 * s.mean, 1e-13));
        CHECK_THAT(var_now, Catch::Matchers::WithinRel(0.9 * var_was + 0.1 * s.variance * 8 / 7, 1e-13));  // unbiased: n = 8
    }
    CHECK(!(net.parameter<1, "γ">() == before.parameter<1, "γ">()));  // Adam moved γ
}

TEST_CASE("batch_norm: the trainer normalises over whole mini-batches only", "[nn][batch_norm][train]") {
    using M = Model<float, decltype(input<784> | dense<8> | batch_norm | relu | dense<10> | softmax), cost::LogLikelihood>;
    const auto data = data::synthetic_split(25, 10, 41);
    M net{42};
    using E = train::AutodiffEngine<M, B>;
    STATIC_REQUIRE(E::whole_batch == B);
    STATIC_REQUIRE(train::AutodiffEngine<Model<float, decltype(input<4> | dense<3> | sigmoid)>>::whole_batch == 0);
    CHECK_THROWS_WITH((train::Trainer<M, E>(net, {.batch = 10})), Catch::Contains("the batch size must be 8"));
    CHECK_THROWS_WITH((train::Trainer<M>(net, {.batch = 8})), Catch::Contains("the batch size must be 10"));
    CHECK_THROWS_WITH((train::Trainer<M, train::ReferenceEngine<M>>(net, {.batch = 8})),
                      Catch::Contains("one example (or one share of the batch) at a time"));
    CHECK_THROWS_WITH((train::Trainer<M, E>(net, {.batch = 8, .threads = 2})), Catch::Contains("1 thread"));
    CHECK_THROWS_WITH((train::Trainer<M, train::AutodiffEngine<M, 1>>(net, {.batch = 1})), Catch::Contains("at least 2"));
    train::Trainer<M, E> trainer(net, {.epochs = 1, .batch = B, .eta = 0.1, .seed = 43});
    const std::vector<std::size_t> seven{0, 1, 2, 3, 4, 5, 6};
    CHECK_THROWS_WITH(trainer.step(data.train, seven), Catch::Contains("7 were given"));
    // 25 examples: three whole batches of 8, the last example of the shuffled order sits out
    std::size_t steps = 0;
    trainer.epoch(data.train, [&](std::size_t, std::size_t total) {
        ++steps;
        CHECK(total == 3);
    });
    CHECK(steps == 3);
    CHECK_THROWS_WITH(trainer.epoch(data.train.head(5)),
                      Catch::Contains("whole mini-batches of 8 examples, but the training set has 5"));
}

TEST_CASE("batch_norm trains, and the running statistics go through checkpoints", "[nn][batch_norm][train][io]") {
    using M = Model<float, decltype(input<1, 28, 28> | conv2d<4, 5> | batch_norm | relu | max_pool<2> | flatten | dense<10> |
                                    softmax),
                    cost::LogLikelihood>;
    const auto data = data::synthetic_split(1000, 300, 51);
    M net{52};
    train::Trainer<M, train::AutodiffEngine<M, 16>> trainer(net, {.epochs = 1, .batch = 16, .eta = 0.1, .seed = 53});
    const auto history = trainer.run(data.train, data.test);
    CHECK(history.back().accuracy > 0.5);  // ten classes: chance is 0.1
    bool moved = false;
    for (float v : net.parameter<1, "running_mean">()) moved |= v != 0.0f;
    CHECK(moved);
    const auto file = std::filesystem::temp_directory_path() / ("typegrad_batch_norm19_" + std::to_string(::getpid()) + ".tgck");
    io::save_checkpoint(file, net, trainer.state());
    M loaded{1};
    io::load_checkpoint(file, loaded);
    CHECK(io::checkpoint_payload(loaded) == io::checkpoint_payload(net));
    CHECK((loaded.parameter<1, "running_var">() == net.parameter<1, "running_var">()));
    const auto header = io::read_checkpoint_file(file).header;
    CHECK(header.layers == "input<1, 28, 28> | conv2d<4, 5> | batch_norm | relu | max_pool<2> | flatten | dense<10> | softmax");
    std::filesystem::remove(file);
    // evaluation uses the running statistics: the same accuracy from a loaded copy
    train::Evaluator<M> e1, e2;
    CHECK(e1.count_correct(net, data.test) == e2.count_correct(loaded, data.test));
}

// ≤ 1e-10 relative per tensor against torch.autograd in float64, training mode, a batch of 8
// (issue 19's acceptance: "a residual CNN with batch norm (training mode, a batch of 8)").
