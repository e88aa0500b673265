// Two epochs of LeNet-5 on the real MNIST files (TYPEGRAD_MNIST_DIR), float, batch 10, eta 0.05,
// PyTorch's initialisation: about 97.6 % after one epoch and 98.8 % after two on the machine
// this was written on (docs/results.md has the ten-epoch run, ≥ 99 %). Skips (exit 77) when the
// variable is not set.
#define CATCH_CONFIG_RUNNER
#include <cstdlib>
#include <iostream>

#include <catch2/catch.hpp>

#include "typegrad/data/dataset.hpp"
#include "typegrad/train/sgd.hpp"
#include "cnn_shapes.hpp"

using namespace typegrad;

TEST_CASE("LeNet-5, batch 10, eta 0.05, float: two epochs on MNIST reach >= 98% test accuracy", "[cnn][mnist]") {
    const char* dir = std::getenv("TYPEGRAD_MNIST_DIR");
    REQUIRE(dir != nullptr);
    const auto split = data::load_idx_directory(dir);
    REQUIRE(split.train.size() == 60000);
    using M = Model<float, decltype(test::cnn::lenet), cost::LogLikelihood>;
    M net{1};
    train::Trainer<M> trainer(net, {.epochs = 2, .batch = 10, .eta = 0.05, .seed = 2});
    const auto history = trainer.run(split.train, split.test, [](const train::EpochStats& s) {
        std::cout << "epoch " << s.epoch << "/" << s.epochs << " test accuracy " << s.accuracy << " " << s.seconds << " s\n";
    });
    CHECK(history.front().accuracy >= 0.96);
    REQUIRE(history.back().accuracy >= 0.98);
}

int main(int argc, char* argv[]) {
    const char* dir = std::getenv("TYPEGRAD_MNIST_DIR");
    if (dir == nullptr || *dir == '\0') {
        std::cout << "TYPEGRAD_MNIST_DIR is not set: skipping the real-MNIST LeNet test\n";
        return 77;
    }
    return Catch::Session().run(argc, argv) == 0 ? 0 : 1;
}
