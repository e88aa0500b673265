// NumPy files: .npz archives of the arrays x and y (read_npz) and .npy tables (read_npy_table).
// The .npy format (versions 1.0, 2.0 and 3.0) and the zip archive around it (entries stored or
// deflated, zip64 sizes) are read by hand; zlib inflates and computes the CRC-32.
//
// Files are untrusted input, as IDX files are (src/data/idx.cpp): only regular files are opened
// (never blocking); the archive's directory and every .npy header are parsed strictly and the
// sizes they declare checked against each other and against the real file before anything is
// allocated for the payload (a header must describe exactly the bytes its file or entry holds);
// the payload is then read a chunk at a time and only as far as the caller's limit. So a header
// that lies costs at most what the file really holds (a deflated entry: what it expands to, at
// most 1032 times its size), and never more than max_payload_bytes kept. The CRC-32 of an entry
// is checked when the entry is read to its end (a limit that stops early leaves the rest unread
// and unchecked, as read_idx leaves a gzip file's tail).
//
// Accepted dtypes: bool, int8-64, uint8-64, float16/32/64, little-endian ('<') or byte-sized
// ('|'). Big-endian arrays ('>f4') are refused with a message saying how to convert them, rather
// than converted: NumPy never writes them unless asked, and x86-64 and ARM machines do not.
// Structured dtypes, strings, objects and Fortran-ordered arrays are refused too.
#include "typegrad/data/dataset.hpp"

#include "file_input.hpp"
#include "typegrad/io/checkpoint_file.hpp"  // io::printable_text

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace typegrad::data {


namespace {

namespace fs = std::filesystem;
using detail::FileDescriptor;
using detail::fail;
using detail::shown;

/// What a reader keeps, at most (MNIST's training images are 47 MB as bytes, 188 MB as floats).
constexpr std::uint64_t max_payload_bytes = std::uint64_t{1} << 30;
/// Bytes read (or inflated) at a time.
constexpr std::size_t chunk_bytes = std::size_t{1} << 16;
/// NumPy itself refuses headers above 10000 bytes unless told otherwise.
constexpr std::uint64_t max_npy_header_bytes = 65536;
/// An .npz with x and y has a central directory of about 100 bytes.
constexpr std::uint64_t max_central_directory_bytes = std::uint64_t{1} << 24;
/// Deflate expands at most 1032:1 (a run of zeros).
constexpr std::uint64_t max_deflate_ratio = 1032;

/// Which array a message is about: the file, and the archive entry ("x.npy") if any.
struct Where {
    fs::path path;
    std::string array;  // empty for a .npy file
};

[[noreturn]] void fail(const Where& w, const std::string& what) {
    fail(w.path, w.array.empty() ? what : w.array + ": " + what);
}


std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t le32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}
std::uint64_t le64(const std::uint8_t* p) { return std::uint64_t{le32(p)} | (std::uint64_t{le32(p + 4)} << 32); }

/// a × b, or the largest uint64 if that overflows (then no file can hold it).
std::uint64_t mul_saturated(std::uint64_t a, std::uint64_t b) {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return std::numeric_limits<std::uint64_t>::max();
    return a * b;
}

std::string count_text(std::uint64_t n) {
    return n == std::numeric_limits<std::uint64_t>::max() ? std::string("more than 2^64") : std::to_string(n);
}

std::string hex32(std::uint32_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s = "0x";
    for (int i = 7; i >= 0; --i) s += digits[(v >> (4 * i)) & 0xfu];
    return s;
}


/// The shortest text that reads back as v ("nan", "inf", "1e+300").
std::string number_text(double v) {
    std::array<char, 32> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return std::string(buf.data(), r.ptr);
}

}  // namespace


