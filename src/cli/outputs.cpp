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

namespace {

/// Whether writing `target` (links already followed) replaces `input`: the same existing file,
/// or, for an input that does not exist yet (another output of the command, written later), the
/// same name once links, "." and ".." are resolved.
bool replaces(const std::filesystem::path& target, const std::filesystem::path& input) {
    if (same_existing_file(target, input)) return true;
    std::error_code ec;
    if (std::filesystem::exists(input, ec) || ec) return false;
    try {
        const auto a = std::filesystem::weakly_canonical(target, ec);
        if (ec) return false;
        const auto b = std::filesystem::weakly_canonical(io::replace_target(input), ec);
        return !ec && a == b;
    } catch (const io::CheckpointError&) {
        return false;  // an input that cannot be written cannot be this output either
    }
}

}  // namespace

OutputFile::OutputFile(std::string option, const std::filesystem::path& given, const std::vector<Input>& inputs)
    : option_(std::move(option)), what_(cat(option_, " ", io::printable_text(given.string()))) {
    try {
        target_ = io::replace_target(given);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat(option_, " ", io::printable_text(e.what())));
    }
    for (const Input& in : inputs) {
        if (replaces(target_, in.path))
            throw OutputError(cat(what_, ": is ", io::printable_text(in.path.string()), " (", in.role,
                                  " of this run); refusing to overwrite it"));
    }
    check_writable(target_, what_);
    try {
        lock_.emplace(target_);
        removed_ = io::remove_stale_temporaries(target_);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat(option_, " ", io::printable_text(e.what())));
    }
}

void OutputFile::write(std::span<const unsigned char> bytes) const {
    try {
        io::write_file_atomically(target_, bytes);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat(option_, " ", io::printable_text(e.what())));
    }
}

}  // namespace typegrad::cli
