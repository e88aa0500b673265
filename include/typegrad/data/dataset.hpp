// Datasets: examples of a fixed shape (bytes or floats) with class labels or real targets, read
// from MNIST-format IDX files (plain or .gz), NumPy .npy/.npz files and CSV, and the built-in
// synthetic digits. Compiled in src/data/ (no templates needed here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
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

/// What the targets ask of a network: a class per example (accuracy is its metric), or real
/// values (regression: MSE and MAE).
enum class Task { classification, regression };

/// Examples of any fixed shape with their targets.
///
/// Inputs: channels × rows × cols values per example (a table of F features is 1 × 1 × F), stored
/// either as bytes (`pixels`: an IDX file's images, the value of byte b is unit_pixel(b), in
/// [0, 1]; MNIST's 60000 training images are 47 MB resident instead of 188 MB) or as floats
/// (`features`, used as they are). Exactly one of the two is non-empty.
///
/// Targets: either a class index per example (`labels`), or `target_width` floats per example
/// (`targets`): real values for a regression, or a probability vector per example (then `task`
/// is classification and the class is the largest entry). Exactly one of the two is non-empty.
/// A reader gives a single target column as targets of width 1; fit_targets() turns it into
/// class indices when the network has more than one output.
///
/// Text (read_text) is a third form: the whole text as token ids (`tokens`, shared by the copies
/// windows() makes), the characters those ids stand for (`vocabulary`), and the examples are
/// windows of window + 1 tokens starting at `starts`: the first `window` are the input, and the
/// target of position t is the token at t + 1 (a one-hot row of the vocabulary per position).
struct Dataset {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::size_t channels = 1;
    std::vector<std::uint8_t> pixels;  // size() * image_size() bytes; the value is unit_pixel(b)
    std::vector<float> features;       // size() * image_size() floats (instead of pixels)
    std::vector<std::uint8_t> labels;  // one class index per example
    std::vector<float> targets;        // size() * target_width floats (instead of labels)
    std::size_t target_width = 0;
    Task task = Task::classification;  // labels: always classification
    // text: the token ids of the whole text, the characters of the ids, the window and the examples
    std::shared_ptr<const std::vector<std::uint32_t>> tokens;
    std::u32string vocabulary;
    std::size_t window = 0;
    std::vector<std::size_t> starts;

