// What kind of file a stat mode describes, for messages such as "is not a regular file (a FIFO)"
// (shared by the IDX reader and the checkpoint reader of typegrad::data).
#pragma once

#include <sys/stat.h>

namespace typegrad::io {

inline const char* file_kind(mode_t mode) noexcept {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

}  // namespace typegrad::io
