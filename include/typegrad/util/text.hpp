// String building for printed expressions.
#pragma once

#include <string>
#include <string_view>

namespace typegrad {

/// Concatenates strings, string views and literals. Used instead of "literal" + std::string,
/// which GCC 12 flags with a false -Wrestrict once inlined (GCC PR 105329).
template <class... Parts>
[[nodiscard]] std::string cat(const Parts&... parts) {
    std::string s;
    (s.append(std::string_view(parts)), ...);
    return s;
}

}  // namespace typegrad
