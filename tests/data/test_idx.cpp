// The IDX reader against small files written here: valid ones (plain and gzip) and every
// kind of broken one, whose errors must name the file and say what is wrong.
#include "typegrad/data/dataset.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <zlib.h>

#include <chrono>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using typegrad::data::check_fits;
using typegrad::data::Dataset;
using typegrad::data::DataError;
using typegrad::data::load_idx_directory;
using typegrad::data::read_idx;

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
                    ("typegrad_test_idx_" + std::to_string(stamp) + "_" + std::to_string(counter++));
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

void put_u32(Bytes& b, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
    Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (const auto d : dims) put_u32(b, d);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes image_file(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const Bytes& pixels) {
    return idx(0x08, {count, rows, cols}, pixels);
}

Bytes label_file(const Bytes& labels) { return idx(0x08, {static_cast<std::uint32_t>(labels.size())}, labels); }

/// n bytes of a recognisable pattern.
Bytes pattern(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    return b;
}

void write_plain(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("test setup: cannot write " + path.string());
}

/// Writes bytes as one gzip member; mode "ab" appends another member to an existing file.
void write_gzip(const fs::path& path, const Bytes& bytes, const char* mode = "wb") {
    gzFile f = gzopen(path.c_str(), mode);
    if (f == nullptr) throw std::runtime_error("test setup: cannot gzopen " + path.string());
    const int written = bytes.empty() ? 0 : gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    if (gzclose(f) != Z_OK || written != static_cast<int>(bytes.size()))
        throw std::runtime_error("test setup: cannot gzwrite " + path.string());
}

Bytes read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A valid pair of 3 images of 2x3 pixels and their labels, so a test can break just one.
struct Pair {
    fs::path images;
    fs::path labels;
};

const Bytes small_pixels{0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 254, 253, 252, 251, 250, 249};
const Bytes small_labels{7, 0, 9};

Pair write_valid_pair(const TempDir& dir) {
    Pair p{dir / "images", dir / "labels"};
    write_plain(p.images, image_file(3, 2, 3, small_pixels));
    write_plain(p.labels, label_file(small_labels));
    return p;
}

void check_small(const Dataset& d) {
    REQUIRE(d.size() == 3);
    CHECK(d.rows == 2);
    CHECK(d.cols == 3);
    CHECK(d.image_size() == 6);
    REQUIRE(d.pixels.size() == small_pixels.size());
    for (std::size_t i = 0; i < small_pixels.size(); ++i) {
        INFO("pixel " << i);
        CHECK(d.pixels[i] == small_pixels[i]);  // the bytes as they are in the file
        CHECK(d.pixel(i / 6, i % 6) == static_cast<float>(small_pixels[i]) / 255.0f);
    }
    CHECK(d.pixel(0, 0) == 0.0f);
    CHECK(d.pixel(0, 1) == 1.0f);
    CHECK(d.labels == std::vector<std::uint8_t>(small_labels.begin(), small_labels.end()));
    CHECK(d.image(2)[0] == 254);
}

}  // namespace

TEST_CASE("read_idx reads plain IDX files", "[data][idx]") {
    const TempDir dir;
    const Pair p = write_valid_pair(dir);
    check_small(read_idx(p.images, p.labels));
}

TEST_CASE("read_idx recognises gzip by content, not by name", "[data][idx]") {
    const TempDir dir;
    SECTION("both compressed, with the usual suffix") {
        write_gzip(dir / "images.gz", image_file(3, 2, 3, small_pixels));
        write_gzip(dir / "labels.gz", label_file(small_labels));
        check_small(read_idx(dir / "images.gz", dir / "labels.gz"));
    }
    SECTION("compressed without the suffix, plain with it") {
        write_gzip(dir / "images", image_file(3, 2, 3, small_pixels));
        write_plain(dir / "labels.gz", label_file(small_labels));
        check_small(read_idx(dir / "images", dir / "labels.gz"));
    }
    SECTION("several concatenated gzip members, as `cat a.gz b.gz` makes") {
        const Bytes whole = image_file(3, 2, 3, small_pixels);
        write_gzip(dir / "images.gz", Bytes(whole.begin(), whole.begin() + 7));
        write_gzip(dir / "images.gz", Bytes(whole.begin() + 7, whole.begin() + 20), "ab");
        write_gzip(dir / "images.gz", Bytes(whole.begin() + 20, whole.end()), "ab");
        write_gzip(dir / "labels.gz", label_file(small_labels));
        check_small(read_idx(dir / "images.gz", dir / "labels.gz"));
    }
}

