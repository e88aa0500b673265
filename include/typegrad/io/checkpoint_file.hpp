// The checkpoint file format, without templates (compiled in src/io/): a versioned header that
// names the network (element type, widths, cost) and the training state, a payload of raw
// parameters, and a CRC-32 over both. Loading checks everything before anything is used;
// writing is atomic (temporary file, fsync, rename, fsync of the directory).
//
// Version 4 (versions 1 to 3 load too), byte by byte. Integers are little-endian and unsigned; a "string" is a u32 byte
// count followed by that many bytes (UTF-8, no terminator); a "list" is a u32 count followed by
// that many u64.
//
//   offset 0   8 bytes   magic "TGCKPT\r\n" (54 47 43 4B 50 54 0D 0A; a CR-LF translation breaks it)
//   offset 8   u32       format version (3)
//   offset 12  string    element type: "float" or "double"
//              list      widths: the composition's width after each layer (Sequential::widths)
//              list      positions of the layers with parameters in the composition
//              string    layers, e.g. "input<784> | dense<30> | σ | dense<10> | σ"
//              string    cost, e.g. "quadratic"
//              string    training: how the parameters were trained (free text, informative only)
//              u64       epochs done
//              4 × u64   the shuffling generator's words (xoshiro256**)
//              u64       its spare normal deviate (IEEE 754 binary64 bits)
//              u8        whether the spare is valid (0 or 1)
//   (version 2) list      element count of every parameter tensor, in payload order
//   (version 2) string    optimizer name, e.g. "sgd"
//   (version 2) string    optimizer state (its own bytes; empty for SGD; for the built-in
//                        optimizers checked against the network: train::optimizer_state_problem)
//   (version 3) u64       the validation monitor (train/monitor.hpp): the best epoch (0: none),
//              u64       its validation accuracy (binary64 bits; 0 in [0, 1]),
//              u64       the epochs without improvement since then,
//              u64       the epochs without improvement since then or since the last halving,
//              u64       the halvings of η (at most 1000),
//              u64       the learning rate of the next epoch (binary64 bits; finite, >= 0;
//                        informative: a trainer computes it from its options and the halvings)
//              (a version 1 or 2 file has no validation history: all zero)
//   (version 4) string    the vocabulary of a network that reads text: its characters in token
//                        id order, UTF-8 (a file without one is written as version 3)
//              u64       payload byte count P
//              P bytes   payload: every parameter tensor of every layer in order (a dense layer:
//                        its weights W, fan_in × fan_out row by row, then its biases b);
//                        IEEE 754 binary32/binary64, little-endian
//              u32       CRC-32 (zlib's crc32, ISO-HDLC) of every byte before it
//
// Nothing in the file depends on time, host or path: the same model and state give the same
// bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/util/random.hpp"

