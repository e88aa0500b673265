// The checkpoint file format (see include/typegrad/io/checkpoint_file.hpp for the byte layout):
// writing, parsing with every length checked against what is left before it is used, and the
// atomic file replacement.
#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/util/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace typegrad::io {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t magic_size = sizeof checkpoint_magic;
constexpr std::size_t crc_size = 4;

[[noreturn]] void fail(const std::string& what, const std::string& problem) { throw CheckpointError(cat(what, ": ", problem)); }

std::string errno_text(int err) { return std::strerror(err); }

/// A string read from a file, fit for a one-line message: control bytes as \xNN.
std::string printable(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) out += {'\\', 'x', hex[u >> 4], hex[u & 0xf]};
        else out += c;
    }
    return out;
}

// --- writing ---------------------------------------------------------------------------------

class Writer {
public:
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) out_.push_back(static_cast<unsigned char>(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) out_.push_back(static_cast<unsigned char>(v >> (8 * i)));
    }
    void count(std::size_t n, const char* field) {
        if (n > std::numeric_limits<std::uint32_t>::max())
            throw std::length_error(cat("checkpoint: the ", field, " has more than 2^32 - 1 entries"));
        u32(static_cast<std::uint32_t>(n));
    }
    void string(const std::string& s, const char* field) {
        count(s.size(), field);
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void list(const std::vector<std::uint64_t>& v, const char* field) {
        count(v.size(), field);
        for (auto x : v) u64(x);
    }
    void bytes(std::span<const unsigned char> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    std::vector<unsigned char>& result() { return out_; }

private:
    std::vector<unsigned char> out_;
};

std::uint32_t crc32_of(std::span<const unsigned char> bytes) noexcept {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    const unsigned char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {  // zlib takes a uInt length
        const std::size_t n = std::min<std::size_t>(left, std::size_t{1} << 30);
        crc = ::crc32(crc, p, static_cast<uInt>(n));
        p += n;
        left -= n;
    }
    return static_cast<std::uint32_t>(crc);
}

// --- parsing ---------------------------------------------------------------------------------

/// Reads little-endian fields from the bytes, checking each against what is left.
class Reader {
public:
    Reader(std::span<const unsigned char> bytes, std::size_t pos, const std::string& what)
        : bytes_(bytes), pos_(pos), what_(what) {}

    std::size_t position() const noexcept { return pos_; }
    std::size_t left() const noexcept { return bytes_.size() - pos_; }

    std::uint8_t u8(const char* field) {
        need(1, field);
        return bytes_[pos_++];
    }
    std::uint32_t u32(const char* field) {
        need(4, field);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= std::uint32_t{bytes_[pos_ + static_cast<std::size_t>(i)]} << (8 * i);
        pos_ += 4;
        return v;
    }
    std::uint64_t u64(const char* field) {
        need(8, field);
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t{bytes_[pos_ + static_cast<std::size_t>(i)]} << (8 * i);
        pos_ += 8;
        return v;
    }
    std::string string(const char* field) {
        const std::uint32_t n = u32(field);
        if (n > left())
            fail(what_, cat("truncated or corrupted: the ", field, " (", n, " bytes) does not fit in the ", left(),
                            " bytes that follow"));
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    std::vector<std::uint64_t> list(const char* field) {
        const std::uint32_t n = u32(field);
        if (n > left() / 8)  // checked before anything is allocated
            fail(what_, cat("truncated or corrupted: the ", field, " (", n, " entries, ", std::uint64_t{n} * 8,
                                " bytes) do not fit in the ", left(), " bytes that follow"));
        std::vector<std::uint64_t> v(n);
        for (auto& x : v) x = u64(field);
        return v;
    }

private:
    void need(std::size_t n, const char* field) const {
        if (n > left())
            fail(what_, cat("truncated: the file ends inside the header (", bytes_.size(), " bytes, reading the ", field, ")"));
    }

    std::span<const unsigned char> bytes_;
    std::size_t pos_;
    const std::string& what_;
};

/// Magic and version, the part read_checkpoint_file checks before reading the whole file.
void check_prefix(std::span<const unsigned char> bytes, const std::string& what) {
    if (bytes.empty()) fail(what, "the file is empty, not a typegrad checkpoint");
    const std::size_t n = std::min(bytes.size(), magic_size);
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n), checkpoint_magic))
        fail(what, "not a typegrad checkpoint (bad magic number)");
    if (bytes.size() < magic_size)
        fail(what, cat("truncated: ", bytes.size(), " bytes, inside the magic number"));
    Reader r(bytes, magic_size, what);
    const std::uint32_t version = r.u32("format version");
    if (version < 1 || version > checkpoint_version)
        fail(what, cat("checkpoint version ", version, ", this build reads versions 1 to ", checkpoint_version));
}

