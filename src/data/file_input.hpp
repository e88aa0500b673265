// What the data readers (idx.cpp, npy.cpp, csv.cpp) share: one-line errors naming the file, an
// owned descriptor, opening a regular file without ever blocking, positioned reads, and the
// entry points npy.cpp offers csv.cpp's read_file. Private to src/data (and the fuzz harnesses
// that compile those sources).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../io/file_kind.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint_file.hpp"  // io::printable_text

namespace typegrad::data::detail {

/// DataError "<path>: <what>": every message names the file first.
[[noreturn]] inline void fail(const std::filesystem::path& path, const std::string& what) {
    throw DataError(path.string() + ": " + what);
}

/// Text from a file, fit for a one-line message: escaped, and cut at `max` bytes.
inline std::string shown(std::string_view text, std::size_t max = 80) {
    if (text.size() <= max) return io::printable_text(text);
    return io::printable_text(text.substr(0, max)) + "...";
}

/// An open file descriptor, closed on destruction.
class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() { reset(-1); }
    void reset(int fd) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    [[nodiscard]] int get() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

/// Opens a regular file for reading without ever blocking: stat first (a FIFO would block in
/// open() until a writer comes, a device such as /dev/zero never ends; a directory would only fail
/// at the first read, with a less helpful message), then open with O_NONBLOCK (which changes
/// nothing for a regular file's reads) and check that what was opened is still that regular
/// file. `size` gets its size in bytes.
inline int open_regular(const std::filesystem::path& path, std::uint64_t& size) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) fail(path, "no such file");
        fail(path, std::string("cannot access: ") + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not a file");
    if (!S_ISREG(st.st_mode)) fail(path, std::string("is not a regular file (") + io::file_kind(st.st_mode) + ")");
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat opened {};
    if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode) || opened.st_dev != st.st_dev ||
        opened.st_ino != st.st_ino) {
        ::close(fd);
        fail(path, "changed while it was being opened (not a regular file any more)");
    }
    size = opened.st_size > 0 ? static_cast<std::uint64_t>(opened.st_size) : 0;
    return fd;
}

/// Reads n bytes at offset into dest; returns fewer only where the file ends.
inline std::size_t read_at(int fd, const std::filesystem::path& path, std::uint64_t offset, void* dest, std::size_t n) {
    auto* out = static_cast<std::uint8_t*>(dest);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail(path, std::string("read error: ") + std::strerror(errno));
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    return done;
}

// Defined in csv.cpp (target_index) and npy.cpp (the readers of an opened file).
std::size_t target_index(const std::filesystem::path& path, const TargetColumn& target, std::size_t columns,
                         const std::vector<std::string>* names, std::string_view unnamed_why);
Dataset read_npz_open(const std::filesystem::path& path, int fd, std::uint64_t file_size, std::size_t limit);
Dataset read_npy_table_open(const std::filesystem::path& path, int fd, std::uint64_t file_size,
                            const TargetColumn& target, std::size_t limit);

}  // namespace typegrad::data::detail