TEST_CASE("read_idx handles a file larger than its read buffers", "[data][idx]") {
    const TempDir dir;
    const std::uint32_t count = 3000;  // 3000 * 28 * 28 = 2.35 MB, several chunks
    const Bytes pixels = pattern(std::size_t{count} * 28 * 28);
    Bytes labels(count);
    for (std::uint32_t i = 0; i < count; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
    write_gzip(dir / "images.gz", image_file(count, 28, 28, pixels));
    write_plain(dir / "labels", label_file(labels));
    const Dataset d = read_idx(dir / "images.gz", dir / "labels");
    REQUIRE(d.size() == count);
    REQUIRE(d.pixels.size() == pixels.size());
    for (const std::size_t i : {std::size_t{0}, std::size_t{65535}, std::size_t{65536}, pixels.size() - 1}) {
        INFO("pixel " << i);
        CHECK(d.pixels[i] == pixels[i]);
    }
    CHECK(d.labels[2999] == 9);
    // the whole file is inflated at once (libdeflate) when all of it is read, and streamed by
    // zlib with --limit: both give the same bytes, every one of them
    CHECK(d.pixels == pixels);
    const Dataset first = read_idx(dir / "images.gz", dir / "labels", count - 1);
    REQUIRE(first.pixels.size() == pixels.size() - 28 * 28);
    CHECK(std::equal(first.pixels.begin(), first.pixels.end(), pixels.begin()));
    // a file whose last member states a length too small for the others (three members): the
    // whole-file inflate has no room, and zlib reads it as before
    const Bytes whole = image_file(count, 28, 28, pixels);
    write_gzip(dir / "three.gz", Bytes(whole.begin(), whole.begin() + 1000));
    write_gzip(dir / "three.gz", Bytes(whole.begin() + 1000, whole.end() - 10), "ab");
    write_gzip(dir / "three.gz", Bytes(whole.end() - 10, whole.end()), "ab");
    CHECK(read_idx(dir / "three.gz", dir / "labels").pixels == pixels);
}

TEST_CASE("read_idx names the file and the problem for malformed files", "[data][idx]") {
    const TempDir dir;
    Pair p = write_valid_pair(dir);
    const std::string images = p.images.string();
    const std::string labels = p.labels.string();
    // Catch's `!matcher` keeps a reference, so the negated matcher is built inline.
    const auto newline = Contains("\n");

    SECTION("missing files") {
        REQUIRE_THROWS_WITH(read_idx(dir / "nope", p.labels), Contains((dir / "nope").string() + ": no such file"));
        REQUIRE_THROWS_WITH(read_idx(p.images, dir / "nada"), Contains((dir / "nada").string() + ": no such file"));
    }
    SECTION("a directory instead of a file") {
        REQUIRE_THROWS_WITH(read_idx(dir.path(), p.labels), Contains(dir.path().string() + ": is a directory"));
    }
    SECTION("empty file") {
        write_plain(p.images, {});
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": empty file") && !newline);
    }
    SECTION("too short for a header") {
        write_plain(p.labels, {0, 0});
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(labels + ": only 2 bytes, too short"));
    }
    SECTION("wrong magic number") {
        write_plain(p.images, idx(0x08, {3, 6}, small_pixels));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": wrong magic number 0x00000802, expected 0x00000803 (IDX images)") &&
                                Contains("2 dimensions, expected 3 (count, rows, cols)") && !newline);
    }
    SECTION("images and labels swapped") {
        REQUIRE_THROWS_WITH(read_idx(p.labels, p.images),
                            Contains(labels + ": wrong magic number 0x00000801, expected 0x00000803"));
        write_plain(p.images, label_file(small_labels));
        write_plain(p.labels, image_file(3, 2, 3, small_pixels));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": wrong magic number 0x00000801, expected 0x00000803"));
    }
    SECTION("a label file with image dimensions") {
        write_plain(p.labels, image_file(3, 2, 3, small_pixels));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(labels + ": wrong magic number 0x00000803, expected 0x00000801 (IDX labels)") &&
                                Contains("3 dimensions, expected 1 (count)"));
    }
    SECTION("not an IDX file at all") {
        const std::string html = "<html>404 Not Found</html>";
        write_plain(p.images, Bytes(html.begin(), html.end()));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": wrong magic number 0x3c68746d") && Contains("not an IDX file"));
    }
    SECTION("unsupported element type") {
        write_plain(p.images, idx(0x0d, {3, 2, 3}, Bytes(72)));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": element type 0x0d is not supported, expected 0x08 (unsigned byte)"));
    }
    SECTION("header cut off inside the dimensions") {
        write_plain(p.images, Bytes{0, 0, 8, 3, 0, 0, 0, 3, 0, 0});
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": truncated header: 3 dimensions need 16 bytes, file has 10"));
    }
    SECTION("fewer pixels than the header promises") {
        write_plain(p.images, image_file(10, 28, 28, pattern(1000)));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": truncated: header promises 7840 bytes of pixels, file has 1000") &&
                                !newline);
    }
    SECTION("fewer labels than the header promises") {
        write_plain(p.labels, idx(0x08, {5}, {1, 2, 3}));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(labels + ": truncated: header promises 5 bytes of labels, file has 3"));
    }
    SECTION("trailing data after the pixels, plain and compressed") {
        Bytes longer = small_pixels;
        longer.push_back(0);
        write_plain(p.images, image_file(3, 2, 3, longer));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": trailing data after the 18 bytes"));
        write_gzip(p.images, image_file(3, 2, 3, longer));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": trailing data after the 18 bytes"));
    }
    SECTION("garbage after the end of the gzip stream") {
        write_gzip(p.images, image_file(3, 2, 3, small_pixels));
        Bytes raw = read_all(p.images);
        raw.push_back('x');
        write_plain(p.images, raw);
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": trailing data after the end of the gzip stream"));
        // zero padding and then something else is garbage too
        raw.back() = 0;
        raw.insert(raw.end(), {0, 0, 7});
        write_plain(p.images, raw);
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": trailing data after the end of the gzip stream (and after zero padding)"));
    }
    SECTION("a header claiming a huge count does not allocate it") {
        // 2^32 - 1 images: refused from the header alone.
        write_plain(p.images, image_file(0xffffffffu, 28, 28, pattern(784)));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": header declares 4294967295 images of 28x28 pixels") &&
                                Contains("more than the 1 GiB"));
        write_plain(p.images, image_file(5, 0xffffffffu, 0xffffffffu, pattern(784)));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains("more than the 1 GiB"));
        // 784 MB promised (under the cap), 784 bytes present: reported as truncated after
        // reading what is there, plain or compressed.
        write_plain(p.images, image_file(1000000, 28, 28, pattern(784)));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": truncated: header promises 784000000 bytes of pixels, file has 784"));
        write_gzip(p.images, image_file(1000000, 28, 28, pattern(784)));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": truncated: header promises 784000000 bytes of pixels, file has 784"));
    }
    SECTION("zero counts and sizes") {
        write_plain(p.images, image_file(0, 2, 3, {}));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": header declares 0 images"));
        write_plain(p.images, image_file(3, 0, 3, {}));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": header declares images of 0x3 pixels"));
        write_plain(p.images, image_file(3, 2, 0, {}));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": header declares images of 2x0 pixels"));
        write_valid_pair(dir);
        write_plain(p.labels, label_file({}));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(labels + ": header declares 0 labels"));
    }
    SECTION("corrupt gzip streams") {
        write_gzip(p.images, image_file(3, 2, 3, small_pixels));
        const Bytes good = read_all(p.images);

        Bytes bad_method = good;
        bad_method[2] = 0x63;  // compression method: only 8 (deflate) exists
        write_plain(p.images, bad_method);
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": corrupt gzip stream: ") && !newline);

        Bytes bad_crc = good;
        bad_crc[bad_crc.size() - 8] ^= 0xff;  // the trailer's CRC-32
        write_plain(p.images, bad_crc);
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels), Contains(images + ": corrupt gzip stream: "));

        write_plain(p.images, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + ": corrupt gzip stream: unexpected end of file"));
    }
    SECTION("image and label counts disagree") {
        write_plain(p.labels, label_file({7, 0}));
        REQUIRE_THROWS_WITH(read_idx(p.images, p.labels),
                            Contains(images + " and " + labels + ": 3 images but 2 labels"));
    }
    SECTION("errors are DataError") {
        write_plain(p.images, {});
        REQUIRE_THROWS_AS(read_idx(p.images, p.labels), DataError);
    }
}

