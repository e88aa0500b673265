// Reading the images of `typegrad predict` (image.hpp): PGM by hand, PNG with libpng's classic
// API from memory (the simplified png_image API would apply gAMA and composite alpha, so a file
// would not read as PIL reads it).
#include "image.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "../io/file_kind.hpp"
#include "options.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint_file.hpp"

namespace typegrad::cli {
namespace {

/// Far more than any 28×28 image needs (a PNG with a large ICC profile is some kB): a photo
/// given by mistake is refused without being read whole.
constexpr std::size_t max_file_bytes = std::size_t{16} << 20;
constexpr std::size_t pixel_count = image_side * image_side;
/// What libpng may allocate for one chunk (its default is 8 MB): PLTE is 768 bytes, and IDAT is
/// read in pieces of 8 kB.
constexpr png_alloc_size_t max_png_chunk_bytes = 64 << 10;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& problem) {
    throw RunError(cat(io::printable_text(file.string()), ": ", problem));
}

std::string wrong_size(std::size_t width, std::size_t height) {
    return cat("is ", width, "×", height, " pixels; predict classifies 28×28 images (MNIST's size): resize it first");
}

/// The whole file; only a regular file is opened (stat first, then open non-blocking: a FIFO
/// would block open()).
std::string read_file(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) fail(file, cat("cannot open: ", std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) fail(file, cat("is not a regular file (", io::file_kind(st.st_mode), ")"));
    if (static_cast<std::size_t>(st.st_size) > max_file_bytes)
        fail(file, cat("is ", st.st_size, " bytes: too large for a 28×28 image"));
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) fail(file, cat("cannot open: ", std::strerror(errno)));
    // The size stat gave, and one byte more to see a file that grew (read to the cap, refused).
    std::string bytes(static_cast<std::size_t>(st.st_size) + 1, '\0');
    std::size_t have = 0;
    for (;;) {
        const ssize_t n = ::read(fd, bytes.data() + have, bytes.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            fail(file, cat("cannot read: ", std::strerror(e)));
        }
        if (n == 0) break;
        if ((have += static_cast<std::size_t>(n)) == bytes.size()) {
            if (bytes.size() > max_file_bytes) break;
            bytes.resize(std::min(2 * bytes.size(), max_file_bytes + 1));
        }
    }
    ::close(fd);
    if (have > max_file_bytes) fail(file, "grew while it was read: too large for a 28×28 image");
    bytes.resize(have);
    return bytes;
}

// --- PGM ---------------------------------------------------------------------------------------

/// The tokens of a PGM: whitespace-separated, '#' to the end of the line (CR or LF) a comment.
class PgmReader {
public:
    PgmReader(const std::filesystem::path& file, std::string_view text) : file_(file), text_(text) {}

    /// The next unsigned decimal number, named `what` in messages.
    unsigned long number(const char* what) {
        skip_space_and_comments();
        if (at_ == text_.size()) fail(file_, cat("is truncated: the ", what, " is missing"));
        unsigned long v = 0;
        const std::size_t start = at_;
        while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9' && at_ - start < 9)
            v = v * 10 + static_cast<unsigned long>(text_[at_++] - '0');
        if (at_ == start || (at_ < text_.size() && !is_space(text_[at_]) && text_[at_] != '#'))
            fail(file_, cat("is not a valid PGM: the ", what, " is not a number of at most 9 digits"));
        return v;
    }
    /// P5: after maxval, exactly one whitespace byte, then the raster. A comment glued to maxval
    /// ("255#c") is refused: netpbm's reading (the raster starts after the first whitespace byte
    /// after it) and a writer's intent (after its line break) differ, and one of them is wrong.
    std::string_view raster() {
        if (at_ == text_.size()) fail(file_, "is truncated: it ends after its maximum value");
        if (!is_space(text_[at_]))
            fail(file_, "is not a valid PGM: a comment follows its maximum value; in a binary PGM (P5) the pixels start right "
                        "after the one whitespace byte that ends the maximum value: remove the comment");
        return text_.substr(++at_);
    }
    /// After the last pixel: nothing but whitespace (P2: and comments), or another image (netpbm
    /// allows several in one file; predict reads the first). Anything else means that the
    /// header or the raster is not what it seems (e.g. "255 # comment" before a P5 raster shifts
    /// the pixels by the comment's length) or that there are more pixels than 28×28.
    void expect_end(std::size_t raster_end, bool comments) {
        at_ = raster_end;
        if (comments) skip_space_and_comments();
        else while (at_ < text_.size() && is_space(text_[at_])) ++at_;
        const std::string_view rest = text_.substr(at_);
        if (rest.empty() || (rest.size() >= 2 && rest[0] == 'P' && rest[1] >= '1' && rest[1] <= '7')) return;
        if (comments) fail(file_, "is not a valid PGM: there are more samples after its 784 pixels");
        const std::size_t extra = text_.size() - raster_end;
        fail(file_, cat("is not a valid PGM: it has ", extra, extra == 1 ? " byte" : " bytes", " after its 784 pixels (in a binary PGM "
                        "(P5) the pixels start right after the one whitespace byte that ends the maximum value: is there a "
                        "comment or a second line break after it?)"));
    }
    std::size_t at() const { return at_; }

private:
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
    void skip_space_and_comments() {
        while (at_ < text_.size()) {
            if (text_[at_] == '#') {
                while (at_ < text_.size() && text_[at_] != '\n' && text_[at_] != '\r') ++at_;
            } else if (is_space(text_[at_])) {
                ++at_;
            } else {
                break;
            }
        }
    }

