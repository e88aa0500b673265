// libFuzzer harness for the IDX reader (src/data/idx.cpp): the input bytes are written to a
// file and read once as the images file (with a valid labels file beside it) and once as the
// labels file (with valid images beside it). read_idx only takes paths, so each process uses
// its own fixed paths under $TMPDIR (or /tmp), the input's file rewritten for every input.
//
// A typegrad::data::DataError with a one-line message is the expected answer to bad input.
// Anything else is a bug: a crash, a sanitizer report, another exception escaping
// (std::terminate aborts), a hang (libFuzzer's -timeout), an allocation beyond
// -malloc_limit_mb, a DataError of several lines. When read_idx accepts the input, the Dataset
// it returns must also be self-consistent.
#include "typegrad/data/dataset.hpp"

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

fs::path fuzz_path;    // the input under test
fs::path good_images;  // 3 images of 2x3 pixels
fs::path good_labels;  // 3 labels

[[noreturn]] void bug(const char* what) {
    std::fprintf(stderr, "fuzz_idx: %s\n", what);
    std::abort();
}

void write_file(const fs::path& path, const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) bug("cannot open a temporary file for writing");
    if (size > 0 && std::fwrite(data, 1, size, f) != size) bug("cannot write a temporary file");
    if (std::fclose(f) != 0) bug("cannot close a temporary file");
}

void remove_files() {
    std::error_code ec;
    for (const fs::path& p : {fuzz_path, good_images, good_labels}) fs::remove(p, ec);
}

/// What read_idx accepted must be usable as documented.
void check_dataset(const Dataset& d) {
    if (d.size() == 0) bug("read_idx accepted a file with no images");
    if (d.rows == 0 || d.cols == 0) bug("read_idx accepted images without pixels");
    if (d.pixels.size() != d.size() * d.image_size()) bug("pixels.size() != size() * rows * cols");
    if (d.size() > 0 && !(d.pixel(d.size() - 1, d.image_size() - 1) >= 0.0f && d.pixel(d.size() - 1, d.image_size() - 1) <= 1.0f))
        bug("a pixel outside [0, 1]");
}

void read(const fs::path& images, const fs::path& labels) {
    try {
        check_dataset(read_idx(images, labels));
    } catch (const DataError& e) {
        const std::string message = e.what();
        if (message.empty()) bug("DataError with an empty message");
        if (message.find('\n') != std::string::npos) bug("DataError of more than one line");
    }
    // Any other exception propagates out of LLVMFuzzerTestOneInput: std::terminate, a crash.
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* tmp = std::getenv("TMPDIR");
    const fs::path dir = tmp != nullptr && *tmp != '\0' ? fs::path(tmp) : fs::path("/tmp");
    const std::string stem = "typegrad_fuzz_idx_" + std::to_string(::getpid());
    fuzz_path = dir / (stem + "_input");
    good_images = dir / (stem + "_images");
    good_labels = dir / (stem + "_labels");

    static constexpr std::uint8_t images[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3,  // header
                                              0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 254, 253, 252, 251, 250, 249};
    static constexpr std::uint8_t labels[] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9};
    write_file(good_images, images, sizeof images);
    write_file(good_labels, labels, sizeof labels);
    std::atexit(remove_files);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    write_file(fuzz_path, data, size);
    read(fuzz_path, good_labels);
    read(good_images, fuzz_path);
    return 0;
}