TEST_CASE("load_idx_directory finds the four MNIST files, plain or gzip", "[data][idx]") {
    const TempDir dir;
    const Bytes train_pixels = pattern(5 * 4 * 4);
    const Bytes test_pixels = pattern(2 * 4 * 4 + 1);  // a different pattern: one byte longer
    const Bytes test_pixels_used(test_pixels.begin() + 1, test_pixels.end());
    write_gzip(dir / "train-images-idx3-ubyte.gz", image_file(5, 4, 4, train_pixels));
    write_plain(dir / "train-labels-idx1-ubyte", label_file({0, 1, 2, 3, 4}));
    write_plain(dir / "t10k-images-idx3-ubyte", image_file(2, 4, 4, test_pixels_used));
    write_gzip(dir / "t10k-labels-idx1-ubyte.gz", label_file({9, 8}));

    SECTION("mixed plain and compressed files") {
        const auto split = load_idx_directory(dir.path());
        REQUIRE(split.train.size() == 5);
        REQUIRE(split.test.size() == 2);
        CHECK(split.train.rows == 4);
        CHECK(split.test.cols == 4);
        CHECK(split.train.labels == std::vector<std::uint8_t>{0, 1, 2, 3, 4});
        CHECK(split.test.labels == std::vector<std::uint8_t>{9, 8});
        CHECK(split.train.pixels[17] == train_pixels[17]);
        CHECK(split.test.pixels[31] == test_pixels_used[31]);
    }
    SECTION("a plain file wins over a .gz next to it") {
        write_plain(dir / "train-images-idx3-ubyte", image_file(5, 4, 4, train_pixels));
        write_plain(dir / "train-images-idx3-ubyte.gz", {0x1f, 0x8b, 0x00});
        CHECK(load_idx_directory(dir.path()).train.size() == 5);
    }
    SECTION("a missing file is named with the directory") {
        fs::remove(dir / "t10k-labels-idx1-ubyte.gz");
        REQUIRE_THROWS_WITH(load_idx_directory(dir.path()),
                            Contains(dir.path().string() + ": missing t10k-labels-idx1-ubyte (or .gz)"));
    }
    SECTION("an error inside a file names that file") {
        write_plain(dir / "t10k-images-idx3-ubyte", image_file(2, 4, 4, pattern(10)));
        REQUIRE_THROWS_WITH(load_idx_directory(dir.path()),
                            Contains((dir / "t10k-images-idx3-ubyte").string() + ": truncated"));
    }
    SECTION("train and test images of different sizes") {
        write_plain(dir / "t10k-images-idx3-ubyte", image_file(2, 2, 8, test_pixels_used));
        REQUIRE_THROWS_WITH(load_idx_directory(dir.path()),
                            Contains(dir.path().string() + ": training images are 4x4 but test images are 2x8"));
    }
}

