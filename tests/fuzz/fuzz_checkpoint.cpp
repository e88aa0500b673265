// libFuzzer harness for the checkpoint parser (src/io/checkpoint.cpp): parse_checkpoint on the
// input bytes, then on a copy whose last 4 bytes are replaced by the CRC-32 of the rest, so that
// the fuzzer also reaches the checks made after the checksum (which random mutations would
// almost never get past otherwise).
//
// A typegrad::io::CheckpointError is the expected answer to bad input. Anything else is a bug:
// a crash, a sanitizer report, another exception escaping (std::terminate aborts), a hang or an
// allocation beyond -malloc_limit_mb. What the parser accepts must be self-consistent and
// serialize back to exactly the same bytes (the format has one encoding per header and payload).
// The state of a built-in optimizer it accepts must be what that optimizer saves for the network
// the header describes (issue 18: a state of the wrong length aborted a resumed run, NaN moments
// and a step count of 2^64 - 1 read as divergence): checked here on its own terms, not with the
// parser's function (train::optimizer_state_problem). The seeds (make_seeds.cpp) include
// version-3 files with momentum, Nesterov and Adam state.
#include "typegrad/io/checkpoint_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace {

using typegrad::io::CheckpointError;
using typegrad::io::CheckpointImage;

[[noreturn]] void bug(const char* what) {
    std::fprintf(stderr, "fuzz_checkpoint: %s\n", what);
    std::abort();
}

/// An accepted state of SGD, momentum, Nesterov or Adam: none; or a finite velocity per parameter;
/// or a step count in [1, 2^53], then a finite first moment and a finite second moment >= 0 per
/// parameter.
void check_optimizer_state(const typegrad::io::CheckpointHeader& h) {
    const auto& s = h.optimizer_state;
    const std::string& name = h.optimizer;
    const bool adam = name == "adam";
    if (s.empty() || (!adam && name != "momentum" && name != "nesterov")) {
        if (name == "sgd" && !s.empty()) bug("accepted an sgd state");
        return;
    }
    std::uint64_t n = 0;
    for (const auto size : h.parameter_sizes) n += size;  // check_image: the payload holds them all
    const std::size_t width = typegrad::io::element_size(h.element_type);
    const std::size_t head = adam ? 8 : 0;
    if (s.size() != head + (adam ? 2 : 1) * n * width) bug("accepted an optimizer state of the wrong length");
    const auto word = [&](std::size_t at, std::size_t bytes) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t{s[at + i]} << (8 * i);
        return v;
    };
    if (adam && (word(0, 8) == 0 || word(0, 8) > (std::uint64_t{1} << 53))) bug("accepted an adam step count out of range");
    for (std::size_t at = head, k = 0; at < s.size(); at += width, ++k) {
        const double v = width == 4 ? std::bit_cast<float>(static_cast<std::uint32_t>(word(at, 4)))
                                    : std::bit_cast<double>(word(at, 8));
        if (!std::isfinite(v) || (adam && k >= n && v < 0)) bug("accepted a NaN, infinite or negative moment");
    }
}

void check_image(const CheckpointImage& image, std::span<const unsigned char> bytes) {
    const auto& h = image.header;
    if (h.version < 1 || h.version > typegrad::io::checkpoint_version) bug("accepted an unknown version");
    if (h.version < 3 && (h.best_epoch != 0 || h.halvings != 0 || h.eta != 0.0)) bug("a validation monitor before version 3");
    if (h.best_epoch > h.epochs_done || h.epochs_since_halving > h.epochs_without_improvement)
        bug("accepted a validation monitor that does not fit the epochs done");
    if (image.payload.size() != h.payload_bytes) bug("payload size differs from header.payload_bytes");
    if (typegrad::io::element_size(h.element_type) == 0) bug("accepted an unknown element type");
    if (h.widths.size() < 2 || h.parameter_layers.empty()) bug("accepted a network without layers");
    for (const auto p : h.parameter_layers)
        if (p >= h.widths.size() - 1) bug("accepted a parameter layer position outside the widths");
    check_optimizer_state(h);
    (void)typegrad::io::describe_network(h);
    if (!typegrad::io::network_mismatch(h, h).empty()) bug("a header does not match itself");
    const std::vector<unsigned char> again = typegrad::io::serialize_checkpoint(h, image.payload);
    if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin()))
        bug("serialize_checkpoint(parse_checkpoint(bytes)) != bytes");
}

void parse(std::span<const unsigned char> bytes) {
    try {
        check_image(typegrad::io::parse_checkpoint(bytes, "fuzz.tgck"), bytes);
    } catch (const CheckpointError& e) {
        const std::string message = e.what();
        if (message.rfind("fuzz.tgck: ", 0) != 0) bug("CheckpointError not starting with the file name");
        if (message.find('\n') != std::string::npos) bug("CheckpointError of more than one line");
    }
    // Any other exception propagates out of LLVMFuzzerTestOneInput: std::terminate, a crash.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A copy of exactly `size` bytes on the heap, so that ASan sees any read past the end.
    const std::vector<unsigned char> bytes(data, data + size);
    parse(bytes);
    if (size >= 4) {
        std::vector<unsigned char> fixed = bytes;
        const std::size_t body = size - 4;
        const auto crc = static_cast<std::uint32_t>(::crc32(::crc32(0L, Z_NULL, 0), fixed.data(), static_cast<uInt>(body)));
        for (int i = 0; i < 4; ++i) fixed[body + static_cast<std::size_t>(i)] = static_cast<unsigned char>(crc >> (8 * i));
        if (fixed != bytes) parse(fixed);
    }
    return 0;
}