namespace {

using detail::read_at;

// --- the bytes of one .npy: a file, or a zip entry (stored or deflated) ----------------------

/// Where a .npy's bytes are: `stored_size` bytes at `offset` of the file, which are the array's
/// `size` bytes themselves (method 0) or their raw deflate stream (method 8).
struct Extent {
    std::uint64_t offset = 0;
    std::uint64_t stored_size = 0;
    std::uint64_t size = 0;
    int method = 0;
    std::optional<std::uint32_t> crc;  // a zip entry's CRC-32, checked at its end
};

/// Hands out the bytes of one .npy in order, inflating a deflated entry a chunk at a time, and
/// checks at the end (finish) that there were exactly `size` of them with the right CRC-32.
class Source {
public:
    Source(Where where, int fd, const Extent& extent) : where_(std::move(where)), fd_(fd), extent_(extent) {
        if (extent_.method == 8) {
            if (inflateInit2(&zs_, -MAX_WBITS) != Z_OK) fail(where_, "cannot initialise zlib");
            zs_initialised_ = true;
            input_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, extent_.stored_size + 1)));
        }
    }
    Source(const Source&) = delete;
    Source& operator=(const Source&) = delete;
    ~Source() {
        if (zs_initialised_) inflateEnd(&zs_);
    }

    [[nodiscard]] const Where& where() const noexcept { return where_; }
    /// The number of bytes the .npy is said to have (the file's, or the archive's word).
    [[nodiscard]] std::uint64_t size() const noexcept { return extent_.size; }
    /// "the file" or "the entry", for messages about sizes.
    [[nodiscard]] const char* holder() const noexcept { return where_.array.empty() ? "the file" : "the entry"; }

    /// Reads exactly n bytes (within size()); a stream that ends earlier is an error.
    void read(void* dest, std::size_t n) {
        const std::size_t got = extent_.method == 8 ? read_deflated(static_cast<std::uint8_t*>(dest), n)
                                                    : read_stored(static_cast<std::uint8_t*>(dest), n);
        if (got < n)
            fail(where_, "corrupt deflate data: it ends after " + std::to_string(position_ + got) + " of the " +
                             std::to_string(extent_.size) + " bytes the archive says the entry has");
        crc_ = static_cast<std::uint32_t>(::crc32(crc_, static_cast<const Bytef*>(dest), static_cast<uInt>(n)));
        position_ += n;
    }

    /// After the last byte: checks that the data really ends there and its CRC-32.
    void finish() {
        if (position_ != extent_.size) fail(where_, "internal error: finish() before the end of the data");
        if (extent_.method == 8) {
            std::uint8_t extra = 0;
            if (read_deflated(&extra, 1) > 0)
                fail(where_, "corrupt entry: the deflate data holds more than the " + std::to_string(extent_.size) +
                                 " bytes the archive says");
            const std::uint64_t used = consumed_ - zs_.avail_in;
            if (used != extent_.stored_size)
                fail(where_, "corrupt entry: its deflate data ends after " + std::to_string(used) + " of its " +
                                 std::to_string(extent_.stored_size) + " compressed bytes");
        }
        if (extent_.crc && *extent_.crc != crc_)
            fail(where_, "CRC-32 mismatch: the archive says " + hex32(*extent_.crc) + ", the data's is " + hex32(crc_) +
                             " (a damaged file)");
    }

private:
    std::size_t read_stored(std::uint8_t* dest, std::size_t n) {
        const std::size_t got = read_at(fd_, where_.path, extent_.offset + position_, dest, n);
        if (got < n) fail(where_, "the file ended while it was read (was it cut short meanwhile?)");
        return got;
    }

    /// Inflates up to n bytes into dest; fewer only if the deflate stream ends.
    std::size_t read_deflated(std::uint8_t* dest, std::size_t n) {
        std::size_t done = 0;
        while (done < n && !ended_) {
            const std::size_t step = std::min<std::size_t>(n - done, std::size_t{1} << 30);  // uInt
            zs_.next_out = dest + done;
            zs_.avail_out = static_cast<uInt>(step);
            if (zs_.avail_in == 0 && consumed_ < extent_.stored_size) {
                const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(input_.size(), extent_.stored_size - consumed_));
                if (read_at(fd_, where_.path, extent_.offset + consumed_, input_.data(), want) < want)
                    fail(where_, "the file ended while it was read (was it cut short meanwhile?)");
                consumed_ += want;
                zs_.next_in = input_.data();
                zs_.avail_in = static_cast<uInt>(want);
            }
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            done += step - zs_.avail_out;
            if (rc == Z_STREAM_END) {
                ended_ = true;
            } else if (rc == Z_BUF_ERROR || (rc == Z_OK && zs_.avail_in == 0 && consumed_ == extent_.stored_size &&
                                             zs_.avail_out > 0)) {
                // No progress is possible: all the compressed bytes are used and the stream is
                // not finished (a cut or damaged entry).
                if (zs_.avail_in == 0 && consumed_ == extent_.stored_size)
                    fail(where_, "corrupt entry: its " + std::to_string(extent_.stored_size) +
                                     " compressed bytes end before the deflate stream does");
            } else if (rc == Z_MEM_ERROR) {
                fail(where_, "out of memory while decompressing");
            } else if (rc != Z_OK) {
                fail(where_, std::string("corrupt deflate data: ") + (zs_.msg != nullptr ? zs_.msg : "invalid data"));
            }
        }
        return done;
    }

    Where where_;
    int fd_;
    Extent extent_;
    std::uint64_t position_ = 0;  // bytes handed out
    std::uint32_t crc_ = 0;       // of the bytes handed out (crc32(0, ...) starts at 0)
    // deflate
    std::vector<std::uint8_t> input_;
    std::uint64_t consumed_ = 0;  // compressed bytes read from the file
    bool ended_ = false;
    z_stream zs_{};
    bool zs_initialised_ = false;
};

// --- the .npy header ------------------------------------------------------------------------

/// An element type: 'b' (bool), 'i', 'u' or 'f', and its size in bytes.
struct Dtype {
    char kind = 'f';
    std::size_t size = 4;
    std::string text;  // as the header spells it, "<f4"
};

