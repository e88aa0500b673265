// libFuzzer harness for the NumPy readers (src/data/npy.cpp) through read_file: the input bytes
// are read as a data file (an .npz archive or an .npy table by their magic bytes, CSV otherwise),
// then again as the x.npy of an archive written around them, with a valid y.npy beside it and
// correct CRC-32s (stored for even-sized inputs, deflated for odd ones), so that mutations of a
// .npy header reach the array checks instead of stopping at the archive's CRC. Every other input
// is read with a limit of 1 example. The readers only take paths: the files are memfds, named by
// their /proc/self/fd/N paths, rewritten for every input.
//
// A typegrad::data::DataError of one line naming the file, without control characters, is the
// expected answer to bad input. Anything else is a bug: a crash, a sanitizer report, another
// exception escaping (std::terminate aborts), a hang (-timeout), an allocation beyond
// -malloc_limit_mb, a DataError of several lines. An accepted Dataset must be self-consistent.
#include "typegrad/data/dataset.hpp"

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using typegrad::data::Dataset;
using typegrad::data::DataError;
using typegrad::data::TargetColumn;
using Bytes = std::vector<std::uint8_t>;

[[noreturn]] void bug(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_npz: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

/// A file in memory (memfd), named /proc/self/fd/N: a regular file to the readers.
struct MemFile {
    int fd = -1;
    fs::path path;
    void create(const char* name) {
        fd = ::memfd_create(name, MFD_CLOEXEC);
        if (fd < 0) bug("cannot create a memfd");
        path = "/proc/self/fd/" + std::to_string(fd);
    }
    void write(const std::uint8_t* data, std::size_t size) const {
        if (::ftruncate(fd, 0) != 0) bug("cannot truncate a memfd");
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
            if (n <= 0) bug("cannot write a memfd");
            done += static_cast<std::size_t>(n);
        }
    }
};

MemFile input_file, archive_file;

/// What a reader accepted must be usable as documented.
void check_dataset(const Dataset& d, std::size_t limit) {
    if (d.size() == 0) bug("a dataset without examples was accepted");
    if (limit > 0 && d.size() > limit) bug("more examples than the limit");
    if (d.image_size() == 0) bug("examples without values were accepted");
    if (d.pixels.empty() == d.features.empty()) bug("not exactly one of pixels and features");
    if ((d.float_inputs() ? d.features.size() : d.pixels.size()) != d.size() * d.image_size())
        bug("the inputs are not size() * image_size() values");
    if (!d.labels.empty() || d.target_width == 0 || d.targets.size() != d.size() * d.target_width)
        bug("the targets are not size() * target_width values");
    for (const float v : d.features)
        if (!std::isfinite(v)) bug("a feature that is not finite");
    for (const float v : d.targets)
        if (!std::isfinite(v)) bug("a target that is not finite");
}

template <class Read>
void read(const fs::path& path, std::size_t limit, Read&& read_it) {
    try {
        check_dataset(read_it(), limit);
    } catch (const DataError& e) {
        const std::string message = e.what();
        if (message.rfind(path.string() + ": ", 0) != 0) bug("a DataError that does not name the file", message);
        for (const unsigned char c : message)
            if (c < 0x20 || c == 0x7f) bug("a DataError with a control character", message);
    }
    // Any other exception propagates out of LLVMFuzzerTestOneInput: std::terminate, a crash.
}

void put16(Bytes& b, std::uint32_t v) {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Bytes& b, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

/// A zip archive of x.npy (the input) and y.npy (2 float targets), with correct CRC-32s.
Bytes archive_around(const std::uint8_t* data, std::size_t size, bool deflated) {
    static const Bytes y = [] {
        std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
        header += '\n';
        Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
        put16(b, static_cast<std::uint32_t>(header.size()));
        b.insert(b.end(), header.begin(), header.end());
        for (const std::uint32_t v : {0x3f800000u, 0x40000000u}) put32(b, v);  // 1.0f, 2.0f
        return b;
    }();
    Bytes out, central;
    const auto add = [&](const std::string& name, const std::uint8_t* bytes, std::size_t n, bool deflated_entry) {
        Bytes stored(bytes, bytes + n);
        if (deflated_entry) {
            uLongf length = compressBound(static_cast<uLong>(n));
            Bytes z(length);
            z_stream s{};
            if (deflateInit2(&s, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) bug("deflateInit2");
            s.next_in = const_cast<Bytef*>(bytes);
            s.avail_in = static_cast<uInt>(n);
            s.next_out = z.data();
            s.avail_out = static_cast<uInt>(z.size());
            if (deflate(&s, Z_FINISH) != Z_STREAM_END) bug("deflate");
            z.resize(s.total_out);
            deflateEnd(&s);
            stored = std::move(z);
        }
        const auto crc = static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), bytes, static_cast<uInt>(n)));
        const auto offset = static_cast<std::uint32_t>(out.size());
        const std::uint16_t method = deflated_entry ? 8 : 0;
        for (Bytes* b : {&out, &central}) {
            const bool local = b == &out;
            put32(*b, local ? 0x04034b50 : 0x02014b50);
            if (!local) put16(*b, 20);
            for (const std::uint32_t v : {20u, 0u, std::uint32_t{method}, 0u, 0x21u}) put16(*b, v);
            put32(*b, crc);
            put32(*b, static_cast<std::uint32_t>(stored.size()));
            put32(*b, static_cast<std::uint32_t>(n));
            put16(*b, static_cast<std::uint32_t>(name.size()));
            put16(*b, 0);
            if (!local) {
                for (int i = 0; i < 3; ++i) put16(*b, 0);
                put32(*b, 0);
                put32(*b, offset);
            }
            b->insert(b->end(), name.begin(), name.end());
        }
        out.insert(out.end(), stored.begin(), stored.end());
    };
    add("x.npy", data, size, deflated);
    add("y.npy", y.data(), y.size(), false);
    const auto central_offset = static_cast<std::uint32_t>(out.size());
    out.insert(out.end(), central.begin(), central.end());
    put32(out, 0x06054b50);
    for (const std::uint32_t v : {0u, 0u, 2u, 2u}) put16(out, v);
    put32(out, static_cast<std::uint32_t>(central.size()));
    put32(out, central_offset);
    put16(out, 0);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    input_file.create("input");
    archive_file.create("archive");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input_file.write(data, size);
    const std::size_t limit = size % 2 == 0 ? 0 : 1;
    // Mostly the default target column (an archive refuses any other), sometimes others for a
    // .npy table.
    static const char* const targets[] = {"last", "last", "first", "0", "-2", "name"};
    const TargetColumn target{targets[size % 6]};
    read(input_file.path, limit, [&] { return typegrad::data::read_file(input_file.path, target, limit); });

    const Bytes archive = archive_around(data, size, size % 2 == 1);
    archive_file.write(archive.data(), archive.size());
    read(archive_file.path, limit, [&] { return typegrad::data::read_npz(archive_file.path, limit); });
    return 0;
}
