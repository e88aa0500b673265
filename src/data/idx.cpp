// IDX (MNIST-format) files, plain or gzip-compressed.
//
// Files are untrusted input: only regular files are opened (never blocking), the header is
// validated before anything is allocated for the payload, and the payload is read a chunk at a
// time and only as far as the caller's limit, so a header that lies about its size costs at most
// what the file really holds (and never more than max_payload_bytes).
#include "typegrad/data/dataset.hpp"

#include "file_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace typegrad::data {
namespace {


namespace fs = std::filesystem;
using detail::FileDescriptor;
using detail::fail;

/// MNIST's training images are 47 MB; anything over 1 GiB is a corrupt or hostile header.
constexpr std::uint64_t max_payload_bytes = std::uint64_t{1} << 30;

constexpr std::size_t input_chunk_bytes = std::size_t{1} << 16;
constexpr std::size_t output_chunk_bytes = std::size_t{1} << 20;


/// "0x" and the value's last `digits` hex digits, lower case, as IDX documentation writes them.
std::string hex(std::uint32_t value, int digits) {
    static constexpr char digit_chars[] = "0123456789abcdef";
    std::string s = "0x";
    for (int i = digits - 1; i >= 0; --i) s += digit_chars[(value >> (4 * i)) & 0xfu];
    return s;
}




/// The content of a file, decompressed if it starts with the gzip magic bytes, handed out
/// in pieces so the caller decides how much it is willing to look at.
class ByteStream {
public:
    /// whole: the caller will read everything, so a gzip file may be decompressed at once
    /// (inflate_whole).
    explicit ByteStream(const fs::path& path, bool whole = false) : path_(path) {
        file_.reset(detail::open_regular(path, file_size_));
        // No bigger than the file: a tiny file costs a tiny buffer.
        input_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(input_chunk_bytes, file_size_ + 1)));

        if (!refill(nullptr, 0)) fail(path, "empty file");
        gzip_ = input_size_ >= 2 && input_[0] == 0x1f && input_[1] == 0x8b;
        if (gzip_) {
            // 15 + 16: maximum window, gzip wrapper only (zlib checks the CRC and length).
            if (inflateInit2(&zs_, 15 + 16) != Z_OK) fail(path, "cannot initialise zlib");
            zs_initialised_ = true;
            zs_.next_in = input_.data();
            zs_.avail_in = static_cast<uInt>(input_size_);
            if (whole) in_memory_ = inflate_whole();
        }
    }

    ByteStream(const ByteStream&) = delete;
    ByteStream& operator=(const ByteStream&) = delete;

    ~ByteStream() {
        if (zs_initialised_) inflateEnd(&zs_);
    }

    [[nodiscard]] bool gzip() const noexcept { return gzip_; }
    /// The file's size when it was opened (compressed size for gzip).
    [[nodiscard]] std::uint64_t file_size() const noexcept { return file_size_; }

    /// Appends up to n bytes to out and returns how many; fewer than n only at the end.
    std::size_t read(std::size_t n, std::vector<std::uint8_t>& out) {
        const std::size_t start = out.size();
        out.resize(start + n);
        const std::size_t got = in_memory_ ? read_memory(out.data() + start, n)
                                : gzip_    ? read_gzip(out.data() + start, n)
                                           : read_plain(out.data() + start, n);
        out.resize(start + got);
        return got;
    }

