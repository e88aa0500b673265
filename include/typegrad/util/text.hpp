// String building for printed expressions.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace typegrad {

/// Concatenates strings, string views, literals and numbers (in decimal). Used instead of
/// "literal" + std::string, which GCC 12 flags with a false -Wrestrict once inlined (GCC PR 105329).
template <class... Parts>
[[nodiscard]] std::string cat(const Parts&... parts) {
    std::string s;
    const auto append = [&s](const auto& part) {
        if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(part)>>) s.append(std::to_string(part));
        else s.append(std::string_view(part));
    };
    (append(parts), ...);
    return s;
}

}  // namespace typegrad