/// Version 1 held dense layers only: W (in × out) then b (out) for each layer with parameters.
std::vector<std::uint64_t> dense_parameter_sizes(const CheckpointHeader& h) {
    std::vector<std::uint64_t> sizes;
    for (auto p : h.parameter_layers) {
        const std::uint64_t in = h.widths[p], out = h.widths[p + 1];
        std::uint64_t w = 0;
        if (__builtin_mul_overflow(in, out, &w)) w = ~std::uint64_t{0};  // then the count overflows too
        sizes.push_back(w);
        sizes.push_back(out);
    }
    return sizes;
}

/// Number of parameters of the tensors a header lists, or nothing if it overflows.
bool parameter_count(const CheckpointHeader& h, std::uint64_t& count) noexcept {
    count = 0;
    for (auto n : h.parameter_sizes)
        if (__builtin_add_overflow(count, n, &count)) return false;
    return true;
}

/// What only a consistent writer guarantees (checked after the checksum, so these find a
/// faulty writer rather than a damaged file).
void check_header(const CheckpointHeader& h, const std::string& what) {
    const std::size_t size = element_size(h.element_type);
    if (size == 0) fail(what, cat("unknown element type '", printable(h.element_type), "' (this build reads float and double)"));
    if (h.widths.size() < 2) fail(what, "invalid header: a network needs at least two widths");
    if (std::find(h.widths.begin(), h.widths.end(), std::uint64_t{0}) != h.widths.end())
        fail(what, "invalid header: a width is 0");
    if (h.parameter_layers.empty()) fail(what, "invalid header: no layer with parameters");
    for (std::size_t i = 0; i < h.parameter_layers.size(); ++i) {
        const std::uint64_t p = h.parameter_layers[i];
        if (p >= h.widths.size() - 1 || (i > 0 && p <= h.parameter_layers[i - 1]))  // not p + 1 >= ...: it wraps
            fail(what, cat("invalid header: the positions of the layers with parameters do not fit the ",
                           h.widths.size() - 1, " layers"));
    }
    if (h.parameter_sizes.empty() || std::find(h.parameter_sizes.begin(), h.parameter_sizes.end(), std::uint64_t{0}) !=
                                          h.parameter_sizes.end())
        fail(what, "invalid header: the parameter tensors' sizes are missing or 0");
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    if (!parameter_count(h, count) || __builtin_mul_overflow(count, std::uint64_t{size}, &bytes))
        fail(what, cat("invalid header: a ", describe_network(h), " has more than 2^64 bytes of parameters"));
    if (bytes != h.payload_bytes)
        fail(what, cat("the payload is ", h.payload_bytes, " bytes, but a ", describe_network(h), " has ", count,
                       " parameters (", bytes, " bytes)"));
}

// --- files -----------------------------------------------------------------------------------

class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const noexcept { return fd_; }
    /// Closes now; returns close()'s result (errno set on failure).
    int close() noexcept {
        const int fd = std::exchange(fd_, -1);
        return fd >= 0 ? ::close(fd) : 0;
    }

private:
    int fd_;
};

/// Reads up to n bytes at the current position; fewer only at the end of the file.
std::size_t read_fully(int fd, unsigned char* p, std::size_t n, const std::string& what) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::read(fd, p + done, n - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            fail(what, cat("cannot read: ", errno_text(errno)));
        }
        if (r == 0) break;
        done += static_cast<std::size_t>(r);
    }
    return done;
}

bool write_fully(int fd, const unsigned char* p, std::size_t n) noexcept {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

std::string quoted(const fs::path& p) { return cat("'", p.string(), "'"); }

}  // namespace

