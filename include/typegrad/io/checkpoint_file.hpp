// The checkpoint file format, without templates (compiled in src/io/): a versioned header that
// names the network (element type, widths, cost) and the training state, a payload of raw
// parameters, and a CRC-32 over both. Loading checks everything before anything is used;
// writing is atomic (temporary file, fsync, rename, fsync of the directory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "typegrad/util/random.hpp"

namespace typegrad::io {

/// Any unreadable, corrupted or mismatched checkpoint. what() is one line naming the file and
/// the problem, e.g. "run.tgck: checksum mismatch (the file is corrupted)".
class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t checkpoint_version = 1;

/// What a checkpoint says about itself.
struct CheckpointHeader {
    std::uint32_t version = checkpoint_version;
    std::string element_type;          // "float" or "double"
    std::vector<std::uint64_t> widths; // n₀, n₁, …: the composition's widths after each layer, as in Sequential::widths
    std::string layers;                // a description of the layers, e.g. "784-30-10 sigmoid"
    std::string cost;                  // cost::...::name
    std::uint64_t epochs_done = 0;
    Rng::State rng{};                  // the trainer's shuffling generator
    std::uint64_t payload_bytes = 0;
};

struct CheckpointImage {
    CheckpointHeader header;
    std::vector<unsigned char> payload;  // the parameters, layer by layer: W then b, native byte order
};

/// Bytes of a whole checkpoint file for this header and payload (header.payload_bytes is set
/// from the payload).
std::vector<unsigned char> serialize_checkpoint(CheckpointHeader header, std::span<const unsigned char> payload);

/// Parses and verifies a checkpoint image: magic, version, header fields, sizes, checksum.
/// Throws CheckpointError whose message starts with `what` (the file name). Never reads out of
/// bounds, never allocates more than the input's size, whatever the bytes.
CheckpointImage parse_checkpoint(std::span<const unsigned char> bytes, const std::string& what);

/// Reads and parses a checkpoint file (parse_checkpoint with the path as `what`).
CheckpointImage read_checkpoint_file(const std::filesystem::path& path);

/// Writes bytes to path atomically: a temporary file in the same directory, fsync, rename over
/// path, fsync of the directory. A crash at any moment leaves either the old file or the new
/// one, never a mix. Throws CheckpointError naming the path on any failure (and removes the
/// temporary file).
void write_file_atomically(const std::filesystem::path& path, std::span<const unsigned char> bytes);

}  // namespace typegrad::io
