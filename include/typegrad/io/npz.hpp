// NumPy's .npz: a zip archive of .npy arrays (stored, not compressed), which numpy.load and
// torch read. Used by `typegrad export` to hand a trained network to PyTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace typegrad::io {

/// One array of an .npz: its name (the file NAME.npy in the archive), its shape (C order) and
/// its elements, float32 or float64, or a text (a 1-byte-per-character '<U…'-free byte string
/// stored as uint8, for metadata such as the architecture as JSON).
struct NpyArray {
    std::string name;
    std::vector<std::size_t> shape;
    std::string dtype;                // "<f4", "<f8", "<i8" (an ONNX graph's integer constants) or "|u1"
    std::vector<unsigned char> data;  // little-endian elements, size = product(shape) * itemsize
};

/// Writes the arrays as FILE (.npz), atomically (a temporary file renamed onto FILE, as
/// checkpoints are); throws CheckpointError naming FILE if it cannot be written.
void write_npz(const std::filesystem::path& file, const std::vector<NpyArray>& arrays);

/// An array of T (float or double) from a contiguous tensor.
template <class T>
NpyArray npy_array(std::string name, std::vector<std::size_t> shape, const T* values, std::size_t count) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "npy_array: float or double");
    NpyArray a{std::move(name), std::move(shape), sizeof(T) == 4 ? "<f4" : "<f8", {}};
    const auto* bytes = reinterpret_cast<const unsigned char*>(values);
    a.data.assign(bytes, bytes + count * sizeof(T));  // x86-64: already little-endian
    return a;
}

/// A vector of int64 (an ONNX Reshape's shape, a Slice's starts).
inline NpyArray npy_int64(std::string name, const std::vector<std::int64_t>& values) {
    NpyArray a{std::move(name), {values.size()}, "<i8", {}};
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    a.data.assign(bytes, bytes + values.size() * sizeof(std::int64_t));  // x86-64: already little-endian
    return a;
}

/// A text (e.g. JSON) as a uint8 array.
inline NpyArray npy_text(std::string name, const std::string& text) {
    return {std::move(name), {text.size()}, "|u1", std::vector<unsigned char>(text.begin(), text.end())};
}

}  // namespace typegrad::io