    const std::filesystem::path& file_;
    std::string_view text_;
    std::size_t at_ = 2;  // after the magic "P2" or "P5"
};

GrayImage read_pgm(const std::filesystem::path& file, std::string_view bytes) {
    const bool binary = bytes[1] == '5';
    PgmReader in(file, bytes);
    const unsigned long width = in.number("width");
    const unsigned long height = in.number("height");
    const unsigned long maxval = in.number("maximum value");
    if (width != image_side || height != image_side) fail(file, wrong_size(width, height));
    if (maxval == 0) fail(file, "is not a valid PGM: its maximum value is 0");
    if (maxval > 255)
        fail(file, cat("has 16-bit samples (maximum value ", maxval, "); predict reads 8-bit images, as MNIST's: convert it to 8 bits"));
    const auto to_byte = [&](unsigned long v) { return static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval); };
    GrayImage image;
    image.pixels.resize(pixel_count);
    if (binary) {
        const std::string_view raster = in.raster();
        if (raster.size() < pixel_count) fail(file, cat("is truncated: ", raster.size(), " of its 784 pixels are there"));
        for (std::size_t k = 0; k < pixel_count; ++k) {
            const auto v = static_cast<unsigned char>(raster[k]);
            if (v > maxval) fail(file, cat("is not a valid PGM: pixel ", k, " is ", int{v}, ", above its maximum value ", maxval));
            image.pixels[k] = to_byte(v);
        }
        in.expect_end(bytes.size() - raster.size() + pixel_count, false);
    } else {
        for (std::size_t k = 0; k < pixel_count; ++k) {
            const unsigned long v = in.number(cat("pixel ", k).c_str());
            if (v > maxval) fail(file, cat("is not a valid PGM: pixel ", k, " is ", v, ", above its maximum value ", maxval));
            image.pixels[k] = to_byte(v);
        }
        in.expect_end(in.at(), true);
    }
    return image;
}

// --- PNG ---------------------------------------------------------------------------------------

// decode_png runs between setjmp and libpng's longjmp on error: it touches only this plain
// struct (no object with a destructor may be skipped by the jump).
struct PngDecode {
    const unsigned char* data = nullptr;
    std::size_t size = 0;
    std::size_t offset = 0;
    char error[256] = {};
    png_uint_32 width = 0;
    png_uint_32 height = 0;
    int bit_depth = 0;
    int color_type = 0;
    int channels = 0;
    unsigned char pixels[28 * 28 * 3] = {};  // gray, or RGB
};
static_assert(image_side == 28, "PngDecode::pixels is sized for 28×28");

void on_png_error(png_structp png, png_const_charp message) {
    auto* d = static_cast<PngDecode*>(png_get_error_ptr(png));
    std::snprintf(d->error, sizeof d->error, "%s", message);
    png_longjmp(png, 1);
}
void on_png_warning(png_structp, png_const_charp) {}  // e.g. a bad ancillary chunk: the pixels are still right

void read_png_bytes(png_structp png, png_bytep out, png_size_t n) {
    auto* d = static_cast<PngDecode*>(png_get_io_ptr(png));
    if (n > d->size - d->offset) png_error(png, "the file is truncated");
    std::memcpy(out, d->data + d->offset, n);
    d->offset += n;
}