struct NpyHeader {
    Dtype dtype;
    std::vector<std::uint64_t> shape;
    std::uint64_t elements = 0;  // product of shape (saturated)
};

std::string shape_text(const std::vector<std::uint64_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + (shape.size() == 1 ? ",)" : ")");
}

/// The dtype of a 'descr' string: numeric types only, little-endian or one byte.
Dtype parse_dtype(const Where& w, const std::string& descr) {
    const auto unsupported = [&] {
        fail(w, "dtype '" + shown(descr) +
                    "' is not supported (numeric arrays only: bool, int8-64, uint8-64, float16/32/64)");
    };
    if (descr.size() < 3) unsupported();
    const char order = descr[0];
    Dtype t;
    t.kind = descr[1];
    t.text = descr;
    if (order != '<' && order != '>' && order != '|' && order != '=') unsupported();
    const std::string_view digits = std::string_view(descr).substr(2);
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), t.size);
    if (r.ec != std::errc{} || r.ptr != digits.data() + digits.size()) unsupported();
    const bool known = (t.kind == 'b' && t.size == 1) ||
                       ((t.kind == 'i' || t.kind == 'u') && (t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8)) ||
                       (t.kind == 'f' && (t.size == 2 || t.size == 4 || t.size == 8));
    if (!known) unsupported();
    if (t.size > 1 && order == '>')
        fail(w, "dtype '" + descr + "' is big-endian, which this reader does not convert (save it as little-endian: a.astype('<" +
                    descr.substr(1) + "'))");
    if (t.size > 1 && order != '<') fail(w, "dtype '" + descr + "' does not say its byte order (expected '<" + descr.substr(1) + "')");
    return t;
}

/// A strict parser of the header's Python dict literal, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
/// followed by spaces and a newline: exactly the three keys, each once, in any order.
class HeaderParser {
public:
    HeaderParser(const Where& w, std::string_view text) : where_(w), text_(text) {}

    NpyHeader parse() {
        NpyHeader h;
        std::optional<std::string> descr;
        std::optional<bool> fortran;
        std::optional<std::vector<std::uint64_t>> shape;
        expect('{');
        while (!accept('}')) {
            const std::string key = string_literal("a key");
            expect(':');
            if (key == "descr") {
                if (descr) malformed("'descr' appears twice");
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == '[')
                    fail(where_, "structured dtypes (records of named fields) are not supported: a numeric array is needed");
                descr = string_literal("the 'descr' string");
            } else if (key == "fortran_order") {
                if (fortran) malformed("'fortran_order' appears twice");
                fortran = boolean();
            } else if (key == "shape") {
                if (shape) malformed("'shape' appears twice");
                shape = tuple();
            } else {
                malformed("unknown key '" + shown(key, 40) + "'");
            }
            if (!accept(',')) {
                expect('}');
                break;
            }
        }
        skip_space();  // the padding: spaces and a final newline
        if (pos_ != text_.size()) malformed("text after the closing brace");
        if (!descr) malformed("no 'descr'");
        if (!fortran) malformed("no 'fortran_order'");
        if (!shape) malformed("no 'shape'");
        if (*fortran)
            fail(where_, "fortran_order is True: Fortran-ordered (column-major) arrays are not supported (save "
                         "np.ascontiguousarray(a) instead)");
        h.dtype = parse_dtype(where_, *descr);
        h.shape = std::move(*shape);
        h.elements = 1;
        for (const std::uint64_t d : h.shape) h.elements = mul_saturated(h.elements, d);
        return h;
    }

private:
    [[noreturn]] void malformed(const std::string& what) const {
        fail(where_, "malformed .npy header (" + what + "): " + shown(text_));
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }
    bool accept(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!accept(c)) malformed(std::string("expected '") + c + "' at character " + std::to_string(pos_));
    }

    std::string string_literal(const char* what) {
        skip_space();
        if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
            malformed(std::string("expected ") + what + " in quotes at character " + std::to_string(pos_));
        const char quote = text_[pos_++];
        const std::size_t end = text_.find(quote, pos_);
        if (end == std::string_view::npos) malformed("a string without its closing quote");
        const std::string s(text_.substr(pos_, end - pos_));
        if (s.find('\\') != std::string::npos || s.find('\n') != std::string::npos) malformed("an escape in a string");
        pos_ = end + 1;
        return s;
    }

    bool boolean() {
        skip_space();
        for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}}) {
            if (text_.substr(pos_, word.size()) == word) {
                pos_ += word.size();
                return value;
            }
        }
        malformed("'fortran_order' must be True or False");
    }

    std::vector<std::uint64_t> tuple() {
        std::vector<std::uint64_t> dims;
        expect('(');
        bool comma = false;  // after the last element
        while (!accept(')')) {
            if (!dims.empty() && !comma) malformed("expected ',' or ')' in the shape");
            dims.push_back(integer());
            comma = accept(',');
            if (dims.size() > 64) malformed("a shape of more than 64 dimensions");
        }
        if (dims.size() == 1 && !comma) malformed("the shape (" + std::to_string(dims[0]) + ") is not a tuple");
        return dims;
    }

    std::uint64_t integer() {
        skip_space();
        std::uint64_t v = 0;
        const auto r = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), v);
        if (r.ec == std::errc::result_out_of_range) malformed("a dimension beyond 2^64");
        if (r.ec != std::errc{}) malformed("expected a dimension (a non-negative integer) at character " + std::to_string(pos_));
        pos_ = static_cast<std::size_t>(r.ptr - text_.data());
        if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2's long, in old files
        return v;
    }

    const Where& where_;
    std::string_view text_;
    std::size_t pos_ = 0;
};

