// The files a command writes (train's --save, --metrics and --plot, plot's and export's -o):
// checked before any work, locked while the command lasts, written through symbolic links, never a
// device or one of the command's own inputs. Every command writes its files through OutputFile.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "typegrad/io/checkpoint_file.hpp"

namespace typegrad::cli {

/// One output file of a command. Construction (before any work) resolves symbolic links (a link is
/// written through: its target is replaced, the link stays), refuses anything that exists and is
/// not a regular file (/dev/null, a FIFO, a directory), a directory that does not exist or cannot
/// be written, and any of `inputs` (the data files, a checkpoint read, the metrics drawn; compared
/// as files, by device and inode, not by spelling; an input not written yet, such as another
/// output of the same command, by its name with links and "." / ".." resolved); then takes the
/// advisory lock (io::OutputLock: a second command writing the same file is refused, naming the
/// process that holds it) and removes the temporary files that killed runs left beside it. Throws
/// OutputError starting with "<option> <file>: " (the file name escaped, io::printable_text).
class OutputFile {
public:
    struct Input {
        std::filesystem::path path;
        std::string role;  // "the --resume checkpoint", "an input data file": "is <path> (<role> of this run)"
    };

    OutputFile(std::string option, const std::filesystem::path& given, const std::vector<Input>& inputs);

    /// The file written (symbolic links followed).
    [[nodiscard]] const std::filesystem::path& target() const noexcept { return target_; }
    /// "--save run.tgck", for messages.
    [[nodiscard]] const std::string& what() const noexcept { return what_; }
    /// Temporary files of killed runs removed when the lock was taken.
    [[nodiscard]] const std::vector<std::filesystem::path>& removed() const noexcept { return removed_; }

    /// Replaces target() with `bytes` atomically (io::write_file_atomically); throws OutputError
    /// starting with the option.
    void write(std::span<const unsigned char> bytes) const;

private:
    std::string option_;
    std::string what_;
    std::filesystem::path target_;
    std::optional<io::OutputLock> lock_;
    std::vector<std::filesystem::path> removed_;
};

/// Whether a and b are the same existing file (device and inode, symbolic links followed).
[[nodiscard]] bool same_existing_file(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace typegrad::cli
