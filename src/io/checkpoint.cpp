// The checkpoint file format (see include/typegrad/io/checkpoint_file.hpp for the byte layout):
// writing, parsing with every length checked against what is left before it is used, and the
// atomic file replacement.
#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/train/state.hpp"
#include "typegrad/util/text.hpp"
#include "file_kind.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
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

/// Length of the valid UTF-8 sequence at s[i] (1-4), or 0 if the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
    const auto u = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = u(i);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
    else return 0;
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((u(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (u(i + k) & 0x3f);
    }
    const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

}  // namespace

std::string printable_text(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    const auto escape = [&](unsigned char u) { out += {'\\', 'x', hex[u >> 4], hex[u & 0xf]}; };
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_length(s, i);
        const auto u = static_cast<unsigned char>(s[i]);
        // C0 controls and DEL; C1 controls (U+0080-U+009F: 0xC2 0x80-0x9F, e.g. CSI); bytes that
        // are not UTF-8 (an 8-bit terminal may take 0x9B for CSI).
        const bool c1 = n == 2 && u == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
        if (n == 0 || (n == 1 && (u < 0x20 || u == 0x7f)) || c1) {
            for (std::size_t k = 0; k < std::max<std::size_t>(n, 1); ++k) escape(static_cast<unsigned char>(s[i + k]));
            i += std::max<std::size_t>(n, 1);
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

namespace {

std::string printable(std::string_view s) { return printable_text(s); }

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

/// Thrown by a Reader over a prefix of a file when a field lies beyond the prefix but inside
/// the file: read_checkpoint_file then reads up to `bytes` and parses again.
struct NeedMore {
    std::size_t bytes;
};

/// Reads little-endian fields from the bytes, checking each against what is left. `bytes` may be
/// the first part of a file of `total` bytes (read_checkpoint_file reads the header first): the
/// checks and messages are against the file's size, and a field inside the file but beyond the
/// bytes throws NeedMore.
class Reader {
public:
    Reader(std::span<const unsigned char> bytes, std::size_t pos, const std::string& what,
           std::size_t total = std::numeric_limits<std::size_t>::max())
        : bytes_(bytes), pos_(pos), what_(what),
          total_(total == std::numeric_limits<std::size_t>::max() ? bytes.size() : std::max(total, bytes.size())) {}

    std::size_t position() const noexcept { return pos_; }
    std::size_t left() const noexcept { return total_ - pos_; }

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
        available(n);
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    std::vector<std::uint64_t> list(const char* field) {
        const std::uint32_t n = u32(field);
        if (n > left() / 8)  // checked before anything is allocated
            fail(what_, cat("truncated or corrupted: the ", field, " (", n, " entries, ", std::uint64_t{n} * 8,
                                " bytes) do not fit in the ", left(), " bytes that follow"));
        available(std::size_t{n} * 8);
        std::vector<std::uint64_t> v(n);
        for (auto& x : v) x = u64(field);
        return v;
    }

private:
    void need(std::size_t n, const char* field) const {
        if (n > left())
            fail(what_, cat("truncated: the file ends inside the header (", total_, " bytes, reading the ", field, ")"));
        available(n);
    }
    /// The next n bytes (inside the file) are in bytes_, or NeedMore.
    void available(std::size_t n) const {
        if (n > bytes_.size() - pos_) throw NeedMore{pos_ + n};
    }

    std::span<const unsigned char> bytes_;
    std::size_t pos_;
    const std::string& what_;
    std::size_t total_;
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
        if (h.widths.empty() || p >= h.widths.size() - 1) return {};  // check_header reports the positions
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
    // The validation monitor: what a trainer can have written after epochs_done epochs.
    if (h.best_epoch > h.epochs_done || h.epochs_without_improvement > h.epochs_done ||
        h.epochs_since_halving > h.epochs_without_improvement)
        fail(what, cat("invalid header: the validation monitor's epochs (best ", h.best_epoch, ", ",
                       h.epochs_without_improvement, " and ", h.epochs_since_halving,
                       " without improvement) do not fit the ", h.epochs_done, " epochs done"));
    // an accuracy in [0, 1], or a regression's negated validation MSE (train::EpochStats::validation_score)
    if (!(std::isfinite(h.best_accuracy) && h.best_accuracy <= 1.0) || (h.best_epoch == 0 && h.best_accuracy != 0.0))
        fail(what, "invalid header: the best validation score is neither an accuracy in [0, 1] nor a regression's "
                   "negated MSE (finite, <= 0)");
    if (h.halvings > 1000) fail(what, cat("invalid header: the learning rate was halved ", h.halvings, " times (at most 1000)"));
    if (!(h.eta >= 0.0) || !std::isfinite(h.eta)) fail(what, "invalid header: the learning rate is not a finite number >= 0");
    check_optimizer_state(h, what);
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
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
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

void check_optimizer_state(const CheckpointHeader& h, const std::string& what) {
    std::uint64_t count = 0;
    if (!parameter_count(h, count)) fail(what, cat("invalid header: a ", describe_network(h), " has more than 2^64 parameters"));
    const std::string problem = train::optimizer_state_problem(h.optimizer, h.optimizer_state, count, element_size(h.element_type));
    if (!problem.empty()) fail(what, cat("damaged checkpoint: ", problem));
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
    if (header.version >= 3) {
        w.u64(header.best_epoch);
        w.u64(std::bit_cast<std::uint64_t>(header.best_accuracy));
        w.u64(header.epochs_without_improvement);
        w.u64(header.epochs_since_halving);
        w.u64(header.halvings);
        w.u64(std::bit_cast<std::uint64_t>(header.eta));
    }
    if (header.version >= 4) w.string(header.vocabulary, "vocabulary");
    w.u64(header.payload_bytes);
    w.bytes(payload);
    auto& out = w.result();
    w.u32(crc32_of(out));
    return std::move(out);
}

namespace {

/// The header fields, up to and including the payload size, from bytes that are the first part
/// of a file of `total` bytes (NeedMore if they end too soon). Returns the position after them.
std::size_t parse_header(std::span<const unsigned char> bytes, const std::string& what, std::size_t total,
                         CheckpointHeader& h, std::uint8_t& has_spare) {
    h.version = Reader(bytes, magic_size, what, total).u32("format version");
    Reader r(bytes, magic_size + 4, what, total);
    h.element_type = r.string("element type");
    h.widths = r.list("widths");
    h.parameter_layers = r.list("parameter layers");
    h.layers = r.string("layers");
    h.cost = r.string("cost");
    h.training = r.string("training");
    h.epochs_done = r.u64("epochs done");
    for (auto& word : h.rng.words) word = r.u64("generator state");
    h.rng.spare = std::bit_cast<double>(r.u64("generator state"));
    has_spare = r.u8("generator state");
    if (h.version >= 2) {
        h.parameter_sizes = r.list("parameter sizes");
        h.optimizer = r.string("optimizer");
        const std::string state = r.string("optimizer state");
        h.optimizer_state.assign(state.begin(), state.end());
    } else {  // version 1: dense layers and SGD only
        h.parameter_sizes = dense_parameter_sizes(h);
        h.optimizer = "sgd";
    }
    if (h.version >= 3) {
        h.best_epoch = r.u64("validation monitor");
        h.best_accuracy = std::bit_cast<double>(r.u64("validation monitor"));
        h.epochs_without_improvement = r.u64("validation monitor");
        h.epochs_since_halving = r.u64("validation monitor");
        h.halvings = r.u64("validation monitor");
        h.eta = std::bit_cast<double>(r.u64("validation monitor"));
    }
    if (h.version >= 4) h.vocabulary = r.string("vocabulary");
    h.payload_bytes = r.u64("payload size");
    return r.position();
}

/// The payload and the checksum must be exactly what is left of a file of `total` bytes after
/// the header ends at `payload_start`. Returns the end of the checkpoint (== total).
std::size_t check_sizes(const CheckpointHeader& h, std::size_t payload_start, std::size_t total, const std::string& what) {
    const std::size_t left = total - payload_start;
    if (left < crc_size || h.payload_bytes > left - crc_size) {
        if (left <= crc_size || h.payload_bytes > left)
            fail(what, cat("truncated: the payload is ", h.payload_bytes, " bytes but only ", left,
                           " bytes follow the header"));
        fail(what, cat("truncated: the checksum after the payload is missing (",
                       left - static_cast<std::size_t>(h.payload_bytes), " of 4 bytes)"));
    }
    const std::size_t end = payload_start + static_cast<std::size_t>(h.payload_bytes) + crc_size;
    if (end != total) fail(what, cat("corrupted: ", total - end, " unexpected bytes after the end of the checkpoint"));
    return end;
}

}  // namespace

CheckpointImage parse_checkpoint(std::span<const unsigned char> bytes, const std::string& what) {
    check_prefix(bytes, what);
    CheckpointImage image;
    CheckpointHeader& h = image.header;
    std::uint8_t has_spare = 0;
    const std::size_t payload_start = parse_header(bytes, what, bytes.size(), h, has_spare);
    const std::size_t end = check_sizes(h, payload_start, bytes.size(), what);

    Reader crc_reader(bytes, end - crc_size, what);
    const std::uint32_t stored = crc_reader.u32("checksum");
    if (stored != crc32_of(bytes.first(end - crc_size))) fail(what, "checksum mismatch: the file is corrupted");

    if (has_spare > 1) fail(what, cat("invalid header: the generator's spare flag is ", unsigned{has_spare}));
    h.rng.has_spare = has_spare == 1;
    check_header(h, what);
    // The all-zero xoshiro256** state maps to itself: a trainer restored from it would draw 0
    // forever (the shuffle's rejection loop never ended before Rng's loops were bounded).
    if ((h.rng.words[0] | h.rng.words[1] | h.rng.words[2] | h.rng.words[3]) == 0)
        fail(what, "invalid header: the shuffling generator's state is all zero (a generator in that state never "
                   "changes; no trainer saves it)");
    if (!Rng::valid(h.rng)) fail(what, "invalid header: the generator's spare normal deviate is not a finite number");
    image.payload.assign(bytes.begin() + static_cast<std::ptrdiff_t>(payload_start),
                         bytes.begin() + static_cast<std::ptrdiff_t>(end - crc_size));
    return image;
}

namespace {


/// Reads up to `want` more bytes onto the end of `bytes`; returns how many came.
std::size_t read_more(int fd, std::vector<unsigned char>& bytes, std::size_t want, const std::string& what) {
    const std::size_t have = bytes.size();
    bytes.resize(have + want);
    const std::size_t n = read_fully(fd, bytes.data() + have, want, what);
    bytes.resize(have + n);
    return n;
}

}  // namespace

CheckpointImage read_checkpoint_file(const fs::path& path) {
    const std::string what = path.string();
    // stat before open: open() of a FIFO blocks until a writer comes, so anything but a
    // regular file is refused before it is opened (and opened non-blocking, then checked again,
    // in case it was replaced in between).
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail(what, cat("cannot open: ", errno_text(errno)));
    if (S_ISDIR(st.st_mode)) fail(what, "is a directory, not a checkpoint file");
    if (!S_ISREG(st.st_mode)) fail(what, cat("is not a regular file (", file_kind(st.st_mode), ")"));
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) fail(what, cat("cannot open: ", errno_text(errno)));
    struct stat opened {};
    if (::fstat(fd.get(), &opened) != 0) fail(what, cat("cannot read: ", errno_text(errno)));
    if (!S_ISREG(opened.st_mode) || opened.st_dev != st.st_dev || opened.st_ino != st.st_ino)
        fail(what, "changed while it was being opened (not a regular file any more)");

    // The magic and the version first: a wrong file is refused before it is read whole.
    std::vector<unsigned char> bytes;
    read_more(fd.get(), bytes, magic_size + 4, what);
    check_prefix(bytes, what);  // empty, bad magic, truncated, other version

    // Then the header, as far as it goes (a little at a time, never beyond the file's size),
    // and the sizes it gives against the file's size: a file too long or too short for its
    // header is refused before its payload is read.
    std::size_t total = opened.st_size > 0 ? static_cast<std::size_t>(opened.st_size) : 0;
    total = std::max(total, bytes.size());
    read_more(fd.get(), bytes, std::min<std::size_t>(total - bytes.size(), 4096), what);
    for (;;) {
        try {
            CheckpointHeader h;
            std::uint8_t has_spare = 0;
            const std::size_t payload_start = parse_header(bytes, what, total, h, has_spare);
            check_sizes(h, payload_start, total, what);
            break;
        } catch (const NeedMore& more) {
            const std::size_t want = std::min(total, std::max(more.bytes, 2 * bytes.size())) - bytes.size();
            if (read_more(fd.get(), bytes, want, what) < want) {
                total = bytes.size();  // the file shrank: parse what there is
                break;
            }
        }
    }
    // The payload and the checksum: exactly what the header says is left (a file that grew in
    // the meantime fails its checksum or the size check below).
    if (total > bytes.size()) read_more(fd.get(), bytes, total - bytes.size(), what);
    return parse_checkpoint(bytes, what);
}

fs::path replace_target(const fs::path& path) {
    const std::string what = path.string();
    if (!path.has_filename()) fail(what, "names a directory, not a file");
    fs::path p = path;
    for (int links = 0; links < 40; ++links) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) {
            if (errno == ENOENT) return p;  // a new file (whether its directory exists is found on writing)
            fail(what, cat("cannot access ", quoted(p), ": ", errno_text(errno)));
        }
        if (S_ISLNK(st.st_mode)) {
            // Written through, like `cp`, `>` or an editor's save: the link stays, its target is
            // replaced.
            std::error_code ec;
            const fs::path target = fs::read_symlink(p, ec);
            if (ec) fail(what, cat("cannot read the symbolic link ", quoted(p), ": ", ec.message()));
            p = target.is_absolute() ? target : p.parent_path() / target;
            continue;
        }
        if (S_ISREG(st.st_mode)) return p;
        if (S_ISDIR(st.st_mode)) fail(what, p == path ? std::string("is a directory") : cat("links to a directory, ", quoted(p)));
        const std::string is = p == path ? std::string("is") : cat("links to ", quoted(p), ", which is");
        fail(what, cat(is, " not a regular file (", file_kind(st.st_mode),
                       "): only a regular file or a new name is replaced"));
    }
    fail(what, "too many levels of symbolic links");
}

void write_file_atomically(const fs::path& path, std::span<const unsigned char> bytes) {
    const std::string what = path.string();
    const fs::path target = replace_target(path);  // symbolic links are followed; no device is ever replaced
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fs::path temp = target;
    temp += cat(".tmp-", static_cast<long>(::getpid()));

    // O_EXCL | O_NOFOLLOW: never write through whatever might already be at the temporary name.
    // Only this process uses that name, so an existing one is ours from an earlier failed
    // attempt (or a stale file of a dead process whose pid was reused): remove it, once.
    const auto create = [&] { return ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666); };
    Fd fd(create());
    if (fd.get() < 0 && errno == EEXIST && ::unlink(temp.c_str()) == 0) fd = Fd(create());
    if (fd.get() < 0) fail(what, cat("cannot create ", quoted(temp), ": ", errno_text(errno)));
    const auto give_up = [&](const std::string& problem) {
        const std::string message = cat(problem, ": ", errno_text(errno));
        fd.close();
        ::unlink(temp.c_str());
        fail(what, message);
    };
    const auto hook = [](int stage) {
        if (testing::write_hook != nullptr) testing::write_hook(stage);
    };
    const std::size_t half = bytes.size() / 2;
    if (!write_fully(fd.get(), bytes.data(), half)) give_up(cat("cannot write ", quoted(temp)));
    hook(1);
    if (!write_fully(fd.get(), bytes.data() + half, bytes.size() - half)) give_up(cat("cannot write ", quoted(temp)));
    if (::fsync(fd.get()) != 0) give_up(cat("cannot write ", quoted(temp), " to disk (fsync)"));
    if (fd.close() != 0) {
        const std::string message = cat("cannot write ", quoted(temp), " (close): ", errno_text(errno));
        ::unlink(temp.c_str());
        fail(what, message);
    }
    hook(2);
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        const std::string message = cat("cannot replace it with ", quoted(temp), ": ", errno_text(errno));
        ::unlink(temp.c_str());
        fail(what, message);
    }
    hook(3);
    // The rename is durable once the directory is. Some file systems cannot fsync a directory
    // (EINVAL); the file itself is then as safe as that file system makes it.
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0) fail(what, cat("cannot open its directory ", quoted(dir), " to sync it: ", errno_text(errno)));
    if (::fsync(dir_fd.get()) != 0 && errno != EINVAL && errno != ENOTSUP)
        fail(what, cat("cannot sync its directory ", quoted(dir), ": ", errno_text(errno)));
}

