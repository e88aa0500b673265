// libFuzzer harness: restore a checkpoint and train from it (src/io/checkpoint.cpp, Rng, the
// hand-written backprop). The input is parsed as a checkpoint (and again with its last 4 bytes
// replaced by the CRC-32 of the rest, so mutations of the header reach the checks after the
// checksum, as in fuzz_checkpoint); whatever is accepted and holds one of the two tiny networks
// of tiny_network.hpp is restored into it, with the shuffling generator's state, and trained for
// one epoch (three steps of two examples) as train::Trainer::epoch does: shuffle the indices with
// the restored generator, then per batch the summed gradient and W -= eta/m dW.
//
// This is what the parser harness could not see: a file the parser accepts that stops training
// from terminating (an all-zero generator state hung the shuffle) or makes it misbehave. A bug
// is a crash, a sanitizer report, an exception other than CheckpointError escaping, or a hang
// (libFuzzer's -timeout). (Trainer itself includes the autodiff headers, which clang 14 does not
// compile: see tiny_network.hpp; its loop is the few lines below.)
#include <zlib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <span>
#include <vector>

#include "tiny_network.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/reference/backprop.hpp"
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

template <class T>
void train_from(const io::CheckpointImage& image) {
    using M = fuzz::Tiny<T>;
    M net{1};
    fuzz::tiny_restore<T>(image.payload, net);
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
        for_each_parameter(net, g, [](auto, auto& p, const auto& dp) {
            for (std::size_t i = 0; i < p.size(); ++i) p.data()[i] -= T(0.25) * dp.data()[i];
        });
    }
    // The order must still be a permutation.
    std::vector<bool> seen(order.size());
    for (const std::size_t i : order) {
        if (i >= seen.size() || seen[i]) {
            std::fprintf(stderr, "fuzz_resume: the shuffle is not a permutation\n");
            std::abort();
        }
        seen[i] = true;
    }
}

void resume(std::span<const unsigned char> bytes) {
    try {
        const io::CheckpointImage image = io::parse_checkpoint(bytes, "fuzz.tgck");
        if (!Rng::valid(image.header.rng)) {
            std::fprintf(stderr, "fuzz_resume: the parser accepted an invalid generator state\n");
            std::abort();
        }
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
