// The cache of networks compiled on first use (jit.hpp) as a directory that is the user's own in
// fact, not only by convention: the checks ssh makes of ~/.ssh, applied to a directory whose
// shared objects typegrad loads into itself.
//
//   - The directory is created 0700. An existing one (symbolic links followed) must be a
//     directory owned by the user running typegrad and writable by nobody else (no group or
//     other write bit); otherwise it is refused with one line saying why, before anything in it
//     is read.
//   - Every entry read or loaded is opened with O_NOFOLLOW relative to the directory's own
//     descriptor (no path is looked up twice), must be a regular file owned by the user and
//     writable by nobody else, and is read with a size bound.
//   - Every file typegrad writes there is created with O_CREAT|O_EXCL|O_NOFOLLOW (mode 0600,
//     the shared objects 0700) under a temporary name and renamed into place; the compiler
//     writes into a private subdirectory made by mkdtemp (0700) whose name carries typegrad's
//     pid, so that one left by a killed run is recognised and removed by a later one.
//   - A shared object is loaded only after the SHA-256 of its bytes, read through the same
//     descriptor that is then handed to dlopen (/proc/self/fd/N), matches the manifest written
//     when it was compiled: a library planted in the cache, or one changed after its compile,
//     never runs a constructor.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace typegrad::cli {

/// SHA-256 of bytes, 64 lowercase hex digits (OpenSSL's libcrypto).
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

/// An open file descriptor, closed on destruction.
class Descriptor {
public:
    Descriptor() = default;
    explicit Descriptor(int fd) noexcept : fd_(fd) {}
    Descriptor(Descriptor&& o) noexcept : fd_(o.release()) {}
    Descriptor& operator=(Descriptor&& o) noexcept;
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    ~Descriptor();
    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;
};

class CacheLock;

/// The cache directory, opened and checked (see the top of this file).
class CacheDirectory {
public:
    /// Opens `path`, creating it (0700, parents as needed) when it does not exist. Throws
    /// RunError naming the directory and why it is refused: not a directory, owned by another
    /// user, writable by group or others, cannot be created.
    explicit CacheDirectory(const std::filesystem::path& path);

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    /// Whether this process can create files in it (a cache prepared by the user and made
    /// read-only is used for loading only).
    [[nodiscard]] bool writable() const noexcept { return writable_; }

    /// The entry `name` if it exists: opened read-only with O_NOFOLLOW, checked (a regular file,
    /// the user's own, writable by nobody else, at most max_bytes). std::nullopt when there is no
    /// such entry; RunError when there is one that fails a check.
    [[nodiscard]] std::optional<Descriptor> open_entry(const std::string& name, std::size_t max_bytes) const;

    /// The whole of an entry (open_entry, then read); std::nullopt when there is none.
    [[nodiscard]] std::optional<std::string> read_entry(const std::string& name, std::size_t max_bytes) const;

    /// Writes `bytes` to `name` atomically: a new temporary file (O_EXCL|O_NOFOLLOW, `mode`),
    /// fsync, rename over `name`. Throws RunError when the cache cannot be written.
    void write_entry(const std::string& name, std::string_view bytes, unsigned mode = 0600) const;

    /// Creates `name` with `bytes` unless it exists (a whole file, or none: a temporary file
    /// linked into place, which fails if another run was first). Throws RunError when the cache
    /// cannot be written.
    void create_entry_once(const std::string& name, std::string_view bytes) const;

    /// Moves `from` (a file inside a private directory of make_private_directory) to `name`.
    void install_entry(const std::filesystem::path& from, const std::string& name) const;

    /// Removes `name` if it exists (a stale error record).
    void remove_entry(const std::string& name) const noexcept;

    /// An exclusive lock (flock) on the entry `name`, an empty file created 0600 and checked as
    /// open_entry checks. std::nullopt when another process holds it. Throws RunError when the
    /// entry cannot be created or fails a check.
    [[nodiscard]] std::optional<CacheLock> try_lock_entry(const std::string& name) const;

    /// A new private subdirectory "tmp-<pid>-XXXXXX" (mkdtemp, 0700) for one compile.
    [[nodiscard]] std::filesystem::path make_private_directory() const;

    /// Removes the private subdirectories and temporary files of runs whose process no longer
    /// exists (a SIGKILL during a compile). Returns how many were removed.
    std::size_t remove_stale_temporaries() const noexcept;

private:
    std::filesystem::path path_;
    Descriptor fd_;
    bool writable_ = false;
};

/// A lock of CacheDirectory::try_lock_entry, held until destroyed. Its file is removed before the
/// lock is released, so that the cache keeps no lock files; a process that opened the file
/// before the removal finds, once it holds the lock, that the name no longer leads to that file,
/// and opens it again. A process killed while holding one leaves the file, unlocked: the next
/// run takes it and removes it. The directory must outlive the lock.
class CacheLock {
public:
    CacheLock(Descriptor fd, int directory, std::string name) noexcept : fd_(std::move(fd)), directory_(directory), name_(std::move(name)) {}
    CacheLock(CacheLock&&) noexcept = default;
    CacheLock& operator=(CacheLock&&) = delete;
    ~CacheLock();

private:
    Descriptor fd_;
    int directory_;
    std::string name_;
};

/// Reads the whole of an open descriptor (at most max_bytes; RunError naming `what` beyond).
[[nodiscard]] std::string read_all(int fd, std::size_t max_bytes, const std::string& what);

}  // namespace typegrad::cli