namespace typegrad::io {

/// Any unreadable, corrupted or mismatched checkpoint. what() is one line naming the file and
/// the problem, e.g. "run.tgck: checksum mismatch: the file is corrupted".
class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t checkpoint_version = 4;

/// What a checkpoint says about itself.
struct CheckpointHeader {
    std::uint32_t version = 3;         // what is written: 3, or 4 with a vocabulary (checkpoint_header)
    std::string element_type;          // "float" or "double"
    std::vector<std::uint64_t> widths; // n₀, n₁, …: the composition's widths after each layer, as in Sequential::widths
    std::string layers;                // a description of the layers, e.g. "input<784> | dense<30> | σ | dense<10> | σ"
    std::vector<std::uint64_t> parameter_layers;  // positions in the composition of the layers with parameters (Model::position<L>)
    std::string cost;                  // cost::...::name
    std::string training;              // how it was trained (free text, e.g. the CLI's options); not checked on load
    std::uint64_t epochs_done = 0;
    Rng::State rng{};                  // the trainer's shuffling generator
    std::vector<std::uint64_t> parameter_sizes;  // elements of every parameter tensor, in payload order
    std::string optimizer = "sgd";     // the optimizer's name (Optimizer::name)
    std::vector<unsigned char> optimizer_state;  // its state (Optimizer::state())
    // the validation monitor (version 3; train::MonitorState) and the next epoch's η
    std::uint64_t best_epoch = 0;      // 0: no validation accuracy observed
    double best_accuracy = 0.0;
    std::uint64_t epochs_without_improvement = 0;
    std::uint64_t epochs_since_halving = 0;
    std::uint64_t halvings = 0;
    double eta = 0.0;
    std::string vocabulary;            // version 4: a text network's characters in token id order (UTF-8)
    std::uint64_t payload_bytes = 0;
};

struct CheckpointImage {
    CheckpointHeader header;
    std::vector<unsigned char> payload;  // the parameters, tensor by tensor, little-endian IEEE 754
};

inline constexpr unsigned char checkpoint_magic[8] = {'T', 'G', 'C', 'K', 'P', 'T', '\r', '\n'};

/// Bytes per element of "float" (4) or "double" (8); 0 for any other name.
std::size_t element_size(const std::string& element_type) noexcept;

/// The network a header describes, e.g. "784-30-10 float network": the input width, the width
/// of every layer with parameters, the element type.
std::string describe_network(const CheckpointHeader& header);

/// Empty if `file` (read from a checkpoint) holds the same network as `model` (element type,
/// widths, parameter layers, layers and cost all equal); else what differs, e.g.
/// "holds a 784-100-10 double network, this is a 784-30-10 float network".
std::string network_mismatch(const CheckpointHeader& file, const CheckpointHeader& model);

/// Bytes of a whole checkpoint file for this header and payload (header.payload_bytes is set
/// from the payload; header.version is written as it is, checkpoint_version by default). The
/// header is not checked against the payload, so tests can write inconsistent files. Throws
/// std::length_error if a string or list has more than 2^32 - 1 entries.
std::vector<unsigned char> serialize_checkpoint(CheckpointHeader header, std::span<const unsigned char> payload);

/// Parses and verifies a checkpoint image: magic, version, header fields, sizes, checksum.
/// Throws CheckpointError whose message starts with `what` (the file name). Never reads out of
/// bounds, never allocates more than the input's size, whatever the bytes.
CheckpointImage parse_checkpoint(std::span<const unsigned char> bytes, const std::string& what);

/// Throws CheckpointError "<what>: damaged checkpoint: …" if the header's optimizer state cannot
/// be its optimizer's for the network the header describes (train::optimizer_state_problem: its
/// length for the optimizer and the parameter count, moments finite, Adam's step count). Called
/// by parse_checkpoint and restore_checkpoint.
void check_optimizer_state(const CheckpointHeader& header, const std::string& what);

/// Reads and parses a checkpoint file (parse_checkpoint with the path as `what`). Only a regular
/// file is opened (a FIFO or a device is refused before open(), which could block); the magic
/// and version are checked before the rest of the file is read, and the sizes the header gives
/// are checked against the file's size before the payload is read, so a long file with a valid
/// header costs what its header says, not what the file holds. Errors name the path and give
/// strerror, e.g. "run.tgck: cannot open: No such file or directory".
CheckpointImage read_checkpoint_file(const std::filesystem::path& path);

/// `text` (from a file) fit for a terminal and a one-line message: control characters (C0,
/// DEL, C1 such as U+009B CSI) and bytes that are not UTF-8 are written as \xNN; the rest of
/// the UTF-8 text (σ, ...) is kept.
std::string printable_text(std::string_view text);

/// The file that writing `path` replaces: `path`, or where it leads if it is a symbolic link
/// (followed like `cp` or `>` do: the link stays and its target is replaced; a dangling link
/// creates its target). Throws CheckpointError naming `path` if that exists and is not a
/// regular file (a device such as /dev/null, a FIFO, a directory, a socket): those are never
/// replaced.
std::filesystem::path replace_target(const std::filesystem::path& path);

/// Writes bytes to path atomically: a temporary file beside the file it replaces
/// (replace_target(path) + ".tmp-<pid>", mode 0666 & ~umask, created exclusively), fsync,
/// rename over it, fsync of the directory. A crash at any moment leaves either the old file or
/// the new one, never a mix. Throws CheckpointError naming the path on any failure (and removes
/// the temporary file); refuses to replace anything but a regular file.
void write_file_atomically(const std::filesystem::path& path, std::span<const unsigned char> bytes);

/// Removes the temporary files write_file_atomically left beside `target` (the file it
/// replaces, see replace_target) when its process was killed: `target`.tmp-<pid> of processes
/// that no longer exist. Returns what it removed. Call it while holding the OutputLock.
std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& target);

/// An advisory lock (POSIX fcntl) on `target`.lock, held while one process writes `target` (a
/// file that is replaced by rename, so the lock cannot be on the file itself). The lock file
/// holds the holder's pid and is removed on release. A second OutputLock on the same target,
/// from any process, throws CheckpointError naming the holder: "run.tgck: is being written by
/// another process (pid 1234, which holds the lock on 'run.tgck.lock')".
class OutputLock {
public:
    explicit OutputLock(const std::filesystem::path& target);
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;
    ~OutputLock();
    /// Removes the lock file and releases the lock (also done by the destructor).
    void release() noexcept;
    [[nodiscard]] const std::filesystem::path& lock_file() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

namespace testing {
/// For tests that stop a writer at a known point: write_file_atomically calls write_hook(stage),
/// if set, after writing the first half of the temporary file (1), after the temporary file is
/// complete, synced and closed (2), and after the rename, before the directory is synced (3).
inline void (*write_hook)(int stage) = nullptr;
}  // namespace testing

}  // namespace typegrad::io