TEST_CASE("load_idx_directory rejects a missing directory or a file", "[data][idx]") {
    const TempDir dir;
    REQUIRE_THROWS_WITH(load_idx_directory(dir / "absent"),
                        Contains((dir / "absent").string() + ": no such directory"));
    write_plain(dir / "file", {1, 2, 3});
    REQUIRE_THROWS_WITH(load_idx_directory(dir / "file"), Contains((dir / "file").string() + ": not a directory"));
    // An empty directory: the first file it looks for is reported.
    REQUIRE_THROWS_WITH(load_idx_directory(dir.path()),
                        Contains(dir.path().string() + ": missing train-images-idx3-ubyte (or .gz)"));
}

TEST_CASE("check_fits compares a dataset with a network's widths", "[data][idx]") {
    Dataset d;
    d.rows = 28;
    d.cols = 28;
    d.labels = {3, 1, 4, 1, 5, 12};
    d.pixels.assign(d.labels.size() * 784, 0.5f);

    REQUIRE_THROWS_WITH(check_fits(d, 100, 20, "mnist"),
                        Contains("mnist: images have 784 pixels (28x28) but the network's input width is 100"));
    REQUIRE_THROWS_WITH(check_fits(d, 784, 10, "mnist"),
                        Contains("mnist: label 12 at index 5 is out of range for a network with 10 outputs"));
    REQUIRE_THROWS_WITH(check_fits(d, 784, 12, "data/x"),
                        Contains("data/x: label 12 at index 5 is out of range for a network with 12 outputs"));
    REQUIRE_THROWS_AS(check_fits(d, 784, 10, "mnist"), DataError);
    CHECK_NOTHROW(check_fits(d, 784, 13, "mnist"));
}

