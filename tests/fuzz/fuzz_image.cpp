// libFuzzer harness for `typegrad predict`'s image readers (src/cli/image.cpp): the input is
// decoded from memory by decode_gray_image, the function read_gray_image calls on a file's bytes
// (PGM P2/P5 by hand, PNG through libpng). A PNG input is decoded twice: as it is, and with the
// CRC of every chunk recomputed, so that a mutation inside a chunk reaches libpng's chunk
// handlers and the transforms instead of stopping at the CRC check.
//
// A RunError of one printable line naming the file is the expected answer to bad input.
// Anything else is a bug: a crash, a sanitizer report, another exception escaping
// (std::terminate aborts), a hang (-timeout), an allocation beyond -malloc_limit_mb or a peak
// beyond -rss_limit_mb (a compressed chunk inflated and kept), an accepted image that is not
// 28×28.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "../../src/cli/image.hpp"
#include "../../src/cli/options.hpp"

namespace {

using typegrad::cli::decode_gray_image;
using typegrad::cli::GrayImage;
using typegrad::cli::RunError;

[[noreturn]] void bug(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_image: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

void decode(std::string_view bytes) {
    try {
        const GrayImage image = decode_gray_image("input", bytes);
        if (image.pixels.size() != typegrad::cli::image_side * typegrad::cli::image_side)
            bug("an accepted image without 784 pixels");
    } catch (const RunError& e) {
        const std::string message = e.what();
        if (message.rfind("input: ", 0) != 0) bug("a RunError that does not name the file", message);
        for (const unsigned char c : message)
            if (c < 0x20 || c == 0x7f) bug("a RunError with a control character (text from the file printed raw?)", message);
    }
    // Any other exception propagates out of LLVMFuzzerTestOneInput: std::terminate, a crash.
}

/// The input with the CRC of each whole chunk after the PNG signature recomputed (a chunk cut
/// short by the end of the input is left as it is).
std::string with_fixed_crcs(std::string_view bytes) {
    std::string out(bytes);
    std::size_t at = 8;
    while (out.size() - at >= 12) {
        const auto* p = reinterpret_cast<const unsigned char*>(out.data() + at);
        const std::uint32_t length = std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
        if (length > out.size() - at - 12) break;
        const auto crc = static_cast<std::uint32_t>(crc32(0, p + 4, static_cast<uInt>(length) + 4));
        for (int i = 0; i < 4; ++i) out[at + 8 + length + static_cast<std::size_t>(i)] = static_cast<char>(crc >> (24 - 8 * i));
        at += std::size_t{length} + 12;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    decode(bytes);
    if (size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) {
        const std::string fixed = with_fixed_crcs(bytes);
        if (fixed != bytes) decode(fixed);
    }
    return 0;
}
