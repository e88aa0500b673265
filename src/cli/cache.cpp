// The compile cache as the user's own directory (cache.hpp).
#include "cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

#include "options.hpp"
#include "text.hpp"

namespace typegrad::cli {
namespace fs = std::filesystem;

namespace {

std::string octal_mode(mode_t m) {
    char s[8];
    std::snprintf(s, sizeof s, "%04o", static_cast<unsigned>(m & 07777));
    return s;
}

/// Why a file or directory with this stat may not be trusted, or "" if it may: it must belong
/// to the user running typegrad and be writable by nobody else.
std::string untrusted(const struct stat& st) {
    if (st.st_uid != ::geteuid())
        return cat("is owned by user ", st.st_uid, ", not by you (user ", ::geteuid(), ")");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return cat("is writable by ", (st.st_mode & S_IWOTH) ? "others" : "its group", " (mode ", octal_mode(st.st_mode), ")");
    return {};
}

/// The pid in "tmp-<pid>-XXXXXX" or "NAME.tmp.<pid>", or 0.
pid_t temporary_owner(const std::string& name) {
    std::string digits;
    if (name.starts_with("tmp-")) {
        digits = name.substr(4, name.find('-', 4) == std::string::npos ? 0 : name.find('-', 4) - 4);
    } else if (const std::size_t at = name.rfind(".tmp."); at != std::string::npos) {
        digits = name.substr(at + 5);
    } else if (const std::size_t at = name.rfind(".new."); at != std::string::npos) {
        digits = name.substr(at + 5);
    }
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
    return static_cast<pid_t>(std::stol(digits));
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1)
        throw RunError("cannot compute a SHA-256 (OpenSSL's libcrypto failed)");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) out += {hex[digest[i] >> 4], hex[digest[i] & 0xf]};
    return out;
}

Descriptor& Descriptor::operator=(Descriptor&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

Descriptor::~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
}

std::string read_all(int fd, std::size_t max_bytes, const std::string& what) {
    std::string out;
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw RunError(cat(what, ": cannot read: ", std::strerror(errno)));
        if (n == 0) return out;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
            throw RunError(cat(what, ": larger than the ", max_bytes, " bytes expected of it (delete it)"));
        out.append(buffer, static_cast<std::size_t>(n));
    }
}

CacheDirectory::CacheDirectory(const fs::path& path) : path_(path) {
    const std::string where = cat("the cache of networks compiled on first use, ", path.string(), ",");
    const std::string remedy = "(set TYPEGRAD_CACHE_DIR to a directory of your own)";
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
        if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
            throw RunError(cat("cannot create ", path.string(), ", the cache of networks compiled on first use: ",
                               std::strerror(errno), " (set TYPEGRAD_CACHE_DIR to another directory)"));
    }
    fd_ = Descriptor(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd_)
        throw RunError(errno == ENOTDIR ? cat(where, " is not a directory ", remedy)
                                        : cat("cannot open ", path.string(), ", the cache of networks compiled on first use: ",
                                              std::strerror(errno), " (set TYPEGRAD_CACHE_DIR to another directory)"));
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw RunError(cat("cannot stat ", path.string(), ": ", std::strerror(errno)));
    if (const std::string why = untrusted(st); !why.empty())
        throw RunError(cat(where, " ", why, ": refusing to load code from it; make it yours (chmod go-w) or ", remedy.substr(1)));
    writable_ = ::faccessat(fd_.get(), ".", W_OK, AT_EACCESS) == 0;
}

