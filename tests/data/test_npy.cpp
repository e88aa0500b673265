// The NumPy readers (read_npz, read_npy_table, and read_file's dispatch to them) against small
// files written here byte by byte: .npy arrays of every accepted form, zip archives of them
// stored and deflated (with zip64 fields, data descriptors and comments, as numpy.savez writes
// them), and every kind of broken one, whose errors must name the file, the array and what is
// wrong.
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/npz.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using typegrad::data::Dataset;
using typegrad::data::DataError;
using typegrad::data::read_file;
using typegrad::data::read_npy_table;
using typegrad::data::read_npz;
using typegrad::data::TargetColumn;
using typegrad::data::Task;

namespace {

using Bytes = std::vector<std::uint8_t>;

/// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
public:
    TempDir() {
        static unsigned counter = 0;
        const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        do {
            path_ = fs::temp_directory_path() /
                    ("typegrad_test_npy_" + std::to_string(stamp) + "_" + std::to_string(counter++));
        } while (!fs::create_directory(path_));
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    [[nodiscard]] fs::path operator/(const std::string& name) const { return path_ / name; }
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void write_plain(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("test setup: cannot write " + path.string());
}

void put16(Bytes& b, std::uint32_t v) {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Bytes& b, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(Bytes& b, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void set32(Bytes& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

/// The little-endian bytes of values (x86-64 and ARM are little-endian).
template <class T>
Bytes le(const std::vector<T>& values) {
    Bytes b(values.size() * sizeof(T));
    if (!b.empty()) std::memcpy(b.data(), values.data(), b.size());
    return b;
}

/// A .npy file: magic, version, header length, the header text as given (padded with spaces
/// and a newline so the data start at a multiple of 64 bytes, as NumPy writes it), the data.
Bytes npy_raw(const std::string& dict, const Bytes& data, int major = 1) {
    const std::size_t prelude = major == 1 ? 10 : 12;
    std::string header = dict;
    header.append((64 - (prelude + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
    if (major == 1) put16(b, static_cast<std::uint32_t>(header.size()));
    else put32(b, static_cast<std::uint32_t>(header.size()));
    b.insert(b.end(), header.begin(), header.end());
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

/// A .npy file of dtype `descr` and `shape` (Python's text: "(3, 4)", "(3,)").
Bytes npy(const std::string& descr, const std::string& shape, const Bytes& data, int major = 1) {
    return npy_raw("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", data, major);
}

std::uint32_t crc_of(const Bytes& b) {
    return static_cast<std::uint32_t>(::crc32(::crc32(0L, Z_NULL, 0), b.data(), static_cast<uInt>(b.size())));
}

/// Raw deflate (no zlib or gzip wrapper), as zip entries hold it.
Bytes deflate_raw(const Bytes& in, int level = Z_DEFAULT_COMPRESSION) {
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("test setup: deflateInit2");
    Bytes out(deflateBound(&z, static_cast<uLong>(in.size())));
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("test setup: deflate");
    return out;
}

/// One entry of a zip archive written by zip(), and what to get wrong about it.
struct Entry {
    std::string name;
    Bytes data;                 // the uncompressed bytes
    std::uint16_t method = 0;   // 0 stored, 8 deflated (anything else: stored bytes, that method)
    std::uint16_t flags = 0;
    std::optional<std::uint32_t> crc{};        // instead of the real CRC-32
    std::optional<std::uint64_t> size{};       // instead of the real uncompressed size
    std::optional<std::uint64_t> stored_size{};  // instead of the real compressed size
    std::size_t cut = 0;                       // compressed bytes left out of the archive
    bool local_zip64 = false;    // a zip64 extra field in the local header (numpy.savez's force_zip64)
    bool central_zip64 = false;  // sizes and offset 0xffffffff in the central directory, zip64 extra
    bool descriptor = false;     // flag 3: sizes and CRC zero in the local header, a data descriptor after
};

struct ZipOptions {
    bool zip64_end = false;  // a zip64 end of central directory record and locator
    std::string comment{};
    std::uint16_t disk = 0;
};

Bytes zip(const std::vector<Entry>& entries, const ZipOptions& options = {}) {
    Bytes out, central;
    for (const Entry& e : entries) {
        Bytes stored = e.method == 8 ? deflate_raw(e.data) : e.data;
        stored.resize(stored.size() - e.cut);
        const std::uint32_t crc = e.crc ? *e.crc : crc_of(e.data);
        const std::uint64_t size = e.size ? *e.size : e.data.size();
        const std::uint64_t stored_size = e.stored_size ? *e.stored_size : stored.size();
        const std::uint16_t flags = static_cast<std::uint16_t>(e.flags | (e.descriptor ? 0x8 : 0));
        const auto offset = static_cast<std::uint32_t>(out.size());
        put32(out, 0x04034b50);
        put16(out, e.local_zip64 ? 45 : 20);
        put16(out, flags);
        put16(out, e.method);
        put16(out, 0);
        put16(out, 0x21);
        put32(out, e.descriptor ? 0 : crc);
        put32(out, e.descriptor ? 0 : static_cast<std::uint32_t>(stored_size));
        put32(out, e.descriptor ? 0 : static_cast<std::uint32_t>(size));
        put16(out, static_cast<std::uint32_t>(e.name.size()));
        put16(out, e.local_zip64 ? 20 : 0);
        out.insert(out.end(), e.name.begin(), e.name.end());
        if (e.local_zip64) {
            put16(out, 1);
            put16(out, 16);
            put64(out, size);
            put64(out, stored_size);
        }
        out.insert(out.end(), stored.begin(), stored.end());
        if (e.descriptor) {
            put32(out, 0x08074b50);
            put32(out, crc);
            put32(out, static_cast<std::uint32_t>(stored_size));
            put32(out, static_cast<std::uint32_t>(size));
        }
        put32(central, 0x02014b50);
        put16(central, 45);
        put16(central, e.central_zip64 ? 45 : 20);
        put16(central, flags);
        put16(central, e.method);
        put16(central, 0);
        put16(central, 0x21);
        put32(central, crc);
        put32(central, e.central_zip64 ? 0xffffffffu : static_cast<std::uint32_t>(stored_size));
        put32(central, e.central_zip64 ? 0xffffffffu : static_cast<std::uint32_t>(size));
        put16(central, static_cast<std::uint32_t>(e.name.size()));
        put16(central, e.central_zip64 ? 28 : 0);
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put32(central, 0);
        put32(central, e.central_zip64 ? 0xffffffffu : offset);
        central.insert(central.end(), e.name.begin(), e.name.end());
        if (e.central_zip64) {
            put16(central, 1);
            put16(central, 24);
            put64(central, size);
            put64(central, stored_size);
            put64(central, offset);
        }
    }
    const auto central_offset = static_cast<std::uint32_t>(out.size());
    out.insert(out.end(), central.begin(), central.end());
    const auto count = static_cast<std::uint32_t>(entries.size());
    if (options.zip64_end) {
        const auto record = out.size();
        put32(out, 0x06064b50);
        put64(out, 44);
        put16(out, 45);
        put16(out, 45);
        put32(out, options.disk);
        put32(out, 0);
        put64(out, count);
        put64(out, count);
        put64(out, central.size());
        put64(out, central_offset);
        put32(out, 0x07064b50);
        put32(out, 0);
        put64(out, record);
        put32(out, 1);
    }
    put32(out, 0x06054b50);
    put16(out, options.zip64_end ? 0xffff : options.disk);
    put16(out, options.zip64_end ? 0xffff : 0);
    put16(out, options.zip64_end ? 0xffff : count);
    put16(out, options.zip64_end ? 0xffff : count);
    put32(out, options.zip64_end ? 0xffffffffu : static_cast<std::uint32_t>(central.size()));
    put32(out, options.zip64_end ? 0xffffffffu : central_offset);
    put16(out, static_cast<std::uint32_t>(options.comment.size()));
    out.insert(out.end(), options.comment.begin(), options.comment.end());
    return out;
}

// The small example used throughout: 3 images of 2x3 bytes with the labels 7, 0, 9.
const Bytes small_pixels{0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 254, 253, 252, 251, 250, 249};
const std::vector<std::int64_t> small_labels{7, 0, 9};

Bytes small_x() { return npy("|u1", "(3, 2, 3)", small_pixels); }
Bytes small_y() { return npy("<i8", "(3,)", le(small_labels)); }

/// An archive of x and y (stored or deflated), with an entry the readers ignore between them.
Bytes small_npz(std::uint16_t method = 0, const Bytes& x = small_x(), const Bytes& y = small_y()) {
    return zip({{"x.npy", x, method}, {"notes.npy", npy("|u1", "(2,)", {1, 2}), method}, {"y.npy", y, method}});
}

void check_small(const Dataset& d) {
    REQUIRE(d.size() == 3);
    CHECK(d.channels == 1);
    CHECK(d.rows == 2);
    CHECK(d.cols == 3);
    CHECK(d.pixels == small_pixels);
    CHECK(d.features.empty());
    CHECK(d.labels.empty());
    CHECK(d.targets == std::vector<float>{7, 0, 9});
    CHECK(d.target_width == 1);
    CHECK(d.task == Task::regression);
    CHECK(d.pixel(0, 1) == 1.0f);
}

/// The message read_npz throws for bytes written to dir/name ("" if it throws none).
std::string npz_error(const TempDir& dir, const Bytes& bytes, std::size_t limit = 0, const std::string& name = "bad.npz") {
    write_plain(dir / name, bytes);
    try {
        (void)read_npz(dir / name, limit);
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}

std::string npy_error(const TempDir& dir, const Bytes& bytes, const std::string& target = "last") {
    write_plain(dir / "bad.npy", bytes);
    try {
        (void)read_npy_table(dir / "bad.npy", TargetColumn{target});
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("read_npz keeps uint8 x as bytes, stored or deflated", "[data][npz]") {
    const TempDir dir;
    for (const std::uint16_t method : {0, 8}) {
        INFO("method " << method);
        write_plain(dir / "small.npz", small_npz(method));
        check_small(read_npz(dir / "small.npz"));
        check_small(read_file(dir / "small.npz"));  // recognised by its content
    }
}

TEST_CASE("read_npz turns every other numeric x into float features", "[data][npz]") {
    const TempDir dir;
    const std::vector<float> expected{0, 1, -2, 3, 100, -7};
    const auto check = [&](const Bytes& x, std::vector<float> want = {}) {
        if (want.empty()) want = expected;
        write_plain(dir / "f.npz", zip({{"x.npy", x, 8}, {"y.npy", npy("<f4", "(2,)", le(std::vector<float>{0.5f, -1.5f}))}}));
        const Dataset d = read_npz(dir / "f.npz");
        REQUIRE(d.size() == 2);
        CHECK(d.rows == 1);
        CHECK(d.cols == 3);
        CHECK(d.channels == 1);
        CHECK(d.pixels.empty());
        CHECK(d.features == want);
        CHECK(d.targets == std::vector<float>{0.5f, -1.5f});
        CHECK(d.float_inputs());
    };
    SECTION("float32") { check(npy("<f4", "(2, 3)", le(expected))); }
    SECTION("float64") { check(npy("<f8", "(2, 3)", le(std::vector<double>(expected.begin(), expected.end())))); }
    SECTION("float16") {
        // 0, 1, -2, 3, 100, -7 in IEEE half precision
        check(npy("<f2", "(2, 3)", le(std::vector<std::uint16_t>{0x0000, 0x3c00, 0xc000, 0x4200, 0x5640, 0xc700})));
    }
    SECTION("int8") { check(npy("|i1", "(2, 3)", le(std::vector<std::int8_t>{0, 1, -2, 3, 100, -7}))); }
    SECTION("int16") { check(npy("<i2", "(2, 3)", le(std::vector<std::int16_t>{0, 1, -2, 3, 100, -7}))); }
    SECTION("int32") { check(npy("<i4", "(2, 3)", le(std::vector<std::int32_t>{0, 1, -2, 3, 100, -7}))); }
    SECTION("int64") { check(npy("<i8", "(2, 3)", le(std::vector<std::int64_t>{0, 1, -2, 3, 100, -7}))); }
    SECTION("uint16, uint32, uint64") {
        const std::vector<float> u{0, 1, 2, 3, 100, 65535};
        check(npy("<u2", "(2, 3)", le(std::vector<std::uint16_t>{0, 1, 2, 3, 100, 65535})), u);
        check(npy("<u4", "(2, 3)", le(std::vector<std::uint32_t>{0, 1, 2, 3, 100, 65535})), u);
        check(npy("<u8", "(2, 3)", le(std::vector<std::uint64_t>{0, 1, 2, 3, 100, 65535})), u);
    }
    SECTION("bool") { check(npy("|b1", "(2, 3)", {0, 1, 1, 0, 0, 1}), {0, 1, 1, 0, 0, 1}); }
}

TEST_CASE("read_npz reads y as (N,), (N, 1) or (N, K) targets", "[data][npz]") {
    const TempDir dir;
    const Bytes x = npy("<f4", "(2, 2)", le(std::vector<float>{1, 2, 3, 4}));
    const auto read = [&](const Bytes& y) {
        write_plain(dir / "y.npz", zip({{"x.npy", x}, {"y.npy", y}}));
        return read_npz(dir / "y.npz");
    };
    const Dataset one = read(npy("<i4", "(2, 1)", le(std::vector<std::int32_t>{3, 1})));
    CHECK(one.target_width == 1);
    CHECK(one.targets == std::vector<float>{3, 1});
    const Dataset vec = read(npy("<f8", "(2, 3)", le(std::vector<double>{0.25, 0.75, 0, 1, 0, 0})));
    CHECK(vec.target_width == 3);
    CHECK(vec.size() == 2);
    CHECK(vec.targets == std::vector<float>{0.25f, 0.75f, 0, 1, 0, 0});
    CHECK(vec.task == Task::regression);  // fit_targets decides later
    CHECK(vec.labels.empty());
    const Dataset bytes = read(npy("|u1", "(2,)", {4, 2}));
    CHECK(bytes.targets == std::vector<float>{4, 2});
}

TEST_CASE("read_npz: (N, H, W) and (N, C, H, W) inputs", "[data][npz]") {
    const TempDir dir;
    std::vector<float> values(2 * 3 * 4 * 5);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f;
    write_plain(dir / "4d.npz", zip({{"x.npy", npy("<f4", "(2, 3, 4, 5)", le(values))},
                                     {"y.npy", npy("<i8", "(2,)", le(std::vector<std::int64_t>{1, 0}))}}));
    const Dataset d = read_npz(dir / "4d.npz");
    CHECK(d.size() == 2);
    CHECK(d.channels == 3);
    CHECK(d.rows == 4);
    CHECK(d.cols == 5);
    CHECK(d.image_size() == 60);
    CHECK(d.features == values);
    CHECK(d.pixel(1, 59) == values.back());

    write_plain(dir / "4d.npz", zip({{"x.npy", npy("|u1", "(1, 2, 1, 2)", {1, 2, 3, 4})}, {"y.npy", npy("<f4", "(1,)", le(std::vector<float>{2}))}}));
    const Dataset b = read_npz(dir / "4d.npz");
    CHECK(b.channels == 2);
    CHECK(b.rows == 1);
    CHECK(b.cols == 2);
    CHECK(b.pixels == Bytes{1, 2, 3, 4});
}

TEST_CASE("read_npz with a limit keeps the first examples", "[data][npz]") {
    const TempDir dir;
    for (const std::uint16_t method : {0, 8}) {
        write_plain(dir / "small.npz", small_npz(method));
        const Dataset two = read_npz(dir / "small.npz", 2);
        REQUIRE(two.size() == 2);
        CHECK(two.pixels == Bytes(small_pixels.begin(), small_pixels.begin() + 12));
        CHECK(two.targets == std::vector<float>{7, 0});
        check_small(read_npz(dir / "small.npz", 99));  // beyond the file: all of it
    }
}

TEST_CASE("read_npz with a limit reads only what it keeps of a large archive", "[data][npz]") {
    const TempDir dir;
    // 100 000 blank 28x28 images deflate to under 100 kB; the whole set is 78 MB.
    const std::size_t count = 100000;
    Bytes pixels(count * 784, 0);
    const Bytes x = npy("|u1", "(100000, 28, 28)", pixels);
    pixels = {};
    const Bytes y = npy("|u1", "(100000,)", Bytes(count, 3));
    write_plain(dir / "big.npz", zip({{"x.npy", x, 8}, {"y.npy", y, 8}}));
    CHECK(fs::file_size(dir / "big.npz") < 200000);
    const auto start = std::chrono::steady_clock::now();
    const Dataset d = read_npz(dir / "big.npz", 100);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(d.size() == 100);
    CHECK(d.pixels.size() == 100u * 784u);
    CHECK(d.pixels.capacity() == 100u * 784u);  // no room for the other 99 900
    CHECK(d.targets.capacity() == 100u);
    CHECK(elapsed < std::chrono::milliseconds(500));
    // And all of it, CRC-32 included.
    CHECK(read_npz(dir / "big.npz").size() == count);
}

TEST_CASE("read_npz reads what io::write_npz writes", "[data][npz]") {
    const TempDir dir;
    const std::vector<float> xs{1.5f, -2, 0, 4, 5, 6, 7, 8};
    const std::vector<double> ys{1, 0, 1, 1};
    typegrad::io::write_npz(dir / "w.npz", {typegrad::io::npy_text("meta", "{\"a\": 1}"),
                                            typegrad::io::npy_array<float>("x", {4, 2}, xs.data(), xs.size()),
                                            typegrad::io::npy_array<double>("y", {4}, ys.data(), ys.size())});
    const Dataset d = read_npz(dir / "w.npz");
    CHECK(d.size() == 4);
    CHECK(d.cols == 2);
    CHECK(d.features == xs);
    CHECK(d.targets == std::vector<float>{1, 0, 1, 1});
}

TEST_CASE("read_npz reads the forms numpy.savez and other writers use", "[data][npz]") {
    const TempDir dir;
    SECTION("zip64 extra fields in the local headers (numpy.savez: force_zip64)") {
        write_plain(dir / "a.npz", zip({{.name = "x.npy", .data = small_x(), .local_zip64 = true},
                                        {.name = "y.npy", .data = small_y(), .method = 8, .local_zip64 = true}}));
        check_small(read_npz(dir / "a.npz"));
    }
    SECTION("data descriptors: sizes and CRC only in the central directory") {
        write_plain(dir / "a.npz", zip({{.name = "x.npy", .data = small_x(), .method = 8, .descriptor = true},
                                        {.name = "y.npy", .data = small_y(), .descriptor = true}}));
        check_small(read_npz(dir / "a.npz"));
    }
    SECTION("zip64 sizes and offsets in the central directory, a zip64 end record, a comment") {
        write_plain(dir / "a.npz", zip({{.name = "x.npy", .data = small_x(), .central_zip64 = true},
                                        {.name = "y.npy", .data = small_y(), .method = 8, .central_zip64 = true}},
                                       {.zip64_end = true, .comment = "made by hand PK\x05\x06"}));
        check_small(read_npz(dir / "a.npz"));
    }
    SECTION(".npy format versions 2.0 and 3.0; header keys in any order, double quotes, Python 2's 3L") {
        const Bytes x = npy_raw("{\"shape\": (3L, 2L, 3L), \"fortran_order\": False, \"descr\": \"|u1\"}", small_pixels, 2);
        const Bytes y = npy_raw("{'descr':'<i8','fortran_order':False,'shape':(3,)}", le(small_labels), 3);
        write_plain(dir / "a.npz", zip({{"x.npy", x}, {"y.npy", y}}));
        check_small(read_npz(dir / "a.npz"));
    }
}

TEST_CASE("read_npz names the file, the array and the problem for malformed archives", "[data][npz]") {
    const TempDir dir;
    const std::string file = (dir / "bad.npz").string() + ": ";
    const Bytes good = small_npz();
    const auto newline = Contains("\n");

    SECTION("not a zip archive, or a cut one") {
        CHECK_THAT(npz_error(dir, {}), Contains(file + "empty file"));
        CHECK_THAT(npz_error(dir, Bytes(10, 'P')), Contains(file + "only 10 bytes, too short for a zip archive (.npz)"));
        const Bytes cut(good.begin(), good.end() - 10);
        CHECK_THAT(npz_error(dir, cut), Contains(file + "not a zip archive (.npz): no end of central directory record") && !newline);
        const Bytes half(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
        CHECK_THAT(npz_error(dir, half), Contains(file + "not a zip archive (.npz): no end of central directory record"));
        // The end record survives, what it points to does not.
        Bytes lost = good;
        set32(lost, lost.size() - 6, static_cast<std::uint32_t>(lost.size()));  // central directory offset
        CHECK_THAT(npz_error(dir, lost), Contains(file + "truncated or corrupt zip archive: its central directory"));
        Bytes split = good;
        split[split.size() - 18] = 1;  // disk number
        CHECK_THAT(npz_error(dir, split), Contains(file + "multi-volume (split) zip archives are not supported"));
        Bytes signature = good;
        signature[0] = 'Q';
        CHECK_THAT(npz_error(dir, signature), Contains(file + "x.npy: corrupt zip archive: no local header at offset 0"));
    }
    SECTION("a damaged entry") {
        CHECK_THAT(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .crc = 0x12345678u}, {"y.npy", small_y()}})),
                   Contains(file + "x.npy: CRC-32 mismatch: the archive says 0x12345678, the data's is 0x"));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", small_x(), 8}, {.name = "y.npy", .data = small_y(), .method = 8, .crc = 1}})),
                   Contains(file + "y.npy: CRC-32 mismatch"));
        // With a limit, the rest of the entry is not read, nor its CRC-32 checked (as a gzip
        // IDX file's tail).
        CHECK(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .crc = 1}, {.name = "y.npy", .data = small_y(), .crc = 1}}), 2).empty());
        // Deflate data cut short, and damaged.
        CHECK_THAT(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .method = 8, .cut = 3}, {"y.npy", small_y()}})),
                   Contains(file + "x.npy: corrupt entry: its ") && Contains("compressed bytes end before the deflate stream does"));
        Bytes damaged = zip({{"x.npy", small_x(), 8}, {"y.npy", small_y()}});
        damaged[30 + 5] = 0xff;  // the first deflate block header: type 3 does not exist
        CHECK_THAT(npz_error(dir, damaged), Contains(file + "x.npy: corrupt deflate data: "));
        // Sizes that disagree with the data.
        CHECK_THAT(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .method = 8, .size = small_x().size() + 1}, {"y.npy", small_y()}})),
                   Contains(file + "x.npy: trailing data: shape (3, 2, 3) of '|u1' is 18 bytes of data, the entry has 19"));
        CHECK_THAT(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .stored_size = 5}, {"y.npy", small_y()}})),
                   Contains(file + "x.npy: corrupt entry: stored (not compressed), yet its compressed size 5 differs from its size"));
        CHECK_THAT(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .method = 8, .size = std::uint64_t{1} << 40, .central_zip64 = true},
                                       {"y.npy", small_y()}})),
                   Contains(file + "x.npy: corrupt entry: ") && Contains("deflated bytes cannot expand to the 1099511627776 bytes the archive says"));
        CHECK_THAT(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .size = 1000, .stored_size = 1000}, {"y.npy", small_y()}})),
                   Contains(file + "x.npy: truncated or corrupt zip archive: the entry's 1000 bytes at offset 35 run into the central directory"));
    }
    SECTION("what the reader does not support") {
        CHECK_THAT(npz_error(dir, zip({{"x.npy", small_x(), 12}, {"y.npy", small_y()}})),
                   Contains(file + "x.npy: compression method 12 (bzip2) is not supported"));
        CHECK_THAT(npz_error(dir, zip({{.name = "x.npy", .data = small_x(), .flags = 1}, {"y.npy", small_y()}})),
                   Contains(file + "x.npy: encrypted entries are not supported"));
    }
    SECTION("x or y missing, twice, or of different lengths") {
        CHECK_THAT(npz_error(dir, zip({{"y.npy", small_y()}, {"inputs.npy", small_x()}})),
                   Contains(file + "no x.npy (the inputs) in the archive, which holds y.npy, inputs.npy"));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", small_x()}})), Contains(file + "no y.npy (the targets) in the archive, which holds x.npy"));
        CHECK_THAT(npz_error(dir, zip({})), Contains(file + "no x.npy and no y.npy in the archive, which holds no entries"));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", small_x()}, {"y.npy", small_y()}, {"x.npy", small_x()}})),
                   Contains(file + "the archive holds two entries named x.npy"));
        CHECK_THAT(npz_error(dir, small_npz(0, small_x(), npy("<i8", "(2,)", le(std::vector<std::int64_t>{1, 2})))),
                   Contains(file + "x.npy has 3 examples but y.npy has 2 (shapes (3, 2, 3) and (2,))"));
    }
    SECTION("bad .npy headers") {
        const auto with_x = [&](const Bytes& x) { return npz_error(dir, small_npz(8, x)); };
        Bytes magic = small_x();
        magic[1] = 'X';
        CHECK_THAT(with_x(magic), Contains(file + "x.npy: not a .npy array: wrong magic bytes \"\\x93XUMPY\""));
        CHECK_THAT(with_x(Bytes{0x93, 'N', 'U'}), Contains(file + "x.npy: only 3 bytes, too short for a .npy header"));
        Bytes version = small_x();
        version[6] = 4;
        CHECK_THAT(with_x(version), Contains(file + "x.npy: .npy format version 4.0 is not supported (1.0, 2.0 and 3.0 are)"));
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': True, 'shape': (3, 2, 3), }", small_pixels)),
                   Contains(file + "x.npy: fortran_order is True: Fortran-ordered (column-major) arrays are not supported"));
        const auto malformed = Contains(file + "x.npy: malformed .npy header (");
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 3), ", small_pixels)), malformed);
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': False}", small_pixels)), malformed && Contains("no 'shape'"));
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': False, 'shape': (18)}", small_pixels)),
                   malformed && Contains("the shape (18) is not a tuple"));
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': 0, 'shape': (18,)}", small_pixels)),
                   malformed && Contains("must be True or False"));
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': False, 'shape': (18,), 'extra': 1}", small_pixels)),
                   malformed && Contains("unknown key 'extra'"));
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (18,)}", small_pixels)),
                   malformed && Contains("'descr' appears twice"));
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': False, 'shape': (3, -6)}", small_pixels)), malformed);
        CHECK_THAT(with_x(npy_raw("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 6)} x", small_pixels)),
                   malformed && Contains("text after the closing brace"));
        CHECK_THAT(with_x(npy_raw("\x01\x02", small_pixels)), malformed && Contains("\\x01\\x02") && !newline);
        // A header length beyond the entry, beyond any sane header.
        Bytes long_header = small_x();
        long_header[8] = 0xff;
        long_header[9] = 0xff;
        CHECK_THAT(with_x(long_header), Contains(file + "x.npy: truncated: the .npy header says it is 65535 bytes long, the entry has"));
        Bytes huge_header = npy("|u1", "(3, 2, 3)", small_pixels, 2);
        set32(huge_header, 8, 0x80000000u);
        CHECK_THAT(with_x(huge_header), Contains(file + "x.npy: the .npy header says it is 2147483648 bytes long, more than the 65536 this reader accepts"));
    }
    SECTION("dtypes") {
        const auto with_x = [&](const std::string& descr) { return npz_error(dir, small_npz(0, npy(descr, "(3, 6)", small_pixels))); };
        CHECK_THAT(with_x("<c8"), Contains(file + "x.npy: dtype '<c8' is not supported (numeric arrays only: bool, int8-64, uint8-64, float16/32/64)"));
        CHECK_THAT(with_x("<U1"), Contains("dtype '<U1' is not supported"));
        CHECK_THAT(with_x("|O"), Contains("dtype '|O' is not supported"));
        CHECK_THAT(with_x("<M8[ns]"), Contains("dtype '<M8[ns]' is not supported"));
        CHECK_THAT(with_x("<f16"), Contains("dtype '<f16' is not supported"));
        CHECK_THAT(with_x(">f4"), Contains(file + "x.npy: dtype '>f4' is big-endian, which this reader does not convert (save it as little-endian: a.astype('<f4'))"));
        CHECK_THAT(with_x("|f4"), Contains(file + "x.npy: dtype '|f4' does not say its byte order (expected '<f4')"));
        CHECK_THAT(npz_error(dir, small_npz(0, npy_raw("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}", Bytes(12)))),
                   Contains(file + "x.npy: structured dtypes (records of named fields) are not supported"));
    }
    SECTION("shapes, and sizes that lie") {
        const auto with_x = [&](const std::string& shape, const Bytes& data) { return npz_error(dir, small_npz(8, npy("|u1", shape, data))); };
        CHECK_THAT(with_x("(3,)", {1, 2, 3}), Contains(file + "x.npy: shape (3,): the features must be at least (N, F), one row per example"));
        CHECK_THAT(with_x("()", {1}), Contains(file + "x.npy: shape (): the features must be at least (N, F)"));
        CHECK_THAT(with_x("(3, 1, 1, 1, 6)", small_pixels),
                   Contains(file + "x.npy: shape (3, 1, 1, 1, 6) has 5 dimensions; expected (N, F), (N, H, W) or (N, C, H, W)"));
        CHECK_THAT(with_x("(0, 6)", {}), Contains(file + "x.npy: shape (0, 6) has no examples"));
        CHECK_THAT(with_x("(3, 0)", {}), Contains(file + "x.npy: shape (3, 0): the examples have no values"));
        // Headers that promise more than the entry holds: refused before anything is allocated.
        CHECK_THAT(with_x("(1000000000, 1000)", small_pixels),
                   Contains(file + "x.npy: truncated: shape (1000000000, 1000) of '|u1' is 1000000000000 bytes of data, the entry has 18"));
        CHECK_THAT(with_x("(4294967296, 4294967296, 4294967296)", small_pixels),
                   Contains(file + "x.npy: truncated: shape (4294967296, 4294967296, 4294967296) of '|u1' is more than 2^64 bytes of data"));
        CHECK_THAT(with_x("(3, 2, 3)", Bytes(17)), Contains(file + "x.npy: truncated: shape (3, 2, 3) of '|u1' is 18 bytes of data, the entry has 17"));
        CHECK_THAT(with_x("(3, 2, 3)", Bytes(19)), Contains(file + "x.npy: trailing data: shape (3, 2, 3) of '|u1' is 18 bytes of data, the entry has 19"));
        CHECK_THAT(npz_error(dir, small_npz(0, small_x(), npy("<f4", "(3, 1, 1)", Bytes(12)))),
                   Contains(file + "y.npy: shape (3, 1, 1): expected (N,) or (N, 1), a target per example, or (N, K)"));
        CHECK_THAT(npz_error(dir, small_npz(0, small_x(), npy("<f4", "(3, 0)", {}))), Contains(file + "y.npy: shape (3, 0): the targets have no values"));
    }
    SECTION("values that are not finite") {
        const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
        const Bytes y = npy("<f4", "(2,)", le(std::vector<float>{1, 2}));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", npy("<f4", "(2, 3)", le(std::vector<float>{1, 2, 3, 4, nan, 6}))}, {"y.npy", y}})),
                   Contains(file + "x.npy: value 1 of example 1 is nan, not a finite number"));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", npy("<f8", "(2, 3)", le(std::vector<double>{1, 2, 3, 4, 5, -1e300}))}, {"y.npy", y}})),
                   Contains(file + "x.npy: value 2 of example 1 is -1e+300, beyond float32's range"));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", npy("<f2", "(2, 1)", le(std::vector<std::uint16_t>{0x3c00, 0x7c00}))}, {"y.npy", y}})),
                   Contains(file + "x.npy: value 0 of example 1 is inf, not a finite number"));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", small_x()}, {"y.npy", npy("<f4", "(3,)", le(std::vector<float>{1, -inf, 3}))}})),
                   Contains(file + "y.npy: the target of example 1 is -inf, not a finite number"));
        CHECK_THAT(npz_error(dir, zip({{"x.npy", small_x()}, {"y.npy", npy("<f8", "(3, 2)", le(std::vector<double>{1, 0, 0, 1, 0, std::nan("")}))}})),
                   Contains(file + "y.npy: value 1 of the target of example 2 is nan"));
        // Beyond the limit: not read.
        CHECK(npz_error(dir, zip({{"x.npy", npy("<f4", "(2, 3)", le(std::vector<float>{1, 2, 3, 4, nan, 6}))}, {"y.npy", y}}), 1).empty());
    }
}