private:
    /// Moves the `keep` not yet consumed bytes at `tail` to the front of the input buffer and
    /// reads more after them. Returns false if no input at all is left.
    bool refill(const std::uint8_t* tail, std::size_t keep) {
        if (keep > 0) std::memmove(input_.data(), tail, keep);
        std::size_t got = 0;
        while (keep + got < input_.size()) {  // fill the buffer unless the file ends
            const ssize_t n = ::read(file_.get(), input_.data() + keep + got, input_.size() - keep - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail(path_, std::string("read error: ") + std::strerror(errno));
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        input_size_ = keep + got;
        input_pos_ = 0;
        return input_size_ > 0;
    }

    /// The whole gzip file decompressed at once by libdeflate, which inflates MNIST's files
    /// 2–3 times as fast as zlib (issue 22, item 5: the read cost more than the epoch it feeds).
    /// True when every member decompressed (CRC and length checked) and nothing but zero padding
    /// follows; false on anything else — too large, a read error, a corrupt or unexpected
    /// stream — and then zlib streams the file from where it is (the descriptor's offset is
    /// untouched: pread) and names what is wrong in its own words, as before.
    bool inflate_whole() {
        constexpr std::uint64_t most_input = std::uint64_t{256} << 20;
        if (file_size_ < 18 || file_size_ > most_input) return false;
        std::vector<std::uint8_t> in(static_cast<std::size_t>(file_size_));
        for (std::size_t got = 0; got < in.size();) {
            const ssize_t n = ::pread(file_.get(), in.data() + got, in.size() - got, static_cast<off_t>(got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            got += static_cast<std::size_t>(n);
        }
        // room: the last member's stated length (its trailer's last 4 bytes), if the file ends
        // with a trailer and it is one deflate can produce; the whole file is one member in the
        // usual case, and any other finds too little room and falls back
        const std::size_t tail = in.size() - 4;
        const std::uint64_t stated = std::uint64_t{in[tail]} | std::uint64_t{in[tail + 1]} << 8 |
                                     std::uint64_t{in[tail + 2]} << 16 | std::uint64_t{in[tail + 3]} << 24;
        if (stated == 0 || stated > file_size_ * 1032 || stated > max_payload_bytes + 64) return false;
        std::vector<std::uint8_t> out(static_cast<std::size_t>(stated));
        const std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(libdeflate_alloc_decompressor(),
                                                                                           libdeflate_free_decompressor);
        if (!d) return false;
        std::size_t in_at = 0, out_at = 0;
        while (in_at < in.size()) {
            if (in[in_at] == 0) {  // zero padding to the end, as gzip allows
                if (std::any_of(in.begin() + static_cast<std::ptrdiff_t>(in_at), in.end(), [](std::uint8_t b) { return b != 0; }))
                    return false;
                break;
            }
            std::size_t used_in = 0, produced = 0;
            if (libdeflate_gzip_decompress_ex(d.get(), in.data() + in_at, in.size() - in_at, out.data() + out_at,
                                              out.size() - out_at, &used_in, &produced) != LIBDEFLATE_SUCCESS)
                return false;
            in_at += used_in;
            out_at += produced;
        }
        out.resize(out_at);
        whole_ = std::move(out);
        return true;
    }

public:
    /// Whether the file was decompressed whole (inflate_whole).
    [[nodiscard]] bool in_memory() const noexcept { return in_memory_; }
    /// In memory: the next n bytes (fewer at the end) become `out`, the decompressed buffer
    /// itself (the bytes before it dropped in place): no second copy of a 47 MB payload, so the
    /// read's peak is the compressed file plus the payload. At most one byte after them is kept,
    /// enough for the caller to tell trailing data. Returns how many.
    std::size_t take(std::size_t n, std::vector<std::uint8_t>& out) {
        std::vector<std::uint8_t> buffer = std::move(whole_);
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(whole_pos_));
        const std::size_t got = std::min(n, buffer.size());
        whole_.assign(buffer.begin() + static_cast<std::ptrdiff_t>(got),
                      buffer.begin() + static_cast<std::ptrdiff_t>(std::min(buffer.size(), got + 1)));
        whole_pos_ = 0;
        buffer.resize(got);
        out = std::move(buffer);
        return got;
    }

private:
    std::size_t read_memory(std::uint8_t* dest, std::size_t n) {
        const std::size_t take = std::min(n, whole_.size() - whole_pos_);
        if (take == 0) return 0;  // (dest may be null then: memcpy's arguments must not be)
        std::memcpy(dest, whole_.data() + whole_pos_, take);
        whole_pos_ += take;
        return take;
    }

    std::size_t read_plain(std::uint8_t* dest, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            if (input_pos_ == input_size_ && !refill(nullptr, 0)) break;
            const std::size_t take = std::min(n - done, input_size_ - input_pos_);
            std::memcpy(dest + done, input_.data() + input_pos_, take);
            input_pos_ += take;
            done += take;
        }
        return done;
    }

    std::size_t read_gzip(std::uint8_t* dest, std::size_t n) {
        zs_.next_out = dest;
        zs_.avail_out = static_cast<uInt>(n);
        while (zs_.avail_out > 0 && !finished_) {
            if (zs_.avail_in == 0) {
                if (!refill(nullptr, 0))
                    fail(path_, "corrupt gzip stream: unexpected end of file (is the file cut short?)");
                zs_.next_in = input_.data();
                zs_.avail_in = static_cast<uInt>(input_size_);
            }
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                next_member();
            } else if (rc == Z_MEM_ERROR) {
                fail(path_, "out of memory while decompressing");
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                fail(path_, std::string("corrupt gzip stream: ") + (zs_.msg != nullptr ? zs_.msg : "invalid data"));
            }
        }
        return n - zs_.avail_out;
    }

    /// After one gzip member: `cat a.gz b.gz` is a valid gzip file, so another member may
    /// follow; zero bytes to the end of the file are padding, which gzip ignores too (tape
    /// blocks, some archivers); anything else after the end is an error rather than silently
    /// ignored.
    void next_member() {
        if (zs_.avail_in < 2) {
            refill(zs_.next_in, zs_.avail_in);
            zs_.next_in = input_.data();
            zs_.avail_in = static_cast<uInt>(input_size_);
        }
        if (zs_.avail_in == 0) {
            finished_ = true;
            return;
        }
        if (zs_.next_in[0] == 0) {
            // Padding: zeros to the end of the file (read a buffer at a time, nothing kept).
            for (;;) {
                if (std::any_of(zs_.next_in, zs_.next_in + zs_.avail_in, [](std::uint8_t b) { return b != 0; }))
                    fail(path_, "trailing data after the end of the gzip stream (and after zero padding)");
                if (!refill(nullptr, 0)) break;
                zs_.next_in = input_.data();
                zs_.avail_in = static_cast<uInt>(input_size_);
            }
            zs_.avail_in = 0;
            finished_ = true;
            return;
        }
        if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b)
            fail(path_, "trailing data after the end of the gzip stream");
        if (inflateReset(&zs_) != Z_OK) fail(path_, "cannot reset zlib");
    }

    fs::path path_;
    FileDescriptor file_;
    std::uint64_t file_size_ = 0;
    std::vector<std::uint8_t> input_;
    std::size_t input_size_ = 0;
    std::size_t input_pos_ = 0;
    bool gzip_ = false;
    bool finished_ = false;
    z_stream zs_{};
    bool zs_initialised_ = false;
    bool in_memory_ = false;            // the file decompressed whole (inflate_whole): read from whole_
    std::vector<std::uint8_t> whole_;
    std::size_t whole_pos_ = 0;
};