std::vector<fs::path> remove_stale_temporaries(const fs::path& target) {
    std::vector<fs::path> removed;
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string prefix = cat(target.filename().string(), ".tmp-");
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string digits = name.substr(prefix.size());
        if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        const long pid = std::stol(digits);
        if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
        // A live process may be writing it (a library caller that takes no lock): leave it.
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (::unlink(it->path().c_str()) == 0) removed.push_back(it->path());
    }
    return removed;
}

OutputLock::OutputLock(const fs::path& target) : path_(target) {
    path_ += ".lock";
    const std::string what = target.string();
    for (int attempt = 0; attempt < 100; ++attempt) {
        Fd fd(::open(path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666));
        if (fd.get() < 0) fail(what, cat("cannot create the lock file ", quoted(path_), ": ", errno_text(errno)));
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        if (::fcntl(fd.get(), F_SETLK, &lock) != 0) {
            if (errno != EACCES && errno != EAGAIN)
                fail(what, cat("cannot lock ", quoted(path_), ": ", errno_text(errno)));
            struct flock holder {};
            holder.l_type = F_WRLCK;
            holder.l_whence = SEEK_SET;
            const bool known = ::fcntl(fd.get(), F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK && holder.l_pid > 0;
            if (!known) continue;  // released in between: try again
            fail(what, cat("is being written by another process (pid ", static_cast<long>(holder.l_pid),
                           ", which holds the lock on ", quoted(path_), ")"));
        }
        // The holder before us may have removed the file after we opened it: the lock must be on
        // the file that is at the path now.
        struct stat held {}, now {};
        if (::fstat(fd.get(), &held) != 0 || ::lstat(path_.c_str(), &now) != 0 || held.st_dev != now.st_dev ||
            held.st_ino != now.st_ino)
            continue;
        const std::string pid = cat(static_cast<long>(::getpid()), "\n");
        if (::ftruncate(fd.get(), 0) == 0)
            (void)write_fully(fd.get(), reinterpret_cast<const unsigned char*>(pid.data()), pid.size());
        fd_ = fd.release();
        return;
    }
    fail(what, cat("cannot lock ", quoted(path_), ": it keeps changing"));
}

OutputLock::~OutputLock() { release(); }

void OutputLock::release() noexcept {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // while still holding the lock, so nobody locks the old file after us
    ::close(fd_);
    fd_ = -1;
}

}  // namespace typegrad::io