std::size_t element_size(const std::string& element_type) noexcept {
    if (element_type == "float") return 4;
    if (element_type == "double") return 8;
    return 0;
}

std::string describe_network(const CheckpointHeader& h) {
    std::string s;
    if (!h.widths.empty()) s = std::to_string(h.widths[0]);
    for (auto p : h.parameter_layers)
        if (p + 1 < h.widths.size()) s += cat("-", h.widths[p + 1]);
    return cat(s, " ", h.element_type, " network");
}

std::string network_mismatch(const CheckpointHeader& file, const CheckpointHeader& model) {
    if (file.element_type == model.element_type && file.widths == model.widths &&
        file.parameter_layers == model.parameter_layers && file.layers == model.layers && file.cost == model.cost &&
        file.parameter_sizes == model.parameter_sizes)
        return {};
    // The shape ("784-30-10") and the element type say enough unless the kinds of layers or the
    // cost differ too; then those are named.
    const auto without_digits = [](std::string s) {
        s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }), s.end());
        return s;
    };
    const auto describe = [](const CheckpointHeader& h, bool layers, bool cost) {
        std::string s = describe_network(h);
        if (layers) s += cat(" (", printable(h.layers), ")");
        if (cost) s += cat(" with ", printable(h.cost), " cost");
        return s;
    };
    const bool layers = without_digits(file.layers) != without_digits(model.layers);
    const bool cost = file.cost != model.cost;
    std::string a = describe(file, layers, cost), b = describe(model, layers, cost);
    if (a == b) {
        a = describe(file, true, true);
        b = describe(model, true, true);
    }
    return cat("holds a ", a, ", this is a ", b);
}

std::vector<unsigned char> serialize_checkpoint(CheckpointHeader header, std::span<const unsigned char> payload) {
    header.payload_bytes = payload.size();
    Writer w;
    w.bytes(checkpoint_magic);
    w.u32(header.version);
    w.string(header.element_type, "element type");
    w.list(header.widths, "widths");
    w.list(header.parameter_layers, "parameter layers");
    w.string(header.layers, "layers");
    w.string(header.cost, "cost");
    w.string(header.training, "training");
    w.u64(header.epochs_done);
    for (auto word : header.rng.words) w.u64(word);
    w.u64(std::bit_cast<std::uint64_t>(header.rng.spare));
    w.u8(header.rng.has_spare ? 1 : 0);
    if (header.version >= 2) {
        w.list(header.parameter_sizes, "parameter sizes");
        w.string(header.optimizer, "optimizer");
        w.string(std::string(header.optimizer_state.begin(), header.optimizer_state.end()), "optimizer state");
    }
    w.u64(header.payload_bytes);
    w.bytes(payload);
    auto& out = w.result();
    w.u32(crc32_of(out));
    return std::move(out);
}

CheckpointImage parse_checkpoint(std::span<const unsigned char> bytes, const std::string& what) {
    check_prefix(bytes, what);
    Reader r(bytes, magic_size + 4, what);
    CheckpointImage image;
    CheckpointHeader& h = image.header;
    h.version = Reader(bytes, magic_size, what).u32("format version");
    h.element_type = r.string("element type");
    h.widths = r.list("widths");
    h.parameter_layers = r.list("parameter layers");
    h.layers = r.string("layers");
    h.cost = r.string("cost");
    h.training = r.string("training");
    h.epochs_done = r.u64("epochs done");
    for (auto& word : h.rng.words) word = r.u64("generator state");
    h.rng.spare = std::bit_cast<double>(r.u64("generator state"));
    const std::uint8_t has_spare = r.u8("generator state");
    if (h.version >= 2) {
        h.parameter_sizes = r.list("parameter sizes");
        h.optimizer = r.string("optimizer");
        const std::string state = r.string("optimizer state");
        h.optimizer_state.assign(state.begin(), state.end());
    } else {  // version 1: dense layers and SGD only
        h.parameter_sizes = dense_parameter_sizes(h);
        h.optimizer = "sgd";
    }
    h.payload_bytes = r.u64("payload size");

    // The payload and the checksum must be exactly what is left.
    const std::size_t left = r.left();
    if (left < crc_size || h.payload_bytes > left - crc_size) {
        if (left <= crc_size || h.payload_bytes > left)
            fail(what, cat("truncated: the payload is ", h.payload_bytes, " bytes but only ", left,
                           " bytes follow the header"));
        fail(what, cat("truncated: the checksum after the payload is missing (",
                       left - static_cast<std::size_t>(h.payload_bytes), " of 4 bytes)"));
    }
    const std::size_t payload_start = r.position();
    const std::size_t end = payload_start + static_cast<std::size_t>(h.payload_bytes) + crc_size;
    if (end != bytes.size())
        fail(what, cat("corrupted: ", bytes.size() - end, " unexpected bytes after the end of the checkpoint"));

    Reader crc_reader(bytes, end - crc_size, what);
    const std::uint32_t stored = crc_reader.u32("checksum");
    if (stored != crc32_of(bytes.first(end - crc_size))) fail(what, "checksum mismatch: the file is corrupted");

    if (has_spare > 1) fail(what, cat("invalid header: the generator's spare flag is ", unsigned{has_spare}));
    h.rng.has_spare = has_spare == 1;
    check_header(h, what);
    image.payload.assign(bytes.begin() + static_cast<std::ptrdiff_t>(payload_start),
                         bytes.begin() + static_cast<std::ptrdiff_t>(end - crc_size));
    return image;
}

