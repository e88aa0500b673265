// libFuzzer harness for the CSV reader (src/data/csv.cpp): the input bytes are written to a file
// (a memfd, named by its /proc/self/fd/N path) and read by read_csv with a target column that
// depends on the input's size (a name, an index, a negative index, first, last), every other
// input with a limit of 2 examples.
//
// A typegrad::data::DataError of one line naming the file, without control characters, is the
// expected answer to bad input. Anything else is a bug: a crash, a sanitizer report, another
// exception escaping (std::terminate aborts), a hang (-timeout), an allocation beyond
// -malloc_limit_mb, a DataError of several lines. An accepted Dataset must be self-consistent:
// a table of finite floats with one target per example.
#include "typegrad/data/dataset.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
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
using typegrad::data::TargetColumn;

[[noreturn]] void bug(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_csv: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

int input_fd = -1;
fs::path input_path;

void check_dataset(const Dataset& d, std::size_t limit) {
    if (d.size() == 0) bug("a table without examples was accepted");
    if (limit > 0 && d.size() > limit) bug("more examples than the limit");
    if (d.channels != 1 || d.rows != 1 || d.cols == 0) bug("a table that is not 1 x 1 x F");
    if (!d.pixels.empty() || !d.labels.empty()) bug("a table with bytes or labels");
    if (d.features.size() != d.size() * d.cols) bug("features.size() != size() * cols");
    if (d.target_width != 1 || d.targets.size() != d.size()) bug("not one target per example");
    for (const float v : d.features)
        if (!std::isfinite(v)) bug("a feature that is not finite");
    for (const float v : d.targets)
        if (!std::isfinite(v)) bug("a target that is not finite");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    input_fd = ::memfd_create("input", MFD_CLOEXEC);
    if (input_fd < 0) bug("cannot create a memfd");
    input_path = "/proc/self/fd/" + std::to_string(input_fd);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(input_fd, 0) != 0) bug("cannot truncate a memfd");
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::pwrite(input_fd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) bug("cannot write a memfd");
        done += static_cast<std::size_t>(n);
    }
    static const char* const targets[] = {"last", "first", "1", "-2", "b", "target"};
    const TargetColumn target{targets[size % 6]};
    const std::size_t limit = size % 2 == 0 ? 0 : 2;
    try {
        check_dataset(typegrad::data::read_csv(input_path, target, limit), limit);
    } catch (const DataError& e) {
        const std::string message = e.what();
        if (message.rfind(input_path.string() + ": ", 0) != 0) bug("a DataError that does not name the file", message);
        for (const unsigned char c : message)
            if (c < 0x20 || c == 0x7f) bug("a DataError with a control character", message);
    }
    // Any other exception propagates out of LLVMFuzzerTestOneInput: std::terminate, a crash.
    return 0;
}