/// Reads and checks a .npy header: magic, version, the dict, and that the data the header
/// declares are exactly the bytes that follow it in the source.
NpyHeader read_npy_header(Source& src) {
    const Where& w = src.where();
    const auto too_short = [&](std::uint64_t need) {
        fail(w, "only " + std::to_string(src.size()) + (src.size() == 1 ? " byte" : " bytes") + ", too short for a .npy header (" +
                    std::to_string(need) + " bytes at least)");
    };
    if (src.size() < 10) too_short(10);
    std::array<std::uint8_t, 12> prelude{};
    src.read(prelude.data(), 8);
    static constexpr std::uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (std::memcmp(prelude.data(), magic, 6) != 0)
        fail(w, "not a .npy array: wrong magic bytes \"" + shown(std::string_view(reinterpret_cast<const char*>(prelude.data()), 6)) +
                    "\", expected \"\\x93NUMPY\"");
    const int major = prelude[6], minor = prelude[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        fail(w, ".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                    " is not supported (1.0, 2.0 and 3.0 are)");
    const std::size_t prelude_bytes = major == 1 ? 10 : 12;
    if (src.size() < prelude_bytes) too_short(prelude_bytes);
    src.read(prelude.data() + 8, prelude_bytes - 8);
    const std::uint64_t header_bytes = major == 1 ? le16(prelude.data() + 8) : le32(prelude.data() + 8);
    if (header_bytes > max_npy_header_bytes)
        fail(w, "the .npy header says it is " + std::to_string(header_bytes) + " bytes long, more than the " +
                    std::to_string(max_npy_header_bytes) + " this reader accepts");
    if (prelude_bytes + header_bytes > src.size())
        fail(w, "truncated: the .npy header says it is " + std::to_string(header_bytes) + " bytes long, " + src.holder() +
                    " has " + std::to_string(src.size() - prelude_bytes) + " after its first " + std::to_string(prelude_bytes));
    std::string text(static_cast<std::size_t>(header_bytes), '\0');
    src.read(text.data(), text.size());
    NpyHeader h = HeaderParser(w, text).parse();

    const std::uint64_t data_bytes = mul_saturated(h.elements, h.dtype.size);
    const std::uint64_t has = src.size() - prelude_bytes - header_bytes;
    const std::string declared = "shape " + shape_text(h.shape) + " of '" + h.dtype.text + "' is " + count_text(data_bytes) +
                                 " bytes of data, ";
    if (data_bytes > has) fail(w, "truncated: " + declared + src.holder() + " has " + std::to_string(has));
    if (data_bytes < has) fail(w, "trailing data: " + declared + src.holder() + " has " + std::to_string(has));
    return h;
}

// --- the values ------------------------------------------------------------------------------

float half_to_float(std::uint16_t h) {
    const int exponent = (h >> 10) & 0x1f;
    const int mantissa = h & 0x3ff;
    float v = 0;
    if (exponent == 0) v = std::ldexp(static_cast<float>(mantissa), -24);
    else if (exponent == 31) v = mantissa != 0 ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
    return (h & 0x8000) != 0 ? -v : v;
}

/// The element of type t at p (little-endian), as a double.
double element(const Dtype& t, const std::uint8_t* p) {
    switch (t.kind) {
    case 'b': return p[0] != 0 ? 1.0 : 0.0;
    case 'u':
        switch (t.size) {
        case 1: return p[0];
        case 2: return le16(p);
        case 4: return le32(p);
        default: return static_cast<double>(le64(p));
        }
    case 'i':
        switch (t.size) {
        case 1: return static_cast<std::int8_t>(p[0]);
        case 2: return static_cast<std::int16_t>(le16(p));
        case 4: return static_cast<std::int32_t>(le32(p));
        default: return static_cast<double>(static_cast<std::int64_t>(le64(p)));
        }
    default:
        switch (t.size) {
        case 2: return half_to_float(le16(p));
        case 4: return std::bit_cast<float>(le32(p));
        default: return std::bit_cast<double>(le64(p));
        }
    }
}

/// Reads `count` elements of the source's array as float32, a chunk at a time, and hands each
/// to sink(index, value). A value that is not finite, or beyond float32's range, is an error:
/// `name(index)` says which value it is ("value 3 of example 7").
template <class Name, class Sink>
void read_values(Source& src, const Dtype& t, std::uint64_t count, Name&& name, Sink&& sink) {
    std::vector<std::uint8_t> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, count * t.size)));
    std::uint64_t index = 0;
    while (index < count) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(count - index, buffer.size() / t.size));
        src.read(buffer.data(), n * t.size);
        for (std::size_t k = 0; k < n; ++k, ++index) {
            const double v = element(t, buffer.data() + k * t.size);
            if (!std::isfinite(v)) fail(src.where(), name(index) + " is " + number_text(v) + ", not a finite number");
            const auto f = static_cast<float>(v);
            if (!std::isfinite(f)) fail(src.where(), name(index) + " is " + number_text(v) + ", beyond float32's range");
            sink(index, f);
        }
    }
}