CheckpointImage read_checkpoint_file(const fs::path& path) {
    const std::string what = path.string();
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail(what, cat("cannot open: ", errno_text(errno)));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail(what, cat("cannot read: ", errno_text(errno)));
    if (S_ISDIR(st.st_mode)) fail(what, "is a directory, not a checkpoint file");
    if (!S_ISREG(st.st_mode)) fail(what, "is not a regular file");

    // The magic and the version first: a wrong file is refused before it is read whole.
    std::vector<unsigned char> bytes(magic_size + 4);
    bytes.resize(read_fully(fd.get(), bytes.data(), bytes.size(), what));
    check_prefix(bytes, what);  // empty, bad magic, truncated, other version

    // Then the rest, in chunks (the size from stat may be stale; the content decides).
    const std::size_t expected = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0;
    if (expected > bytes.size()) bytes.reserve(expected);
    constexpr std::size_t chunk = std::size_t{1} << 20;
    for (;;) {
        const std::size_t have = bytes.size();
        bytes.resize(have + chunk);
        const std::size_t n = read_fully(fd.get(), bytes.data() + have, chunk, what);
        bytes.resize(have + n);
        if (n < chunk) break;
    }
    return parse_checkpoint(bytes, what);
}

void write_file_atomically(const fs::path& path, std::span<const unsigned char> bytes) {
    const std::string what = path.string();
    if (!path.has_filename()) fail(what, "names a directory, not a file");
    const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    fs::path temp = path;
    temp += cat(".tmp-", static_cast<long>(::getpid()));

    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (fd.get() < 0) fail(what, cat("cannot create ", quoted(temp), ": ", errno_text(errno)));
    const auto give_up = [&](const std::string& problem) {
        const std::string message = cat(problem, ": ", errno_text(errno));
        fd.close();
        ::unlink(temp.c_str());
        fail(what, message);
    };
    if (!write_fully(fd.get(), bytes.data(), bytes.size())) give_up(cat("cannot write ", quoted(temp)));
    if (::fsync(fd.get()) != 0) give_up(cat("cannot write ", quoted(temp), " to disk (fsync)"));
    if (fd.close() != 0) {
        const std::string message = cat("cannot write ", quoted(temp), " (close): ", errno_text(errno));
        ::unlink(temp.c_str());
        fail(what, message);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string message = cat("cannot replace it with ", quoted(temp), ": ", errno_text(errno));
        ::unlink(temp.c_str());
        fail(what, message);
    }
    // The rename is durable once the directory is. Some file systems cannot fsync a directory
    // (EINVAL); the file itself is then as safe as that file system makes it.
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0) fail(what, cat("cannot open its directory ", quoted(dir), " to sync it: ", errno_text(errno)));
    if (::fsync(dir_fd.get()) != 0 && errno != EINVAL && errno != ENOTSUP)
        fail(what, cat("cannot sync its directory ", quoted(dir), ": ", errno_text(errno)));
}

}  // namespace typegrad::io