enum class PngResult { decoded, error, wrong_size, sixteen_bit };

PngResult decode_png(PngDecode& d) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, on_png_error, on_png_warning);
    if (png == nullptr) return std::snprintf(d.error, sizeof d.error, "out of memory"), PngResult::error;
    png_infop info = png_create_info_struct(png);
    if (info == nullptr) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        return std::snprintf(d.error, sizeof d.error, "out of memory"), PngResult::error;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return PngResult::error;
    }
    png_set_read_fn(png, &d, read_png_bytes);
    // Only IHDR, PLTE, IDAT and IEND are read. Every ancillary chunk is skipped unread (CRC
    // checked), tRNS included: transparency is ignored, and the text chunks would otherwise be
    // inflated and kept — up to 8 MB each, a thousand of them, from a file of a few MB.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
    static constexpr png_byte trns[] = {'t', 'R', 'N', 'S', 0};
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, trns, 1);
    // And should a chunk be read after all: a small bound on its memory and on their number.
    png_set_chunk_malloc_max(png, max_png_chunk_bytes);
    png_set_chunk_cache_max(png, 16);
    png_read_info(png, info);
    d.width = png_get_image_width(png, info);
    d.height = png_get_image_height(png, info);
    d.bit_depth = png_get_bit_depth(png, info);
    d.color_type = png_get_color_type(png, info);
    PngResult result = PngResult::decoded;
    if (d.width != 28 || d.height != 28) result = PngResult::wrong_size;
    else if (d.bit_depth == 16) result = PngResult::sixteen_bit;
    if (result != PngResult::decoded) {
        png_destroy_read_struct(&png, &info, nullptr);
        return result;
    }
    if (d.color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (d.color_type == PNG_COLOR_TYPE_GRAY && d.bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (d.color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);  // ignored, as by PIL's convert("L"); tRNS is not read
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    d.channels = png_get_channels(png, info);
    if (png_get_rowbytes(png, info) != static_cast<png_size_t>(28 * d.channels) || (d.channels != 1 && d.channels != 3))
        png_error(png, "unexpected pixel layout after conversion");
    png_bytep rows[28];
    for (int r = 0; r < 28; ++r) rows[r] = d.pixels + r * 28 * d.channels;
    png_read_image(png, rows);
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return PngResult::decoded;
}

GrayImage read_png(const std::filesystem::path& file, std::string_view bytes) {
    PngDecode d;
    d.data = reinterpret_cast<const unsigned char*>(bytes.data());
    d.size = bytes.size();
    switch (decode_png(d)) {
        case PngResult::error: fail(file, cat("is not a valid PNG: ", io::printable_text(d.error)));
        case PngResult::wrong_size: fail(file, wrong_size(d.width, d.height));
        case PngResult::sixteen_bit:
            fail(file, "has 16-bit samples; predict reads 8-bit images, as MNIST's: convert it to 8 bits");
        case PngResult::decoded: break;
    }
    GrayImage image;
    image.pixels.resize(pixel_count);
    for (std::size_t k = 0; k < pixel_count; ++k) {
        if (d.channels == 1) {
            image.pixels[k] = d.pixels[k];
        } else {
            const unsigned r = d.pixels[3 * k], g = d.pixels[3 * k + 1], b = d.pixels[3 * k + 2];
            image.pixels[k] = static_cast<std::uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
    }
    return image;
}

}  // namespace

GrayImage read_gray_image(const std::filesystem::path& file) { return decode_gray_image(file, read_file(file)); }

GrayImage decode_gray_image(const std::filesystem::path& file, std::string_view bytes) {
    if (bytes.size() > max_file_bytes) fail(file, cat("is ", bytes.size(), " bytes: too large for a 28×28 image"));
    static constexpr unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_signature, 8) == 0) return read_png(file, bytes);
    if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5')) return read_pgm(file, bytes);
    if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '3' || bytes[1] == '6'))
        fail(file, "is a colour PPM image; predict reads grayscale PGM (P2, P5) and PNG: convert it to PGM");
    if (bytes.empty()) fail(file, "is empty, not an image");
    fail(file, "is not an image predict reads (PGM P2 or P5, or PNG)");
}

}  // namespace typegrad::cli
