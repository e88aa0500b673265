// libFuzzer harness for the checkpoint parser (src/io/checkpoint.cpp): parse_checkpoint on the
// input bytes, then on a copy whose last 4 bytes are replaced by the CRC-32 of the rest, so that
// the fuzzer also reaches the checks made after the checksum (which random mutations would
// almost never get past otherwise).
//
// A typegrad::io::CheckpointError is the expected answer to bad input. Anything else is a bug:
// a crash, a sanitizer report, another exception escaping (std::terminate aborts), a hang or an
// allocation beyond -malloc_limit_mb. What the parser accepts must be self-consistent and
// serialize back to exactly the same bytes (the format has one encoding per header and payload).
#include "typegrad/io/checkpoint_file.hpp"

#include <zlib.h>

#include <algorithm>
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