/// Appends up to n bytes to out, fewer only at the end of the data, and returns how many.
/// The output grows with what really arrives (4 KiB, then doubling up to 1 MiB a step), never
/// by what a header promises: a tiny file costs tiny buffers (and a fuzzer's input microseconds).
std::size_t read_up_to(ByteStream& in, std::uint64_t n, std::vector<std::uint8_t>& out) {
    std::size_t total = 0;
    std::size_t step = std::size_t{1} << 12;
    while (total < n) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n - total, step));
        const std::size_t got = in.read(want, out);
        total += got;
        if (got < want) break;
        step = std::min(step * 2, output_chunk_bytes);
    }
    return total;
}

std::uint32_t big_endian_u32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

/// What a file is expected to hold: images (count, rows, cols) or labels (count).
struct IdxKind {
    std::uint32_t magic;
    std::uint8_t dims;
    const char* name;        // "IDX images"
    const char* dims_names;  // "count, rows, cols"
    const char* payload;     // "pixels"
};

constexpr IdxKind images_kind{0x00000803, 3, "IDX images", "count, rows, cols", "pixels"};
constexpr IdxKind labels_kind{0x00000801, 1, "IDX labels", "count", "labels"};

struct IdxFile {
    std::vector<std::uint32_t> dims;
    std::vector<std::uint8_t> data;
};

