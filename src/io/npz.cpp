// The .npz writer (io/npz.hpp): the .npy format 1.0 header, then a zip archive with every
// member stored (method 0), CRC-32 from zlib.
#include "typegrad/io/npz.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <zlib.h>

#include "typegrad/io/checkpoint_file.hpp"

namespace typegrad::io {

namespace {

void put16(std::vector<unsigned char>& out, std::uint16_t v) {
    out.push_back(static_cast<unsigned char>(v));
    out.push_back(static_cast<unsigned char>(v >> 8));
}
void put32(std::vector<unsigned char>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// The .npy bytes of one array: magic, version 1.0, header length, a Python dict literal padded
// with spaces to a multiple of 64 bytes and ending in '\n', then the data.
std::vector<unsigned char> npy_bytes(const NpyArray& a) {
    std::string shape = "(";
    for (std::size_t i = 0; i < a.shape.size(); ++i) shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
    shape += ")";
    std::string header = "{'descr': '" + a.dtype + "', 'fortran_order': False, 'shape': " + shape + ", }";
    const std::size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    put16(out, static_cast<std::uint16_t>(header.size()));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), a.data.begin(), a.data.end());
    return out;
}

}  // namespace

void write_npz(const std::filesystem::path& file, const std::vector<NpyArray>& arrays) {
    std::vector<unsigned char> zip, central;
    for (const NpyArray& a : arrays) {
        const std::vector<unsigned char> body = npy_bytes(a);
        const std::string name = a.name + ".npy";
        const auto crc = static_cast<std::uint32_t>(::crc32(::crc32(0L, Z_NULL, 0), body.data(), static_cast<uInt>(body.size())));
        const auto size = static_cast<std::uint32_t>(body.size());
        const auto offset = static_cast<std::uint32_t>(zip.size());
        // local file header
        put32(zip, 0x04034b50);
        put16(zip, 20);  // version needed
        put16(zip, 0);   // flags
        put16(zip, 0);   // stored
        put16(zip, 0);   // time
        put16(zip, 0x21);  // date: 1980-01-01
        put32(zip, crc);
        put32(zip, size);
        put32(zip, size);
        put16(zip, static_cast<std::uint16_t>(name.size()));
        put16(zip, 0);
        zip.insert(zip.end(), name.begin(), name.end());
        zip.insert(zip.end(), body.begin(), body.end());
        // its central directory entry
        put32(central, 0x02014b50);
        put16(central, 20);  // made by
        put16(central, 20);  // needed
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put16(central, 0x21);
        put32(central, crc);
        put32(central, size);
        put32(central, size);
        put16(central, static_cast<std::uint16_t>(name.size()));
        put16(central, 0);  // extra
        put16(central, 0);  // comment
        put16(central, 0);  // disk
        put16(central, 0);  // internal attributes
        put32(central, 0);  // external attributes
        put32(central, offset);
        central.insert(central.end(), name.begin(), name.end());
    }
    const auto central_offset = static_cast<std::uint32_t>(zip.size());
    const auto central_size = static_cast<std::uint32_t>(central.size());
    zip.insert(zip.end(), central.begin(), central.end());
    put32(zip, 0x06054b50);  // end of central directory
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, static_cast<std::uint16_t>(arrays.size()));
    put16(zip, static_cast<std::uint16_t>(arrays.size()));
    put32(zip, central_size);
    put32(zip, central_offset);
    put16(zip, 0);
    write_file_atomically(file, std::span<const unsigned char>(zip.data(), zip.size()));
}

}  // namespace typegrad::io
