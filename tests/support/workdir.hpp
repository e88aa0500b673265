// Test support for the command-line tests: a fresh working directory and file helpers.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace typegrad::test {

using Bytes = std::vector<unsigned char>;

/// A fresh working directory named after `prefix` and this process, removed at the end of the test.
struct WorkDir {
    std::filesystem::path path;
    explicit WorkDir(const std::string& prefix) {
        static int n = 0;
        path = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~WorkDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline Bytes read_bytes(const std::filesystem::path& p) {
    const std::string s = read_text(p);
    return Bytes(s.begin(), s.end());
}

inline void write_bytes(const std::filesystem::path& p, const Bytes& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

/// The words of a command line (split at spaces; no quoting).
inline std::vector<std::string> split(const std::string& command) {
    std::istringstream in(command);
    return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

}  // namespace typegrad::test
