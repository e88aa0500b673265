// gpt_train: a translation unit that only trains the small GPT of gpt_model.hpp (issue 21, item 6),
// as a user's program would: Trainer<Gpt, AutodiffEngine<Gpt, 16>> with SGD, a few epochs, the
// seconds and tokens/s of each. Built on request only (`cmake --build build --target
// gpt_train`): docs/benchmarks.md times its compilation against bench_gpt.cpp's.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gpt_model.hpp"
#include "typegrad/train/sgd.hpp"

int main(int argc, char** argv) {
    using namespace typegrad;
    using namespace typegrad::bench::gpt;
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 3;
    const data::Dataset& d = windows();
    auto net = std::make_unique<Gpt>(1);
    train::Trainer<Gpt, train::AutodiffEngine<Gpt, B>> trainer(*net, {.epochs = epochs, .batch = B, .eta = 0.01, .seed = 1});
    for (std::size_t e = 1; e <= epochs; ++e) {
        const double seconds = trainer.epoch(d, [](std::size_t, std::size_t) {});
        std::printf("epoch %zu: %.3f s, %.0f tokens/s\n", e, seconds, static_cast<double>(N * T) / seconds);
    }
    return 0;
}