void check_magic(const fs::path& path, const std::uint8_t* header, const IdxKind& kind) {
    const std::uint32_t magic = big_endian_u32(header);
    if (magic == kind.magic) return;
    const std::string wrong = "wrong magic number " + hex(magic, 8) + ", expected " + hex(kind.magic, 8) + " (" +
                              kind.name + ")";
    if (header[0] != 0 || header[1] != 0) fail(path, wrong + ": not an IDX file");
    if (header[2] != 0x08)
        fail(path, "element type " + hex(header[2], 2) + " is not supported, expected 0x08 (unsigned byte)");
    fail(path, wrong + ": " + std::to_string(header[3]) + " dimensions, expected " + std::to_string(kind.dims) + " (" +
                   kind.dims_names + ")");
}

/// The number of payload bytes the header promises, after refusing zero and absurd sizes.
std::uint64_t payload_size(const fs::path& path, const std::vector<std::uint32_t>& dims, const IdxKind& kind) {
    const std::uint64_t count = dims[0];
    if (count == 0) fail(path, std::string("header declares 0 ") + (kind.dims == 3 ? "images" : "labels"));
    std::uint64_t per_item = 1;
    std::string shape;
    if (kind.dims == 3) {
        const std::uint64_t rows = dims[1];
        const std::uint64_t cols = dims[2];
        shape = std::to_string(rows) + "x" + std::to_string(cols);
        if (rows == 0 || cols == 0) fail(path, "header declares images of " + shape + " pixels");
        per_item = rows * cols;  // both < 2^32, so no overflow
    }
    // per_item <= 2^30 here keeps count * per_item < 2^62.
    if (per_item > max_payload_bytes || count * per_item > max_payload_bytes) {
        const std::string what = kind.dims == 3 ? std::to_string(count) + " images of " + shape + " pixels"
                                                : std::to_string(count) + " labels";
        fail(path, "header declares " + what + ", more than the 1 GiB this reader accepts");
    }
    return count * per_item;
}

/// Reads the header and the first `limit` items (0: all) of an IDX file.
IdxFile read_idx_file(const fs::path& path, const IdxKind& kind, std::size_t limit) {
    ByteStream in(path, limit == 0);
    std::vector<std::uint8_t> header;
    const std::size_t header_bytes = 4 + 4 * std::size_t{kind.dims};

    const std::size_t got_magic = read_up_to(in, 4, header);
    if (got_magic < 4)
        fail(path, "only " + std::to_string(got_magic) + (got_magic == 1 ? " byte" : " bytes") +
                       ", too short for an IDX header (" + kind.name + ")");
    check_magic(path, header.data(), kind);

    const std::size_t got_dims = read_up_to(in, header_bytes - 4, header);
    if (got_dims < header_bytes - 4)
        fail(path, "truncated header: " + std::to_string(kind.dims) + " dimensions need " +
                       std::to_string(header_bytes) + " bytes, file has " + std::to_string(4 + got_dims));

    IdxFile file;
    for (std::size_t d = 0; d < kind.dims; ++d) file.dims.push_back(big_endian_u32(header.data() + 4 + 4 * d));
    const std::uint64_t expected = payload_size(path, file.dims, kind);
    const std::uint64_t per_item = expected / file.dims[0];
    const std::uint64_t items = limit > 0 ? std::min<std::uint64_t>(limit, file.dims[0]) : file.dims[0];
    const std::uint64_t wanted = items * per_item;

    const auto truncated = [&](std::uint64_t has) {
        fail(path, "truncated: header promises " + std::to_string(expected) + " bytes of " + kind.payload +
                       ", file has " + std::to_string(has));
    };
    const auto trailing = [&] {
        fail(path, "trailing data after the " + std::to_string(expected) + " bytes of " + kind.payload +
                       " the header promises");
    };
    // A plain file's size says at once whether the payload is all there, even when only part of
    // it is read; and it bounds what the payload can cost.
    if (!in.gzip()) {
        const std::uint64_t has = in.file_size() - std::min<std::uint64_t>(in.file_size(), header_bytes);
        if (has < expected) truncated(has);
        if (has > expected) trailing();
    }
    // Room for what the file can really hold (deflate expands at most 1032:1), not for what
    // the header promises.
    const std::uint64_t can_hold = in.gzip() ? in.file_size() * 1032 : in.file_size();
    if (!in.in_memory()) file.data.reserve(static_cast<std::size_t>(std::min(wanted, can_hold)));

    if (wanted < expected) {
        // --limit: the rest is neither decompressed nor checked.
        const std::size_t got = read_up_to(in, wanted, file.data);
        if (got < wanted) truncated(got);
        return file;
    }
    // One byte more than promised tells "exactly right" from "trailing data" without
    // reading (or decompressing) an unbounded tail.
    std::vector<std::uint8_t> extra;
    const std::size_t got = in.in_memory() ? in.take(expected, file.data) : read_up_to(in, expected, file.data);
    if (got < expected) truncated(got);
    if (read_up_to(in, 1, extra) > 0) trailing();
    return file;
}

