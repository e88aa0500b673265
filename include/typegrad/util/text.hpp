// String building for printed expressions.
#pragma once

#include <cstddef>
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

/// Subscript digits for printed names: subscript(12) == "₁₂".
inline std::string subscript(std::size_t n) {
    static constexpr const char* digits[] = {"₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"};
    std::string s;
    do {
        s.insert(0, digits[n % 10]);
        n /= 10;
    } while (n > 0);
    return s;
}

}  // namespace typegrad
