// IDX (MNIST-format) files, plain or gzip-compressed, and the small Dataset helpers.
//
// Files are untrusted input: the header is validated before anything is allocated for the
// payload, and the payload is read a chunk at a time, so a header that lies about its size
// costs at most what the file really holds (and never more than max_payload_bytes).
#include "typegrad/data/dataset.hpp"

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

/// MNIST's training images are 47 MB; anything over 1 GiB is a corrupt or hostile header.
constexpr std::uint64_t max_payload_bytes = std::uint64_t{1} << 30;

constexpr std::size_t input_chunk_bytes = std::size_t{1} << 16;
constexpr std::size_t output_chunk_bytes = std::size_t{1} << 20;

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
    throw DataError(path.string() + ": " + what);
}

/// "0x" and the value's last `digits` hex digits, lower case, as IDX documentation writes them.
std::string hex(std::uint32_t value, int digits) {
    static constexpr char digit_chars[] = "0123456789abcdef";
    std::string s = "0x";
    for (int i = digits - 1; i >= 0; --i) s += digit_chars[(value >> (4 * i)) & 0xfu];
    return s;
}

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

/// The content of a file, decompressed if it starts with the gzip magic bytes, handed out
/// in pieces so the caller decides how much it is willing to look at.
class ByteStream {
public:
    explicit ByteStream(const fs::path& path) : path_(path), input_(input_chunk_bytes) {
        std::error_code ec;
        const auto status = fs::status(path, ec);
        if (status.type() == fs::file_type::not_found) fail(path, "no such file");
        if (ec) fail(path, "cannot access: " + ec.message());
        // fopen() happily opens a directory on Linux; only the first read would fail, with a
        // less helpful message.
        if (fs::is_directory(status)) fail(path, "is a directory, not a file");

        file_.reset(std::fopen(path.c_str(), "rb"));
        if (!file_) fail(path, std::string("cannot open: ") + std::strerror(errno));

        if (!refill(nullptr, 0)) fail(path, "empty file");
        gzip_ = input_size_ >= 2 && input_[0] == 0x1f && input_[1] == 0x8b;
        if (gzip_) {
            // 15 + 16: maximum window, gzip wrapper only (zlib checks the CRC and length).
            if (inflateInit2(&zs_, 15 + 16) != Z_OK) fail(path, "cannot initialise zlib");
            zs_initialised_ = true;
            zs_.next_in = input_.data();
            zs_.avail_in = static_cast<uInt>(input_size_);
        }
    }

    ByteStream(const ByteStream&) = delete;
    ByteStream& operator=(const ByteStream&) = delete;

    ~ByteStream() {
        if (zs_initialised_) inflateEnd(&zs_);
    }

    /// Appends up to n bytes to out and returns how many; fewer than n only at the end.
    std::size_t read(std::size_t n, std::vector<std::uint8_t>& out) {
        const std::size_t start = out.size();
        out.resize(start + n);
        const std::size_t got = gzip_ ? read_gzip(out.data() + start, n) : read_plain(out.data() + start, n);
        out.resize(start + got);
        return got;
    }

private:
    /// Moves the `keep` not yet consumed bytes at `tail` to the front of the input buffer and
    /// reads more after them. Returns false if no input at all is left.
    bool refill(const std::uint8_t* tail, std::size_t keep) {
        if (keep > 0) std::memmove(input_.data(), tail, keep);
        const std::size_t got = std::fread(input_.data() + keep, 1, input_.size() - keep, file_.get());
        if (std::ferror(file_.get())) fail(path_, std::string("read error: ") + std::strerror(errno));
        input_size_ = keep + got;
        input_pos_ = 0;
        return input_size_ > 0;
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
    /// follow; anything else after the end is an error rather than silently ignored.
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
        if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b)
            fail(path_, "trailing data after the end of the gzip stream");
        if (inflateReset(&zs_) != Z_OK) fail(path_, "cannot reset zlib");
    }

    fs::path path_;
    FilePtr file_;
    std::vector<std::uint8_t> input_;
    std::size_t input_size_ = 0;
    std::size_t input_pos_ = 0;
    bool gzip_ = false;
    bool finished_ = false;
    z_stream zs_{};
    bool zs_initialised_ = false;
};

/// Appends up to n bytes to out, fewer only at the end of the data, and returns how many.
std::size_t read_up_to(ByteStream& in, std::uint64_t n, std::vector<std::uint8_t>& out) {
    std::size_t total = 0;
    while (total < n) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n - total, output_chunk_bytes));
        const std::size_t got = in.read(want, out);
        total += got;
        if (got < want) break;
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