/// Refuses to keep more than max_payload_bytes.
void check_kept(const Where& w, std::uint64_t examples, std::uint64_t values, std::size_t value_bytes) {
    const std::uint64_t bytes = mul_saturated(mul_saturated(examples, values), value_bytes);
    if (bytes > max_payload_bytes)
        fail(w, std::to_string(examples) + " examples of " + std::to_string(values) + " values are " + count_text(bytes) +
                    " bytes in memory, more than the 1 GiB this reader accepts (read fewer with a limit)");
}

// --- the zip archive -------------------------------------------------------------------------

/// An entry of the central directory.
struct ZipEntry {
    std::string name;
    std::uint16_t flags = 0;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t stored_size = 0;
    std::uint64_t size = 0;
    std::uint64_t local_offset = 0;
};

struct Archive {
    std::vector<ZipEntry> entries;
    std::uint64_t central_offset = 0;  // where the entries' data must end
};

constexpr std::uint32_t local_signature = 0x04034b50;
constexpr std::uint32_t central_signature = 0x02014b50;
constexpr std::uint32_t end_signature = 0x06054b50;
constexpr std::uint32_t zip64_end_signature = 0x06064b50;
constexpr std::uint32_t zip64_locator_signature = 0x07064b50;

std::vector<std::uint8_t> read_block(int fd, const fs::path& path, std::uint64_t offset, std::uint64_t n, const char* what) {
    std::vector<std::uint8_t> b(static_cast<std::size_t>(n));
    if (read_at(fd, path, offset, b.data(), b.size()) < b.size())
        fail(path, std::string("truncated zip archive: the file ends inside ") + what);
    return b;
}

/// The zip64 values of a central directory entry's extra fields, for those of its 32-bit
/// fields that say 0xffffffff (in the order the zip specification gives).
void read_zip64_extra(const fs::path& path, ZipEntry& e, const std::uint8_t* extra, std::size_t length,
                      bool size64, bool stored64, bool offset64) {
    for (std::size_t at = 0; at + 4 <= length;) {
        const std::uint16_t id = le16(extra + at), n = le16(extra + at + 2);
        if (at + 4 + n > length) break;
        if (id == 0x0001) {
            const std::uint8_t* p = extra + at + 4;
            std::size_t left = n;
            const auto take = [&](std::uint64_t& v) {
                if (left < 8) fail(path, "corrupt zip archive: entry " + shown(e.name, 40) + " has a short zip64 field");
                v = le64(p);
                p += 8;
                left -= 8;
            };
            if (size64) take(e.size);
            if (stored64) take(e.stored_size);
            if (offset64) take(e.local_offset);
            return;
        }
        at += 4 + std::size_t{n};
    }
    fail(path, "corrupt zip archive: entry " + shown(e.name, 40) + " says its sizes are in a zip64 field, and has none");
}

