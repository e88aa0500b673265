// Datasets of images with integer labels: MNIST-format IDX files (plain or .gz) and the
// built-in synthetic digits. Compiled in src/data/ (no templates needed here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace typegrad::data {

/// Thrown for any unreadable or malformed input. what() is one line that names the file
/// (or directory) and says what is wrong, e.g.
/// "data/train-images-idx3-ubyte.gz: wrong magic number 0x00000802, expected 0x00000803 (IDX3 unsigned bytes)".
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The value in [0, 1] of a pixel stored as the byte b: b / 255 in float (IDX files hold bytes;
/// a batch converts them when it is gathered, see train::load_example).
[[nodiscard]] inline float unit_pixel(std::uint8_t b) noexcept { return static_cast<float>(b) / 255.0f; }

/// Images stored as rows*cols bytes, one after another (a pixel's value is unit_pixel(byte), in
/// [0, 1]), and one label each. Bytes, not floats: MNIST's 60000 training images are 47 MB
/// resident instead of 188 MB, and a file is never converted whole.
struct Dataset {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<std::uint8_t> pixels;  // size() * rows * cols bytes; the value is unit_pixel(b)
    std::vector<std::uint8_t> labels;  // one per image

    [[nodiscard]] std::size_t size() const noexcept { return labels.size(); }
    [[nodiscard]] std::size_t image_size() const noexcept { return rows * cols; }
    [[nodiscard]] std::span<const std::uint8_t> image(std::size_t i) const noexcept {
        return {pixels.data() + i * image_size(), image_size()};
    }
    /// Pixel k of image i in [0, 1].
    [[nodiscard]] float pixel(std::size_t i, std::size_t k) const noexcept { return unit_pixel(pixels[i * image_size() + k]); }
    /// Largest label + 1 (0 for an empty set).
    [[nodiscard]] std::size_t label_count() const noexcept;
    /// The first n examples (all of them if n >= size()).
    [[nodiscard]] Dataset head(std::size_t n) const;
    /// The last n examples (all of them if n >= size()): a validation set held out from the
    /// training set (Nielsen: the last 10 000 of MNIST's 60 000).
    [[nodiscard]] Dataset tail(std::size_t n) const;
};

/// A training set and a test set.
struct Split {
    Dataset train;
    Dataset test;
};

/// Reads an IDX3 image file (magic 0x00000803) and an IDX1 label file (magic 0x00000801),
/// each plain or gzip-compressed (detected from the content, not the name). Validates magic,
/// element type, dimensions, counts and size; throws DataError naming the file otherwise.
/// Only regular files are read (a FIFO, a device such as /dev/zero or a socket is refused
/// before it is opened, so nothing blocks). limit > 0 reads only the first `limit` examples:
/// the rest of the file is not decompressed (a plain file's size is still checked against
/// its header; a gzip file's tail is not looked at). Memory: the bytes kept, about
/// limit × rows × cols (never more than the file really holds, and at most 1 GiB), plus
/// buffers of 64 KiB and 1 MiB.
Dataset read_idx(const std::filesystem::path& images, const std::filesystem::path& labels, std::size_t limit = 0);

/// The four files of an MNIST-format directory, as found by find_idx_files.
struct IdxFiles {
    std::filesystem::path train_images, train_labels;  // empty when the training set was not looked for
    std::filesystem::path test_images, test_labels;
    /// What a user should know about the choice, one line each, e.g. "data/t10k-images-idx3-ubyte:
    /// read (t10k-images-idx3-ubyte.gz beside it is not)" when both forms exist.
    std::vector<std::string> notes;
    /// The files found, in the order above.
    [[nodiscard]] std::vector<std::filesystem::path> all() const;
};

/// Looks for train-images-idx3-ubyte, train-labels-idx1-ubyte (only if with_training_set),
/// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte in dir, each with or without a .gz
/// suffix (the plain file wins when both exist: a note says so). Throws DataError naming the
/// first missing file or a directory that is not one.
IdxFiles find_idx_files(const std::filesystem::path& dir, bool with_training_set = true);

/// How much of a directory to read: the first `train` / `test` examples (0: all), and whether
/// to read the training set at all (eval does not; the training files need not exist then).
struct LoadLimits {
    std::size_t train = 0;
    std::size_t test = 0;
    bool with_training_set = true;
};

/// Reads the files find_idx_files found (read_idx with the limits); the training and test
/// images must have the same size.
Split load_idx_files(const std::filesystem::path& dir, const IdxFiles& files, const LoadLimits& limits = {});

/// Loads MNIST-format data from a directory holding train-images-idx3-ubyte,
/// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each with or
/// without a .gz suffix. Works for MNIST and Fashion-MNIST. find_idx_files, then load_idx_files.
Split load_idx_directory(const std::filesystem::path& dir, const LoadLimits& limits = {});

/// A fingerprint of the examples (CRC-32 of the pixels, then of the labels, and the image
/// size): the same examples give the same value wherever and however they are stored (plain or
/// gzip, any path). 16 hex digits, e.g. "3fa1c2d40b9e7711".
[[nodiscard]] std::string content_fingerprint(const Dataset& d);

/// Deterministic synthetic handwritten-like digits 0-9 on a 28x28 grid: strokes with random
/// shift, scale, slant, stroke width and pixel noise, drawn in float and stored as bytes
/// (rounded, like an IDX file). Same (count, seed) -> same bytes.
Dataset synthetic_digits(std::size_t count, std::uint64_t seed);

/// The CLI's default data: synthetic train and test sets drawn from disjoint seeds.
Split synthetic_split(std::size_t train_count, std::size_t test_count, std::uint64_t seed);

/// Throws DataError (naming `what`, e.g. the directory) if the images are not n_in pixels or
/// a label is >= n_out.
void check_fits(const Dataset& d, std::size_t n_in, std::size_t n_out, const std::string& what);

}  // namespace typegrad::data
