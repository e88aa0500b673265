// Small string helpers for the CLI's messages.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::cli {

using typegrad::cat;

/// The one place where a line of the CLI's reaches a terminal: formats like printf, escapes every
/// control character and byte that is not UTF-8 (io::printable_text: file names, text from a
/// checkpoint, option values — anything a user or a file supplied), then ends the line. Escaping
/// is idempotent, so text escaped before is shown the same.
[[gnu::format(printf, 2, 3)]] inline void say(std::FILE* to, const char* format, ...) {
    std::va_list args, again;
    va_start(args, format);
    va_copy(again, args);
    const int n = std::vsnprintf(nullptr, 0, format, args);
    va_end(args);
    std::string line(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
    if (n > 0) std::vsnprintf(line.data(), line.size() + 1, format, again);
    va_end(again);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    const std::string shown = io::printable_text(line) + '\n';
    std::fwrite(shown.data(), 1, shown.size(), to);
}

/// "a, b, c"
[[nodiscard]] inline std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out.append(separator);
        out.append(s);
    }
    return out;
}

/// Greedy word wrap at `width` columns (CLI11 2.1 does not wrap option descriptions; it indents
/// the lines after a '\n').
[[nodiscard]] inline std::string wrap(std::string_view text, std::size_t width = 66) {
    std::string out;
    std::size_t column = 0;
    while (!text.empty()) {
        const std::size_t space = text.find(' ');
        const std::string_view word = text.substr(0, space);
        text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
        if (column > 0 && column + 1 + word.size() > width) {
            out += '\n';
            column = 0;
        } else if (column > 0) {
            out += ' ';
            ++column;
        }
        out.append(word);
        column += word.size();
    }
    return out;
}

}  // namespace typegrad::cli