/// Finds the end of central directory record (scanning back from the end over the archive's
/// comment, at most 65535 bytes), then reads the central directory.
Archive read_central_directory(const fs::path& path, int fd, std::uint64_t file_size) {
    if (file_size == 0) fail(path, "empty file");
    if (file_size < 22)
        fail(path, "only " + std::to_string(file_size) + " bytes, too short for a zip archive (.npz)");
    const std::uint64_t tail_size = std::min<std::uint64_t>(file_size, 22 + 65535);
    const std::uint64_t tail_offset = file_size - tail_size;
    const std::vector<std::uint8_t> tail = read_block(fd, path, tail_offset, tail_size, "its last bytes");
    std::optional<std::size_t> found;
    for (std::size_t at = tail.size() - 22 + 1; at-- > 0;) {
        if (le32(tail.data() + at) == end_signature && at + 22 + le16(tail.data() + at + 20) == tail.size()) {
            found = at;
            break;
        }
    }
    if (!found) fail(path, "not a zip archive (.npz): no end of central directory record (is the file cut short?)");
    const std::uint8_t* end = tail.data() + *found;
    const std::uint64_t end_offset = tail_offset + *found;

    std::uint64_t disk = le16(end + 4), central_disk = le16(end + 6);
    std::uint64_t disk_entries = le16(end + 8), entries = le16(end + 10);
    std::uint64_t central_size = le32(end + 12), central_offset = le32(end + 16);
    std::uint64_t central_end = end_offset;  // the central directory must end before this
    if (entries == 0xffff || disk_entries == 0xffff || central_size == 0xffffffff || central_offset == 0xffffffff) {
        // zip64: a locator just before the record points to the zip64 end of central directory.
        if (end_offset < 20) fail(path, "corrupt zip archive: no zip64 end of central directory locator");
        const auto locator = read_block(fd, path, end_offset - 20, 20, "the zip64 locator");
        if (le32(locator.data()) != zip64_locator_signature)
            fail(path, "corrupt zip archive: no zip64 end of central directory locator");
        const std::uint64_t record = le64(locator.data() + 8);
        if (record > end_offset - 20 || end_offset - 20 - record < 56)
            fail(path, "corrupt zip archive: the zip64 end of central directory record is not where its locator says");
        const auto z = read_block(fd, path, record, 56, "the zip64 end of central directory record");
        if (le32(z.data()) != zip64_end_signature)
            fail(path, "corrupt zip archive: the zip64 end of central directory record is not where its locator says");
        disk = le32(z.data() + 16);
        central_disk = le32(z.data() + 20);
        disk_entries = le64(z.data() + 24);
        entries = le64(z.data() + 32);
        central_size = le64(z.data() + 40);
        central_offset = le64(z.data() + 48);
        central_end = record;
    }
    if (disk != 0 || central_disk != 0 || disk_entries != entries)
        fail(path, "multi-volume (split) zip archives are not supported");
    if (central_offset > central_end || central_size > central_end - central_offset)
        fail(path, "truncated or corrupt zip archive: its central directory (" + std::to_string(central_size) +
                       " bytes at offset " + std::to_string(central_offset) + ") is not within the file's " +
                       std::to_string(file_size) + " bytes");
    if (central_size > max_central_directory_bytes)
        fail(path, "the zip archive's central directory is " + std::to_string(central_size) + " bytes, more than the " +
                       std::to_string(max_central_directory_bytes) + " this reader accepts");
    if (entries > central_size / 46)
        fail(path, "corrupt zip archive: " + std::to_string(entries) + " entries cannot fit in a central directory of " +
                       std::to_string(central_size) + " bytes");

    const std::vector<std::uint8_t> cd = read_block(fd, path, central_offset, central_size, "the central directory");
    Archive archive;
    archive.central_offset = central_offset;
    archive.entries.reserve(static_cast<std::size_t>(entries));
    std::size_t at = 0;
    for (std::uint64_t i = 0; i < entries; ++i) {
        const auto corrupt = [&](const std::string& what) {
            fail(path, "corrupt zip archive: central directory entry " + std::to_string(i) + " " + what);
        };
        if (cd.size() - at < 46) corrupt("is cut short");
        const std::uint8_t* p = cd.data() + at;
        if (le32(p) != central_signature) corrupt("has a wrong signature " + hex32(le32(p)));
        const std::size_t name_length = le16(p + 28), extra_length = le16(p + 30), comment_length = le16(p + 32);
        if (cd.size() - at - 46 < name_length + extra_length + comment_length) corrupt("is cut short");
        ZipEntry e;
        e.flags = le16(p + 8);
        e.method = le16(p + 10);
        e.crc = le32(p + 16);
        e.stored_size = le32(p + 20);
        e.size = le32(p + 24);
        e.local_offset = le32(p + 42);
        e.name.assign(reinterpret_cast<const char*>(p + 46), name_length);
        const bool stored64 = e.stored_size == 0xffffffff, size64 = e.size == 0xffffffff,
                   offset64 = e.local_offset == 0xffffffff;
        if (stored64 || size64 || offset64) read_zip64_extra(path, e, p + 46 + name_length, extra_length, size64, stored64, offset64);
        at += 46 + name_length + extra_length + comment_length;
        archive.entries.push_back(std::move(e));
    }
    if (at != cd.size())
        fail(path, "corrupt zip archive: " + std::to_string(cd.size() - at) + " bytes of its central directory follow the " +
                       std::to_string(entries) + " entries it declares");
    return archive;
}

std::string method_name(std::uint16_t method) {
    switch (method) {
    case 9: return " (deflate64)";
    case 12: return " (bzip2)";
    case 14: return " (LZMA)";
    case 93: return " (Zstandard)";
    case 95: return " (xz)";
    case 99: return " (AES encryption)";
    default: return "";
    }
}

