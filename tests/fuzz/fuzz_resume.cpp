// libFuzzer harness: restore a checkpoint and train from it (src/io/checkpoint.cpp, the
// trainer, Rng). The input is parsed as a checkpoint (and again with its last 4 bytes replaced by
// the CRC-32 of the rest, so mutations of the header reach the checks after the checksum, as in
// fuzz_checkpoint); whatever is accepted and holds one of the two tiny networks below is restored
// into it, with the trainer's state, and trained for one epoch (three steps) on six examples.
//
// This is what the parser harness could not see: a file the parser accepts but that stops
// training from terminating (an all-zero generator state hung the shuffle) or makes it misbehave.
// A bug is a crash, a sanitizer report, an exception other than CheckpointError escaping, or a
// hang (libFuzzer's -timeout).
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/sgd.hpp"

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using namespace typegrad;

using SmallFloat = Network<float, 4, 3, 2>;
using SmallDouble = Network<double, 4, 3, 2>;

const data::Dataset& examples() {
    static const data::Dataset d = [] {
        data::Dataset s;
        s.rows = 2;
        s.cols = 2;
        s.pixels = {0, 255, 128, 7, 255, 0, 0, 255, 9, 90, 200, 30, 1, 2, 3, 4, 250, 251, 252, 253, 60, 0, 0, 60};
        s.labels = {0, 1, 1, 0, 1, 0};
        return s;
    }();
    return d;
}

template <class M>
void train_from(const io::CheckpointImage& image) {
    M net{1};
    const train::TrainerState state = io::restore_checkpoint(image, net, "fuzz.tgck");
    if (!train::parameters_finite(net)) return;  // what --resume refuses
    train::Trainer<M> trainer(net, {.epochs = state.epochs_done + 1, .batch = 2, .eta = 0.5, .seed = 1});
    trainer.restore(state);
    try {
        (void)trainer.run(examples(), examples(), [](const train::EpochStats&) {}, [](std::size_t, std::size_t) {});
    } catch (const train::Diverged&) {
        // finite parameters can still overflow; the trainer says so, which is fine
    }
    if (trainer.epochs_done() != state.epochs_done + 1) {
        std::fprintf(stderr, "fuzz_resume: the epoch did not complete\n");
        std::abort();
    }
}

void resume(std::span<const unsigned char> bytes) {
    try {
        const io::CheckpointImage image = io::parse_checkpoint(bytes, "fuzz.tgck");
        if (image.header.epochs_done > 1000000) return;  // --epochs bounds the loop; not this harness's subject
        if (io::holds<SmallFloat>(image.header)) train_from<SmallFloat>(image);
        else if (io::holds<SmallDouble>(image.header)) train_from<SmallDouble>(image);
    } catch (const io::CheckpointError&) {
        // the expected answer to a bad file
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<unsigned char> bytes(data, data + size);
    resume(bytes);
    if (size >= 4) {
        std::vector<unsigned char> fixed = bytes;
        const std::size_t body = size - 4;
        const auto crc = static_cast<std::uint32_t>(::crc32(::crc32(0L, Z_NULL, 0), fixed.data(), static_cast<uInt>(body)));
        for (int i = 0; i < 4; ++i) fixed[body + static_cast<std::size_t>(i)] = static_cast<unsigned char>(crc >> (8 * i));
        if (fixed != bytes) resume(fixed);
    }
    return 0;
}
