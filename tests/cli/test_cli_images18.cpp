// Issue 18, item 6, through the executable (TYPEGRAD_EXE): `typegrad predict`'s image readers.
// Compressed text chunks must not make a small PNG take gigabytes (peak RSS of the child is
// measured); a palette PNG with transparency, and alpha in every colour type, are read with the
// alpha ignored, as the README says; a PGM's header has exactly one whitespace byte between the
// maximum value and a binary raster, so a comment after it is refused instead of being read as
// pixels. The files are written here (tests/fuzz/image_bytes.hpp); nothing binary is committed.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../fuzz/image_bytes.hpp"
#include "../support/cli_process.hpp"

using namespace typegrad;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace typegrad::test::image_bytes;

namespace {

using Result = test::CliResult;

/// Runs `typegrad <args>` in dir (stdout to dir/out, stderr to dir/err); max_rss_kb is its peak RSS.
Result run(const test::WorkDir& dir, const std::string& args) { return test::run_cli(dir.path, test::split(args)); }

/// A working directory with m.tgck, a tiny 784-30-10 trained on synthetic digits.
struct ModelDir : test::WorkDir {
    ModelDir() : test::WorkDir("typegrad-cli-images18") {
        REQUIRE(run(*this, "train --epochs 1 --limit 200 --test-limit 100 --quiet --save m.tgck").code == 0);
    }
    void write(const std::string& name, const Bytes& b) const { test::write_bytes(*this / name, b); }

    /// What predict says of the image in `name`: the class and the outputs, without the file name.
    /// "" (and a failed check) if predict does not classify it.
    std::string classify(const std::string& name) const {
        const Result r = run(*this, "predict --model m.tgck " + name);
        CHECK(r.code == 0);
        const std::string prefix = "\n" + name + ": ";
        const auto at = r.out.find(prefix);
        CHECK(at != std::string::npos);
        return r.code != 0 || at == std::string::npos ? "" : r.out.substr(at + prefix.size());
    }

    /// predict refuses `name` with exit 1 and one line on stderr naming it and saying `problem`.
    void refused(const std::string& name, const std::string& problem) const {
        const Result r = run(*this, "predict --model m.tgck " + name);
        CHECK(r.code == 1);
        CHECK(r.out.empty());
        CHECK(r.err.find('\n') == r.err.size() - 1);
        CHECK(r.err.find("typegrad: error: " + name + ": ") == 0);
        CHECK(r.err.find(problem) != std::string::npos);
    }
};

std::vector<unsigned> samples(const Bytes& pixels, int channels_per_pixel, unsigned alpha_or_other = 0) {
    std::vector<unsigned> s;
    for (std::size_t k = 0; k < pixels.size(); ++k) {
        for (int c = 0; c < channels_per_pixel; ++c)
            s.push_back(c == 3 || (channels_per_pixel == 2 && c == 1) ? static_cast<unsigned>((alpha_or_other + 13 * k) % 256) : pixels[k]);
    }
    return s;
}

Bytes gray_palette(unsigned entries, unsigned step) {
    Bytes plte;
    for (unsigned i = 0; i < entries; ++i) plte.insert(plte.end(), 3, static_cast<unsigned char>(i * step));
    return png_chunk("PLTE", plte);
}

Bytes alphas(unsigned entries) {
    Bytes a;
    for (unsigned i = 0; i < entries; ++i) a.push_back(static_cast<unsigned char>(255 - (i * 7) % 256));
    return png_chunk("tRNS", a);
}

}  // namespace