TEST_CASE("read_npz, read_npy_table and read_file refuse what is not a regular file, without blocking", "[data][npz]") {
    const TempDir dir;
    const fs::path fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    REQUIRE_THROWS_WITH(read_npz(fifo), fifo.string() + ": is not a regular file (a FIFO)");
    REQUIRE_THROWS_WITH(read_npy_table(fifo), fifo.string() + ": is not a regular file (a FIFO)");
    REQUIRE_THROWS_WITH(read_file(fifo), fifo.string() + ": is not a regular file (a FIFO)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    REQUIRE_THROWS_WITH(read_npz("/dev/zero"), "/dev/zero: is not a regular file (a character device)");
    REQUIRE_THROWS_WITH(read_file("/dev/zero"), "/dev/zero: is not a regular file (a character device)");
    REQUIRE_THROWS_WITH(read_npz(dir.path()), Contains(dir.path().string() + ": is a directory"));
    REQUIRE_THROWS_WITH(read_file(dir.path()), Contains(dir.path().string() + ": is a directory"));
    REQUIRE_THROWS_WITH(read_npz(dir / "absent.npz"), (dir / "absent.npz").string() + ": no such file");
    REQUIRE_THROWS_AS(read_npy_table(dir / "absent.npy"), DataError);
}

TEST_CASE("read_npy_table splits a 2-D array into features and a target column", "[data][npy]") {
    const TempDir dir;
    // 3 rows of 4 columns
    const std::vector<double> table{1, 2, 3, 10, 4, 5, 6, 20, 7, 8, 9, 30};
    write_plain(dir / "t.npy", npy("<f8", "(3, 4)", le(table)));
    const auto read = [&](const std::string& spec, std::size_t limit = 0) {
        return read_npy_table(dir / "t.npy", TargetColumn{spec}, limit);
    };
    const Dataset last = read_npy_table(dir / "t.npy");
    CHECK(last.size() == 3);
    CHECK(last.rows == 1);
    CHECK(last.cols == 3);
    CHECK(last.channels == 1);
    CHECK(last.features == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(last.targets == std::vector<float>{10, 20, 30});
    CHECK(last.target_width == 1);
    CHECK(last.task == Task::regression);
    CHECK(read("-1").targets == last.targets);
    CHECK(read("3").targets == last.targets);
    const Dataset first = read("first");
    CHECK(first.targets == std::vector<float>{1, 4, 7});
    CHECK(first.features == std::vector<float>{2, 3, 10, 5, 6, 20, 8, 9, 30});
    CHECK(read("0").targets == first.targets);
    CHECK(read("-4").targets == first.targets);
    CHECK(read("1").targets == std::vector<float>{2, 5, 8});
    const Dataset two = read("last", 2);
    CHECK(two.size() == 2);
    CHECK(two.features == std::vector<float>{1, 2, 3, 4, 5, 6});
    // read_file knows it by its magic bytes, whatever its name.
    fs::rename(dir / "t.npy", dir / "table.csv");
    CHECK(read_file(dir / "table.csv", TargetColumn{"first"}).targets == first.targets);
    // Integers too.
    write_plain(dir / "i.npy", npy("<i4", "(2, 2)", le(std::vector<std::int32_t>{5, 1, 6, 0})));
    CHECK(read_npy_table(dir / "i.npy").targets == std::vector<float>{1, 0});
}

TEST_CASE("read_npy_table names the file and the problem", "[data][npy]") {
    const TempDir dir;
    const std::string file = (dir / "bad.npy").string() + ": ";
    const Bytes table = npy("<f8", "(3, 3)", le(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    CHECK_THAT(npy_error(dir, {}), Contains(file + "empty file"));
    CHECK_THAT(npy_error(dir, npy("<f8", "(3,)", Bytes(24))),
               Contains(file + "shape (3,) is not a table: expected a 2-D array (N, F + 1)"));
    CHECK_THAT(npy_error(dir, npy("<f8", "(3, 1)", Bytes(24))),
               Contains(file + "shape (3, 1): a table needs at least 2 columns (the features and a target), this one has 1"));
    CHECK_THAT(npy_error(dir, npy("<f8", "(0, 3)", {})), Contains(file + "has no examples (shape (0, 3))"));
    CHECK_THAT(npy_error(dir, table, "price"),
               Contains(file + "no column \"price\": .npy columns have no names (choose the target by its index: 0..2, -3..-1, first or last)"));
    CHECK_THAT(npy_error(dir, table, "3"), Contains(file + "target column 3 is out of range: the table has 3 columns (0..2, -3..-1, first or last)"));
    CHECK_THAT(npy_error(dir, table, "-4"), Contains(file + "target column -4 is out of range"));
    const Bytes cut(table.begin(), table.end() - 8);
    CHECK_THAT(npy_error(dir, cut), Contains(file + "truncated: shape (3, 3) of '<f8' is 72 bytes of data, the file has 64"));
    Bytes longer = table;
    longer.push_back(0);
    CHECK_THAT(npy_error(dir, longer), Contains(file + "trailing data: shape (3, 3) of '<f8' is 72 bytes of data, the file has 73"));
    CHECK_THAT(npy_error(dir, npy("<f4", "(2, 2)", le(std::vector<float>{1, 2, 3, std::numeric_limits<float>::quiet_NaN()}))),
               Contains(file + "row 1, column 1 is nan, not a finite number"));
    CHECK_THAT(npy_error(dir, npy("<f4", "(100000000, 100000000)", Bytes(16))),
               Contains(file + "truncated: shape (100000000, 100000000) of '<f4' is 40000000000000000 bytes of data, the file has 16"));
    Bytes fortran = npy_raw("{'descr': '<f8', 'fortran_order': True, 'shape': (3, 3), }", Bytes(72));
    CHECK_THAT(npy_error(dir, fortran), Contains(file + "fortran_order is True"));
    Bytes magic = table;
    magic[0] = 'N';
    CHECK_THAT(npy_error(dir, magic), Contains(file + "not a .npy array: wrong magic bytes \"NNUMPY\""));
}

TEST_CASE("read_file dispatches on the content; an .npz takes no target column", "[data][npz]") {
    const TempDir dir;
    write_plain(dir / "data", small_npz(8));
    check_small(read_file(dir / "data"));
    check_small(read_file(dir / "data", TargetColumn{"last"}, 0));
    REQUIRE_THROWS_WITH(read_file(dir / "data", TargetColumn{"price"}),
                        (dir / "data").string() + ": an .npz archive's targets are its array y: a target column (\"price\") does not apply");
    // An empty archive is still an archive.
    write_plain(dir / "empty.npz", zip({}));
    REQUIRE_THROWS_WITH(read_file(dir / "empty.npz"), Contains("no x.npy and no y.npy in the archive"));
    // Anything else is CSV.
    write_plain(dir / "data", Bytes{'a', ',', 'b', '\n', '1', ',', '2', '\n'});
    const Dataset csv = read_file(dir / "data");
    CHECK(csv.features == std::vector<float>{1});
    CHECK(csv.targets == std::vector<float>{2});
}