/// dir/name if it exists, else dir/name.gz; the plain file wins when both exist because it
/// is cheaper to read and presumably the decompressed copy of the other (a note says so).
fs::path find_in_directory(const fs::path& dir, const std::string& name, std::vector<std::string>& notes) {
    const auto exists = [](const fs::path& candidate) {
        std::error_code ec;
        const auto status = fs::status(candidate, ec);
        if (ec && status.type() != fs::file_type::not_found) fail(candidate, "cannot access: " + ec.message());
        return fs::exists(status);
    };
    const fs::path plain = dir / name, gz = dir / (name + ".gz");
    if (exists(plain)) {
        if (exists(gz)) notes.push_back(plain.string() + ": read (" + name + ".gz beside it is not)");
        return plain;
    }
    if (exists(gz)) return gz;
    fail(dir, "missing " + name + " (or .gz)");
}

}  // namespace

Dataset read_idx(const fs::path& images, const fs::path& labels, std::size_t limit) {
    IdxFile image_file = read_idx_file(images, images_kind, limit);
    IdxFile label_file = read_idx_file(labels, labels_kind, limit);
    if (image_file.dims[0] != label_file.dims[0])
        throw DataError(images.string() + " and " + labels.string() + ": " + std::to_string(image_file.dims[0]) +
                        " images but " + std::to_string(label_file.dims[0]) + " labels");

    Dataset d;
    d.rows = image_file.dims[1];
    d.cols = image_file.dims[2];
    d.pixels = std::move(image_file.data);  // bytes as they are: converted per batch
    d.labels = std::move(label_file.data);
    return d;
}

std::vector<fs::path> IdxFiles::all() const {
    std::vector<fs::path> v;
    for (const fs::path* p : {&train_images, &train_labels, &test_images, &test_labels})
        if (!p->empty()) v.push_back(*p);
    return v;
}

IdxFiles find_idx_files(const fs::path& dir, bool with_training_set) {
    std::error_code ec;
    const auto status = fs::status(dir, ec);
    if (status.type() == fs::file_type::not_found) fail(dir, "no such directory");
    if (ec) fail(dir, "cannot access: " + ec.message());
    if (!fs::is_directory(status)) fail(dir, "not a directory");

    // Look for all of them before reading any, so a missing file is reported at once rather
    // than after decompressing the training set.
    IdxFiles f;
    if (with_training_set) {
        f.train_images = find_in_directory(dir, "train-images-idx3-ubyte", f.notes);
        f.train_labels = find_in_directory(dir, "train-labels-idx1-ubyte", f.notes);
    }
    f.test_images = find_in_directory(dir, "t10k-images-idx3-ubyte", f.notes);
    f.test_labels = find_in_directory(dir, "t10k-labels-idx1-ubyte", f.notes);
    return f;
}

Split load_idx_files(const fs::path& dir, const IdxFiles& files, const LoadLimits& limits) {
    Split split;
    if (limits.with_training_set) split.train = read_idx(files.train_images, files.train_labels, limits.train);
    split.test = read_idx(files.test_images, files.test_labels, limits.test);
    if (limits.with_training_set && (split.train.rows != split.test.rows || split.train.cols != split.test.cols))
        fail(dir, "training images are " + std::to_string(split.train.rows) + "x" + std::to_string(split.train.cols) +
                      " but test images are " + std::to_string(split.test.rows) + "x" +
                      std::to_string(split.test.cols));
    return split;
}

Split load_idx_directory(const fs::path& dir, const LoadLimits& limits) {
    return load_idx_files(dir, find_idx_files(dir, limits.with_training_set), limits);
}

}  // namespace typegrad::data