    [[nodiscard]] std::size_t size() const noexcept {
        if (is_text()) return starts.size();
        return !labels.empty() ? labels.size() : target_width ? targets.size() / target_width : 0;
    }
    /// Whether the examples are windows of a text (read_text).
    [[nodiscard]] bool is_text() const noexcept { return tokens != nullptr; }
    /// Predictions per example: one, or one per position of a text window.
    [[nodiscard]] std::size_t positions() const noexcept { return is_text() ? window : 1; }
    /// Token t of text example i: its input (t < window) or, at t = window, the last target.
    [[nodiscard]] std::uint32_t token(std::size_t i, std::size_t t) const noexcept { return (*tokens)[starts[i] + t]; }
    /// The same text in windows of window + 1 tokens at offset, offset + window, …: the windows of
    /// an epoch that starts at `offset` (a text's training set is re-cut at a random offset each
    /// epoch, so that no window boundary is always at the same place). Shares the tokens.
    [[nodiscard]] Dataset windows(std::size_t offset) const;
    /// The number of input values of one example: channels × rows × cols.
    [[nodiscard]] std::size_t image_size() const noexcept { return channels * rows * cols; }
    /// Whether the inputs are floats (features) rather than bytes (pixels).
    [[nodiscard]] bool float_inputs() const noexcept { return !features.empty(); }
    /// The bytes of example i (byte inputs only).
    [[nodiscard]] std::span<const std::uint8_t> image(std::size_t i) const noexcept {
        return {pixels.data() + i * image_size(), image_size()};
    }
    /// Input value k of example i: unit_pixel of its byte, its float, or its token id.
    [[nodiscard]] float pixel(std::size_t i, std::size_t k) const noexcept {
        if (is_text()) return static_cast<float>(token(i, k));
        return float_inputs() ? features[i * image_size() + k] : unit_pixel(pixels[i * image_size() + k]);
    }
    /// The class of example i (classification only): its label, or its target's largest entry.
    [[nodiscard]] std::size_t label(std::size_t i) const noexcept {
        if (!labels.empty()) return labels[i];
        const float* t = targets.data() + i * target_width;
        std::size_t best = 0;
        for (std::size_t k = 1; k < target_width; ++k)
            if (t[k] > t[best]) best = k;
        return best;
    }
    /// Largest label + 1 (0 for an empty set); target_width for probability targets.
    [[nodiscard]] std::size_t label_count() const noexcept;
    /// The first n examples (all of them if n >= size()); of a text, the text of its first n
    /// windows (which may be re-cut by windows()).
    [[nodiscard]] Dataset head(std::size_t n) const;
    /// The last n examples (all of them if n >= size()): a validation set held out from the
    /// training set (Nielsen: the last 10 000 of MNIST's 60 000); of a text, the text from the
    /// first of its last n windows on.
    [[nodiscard]] Dataset tail(std::size_t n) const;
    /// "60000 examples of 1x28x28 bytes, class labels", for messages and headers.
    [[nodiscard]] std::string describe() const;
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

/// Which column of a table is the target (--target): a header's column name, a 0-based index
/// ("0", "9"), a negative index from the end ("-1"), or "first" / "last" (the default).
struct TargetColumn {
    std::string spec = "last";
};

/// Reads a NumPy .npz archive (stored or deflated entries) holding the arrays `x` (the inputs: N
/// examples of any shape; (N, F), (N, H, W) or (N, C, H, W); uint8 is kept as bytes with the
/// value b / 255 as an IDX file's, any other integer or float type becomes float32) and `y` (the
/// targets: (N,) or (N, 1) — a class index or a real value — or (N, K): a vector per example).
/// Validated like an IDX file: magic numbers, headers, dtypes, shapes, sizes against the file's
/// and the archive's, finite values; throws DataError naming the file (and the array).
/// limit > 0 keeps the first `limit` examples. Memory: the values kept, plus buffers.
Dataset read_npz(const std::filesystem::path& file, std::size_t limit = 0);

/// Reads a NumPy .npy file holding a 2-D numeric table (N, F + 1): the target column (chosen by
/// `target`) is the target, the others the features (floats). Throws DataError naming the file.
Dataset read_npy_table(const std::filesystem::path& file, const TargetColumn& target = {}, std::size_t limit = 0);

/// Reads a CSV file of numeric columns (comma-separated; a first line with a non-numeric field is
/// a header of column names; blank lines and a final newline are ignored; quoted fields are
/// refused): the target column is the target, the others the features (floats). Every row must
/// have the header's (or the first row's) number of fields, every field a finite number; a
/// message names the file, the line and the column otherwise. Throws DataError.
Dataset read_csv(const std::filesystem::path& file, const TargetColumn& target = {}, std::size_t limit = 0);

/// The forms of a data file read_file tells apart.
enum class FileFormat { npz, npy, csv };
/// What read_file reads `file` as, by its first bytes: an .npz archive (zip magic), an .npy table
/// (NumPy magic), otherwise CSV text. Throws DataError, as read_file, for a file it cannot open.
FileFormat file_format(const std::filesystem::path& file);

/// Reads a data file by its content (file_format). Only regular files are read (as read_idx).
Dataset read_file(const std::filesystem::path& file, const TargetColumn& target = {}, std::size_t limit = 0);

/// What read_text found besides the text: the characters of the file that are not in a given
/// vocabulary, which it leaves out (their count, and up to ten of them, as UTF-8).
struct TextNotes {
    std::size_t skipped = 0;
    std::string examples;
};

/// Reads a UTF-8 text file as a sequence of characters (Unicode code points; "\r\n" is read as
/// "\n"), each a token, in windows of window + 1 characters at stride `window` from the start:
/// the examples of Dataset's text form. The vocabulary is the file's own distinct characters in
/// code point order, or, given `vocabulary` (a model's, from its checkpoint), that one: the
/// characters of the file outside it are left out and counted in `notes`. Only regular files are
/// read, at most 256 MiB; a file that is not UTF-8, holds a NUL, has more than 65536 distinct
/// characters or fewer than window + 1 known ones is refused with a DataError naming the file
/// (and the byte offset of a bad sequence).
Dataset read_text(const std::filesystem::path& file, std::size_t window, const std::u32string* vocabulary = nullptr,
                  TextNotes* notes = nullptr);

/// The UTF-8 bytes of the code points in s.
[[nodiscard]] std::string utf8(std::u32string_view s);
/// Decodes UTF-8 text (a prompt, a checkpoint's vocabulary); false when it is not valid UTF-8.
[[nodiscard]] bool decode_utf8(std::string_view bytes, std::u32string& out);

/// Fits the targets to a network with n_out outputs: targets of width 1 with n_out > 1 become
/// class indices (each must be an integer in [0, n_out) and at most 255); targets of width n_out
/// stay, and are class probabilities (task classification) when every row is non-negative and
/// sums to 1, real values (regression) otherwise. Throws DataError naming `what` otherwise.
void fit_targets(Dataset& d, std::size_t n_out, const std::string& what);

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

/// Throws DataError (naming `what`, e.g. the directory) if an example is not n_in values, a
/// label is >= n_out, or targets are not n_out wide (a text: if its window is not n_in or its
/// vocabulary × window is not n_out).
void check_fits(const Dataset& d, std::size_t n_in, std::size_t n_out, const std::string& what);

}  // namespace typegrad::data
