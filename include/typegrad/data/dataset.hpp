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

/// Images stored as rows*cols floats in [0, 1], one after another, and one label each.
struct Dataset {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<float> pixels;         // size() * rows * cols, scaled to [0, 1]
    std::vector<std::uint8_t> labels;  // one per image

    [[nodiscard]] std::size_t size() const noexcept { return labels.size(); }
    [[nodiscard]] std::size_t image_size() const noexcept { return rows * cols; }
    [[nodiscard]] std::span<const float> image(std::size_t i) const noexcept {
        return {pixels.data() + i * image_size(), image_size()};
    }
    /// Largest label + 1 (0 for an empty set).
    [[nodiscard]] std::size_t label_count() const noexcept;
    /// The first n examples (all of them if n >= size()).
    [[nodiscard]] Dataset head(std::size_t n) const;
};

/// A training set and a test set.
struct Split {
    Dataset train;
    Dataset test;
};

/// Reads an IDX3 image file (magic 0x00000803) and an IDX1 label file (magic 0x00000801),
/// each plain or gzip-compressed (detected from the content, not the name). Validates magic,
/// element type, dimensions, counts and size; throws DataError naming the file otherwise.
Dataset read_idx(const std::filesystem::path& images, const std::filesystem::path& labels);

/// Loads MNIST-format data from a directory holding train-images-idx3-ubyte,
/// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each with or
/// without a .gz suffix. Works for MNIST and Fashion-MNIST.
Split load_idx_directory(const std::filesystem::path& dir);

/// Deterministic synthetic handwritten-like digits 0-9 on a 28x28 grid: strokes with random
/// shift, scale, slant, stroke width and pixel noise. Same (count, seed) -> same bytes.
Dataset synthetic_digits(std::size_t count, std::uint64_t seed);

/// The CLI's default data: synthetic train and test sets drawn from disjoint seeds.
Split synthetic_split(std::size_t train_count, std::size_t test_count, std::uint64_t seed);

/// Throws DataError (naming `what`, e.g. the directory) if the images are not n_in pixels or
/// a label is >= n_out.
void check_fits(const Dataset& d, std::size_t n_in, std::size_t n_out, const std::string& what);

}  // namespace typegrad::data
