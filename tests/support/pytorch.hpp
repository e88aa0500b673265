// Test support for the cross-checks against PyTorch: find a python3 that imports torch and numpy
// (Debian's /usr/bin/python3 with python3-torch first; the python3 on PATH may be another
// install), run a script of the test's, hand it tensors as raw little-endian float64 files, and
// compare what it prints with typegrad's gradients.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace typegrad::test {

/// "/usr/bin/python3" or "python3" if it imports `modules` ("onnx, numpy"), else "" (the test
/// then skips, saying so).
inline std::string python_importing(const std::string& modules) {
    for (const char* candidate : {"/usr/bin/python3", "python3"})
        if (std::system((std::string(candidate) + " -c 'import " + modules + "' >/dev/null 2>&1").c_str()) == 0) return candidate;
    return "";
}
/// A python3 that imports torch and numpy, else "".
inline std::string torch_python() { return python_importing("torch, numpy"); }

/// What a command prints on stdout.
inline std::string run_command(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buffer[4096];
        for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
        pclose(p);
    }
    return out;
}

/// n doubles from p to a raw float64 file (numpy.fromfile(..., "<f8")).
inline void write_f64(const std::filesystem::path& file, const double* p, std::size_t n) {
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n * sizeof(double)));
}
template <class Tensor>
void write_f64(const std::filesystem::path& file, const Tensor& t) {
    write_f64(file, t.data(), t.size());
}

/// Reads t.size() numbers from `in` (PyTorch's gradient of one tensor) and CHECKs
/// max|t − theirs| ≤ tol · max(|t|, |theirs|) (relative in the max norm).
template <class Tensor>
void check_against(std::istream& in, const Tensor& t, double tol) {
    std::vector<double> theirs(t.size());
    for (auto& v : theirs) REQUIRE(in >> v);
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(t.data()[i]) - theirs[i]));
        scale = std::max({scale, std::abs(static_cast<double>(t.data()[i])), std::abs(theirs[i])});
    }
    CHECK(diff <= tol * scale);
}

}  // namespace typegrad::test