TEST_CASE("compressed text chunks are skipped: a 0.4 MB PNG does not take 400 MB", "[images18]") {
    ModelDir dir;
    const Bytes pixels = stroke_pixels();
    const std::vector<unsigned> gray_samples(pixels.begin(), pixels.end());
    dir.write("plain.png", png(28, 28, 8, gray, gray_samples));
    // 48 text chunks of 7.9 MB each (under libpng's default limit of 8 000 000 bytes per chunk),
    // each some 8 kB in the file: 380 MB if they were kept, as libpng does by default. Not
    // zeros: libpng keeps a text that starts with a NUL as an empty one.
    const Bytes text(7'900'000, 'A');
    std::vector<Bytes> before, after;
    for (int i = 0; i < 40; ++i) before.push_back(ztxt_chunk("Comment", text));
    for (int i = 0; i < 8; ++i) before.push_back(itxt_chunk("Description", text));
    for (int i = 0; i < 8; ++i) after.push_back(ztxt_chunk("Comment", text));
    const Bytes bomb = png(28, 28, 8, gray, gray_samples, before, after);
    REQUIRE(bomb.size() < 600'000);
    dir.write("bomb.png", bomb);

    const std::string expected = dir.classify("plain.png");
    REQUIRE(!expected.empty());
    const Result r = run(dir, "predict --model m.tgck bomb.png");
    CHECK(r.code == 0);
    CHECK(r.out.find("bomb.png: " + expected) != std::string::npos);
    CHECK(r.max_rss_kb < 200 * 1024);
}

TEST_CASE("alpha and transparency are ignored in every PNG colour type, palettes included", "[images18]") {
    ModelDir dir;
    const Bytes pixels = stroke_pixels();
    const std::vector<unsigned> gray_samples(pixels.begin(), pixels.end());
    dir.write("gray.png", png(28, 28, 8, gray, gray_samples));
    const std::string expected = dir.classify("gray.png");
    REQUIRE(!expected.empty());

    // Palette entry i is the gray (i, i, i): PIL's luma of it is i, so each file below holds the
    // image of gray.png.
    dir.write("palette.png", png(28, 28, 8, palette, gray_samples, {gray_palette(256, 1)}));
    dir.write("palette-trns.png", png(28, 28, 8, palette, gray_samples, {gray_palette(256, 1), alphas(256)}));
    dir.write("palette-short-trns.png", png(28, 28, 8, palette, gray_samples, {gray_palette(256, 1), alphas(10)}));
    dir.write("gray-trns.png", png(28, 28, 8, gray, gray_samples, {png_chunk("tRNS", {0, 0})}));
    dir.write("rgb-trns.png", png(28, 28, 8, rgb, samples(pixels, 3), {png_chunk("tRNS", {0, 0, 0, 0, 0, 0})}));
    dir.write("gray-alpha.png", png(28, 28, 8, gray_alpha, samples(pixels, 2)));
    dir.write("rgba.png", png(28, 28, 8, rgba, samples(pixels, 4, 100)));
    for (const char* name : {"palette.png", "palette-trns.png", "palette-short-trns.png", "gray-trns.png", "rgb-trns.png",
                             "gray-alpha.png", "rgba.png"}) {
        INFO(name);
        CHECK(dir.classify(name) == expected);
    }

    // 4-bit palette and gray with transparency: the image of 16 levels, v * 17.
    std::vector<unsigned> levels, level_bytes;
    for (const unsigned p : pixels) {
        levels.push_back(p >> 4);
        level_bytes.push_back((p >> 4) * 17);
    }
    dir.write("levels.png", png(28, 28, 8, gray, level_bytes));
    const std::string expected_levels = dir.classify("levels.png");
    REQUIRE(!expected_levels.empty());
    dir.write("palette4-trns.png", png(28, 28, 4, palette, levels, {gray_palette(16, 17), alphas(16)}));
    dir.write("gray4-trns.png", png(28, 28, 4, gray, levels, {png_chunk("tRNS", {0, 3})}));
    for (const char* name : {"palette4-trns.png", "gray4-trns.png"}) {
        INFO(name);
        CHECK(dir.classify(name) == expected_levels);
    }

    // Still refused: 16 bits, with an alpha channel too.
    dir.write("gray-alpha16.png", png(28, 28, 16, gray_alpha, samples(pixels, 2)));
    dir.refused("gray-alpha16.png", "has 16-bit samples");
}

TEST_CASE("a PGM's binary raster starts after one whitespace byte: a comment after the maximum value is refused",
          "[images18]") {
    ModelDir dir;
    const Bytes pixels = stroke_pixels();
    dir.write("plain.pgm", pgm_p5("P5\n28 28\n255\n", pixels));
    const std::string expected = dir.classify("plain.pgm");
    REQUIRE(!expected.empty());

    // Read as they were meant.
    dir.write("comments.pgm", pgm_p5("P5 #a\n#b\n28#c\n28\t255\r", pixels));
    dir.write("cr-comment.pgm", pgm_p5("P5 # ended by a carriage return\r28 28\r255\n", pixels));
    dir.write("trailing-newline.pgm", pgm_p5("P5\n28 28\n255\n", pixels + bytes("\n")));
    dir.write("two-images.pgm", pgm_p5("P5\n28 28\n255\n", pixels + pgm_p5("P5\n28 28\n255\n", Bytes(784, 0))));
    dir.write("plain-glued.pgm", pgm_p2("P2\n28 28\n255#c\n", pixels));
    dir.write("plain-cr.pgm", pgm_p2("P2 # comment\r28 28 255\n", pixels));
    for (const char* name : {"comments.pgm", "cr-comment.pgm", "trailing-newline.pgm", "two-images.pgm", "plain-glued.pgm",
                             "plain-cr.pgm"}) {
        INFO(name);
        CHECK(dir.classify(name) == expected);
    }

    // Would be read with the pixels shifted by the comment's length.
    dir.write("glued.pgm", pgm_p5("P5\n28 28\n255#c\n", pixels));
    dir.refused("glued.pgm", "maximum value");
    dir.write("spaced.pgm", pgm_p5("P5\n28 28\n255 # made by hand\n", pixels));
    dir.refused("spaced.pgm", "after its 784 pixels");
    dir.write("crlf-comment.pgm", pgm_p5("P5\n28 28\n255\r\n", pixels));
    dir.refused("crlf-comment.pgm", "after its 784 pixels");
    // More samples than pixels.
    dir.write("long.pgm", pgm_p5("P5\n28 28\n255\n", pixels + bytes("xyz")));
    dir.refused("long.pgm", "after its 784 pixels");
    dir.write("long-plain.pgm", pgm_p2("P2\n28 28\n255\n", pixels + bytes("7")) + bytes("\n"));
    dir.refused("long-plain.pgm", "after its 784 pixels");
}
