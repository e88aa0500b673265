// libFuzzer harness for the IDX reader (src/data/idx.cpp): the input bytes are written to a
// file and read once as the images file (with a valid labels file beside it) and once as the
// labels file (with valid images beside it), every other input with a limit of 2 examples.
// read_idx only takes paths: the files are memfds, named by their /proc/self/fd/N paths, the
// input's rewritten for every input.
//
// A typegrad::data::DataError with a one-line message is the expected answer to bad input.
// Anything else is a bug: a crash, a sanitizer report, another exception escaping
// (std::terminate aborts), a hang (libFuzzer's -timeout), an allocation beyond
// -malloc_limit_mb, a DataError of several lines. When read_idx accepts the input, the Dataset
// it returns must also be self-consistent.
#include "typegrad/data/dataset.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;
using typegrad::data::Dataset;
using typegrad::data::DataError;
using typegrad::data::read_idx;


[[noreturn]] void bug(const char* what) {
    std::fprintf(stderr, "fuzz_idx: %s\n", what);
    std::abort();
}

/// A file in memory (memfd), named /proc/self/fd/N: a regular file to read_idx, without a file
/// system's create, write and close for every input (most of the time per input before).
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

MemFile input_file, images_file, labels_file;

/// What read_idx accepted must be usable as documented.
void check_dataset(const Dataset& d) {
    if (d.size() == 0) bug("read_idx accepted a file with no images");
    if (d.rows == 0 || d.cols == 0) bug("read_idx accepted images without pixels");
    if (d.pixels.size() != d.size() * d.image_size()) bug("pixels.size() != size() * rows * cols");
    if (d.size() > 0 && !(d.pixel(d.size() - 1, d.image_size() - 1) >= 0.0f && d.pixel(d.size() - 1, d.image_size() - 1) <= 1.0f))
        bug("a pixel outside [0, 1]");
}

void read(const fs::path& images, const fs::path& labels, std::size_t limit) {
    try {
        const Dataset d = read_idx(images, labels, limit);
        check_dataset(d);
        if (limit > 0 && d.size() > limit) bug("read_idx returned more examples than the limit");
    } catch (const DataError& e) {
        const std::string message = e.what();
        if (message.empty()) bug("DataError with an empty message");
        if (message.find('\n') != std::string::npos) bug("DataError of more than one line");
    }
    // Any other exception propagates out of LLVMFuzzerTestOneInput: std::terminate, a crash.
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    input_file.create("input");
    images_file.create("images");  // 3 images of 2x3 pixels
    labels_file.create("labels");  // 3 labels
    static constexpr std::uint8_t images[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3,  // header
                                              0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 254, 253, 252, 251, 250, 249};
    static constexpr std::uint8_t labels[] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9};
    images_file.write(images, sizeof images);
    labels_file.write(labels, sizeof labels);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input_file.write(data, size);
    // Every other input through the --limit path (only the first 2 examples decoded), the
    // others whole; a read costs at most what the input holds (gzip: ~1000 times).
    const std::size_t limit = size % 2 == 0 ? 0 : 2;
    read(input_file.path, labels_file.path, limit);
    read(images_file.path, input_file.path, limit);
    return 0;
}