TEST_CASE("Dataset::head and label_count", "[data][idx]") {
    Dataset d;
    d.rows = 1;
    d.cols = 2;
    d.pixels = {0, 10, 20, 30, 40, 50};
    d.labels = {4, 0, 2};

    const Dataset two = d.head(2);
    CHECK(two.rows == 1);
    CHECK(two.cols == 2);
    CHECK(two.labels == std::vector<std::uint8_t>{4, 0});
    CHECK(two.pixels == std::vector<std::uint8_t>{0, 10, 20, 30});

    const Dataset all = d.head(99);
    CHECK(all.labels == d.labels);
    CHECK(all.pixels == d.pixels);

    const Dataset none = d.head(0);
    CHECK(none.size() == 0);
    CHECK(none.pixels.empty());
    CHECK(none.cols == 2);

    CHECK(d.label_count() == 5);
    CHECK(two.label_count() == 5);
    CHECK(none.label_count() == 0);
    CHECK(Dataset{}.label_count() == 0);
}

// --- issue 9: what the reader must not do (hang, read devices, decode what it does not need) ----

TEST_CASE("zero padding after the gzip stream is accepted, as gzip accepts it", "[data][idx][issue9]") {
    // gzip -t says "decompression OK, trailing zero bytes ignored" and exits 0.
    const TempDir dir;
    const Pair p = write_valid_pair(dir);
    for (const std::size_t padding : {std::size_t{1}, std::size_t{511}, std::size_t{200000}}) {
        INFO(padding << " zero bytes");
        write_gzip(p.images, image_file(3, 2, 3, small_pixels));
        Bytes raw = read_all(p.images);
        raw.resize(raw.size() + padding, 0);
        write_plain(p.images, raw);
        check_small(read_idx(p.images, p.labels));
    }
}

