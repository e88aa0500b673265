// libFuzzer harness: restore a checkpoint and train from it (src/io/checkpoint.cpp, Rng, the
// hand-written backprop). The input is parsed as a checkpoint (and again with its last 4 bytes
// replaced by the CRC-32 of the rest, so mutations of the header reach the checks after the
// checksum, as in fuzz_checkpoint); whatever is accepted and holds one of the two tiny networks
// of tiny_network.hpp is restored into it, with the shuffling generator's state and the
// optimizer's (SGD, momentum, Nesterov or Adam, as the file names it; the article's SGD for a
// name of the library user's own), and trained for one epoch (three steps of two examples) as
// train::Trainer::epoch does: shuffle the indices with the restored generator, then per batch
// the summed gradient and the optimizer's step.
//
// This is what the parser harness could not see: a file the parser accepts that stops training
// from terminating (an all-zero generator state hung the shuffle) or makes it misbehave (an
// optimizer state of the wrong length made the step throw inside the trainer's noexcept step:
// std::terminate; issue 18). A bug is a crash, a sanitizer report, an exception other than
// CheckpointError escaping (the restore or the step throwing std::invalid_argument for a state
// the parser accepted), a state of another size after the epoch, or a hang
// (libFuzzer's -timeout). (Trainer itself includes the autodiff headers, which clang 14 does not
// compile: see tiny_network.hpp; its loop is the few lines below.)
#include <zlib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tiny_network.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/train/optimizer.hpp"
#include "typegrad/util/random.hpp"

namespace {

using namespace typegrad;

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

[[noreturn]] void bug(const char* what) {
    std::fprintf(stderr, "fuzz_resume: %s\n", what);
    std::abort();
}

/// The built-in optimizer (default settings) a state saved under `name` is restored into.
std::optional<train::AnyOptimizer> optimizer_named(const std::string& name) {
    if (name == "sgd") return train::Sgd{};
    if (name == "adam") return train::Adam{};
    if (name != "momentum" && name != "nesterov") return std::nullopt;
    train::Momentum m;
    m.nesterov = name == "nesterov";
    return m;
}

template <class T>
void train_from(const io::CheckpointImage& image) {
    using M = fuzz::Tiny<T>;
    M net{1};
    fuzz::tiny_restore<T>(image.payload, net);
    // std::invalid_argument from restore or step escapes: a state the parser should have refused
    const std::optional<train::AnyOptimizer> named = optimizer_named(image.header.optimizer);
    train::AnyOptimizer optimizer = named.value_or(train::Sgd{});
    if (named) optimizer.restore(image.header.optimizer_state);
    Rng rng;
    rng.set_state(image.header.rng);
    // One epoch as Trainer::epoch: a shuffled order, batches of 2.
    const data::Dataset& d = examples();
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng.shuffle(order.begin(), order.end());
    reference::Workspace<M> ws;
    Gradients<M> g;
    typename M::input_type x;
    typename M::output_type y;
    for (std::size_t first = 0; first < order.size(); first += 2) {
        for (std::size_t k = first; k < first + 2; ++k) {
            for (std::size_t p = 0; p < M::input_width; ++p) x[p] = static_cast<T>(d.pixel(order[k], p));
            y.fill(T(0));
            y[d.labels[order[k]]] = T(1);
            (void)reference::backprop_into(net, x, y, g, ws, k == first ? Accumulate::no : Accumulate::yes);
        }
        optimizer.step(net, g, train::Step{.eta = 0.5, .batch = 2, .training_examples = d.size()});
    }
    // The state after three steps: one value per parameter (momentum), or the step count, three
    // more than restored, and two (Adam).
    const std::vector<unsigned char> after = optimizer.state();
    const std::string name = optimizer.name();
    const std::size_t n = M::parameter_count * sizeof(T);
    if (name == "sgd" ? !after.empty() : name == "adam" ? after.size() != 8 + 2 * n : after.size() != n)
        bug("the optimizer state has another size after an epoch");
    if (name == "adam") {
        const auto& before = image.header.optimizer_state;
        std::uint64_t t0 = 0, t1 = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            t0 |= (named && !before.empty() ? std::uint64_t{before[i]} : 0) << (8 * i);
            t1 |= std::uint64_t{after[i]} << (8 * i);
        }
        if (t1 != t0 + 3) bug("adam did not count its three steps from the restored step count");
    }
    // The order must still be a permutation.
    std::vector<bool> seen(order.size());
    for (const std::size_t i : order) {
        if (i >= seen.size() || seen[i]) bug("the shuffle is not a permutation");
        seen[i] = true;
    }
}

void resume(std::span<const unsigned char> bytes) {
    try {
        const io::CheckpointImage image = io::parse_checkpoint(bytes, "fuzz.tgck");
        if (!Rng::valid(image.header.rng)) bug("the parser accepted an invalid generator state");
        if (io::network_mismatch(image.header, fuzz::tiny_header<float>()).empty()) train_from<float>(image);
        else if (io::network_mismatch(image.header, fuzz::tiny_header<double>()).empty()) train_from<double>(image);
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
