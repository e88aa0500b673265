// Small string helpers for the CLI's messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/util/text.hpp"

namespace typegrad::cli {

using typegrad::cat;

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
