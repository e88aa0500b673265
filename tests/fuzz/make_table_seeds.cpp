// Writes the seed corpora of fuzz_npz and fuzz_csv (run by scripts/fuzz.sh; nothing binary is
// committed):
//   DIR/fuzz_npz/  .npy arrays of 2 examples (fuzz_npz wraps each input as the x.npy of an
//                  archive with 2 targets: these are accepted there), .npy tables (versions 1.0
//                  and 2.0), and .npz archives of x and y: stored, deflated, with numpy.savez's
//                  zip64 extra fields, uint8 / float / int inputs of 2, 3 and 4 dimensions
//   DIR/fuzz_csv/  CSV tables with and without a header, CRLF, blank lines, spaces
// Usage: fuzz_make_table_seeds DIR
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write_file(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

void put16(Bytes& b, std::uint64_t v) {
    for (int i = 0; i < 2; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put32(Bytes& b, std::uint64_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(Bytes& b, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

template <class T>
Bytes le(const std::vector<T>& values) {
    Bytes b(values.size() * sizeof(T));
    std::memcpy(b.data(), values.data(), b.size());  // x86-64: little-endian
    return b;
}

/// A .npy file of dtype `descr` and `shape` ("(2, 3)"), header padded as NumPy pads it.
Bytes npy(const std::string& descr, const std::string& shape, const Bytes& data, int major = 1) {
    const std::size_t prelude = major == 1 ? 10 : 12;
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    header.append((64 - (prelude + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
    if (major == 1) put16(b, header.size());
    else put32(b, header.size());
    b.insert(b.end(), header.begin(), header.end());
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

Bytes deflate_raw(const Bytes& in) {
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
    Bytes out(deflateBound(&z, static_cast<uLong>(in.size())));
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

struct Member {
    std::string name;
    Bytes data;
};

/// A zip archive of the members, stored or deflated; zip64: numpy.savez's extra field (the
/// 64-bit sizes) in every local header.
Bytes zip(const std::vector<Member>& members, bool deflated, bool zip64 = false) {
    Bytes out, central;
    for (const Member& m : members) {
        const Bytes stored = deflated ? deflate_raw(m.data) : m.data;
        const auto crc = crc32(crc32(0, nullptr, 0), m.data.data(), static_cast<uInt>(m.data.size()));
        const std::uint64_t offset = out.size();
        const std::uint16_t method = deflated ? 8 : 0;
        put32(out, 0x04034b50);
        for (const std::uint64_t v : {zip64 ? 45u : 20u, 0u, unsigned{method}, 0u, 0x21u}) put16(out, v);
        put32(out, crc);
        put32(out, stored.size());
        put32(out, m.data.size());
        put16(out, m.name.size());
        put16(out, zip64 ? 20 : 0);
        out.insert(out.end(), m.name.begin(), m.name.end());
        if (zip64) {
            put16(out, 1);
            put16(out, 16);
            put64(out, m.data.size());
            put64(out, stored.size());
        }
        out.insert(out.end(), stored.begin(), stored.end());
        put32(central, 0x02014b50);
        for (const std::uint64_t v : {45u, 20u, 0u, unsigned{method}, 0u, 0x21u}) put16(central, v);
        put32(central, crc);
        put32(central, stored.size());
        put32(central, m.data.size());
        put16(central, m.name.size());
        for (int i = 0; i < 4; ++i) put16(central, 0);  // extra, comment, disk, internal attributes
        put32(central, 0);
        put32(central, offset);
        central.insert(central.end(), m.name.begin(), m.name.end());
    }
    const std::uint64_t central_offset = out.size();
    out.insert(out.end(), central.begin(), central.end());
    put32(out, 0x06054b50);
    for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{0}, members.size(), members.size()}) put16(out, v);
    put32(out, central.size());
    put32(out, central_offset);
    put16(out, 0);
    return out;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_table_seeds DIR\n");
        return 2;
    }
    const fs::path npz_dir = fs::path(argv[1]) / "fuzz_npz";
    const fs::path csv_dir = fs::path(argv[1]) / "fuzz_csv";
    fs::create_directories(npz_dir);
    fs::create_directories(csv_dir);

    // Arrays of 2 examples: accepted as x by fuzz_npz's archive around the input.
    const std::vector<std::pair<std::string, Bytes>> xs = {
        {"u1_2x2x3", npy("|u1", "(2, 2, 3)", {0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60})},
        {"f4_2x3", npy("<f4", "(2, 3)", le(std::vector<float>{0.5f, -1, 2, 3, 4, 1e-3f}))},
        {"f8_2x1x2x2", npy("<f8", "(2, 1, 2, 2)", le(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}))},
        {"i8_2x2", npy("<i8", "(2, 2)", le(std::vector<std::int64_t>{-1, 2, 3, 4}))},
        {"f2_2x2", npy("<f2", "(2, 2)", le(std::vector<std::uint16_t>{0x3c00, 0xc000, 0x0001, 0x7bff}))},
        {"b1_2x2_v2", npy("|b1", "(2, 2)", {0, 1, 1, 0}, 2)},
    };
    for (const auto& [name, bytes] : xs) write_file(npz_dir / (name + ".npy"), bytes);
    // Tables (N, F + 1) for read_npy_table through read_file.
    write_file(npz_dir / "table_f8.npy", npy("<f8", "(3, 3)", le(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9})));
    write_file(npz_dir / "table_i4_v2.npy", npy("<i4", "(2, 2)", le(std::vector<std::int32_t>{1, 0, 2, 1}), 2));
    // Archives of x and y.
    const Bytes y3 = npy("<i8", "(3,)", le(std::vector<std::int64_t>{7, 0, 9}));
    const Bytes x3 = npy("|u1", "(3, 2, 3)", Bytes{0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 254, 253, 252, 251, 250, 249});
    write_file(npz_dir / "u1_stored.npz", zip({{"x.npy", x3}, {"y.npy", y3}}, false));
    write_file(npz_dir / "u1_deflated.npz", zip({{"x.npy", x3}, {"y.npy", y3}}, true));
    write_file(npz_dir / "u1_savez_zip64.npz", zip({{"x.npy", x3}, {"y.npy", y3}}, false, true));
    const Bytes yk = npy("<f4", "(2, 2)", le(std::vector<float>{0.25f, 0.75f, 1, 0}));
    write_file(npz_dir / "f4_yk_deflated.npz", zip({{"x.npy", xs[1].second}, {"meta.npy", npy("|u1", "(1,)", {1})}, {"y.npy", yk}}, true));
    write_file(npz_dir / "f8_4d_stored.npz", zip({{"x.npy", xs[2].second}, {"y.npy", npy("<f8", "(2, 1)", le(std::vector<double>{1.5, -2}))}}, false));

    const std::vector<std::pair<std::string, std::string>> tables = {
        {"header", "age,sex,bmi,target\n30,1,22.5,151\n45,0,31.25,75\n-2.5e1,1,0,1e3\n"},
        {"plain", "1,2,3\n4,5,6\n"},
        {"crlf_blank_spaces", "\xef\xbb\xbf a , b \r\n\r\n 1 ,\t2\r\n3,+4\r\n\n"},
        {"two_columns_one_row", "x,target\n0.125,-7"},
    };
    for (const auto& [name, text] : tables) write_file(csv_dir / (name + ".csv"), Bytes(text.begin(), text.end()));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_table_seeds: %s\n", e.what());
    return 1;
}