/// Checks an entry and its local header; returns where its data are.
Extent entry_extent(const fs::path& path, int fd, const Archive& archive, const ZipEntry& e) {
    const Where w{path, shown(e.name, 40)};
    if ((e.flags & 0x1) != 0) fail(w, "encrypted entries are not supported");
    if (e.method != 0 && e.method != 8)
        fail(w, "compression method " + std::to_string(e.method) + method_name(e.method) +
                    " is not supported (stored or deflated entries only: numpy.savez or savez_compressed)");
    if (e.method == 0 && e.stored_size != e.size)
        fail(w, "corrupt entry: stored (not compressed), yet its compressed size " + std::to_string(e.stored_size) +
                    " differs from its size " + std::to_string(e.size));
    if (e.method == 8 && e.size / max_deflate_ratio > e.stored_size + 1)
        fail(w, "corrupt entry: " + std::to_string(e.stored_size) + " deflated bytes cannot expand to the " +
                    std::to_string(e.size) + " bytes the archive says");
    if (e.local_offset > archive.central_offset || archive.central_offset - e.local_offset < 30)
        fail(w, "corrupt zip archive: the entry's local header (at offset " + std::to_string(e.local_offset) +
                    ") is not before the central directory");
    const auto local = read_block(fd, path, e.local_offset, 30, "a local header");
    if (le32(local.data()) != local_signature)
        fail(w, "corrupt zip archive: no local header at offset " + std::to_string(e.local_offset));
    const std::size_t name_length = le16(local.data() + 26), extra_length = le16(local.data() + 28);
    if (le16(local.data() + 8) != e.method || name_length != e.name.size())
        fail(w, "corrupt zip archive: the local header does not match the central directory");
    const std::uint64_t data_offset = e.local_offset + 30 + name_length + extra_length;
    if (data_offset > archive.central_offset || e.stored_size > archive.central_offset - data_offset)
        fail(w, "truncated or corrupt zip archive: the entry's " + std::to_string(e.stored_size) + " bytes at offset " +
                    std::to_string(data_offset) + " run into the central directory at " + std::to_string(archive.central_offset));
    const auto name = read_block(fd, path, e.local_offset + 30, name_length, "a local header");
    if (!std::equal(name.begin(), name.end(), e.name.begin()))
        fail(w, "corrupt zip archive: the local header does not match the central directory");
    return {data_offset, e.stored_size, e.size, e.method, e.crc};
}

/// "a.npy, b.npy" (at most 6 names), or "no entries".
std::string entry_list(const Archive& archive) {
    if (archive.entries.empty()) return "no entries";
    std::string s;
    for (std::size_t i = 0; i < archive.entries.size(); ++i) {
        if (i == 6) return s + ", ... (" + std::to_string(archive.entries.size()) + " entries)";
        if (i > 0) s += ", ";
        s += shown(archive.entries[i].name, 40);
    }
    return s;
}

}  // namespace

