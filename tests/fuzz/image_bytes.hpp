// PGM and PNG files as bytes, written by hand (zlib for the compressed parts), for the tests of
// `typegrad predict`'s image readers (tests/cli/test_cli_images18.cpp) and the seeds of
// fuzz_image (make_image_seeds.cpp): every colour type, bit depth, palette, transparency and
// ancillary chunk can be made, including ones no image library would write.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace typegrad::test::image_bytes {

using Bytes = std::vector<unsigned char>;

inline Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

inline Bytes operator+(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

inline void put_u32(Bytes& b, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(v >> shift));
}

/// zlib's compress at level 9.
inline Bytes deflate(const Bytes& data) {
    uLongf size = compressBound(static_cast<uLong>(data.size()));
    Bytes out(size);
    if (compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()), 9) != Z_OK)
        throw std::runtime_error("image_bytes: compress2 failed");
    out.resize(size);
    return out;
}

/// One chunk: length, type, data, CRC of type and data.
inline Bytes png_chunk(std::string_view type, const Bytes& data) {
    Bytes c;
    put_u32(c, static_cast<std::uint32_t>(data.size()));
    const Bytes body = bytes(type) + data;
    c.insert(c.end(), body.begin(), body.end());
    put_u32(c, static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
    return c;
}

/// zTXt: keyword, compression method 0, the text deflated.
inline Bytes ztxt_chunk(std::string_view keyword, const Bytes& text) {
    return png_chunk("zTXt", bytes(keyword) + Bytes{0, 0} + deflate(text));
}

/// iTXt, compressed, without language or translated keyword.
inline Bytes itxt_chunk(std::string_view keyword, const Bytes& text) {
    return png_chunk("iTXt", bytes(keyword) + Bytes{0, 1, 0, 0, 0} + deflate(text));
}

enum ColorType : int { gray = 0, rgb = 2, palette = 3, gray_alpha = 4, rgba = 6 };

inline int channels(int color_type) {
    switch (color_type) {
        case rgb: return 3;
        case gray_alpha: return 2;
        case rgba: return 4;
        default: return 1;
    }
}

/// Samples (channels(color_type) per pixel, row by row, each below 2^bit_depth) packed into
/// rows, each after filter byte 0, most significant bits first as PNG wants.
inline Bytes png_raw_rows(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type,
                          const std::vector<unsigned>& samples) {
    const std::size_t per_row = std::size_t{width} * static_cast<std::size_t>(channels(color_type));
    if (samples.size() != per_row * height) throw std::invalid_argument("image_bytes: wrong number of samples");
    Bytes raw;
    for (std::size_t r = 0; r < height; ++r) {
        raw.push_back(0);
        unsigned acc = 0;
        int bits = 0;
        for (std::size_t i = 0; i < per_row; ++i) {
            const unsigned v = samples[r * per_row + i];
            if (bit_depth == 16) {
                raw.push_back(static_cast<unsigned char>(v >> 8));
                raw.push_back(static_cast<unsigned char>(v));
                continue;
            }
            acc = (acc << bit_depth) | v;
            if ((bits += bit_depth) == 8) {
                raw.push_back(static_cast<unsigned char>(acc));
                acc = 0;
                bits = 0;
            }
        }
        if (bits > 0) raw.push_back(static_cast<unsigned char>(acc << (8 - bits)));
    }
    return raw;
}

/// A non-interlaced PNG: IHDR, the chunks `before` (PLTE, tRNS, text ...), one IDAT, the
/// chunks `after`, IEND.
inline Bytes png(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type,
                 const std::vector<unsigned>& samples, const std::vector<Bytes>& before = {},
                 const std::vector<Bytes>& after = {}) {
    Bytes ihdr;
    put_u32(ihdr, width);
    put_u32(ihdr, height);
    ihdr.insert(ihdr.end(), {static_cast<unsigned char>(bit_depth), static_cast<unsigned char>(color_type), 0, 0, 0});
    Bytes file = Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'} + png_chunk("IHDR", ihdr);
    for (const auto& c : before) file = file + c;
    file = file + png_chunk("IDAT", deflate(png_raw_rows(width, height, bit_depth, color_type, samples)));
    for (const auto& c : after) file = file + c;
    return file + png_chunk("IEND", {});
}

/// A binary PGM: `header` ("P5\n28 28\n255\n", or any other form) followed by the raster.
inline Bytes pgm_p5(std::string_view header, const Bytes& pixels) { return bytes(header) + pixels; }

/// A plain PGM: `header`, then the samples as decimal numbers, 28 to a line.
inline Bytes pgm_p2(std::string_view header, const Bytes& pixels) {
    std::string text(header);
    for (std::size_t k = 0; k < pixels.size(); ++k) text += std::to_string(pixels[k]) + (k % 28 == 27 ? "\n" : " ");
    return bytes(text);
}

/// 28×28 test pixels: a bright diagonal stroke on a dark ground, with many distinct values.
inline Bytes stroke_pixels() {
    Bytes p(28 * 28);
    for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
            const int d = x - y < 0 ? y - x : x - y;  // distance from the diagonal
            p[static_cast<std::size_t>(y * 28 + x)] = static_cast<unsigned char>(d < 4 ? 255 - 20 * d : (7 * x + 3 * y) % 40);
        }
    return p;
}

}  // namespace typegrad::test::image_bytes
