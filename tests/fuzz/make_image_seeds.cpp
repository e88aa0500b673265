// Writes the seed corpus of fuzz_image (run by scripts/fuzz.sh; nothing binary is committed):
// DIR/fuzz_image/ gets small valid PGM files (P5 and P2, comments, maxval below 255) and PNG
// files of every colour type and bit depth libpng reads (gray 1 to 16 bits, RGB, palette with
// and without transparency, gray+alpha, RGBA), some with text chunks, and a few that predict
// refuses (another size, 16-bit) so that their paths are in the corpus too.
// Usage: fuzz_make_image_seeds DIR
#include "image_bytes.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using namespace typegrad::test::image_bytes;

namespace {

void write(const fs::path& path, const Bytes& b) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

/// The 784 pixels as samples of `bits` bits (the top bits), `channels` per pixel.
std::vector<unsigned> samples(const Bytes& pixels, int bits, int channels_per_pixel) {
    std::vector<unsigned> s;
    for (const unsigned p : pixels)
        for (int c = 0; c < channels_per_pixel; ++c) s.push_back(bits == 16 ? p * 257 : p >> (8 - bits));
    return s;
}

Bytes palette_chunk(unsigned entries) {
    Bytes plte;
    for (unsigned i = 0; i < entries; ++i)
        plte.insert(plte.end(), {static_cast<unsigned char>(i), static_cast<unsigned char>(255 - i), static_cast<unsigned char>(i * 3)});
    return png_chunk("PLTE", plte);
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_image_seeds DIR\n");
        return 2;
    }
    const fs::path dir = fs::path(argv[1]) / "fuzz_image";
    fs::create_directories(dir);
    const Bytes pixels = stroke_pixels();
    Bytes fifteen;
    for (const unsigned p : pixels) fifteen.push_back(static_cast<unsigned char>(p >> 4));

    write(dir / "p5.pgm", pgm_p5("P5\n28 28\n255\n", pixels));
    write(dir / "p5-comments.pgm", pgm_p5("P5 # a\r28#b\n28\t15 ", fifteen));
    write(dir / "p2.pgm", pgm_p2("P2\n# plain\n28 28\n255\n", pixels));
    write(dir / "p2-maxval15.pgm", pgm_p2("P2 28 28 15\n", fifteen));

    const auto gray8 = samples(pixels, 8, 1);
    const Bytes text = bytes("typegrad fuzz seed");
    write(dir / "gray8.png", png(28, 28, 8, gray, gray8));
    write(dir / "gray8-text.png", png(28, 28, 8, gray, gray8, {png_chunk("tEXt", bytes(std::string_view("Title\0seed", 10))), ztxt_chunk("Comment", text)},
                                      {itxt_chunk("Description", text)}));
    write(dir / "gray8-ancillary.png", png(28, 28, 8, gray, gray8, {png_chunk("gAMA", {0, 0, 0xb1, 0x8f}), png_chunk("sBIT", {8}),
                                                                    png_chunk("pHYs", {0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1})}));
    for (const int bits : {1, 2, 4, 16}) write(dir / ("gray" + std::to_string(bits) + ".png"), png(28, 28, bits, gray, samples(pixels, bits, 1)));
    write(dir / "gray4-trns.png", png(28, 28, 4, gray, samples(pixels, 4, 1), {png_chunk("tRNS", {0, 5})}));
    write(dir / "rgb.png", png(28, 28, 8, rgb, samples(pixels, 8, 3)));
    write(dir / "rgb-trns.png", png(28, 28, 8, rgb, samples(pixels, 8, 3), {png_chunk("tRNS", {0, 1, 0, 2, 0, 3})}));
    write(dir / "palette8.png", png(28, 28, 8, palette, gray8, {palette_chunk(256)}));
    write(dir / "palette8-trns.png", png(28, 28, 8, palette, gray8, {palette_chunk(256), png_chunk("tRNS", {0, 128, 255, 7})}));
    write(dir / "palette2-trns.png", png(28, 28, 2, palette, samples(pixels, 2, 1), {palette_chunk(4), png_chunk("tRNS", {9, 250})}));
    write(dir / "gray-alpha.png", png(28, 28, 8, gray_alpha, samples(pixels, 8, 2)));
    write(dir / "gray-alpha16.png", png(28, 28, 16, gray_alpha, samples(pixels, 16, 2)));
    write(dir / "rgba.png", png(28, 28, 8, rgba, samples(pixels, 8, 4)));
    write(dir / "gray8-29x28.png", png(29, 28, 8, gray, std::vector<unsigned>(29 * 28, 200)));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_image_seeds: %s\n", e.what());
    return 1;
}
