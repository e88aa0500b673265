#include "outputs.hpp"

#include <sys/stat.h>

#include <utility>

#include "options.hpp"
#include "report.hpp"
#include "text.hpp"

namespace typegrad::cli {

bool same_existing_file(const std::filesystem::path& a, const std::filesystem::path& b) {
    struct stat sa {}, sb {};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

OutputFile::OutputFile(std::string option, const std::filesystem::path& given, const std::vector<Input>& inputs)
    : what_(cat(option, " ", given.string())) {
    try {
        target_ = io::replace_target(given);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat(option, " ", e.what()));
    }
    for (const Input& in : inputs) {
        if (same_existing_file(target_, in.path))
            throw OutputError(cat(what_, ": is ", in.path.string(), " (", in.role,
                                  " of this run); refusing to overwrite it"));
    }
    check_writable(target_, what_);
    try {
        lock_.emplace(target_);
        removed_ = io::remove_stale_temporaries(target_);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat(option, " ", e.what()));
    }
}

}  // namespace typegrad::cli