IdxFile read_idx_file(const fs::path& path, const IdxKind& kind) {
    ByteStream in(path);
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

    // One byte more than promised tells "exactly right" from "trailing data" without
    // reading (or decompressing) an unbounded tail.
    const std::size_t got = read_up_to(in, expected + 1, file.data);
    if (got < expected)
        fail(path, "truncated: header promises " + std::to_string(expected) + " bytes of " + kind.payload +
                       ", file has " + std::to_string(got));
    if (got > expected)
        fail(path, "trailing data after the " + std::to_string(expected) + " bytes of " + kind.payload +
                       " the header promises");
    return file;
}

/// dir/name if it exists, else dir/name.gz; the plain file wins when both exist because it
/// is cheaper to read and presumably the decompressed copy of the other.
fs::path find_in_directory(const fs::path& dir, const std::string& name) {
    for (const fs::path& candidate : {dir / name, dir / (name + ".gz")}) {
        std::error_code ec;
        const auto status = fs::status(candidate, ec);
        if (fs::exists(status)) return candidate;
        if (ec && status.type() != fs::file_type::not_found) fail(candidate, "cannot access: " + ec.message());
    }
    fail(dir, "missing " + name + " (or .gz)");
}

}  // namespace

std::size_t Dataset::label_count() const noexcept {
    if (labels.empty()) return 0;
    return std::size_t{*std::max_element(labels.begin(), labels.end())} + 1;
}

Dataset Dataset::head(std::size_t n) const {
    const std::size_t keep = std::min(n, size());
    Dataset out;
    out.rows = rows;
    out.cols = cols;
    out.pixels.assign(pixels.begin(), pixels.begin() + static_cast<std::ptrdiff_t>(keep * image_size()));
    out.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(keep));
    return out;
}

Dataset read_idx(const fs::path& images, const fs::path& labels) {
    const IdxFile image_file = read_idx_file(images, images_kind);
    const IdxFile label_file = read_idx_file(labels, labels_kind);
    if (image_file.dims[0] != label_file.dims[0])
        throw DataError(images.string() + " and " + labels.string() + ": " + std::to_string(image_file.dims[0]) +
                        " images but " + std::to_string(label_file.dims[0]) + " labels");

    Dataset d;
    d.rows = image_file.dims[1];
    d.cols = image_file.dims[2];
    d.pixels.resize(image_file.data.size());
    std::transform(image_file.data.begin(), image_file.data.end(), d.pixels.begin(),
                   [](std::uint8_t b) { return static_cast<float>(b) / 255.0f; });
    d.labels = label_file.data;
    return d;
}

Split load_idx_directory(const fs::path& dir) {
    std::error_code ec;
    const auto status = fs::status(dir, ec);
    if (status.type() == fs::file_type::not_found) fail(dir, "no such directory");
    if (ec) fail(dir, "cannot access: " + ec.message());
    if (!fs::is_directory(status)) fail(dir, "not a directory");

    // Look for all four before reading any, so a missing file is reported at once rather
    // than after decompressing the training set.
    const fs::path train_images = find_in_directory(dir, "train-images-idx3-ubyte");
    const fs::path train_labels = find_in_directory(dir, "train-labels-idx1-ubyte");
    const fs::path test_images = find_in_directory(dir, "t10k-images-idx3-ubyte");
    const fs::path test_labels = find_in_directory(dir, "t10k-labels-idx1-ubyte");

    Split split{read_idx(train_images, train_labels), read_idx(test_images, test_labels)};
    if (split.train.rows != split.test.rows || split.train.cols != split.test.cols)
        fail(dir, "training images are " + std::to_string(split.train.rows) + "x" + std::to_string(split.train.cols) +
                      " but test images are " + std::to_string(split.test.rows) + "x" +
                      std::to_string(split.test.cols));
    return split;
}

void check_fits(const Dataset& d, std::size_t n_in, std::size_t n_out, const std::string& what) {
    if (d.image_size() != n_in)
        throw DataError(what + ": images have " + std::to_string(d.image_size()) + " pixels (" +
                        std::to_string(d.rows) + "x" + std::to_string(d.cols) + ") but the network's input width is " +
                        std::to_string(n_in));
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        if (d.labels[i] >= n_out)
            throw DataError(what + ": label " + std::to_string(d.labels[i]) + " at index " + std::to_string(i) +
                            " is out of range for a network with " + std::to_string(n_out) + " outputs");
    }
}

}  // namespace typegrad::data