namespace detail {

Dataset read_npz_open(const fs::path& path, int fd, std::uint64_t file_size, std::size_t limit) {
    const Archive archive = read_central_directory(path, fd, file_size);
    const ZipEntry* x_entry = nullptr;
    const ZipEntry* y_entry = nullptr;
    for (const ZipEntry& e : archive.entries) {
        for (auto [name, slot] : {std::pair<const char*, const ZipEntry**>{"x.npy", &x_entry}, {"y.npy", &y_entry}}) {
            if (e.name != name) continue;
            if (*slot != nullptr) fail(path, std::string("the archive holds two entries named ") + name);
            *slot = &e;
        }
    }
    if (x_entry == nullptr || y_entry == nullptr)
        fail(path, std::string(x_entry == nullptr && y_entry == nullptr ? "no x.npy and no y.npy"
                               : x_entry == nullptr                     ? "no x.npy (the inputs)"
                                                                        : "no y.npy (the targets)") +
                       " in the archive, which holds " + entry_list(archive) +
                       " (save the inputs as x and the targets as y: numpy.savez(file, x=x, y=y))");

    // Both headers before any payload: the shapes must agree.
    Source x_src(Where{path, "x.npy"}, fd, entry_extent(path, fd, archive, *x_entry));
    Source y_src(Where{path, "y.npy"}, fd, entry_extent(path, fd, archive, *y_entry));
    const NpyHeader x = read_npy_header(x_src);
    const NpyHeader y = read_npy_header(y_src);

    const std::vector<std::uint64_t>& xs = x.shape;
    if (xs.size() < 2)
        fail(x_src.where(), "shape " + shape_text(xs) + ": the features must be at least (N, F), one row per example");
    if (xs.size() > 4)
        fail(x_src.where(), "shape " + shape_text(xs) + " has " + std::to_string(xs.size()) +
                                " dimensions; expected (N, F), (N, H, W) or (N, C, H, W)");
    const std::uint64_t n = xs[0];
    if (n == 0) fail(x_src.where(), "shape " + shape_text(xs) + " has no examples");
    const std::uint64_t per_example = x.elements / n;
    if (per_example == 0) fail(x_src.where(), "shape " + shape_text(xs) + ": the examples have no values");
    if (y.shape.empty() || y.shape.size() > 2)
        fail(y_src.where(), "shape " + shape_text(y.shape) + ": expected (N,) or (N, 1), a target per example, or (N, K)");
    if (y.shape[0] != n)
        fail(path, "x.npy has " + std::to_string(n) + " examples but y.npy has " + std::to_string(y.shape[0]) +
                       " (shapes " + shape_text(xs) + " and " + shape_text(y.shape) + ")");
    const std::uint64_t width = y.shape.size() == 2 ? y.shape[1] : 1;
    if (width == 0) fail(y_src.where(), "shape " + shape_text(y.shape) + ": the targets have no values");

    const std::uint64_t kept = limit > 0 ? std::min<std::uint64_t>(limit, n) : n;
    const bool bytes = x.dtype.kind == 'u' && x.dtype.size == 1;
    check_kept(x_src.where(), kept, per_example, bytes ? 1 : sizeof(float));
    check_kept(y_src.where(), kept, width, sizeof(float));

    Dataset d;
    d.channels = xs.size() == 4 ? static_cast<std::size_t>(xs[1]) : 1;
    d.rows = xs.size() == 2 ? 1 : static_cast<std::size_t>(xs[xs.size() - 2]);
    d.cols = static_cast<std::size_t>(xs.back());
    const std::uint64_t values = kept * per_example;
    if (bytes) {
        // Bytes as they are (an IDX file's pixels), read a chunk at a time into room for them.
        d.pixels.reserve(static_cast<std::size_t>(values));
        for (std::uint64_t done = 0; done < values;) {
            const auto step = static_cast<std::size_t>(std::min<std::uint64_t>(values - done, chunk_bytes));
            d.pixels.resize(d.pixels.size() + step);
            x_src.read(d.pixels.data() + done, step);
            done += step;
        }
    } else {
        d.features.reserve(static_cast<std::size_t>(values));
        read_values(
            x_src, x.dtype, values,
            [&](std::uint64_t i) {
                return "value " + std::to_string(i % per_example) + " of example " + std::to_string(i / per_example);
            },
            [&](std::uint64_t, float v) { d.features.push_back(v); });
    }
    if (kept == n) x_src.finish();

    d.targets.reserve(static_cast<std::size_t>(kept * width));
    read_values(
        y_src, y.dtype, kept * width,
        [&](std::uint64_t i) {
            return width == 1 ? "the target of example " + std::to_string(i)
                              : "value " + std::to_string(i % width) + " of the target of example " + std::to_string(i / width);
        },
        [&](std::uint64_t, float v) { d.targets.push_back(v); });
    if (kept == n) y_src.finish();
    d.target_width = static_cast<std::size_t>(width);
    d.task = Task::regression;
    return d;
}

Dataset read_npy_table_open(const fs::path& path, int fd, std::uint64_t file_size, const TargetColumn& target,
                            std::size_t limit) {
    if (file_size == 0) fail(path, "empty file");
    Source src(Where{path, ""}, fd, Extent{0, file_size, file_size, 0, std::nullopt});
    const NpyHeader h = read_npy_header(src);
    if (h.shape.size() != 2)
        fail(path, "shape " + shape_text(h.shape) + " is not a table: expected a 2-D array (N, F + 1), the features and the target of an example per row");
    const std::uint64_t n = h.shape[0], columns = h.shape[1];
    if (columns < 2)
        fail(path, "shape " + shape_text(h.shape) + ": a table needs at least 2 columns (the features and a target), this one has " +
                       std::to_string(columns));
    if (n == 0) fail(path, "has no examples (shape " + shape_text(h.shape) + ")");
    const std::size_t t = target_index(path, target, static_cast<std::size_t>(columns), nullptr,
                                       ".npy columns have no names");
    const std::uint64_t kept = limit > 0 ? std::min<std::uint64_t>(limit, n) : n;
    check_kept(src.where(), kept, columns, sizeof(float));

    Dataset d;
    d.rows = 1;
    d.cols = static_cast<std::size_t>(columns - 1);
    d.features.reserve(static_cast<std::size_t>(kept * (columns - 1)));
    d.targets.reserve(static_cast<std::size_t>(kept));
    read_values(
        src, h.dtype, kept * columns,
        [&](std::uint64_t i) { return "row " + std::to_string(i / columns) + ", column " + std::to_string(i % columns); },
        [&](std::uint64_t i, float v) {
            if (i % columns == t) d.targets.push_back(v);
            else d.features.push_back(v);
        });
    if (kept == n) src.finish();
    d.target_width = 1;
    d.task = Task::regression;
    return d;
}

}  // namespace detail

Dataset read_npz(const fs::path& file, std::size_t limit) {
    std::uint64_t size = 0;
    const FileDescriptor fd(detail::open_regular(file, size));
    return detail::read_npz_open(file, fd.get(), size, limit);
}

Dataset read_npy_table(const fs::path& file, const TargetColumn& target, std::size_t limit) {
    std::uint64_t size = 0;
    const FileDescriptor fd(detail::open_regular(file, size));
    return detail::read_npy_table_open(file, fd.get(), size, target, limit);
}

}  // namespace typegrad::data