TEST_CASE("read_idx refuses what is not a regular file before opening it", "[data][idx][issue9]") {
    const TempDir dir;
    const Pair p = write_valid_pair(dir);
    // /dev/zero is endless zeros: once "element type 0x00 is not supported".
    REQUIRE_THROWS_WITH(read_idx("/dev/zero", p.labels), "/dev/zero: is not a regular file (a character device)");
    REQUIRE_THROWS_WITH(read_idx(p.images, "/dev/null"), "/dev/null: is not a regular file (a character device)");
    // A FIFO with no writer: open() would block forever. If the reader blocked, this test would
    // hang (CTest's timeout fails it); a watchdog thread makes that a failure at once.
    const fs::path fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    REQUIRE_THROWS_WITH(read_idx(fifo, p.labels), fifo.string() + ": is not a regular file (a FIFO)");
    REQUIRE_THROWS_WITH(read_idx(p.images, fifo), fifo.string() + ": is not a regular file (a FIFO)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    // A symbolic link to a regular file is read through.
    fs::create_symlink(p.images, dir / "link");
    check_small(read_idx(dir / "link", p.labels));
}

TEST_CASE("read_idx with a limit decodes only what it keeps", "[data][idx][issue9]") {
    const TempDir dir;
    // 10^6 blank 28x28 images compress to under 1 MB; the whole set would be 784 MB.
    const std::uint32_t count = 1000000;
    {
        gzFile f = gzopen((dir / "images.gz").c_str(), "wb9");
        REQUIRE(f != nullptr);
        const Bytes header = image_file(count, 28, 28, {});
        REQUIRE(gzwrite(f, header.data(), static_cast<unsigned>(header.size())) == static_cast<int>(header.size()));
        const Bytes blank(784 * 1000, 0);
        for (std::uint32_t i = 0; i < count / 1000; ++i)
            REQUIRE(gzwrite(f, blank.data(), static_cast<unsigned>(blank.size())) == static_cast<int>(blank.size()));
        REQUIRE(gzclose(f) == Z_OK);
    }
    {
        gzFile f = gzopen((dir / "labels.gz").c_str(), "wb9");
        REQUIRE(f != nullptr);
        Bytes labels = label_file(Bytes(count, 3));
        REQUIRE(gzwrite(f, labels.data(), static_cast<unsigned>(labels.size())) == static_cast<int>(labels.size()));
        REQUIRE(gzclose(f) == Z_OK);
    }
    CHECK(fs::file_size(dir / "images.gz") < 1500000);
    const auto start = std::chrono::steady_clock::now();
    const Dataset d = read_idx(dir / "images.gz", dir / "labels.gz", 100);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(d.size() == 100);
    CHECK(d.pixels.size() == 100u * 784u);
    CHECK(d.pixels.capacity() == 100u * 784u);  // no room reserved for the other 999900
    CHECK(d.labels.capacity() == 100u);
    // Decoding 784 MB takes seconds; 78 kB, microseconds (generous for a loaded machine).
    CHECK(elapsed < std::chrono::milliseconds(500));
}

TEST_CASE("read_idx with a limit still checks a plain file's size and the counts", "[data][idx][issue9]") {
    const TempDir dir;
    const Pair p = write_valid_pair(dir);
    const Dataset two = read_idx(p.images, p.labels, 2);
    REQUIRE(two.size() == 2);
    CHECK(two.pixels == Bytes(small_pixels.begin(), small_pixels.begin() + 12));
    CHECK(read_idx(p.images, p.labels, 99).size() == 3);  // a limit beyond the file: all of it
    Bytes cut = image_file(3, 2, 3, small_pixels);
    cut.pop_back();
    write_plain(p.images, cut);
    REQUIRE_THROWS_WITH(read_idx(p.images, p.labels, 1),
                        p.images.string() + ": truncated: header promises 18 bytes of pixels, file has 17");
    write_plain(p.images, image_file(3, 2, 3, small_pixels));
    write_plain(p.labels, label_file({1, 2}));
    REQUIRE_THROWS_WITH(read_idx(p.images, p.labels, 1), Contains("3 images but 2 labels"));
}

TEST_CASE("find_idx_files says which of a plain and a .gz file it reads; the test set alone", "[data][idx][issue9]") {
    const TempDir dir;
    const Bytes images = image_file(3, 2, 3, small_pixels), labels = label_file(small_labels);
    write_plain(dir / "t10k-images-idx3-ubyte", images);
    write_gzip(dir / "t10k-images-idx3-ubyte.gz", images);
    write_gzip(dir / "t10k-labels-idx1-ubyte.gz", labels);
    // Only the test files: enough without the training set (eval), a missing file with it.
    const auto files = typegrad::data::find_idx_files(dir.path(), false);
    CHECK(files.train_images.empty());
    CHECK(files.test_images == dir / "t10k-images-idx3-ubyte");
    CHECK(files.test_labels == dir / "t10k-labels-idx1-ubyte.gz");
    REQUIRE(files.notes.size() == 1);
    CHECK(files.notes[0] == (dir / "t10k-images-idx3-ubyte").string() + ": read (t10k-images-idx3-ubyte.gz beside it is not)");
    CHECK(files.all().size() == 2);
    const auto split = load_idx_directory(dir.path(), {0, 2, false});
    CHECK(split.train.size() == 0);
    CHECK(split.test.size() == 2);
    REQUIRE_THROWS_WITH(load_idx_directory(dir.path()), Contains("missing train-images-idx3-ubyte (or .gz)"));
}

TEST_CASE("content_fingerprint depends on the examples only", "[data][idx][issue9]") {
    const TempDir dir;
    const Pair p = write_valid_pair(dir);
    write_gzip(dir / "images.gz", image_file(3, 2, 3, small_pixels));
    const auto plain = typegrad::data::content_fingerprint(read_idx(p.images, p.labels));
    CHECK(plain.size() == 16);
    CHECK(typegrad::data::content_fingerprint(read_idx(dir / "images.gz", p.labels)) == plain);
    Bytes other = small_pixels;
    other[5] ^= 1;
    write_plain(p.images, image_file(3, 2, 3, other));
    CHECK(typegrad::data::content_fingerprint(read_idx(p.images, p.labels)) != plain);
    write_plain(p.images, image_file(3, 3, 2, small_pixels));  // same bytes, another shape
    CHECK(typegrad::data::content_fingerprint(read_idx(p.images, p.labels)) != plain);
}