namespace {

/// The entry `name` of the directory `dir` opened with `flags` (O_NOFOLLOW, O_NONBLOCK and
/// O_CLOEXEC added; mode 0600 when O_CREAT creates it) and checked: a regular file, the user's
/// own, writable by nobody else; its status in `st`. std::nullopt when it does not exist.
std::optional<Descriptor> open_checked(int dir, const std::string& name, const std::string& what, int flags, struct stat& st) {
    Descriptor fd(::openat(dir, name.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP)
            throw RunError(cat(what, ": is a symbolic link, which typegrad never creates in its cache: refusing it (delete it)"));
        throw RunError(cat(what, ": cannot open: ", std::strerror(errno)));
    }
    if (::fstat(fd.get(), &st) != 0) throw RunError(cat(what, ": cannot stat: ", std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) throw RunError(cat(what, ": is not a regular file: refusing it (delete it)"));
    if (const std::string why = untrusted(st); !why.empty())
        throw RunError(cat(what, ": ", why, ": refusing to use it (delete it)"));
    return fd;
}

}  // namespace

std::optional<Descriptor> CacheDirectory::open_entry(const std::string& name, std::size_t max_bytes) const {
    const std::string what = (path_ / name).string();
    struct stat st {};
    auto fd = open_checked(fd_.get(), name, what, O_RDONLY, st);
    if (fd && static_cast<std::size_t>(st.st_size) > max_bytes)
        throw RunError(cat(what, ": larger than the ", max_bytes, " bytes expected of it (delete it)"));
    return fd;
}

std::optional<CacheLock> CacheDirectory::try_lock_entry(const std::string& name) const {
    const std::string what = (path_ / name).string();
    for (;;) {
        struct stat st {};
        auto fd = open_checked(fd_.get(), name, what, O_RDONLY | O_CREAT, st);
        if (!fd) throw RunError(cat(what, ": cannot create: the cache directory is gone"));  // O_CREAT: only so
        while (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) return std::nullopt;
            if (errno != EINTR) throw RunError(cat(what, ": cannot lock: ", std::strerror(errno)));
        }
        // locked: still the file the name leads to, or one its holder removed before letting go
        struct stat now {};
        if (::fstatat(fd_.get(), name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino)
            return CacheLock(std::move(*fd), fd_.get(), name);
    }
}

CacheLock::~CacheLock() {
    if (fd_) ::unlinkat(directory_, name_.c_str(), 0);
}

std::optional<std::string> CacheDirectory::read_entry(const std::string& name, std::size_t max_bytes) const {
    auto fd = open_entry(name, max_bytes);
    if (!fd) return std::nullopt;
    return read_all(fd->get(), max_bytes, (path_ / name).string());
}

void CacheDirectory::create_entry_once(const std::string& name, std::string_view bytes) const {
    const std::string staged = cat(name, ".new");
    write_entry(cat(staged, ".", ::getpid()), bytes);
    const std::string tmp = cat(staged, ".", ::getpid());
    const int linked = ::linkat(fd_.get(), tmp.c_str(), fd_.get(), name.c_str(), 0);
    const int e = errno;
    ::unlinkat(fd_.get(), tmp.c_str(), 0);
    if (linked != 0 && e != EEXIST)
        throw RunError(cat("cannot write ", (path_ / name).string(), ": ", std::strerror(e),
                           " (the cache of networks compiled on first use; set TYPEGRAD_CACHE_DIR to another directory)"));
}

void CacheDirectory::write_entry(const std::string& name, std::string_view bytes, unsigned mode) const {
    const std::string tmp = cat(name, ".tmp.", ::getpid());
    const auto fail = [&](const char* step) {
        const int e = errno;
        ::unlinkat(fd_.get(), tmp.c_str(), 0);
        throw RunError(cat("cannot ", step, " ", (path_ / name).string(), ": ", std::strerror(e),
                           " (the cache of networks compiled on first use; set TYPEGRAD_CACHE_DIR to another directory)"));
    };
    ::unlinkat(fd_.get(), tmp.c_str(), 0);  // our own pid's: left by nothing alive
    Descriptor fd(::openat(fd_.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) fail("write");
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("write");
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) fail("write");
    if (::close(fd.release()) != 0) fail("write");
    if (::renameat(fd_.get(), tmp.c_str(), fd_.get(), name.c_str()) != 0) fail("write");
}

void CacheDirectory::install_entry(const fs::path& from, const std::string& name) const {
    if (::renameat(AT_FDCWD, from.c_str(), fd_.get(), name.c_str()) != 0)
        throw RunError(cat("cannot write ", (path_ / name).string(), ": ", std::strerror(errno)));
}

void CacheDirectory::remove_entry(const std::string& name) const noexcept { ::unlinkat(fd_.get(), name.c_str(), 0); }

fs::path CacheDirectory::make_private_directory() const {
    std::string pattern = (path_ / cat("tmp-", ::getpid(), "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
        throw RunError(cat("cannot create a directory in ", path_.string(), ": ", std::strerror(errno),
                           " (the cache of networks compiled on first use; set TYPEGRAD_CACHE_DIR to another directory)"));
    return pattern;
}

std::size_t CacheDirectory::remove_stale_temporaries() const noexcept {
    if (!writable_) return 0;
    const int copy = ::dup(fd_.get());
    if (copy < 0) return 0;
    DIR* dir = ::fdopendir(copy);
    if (dir == nullptr) {
        ::close(copy);
        return 0;
    }
    std::vector<std::string> stale;
    while (const dirent* e = ::readdir(dir)) {
        const pid_t owner = temporary_owner(e->d_name);
        if (owner > 0 && owner != ::getpid() && ::kill(owner, 0) != 0 && errno == ESRCH) stale.emplace_back(e->d_name);
    }
    ::closedir(dir);
    std::size_t removed = 0;
    for (const auto& name : stale) {
        std::error_code ec;
        // remove_all does not follow symbolic links: a planted one is removed, not its target
        if (fs::remove_all(path_ / name, ec) > 0 && !ec) ++removed;
    }
    return removed;
}

}  // namespace typegrad::cli
