// --net SPEC: parsing and the canonical form (spec.hpp).
#include "spec.hpp"

#include <cctype>
#include <string>
#include <vector>

#include "text.hpp"

namespace typegrad::cli {

std::string canonical_network(const std::string& text, std::string& error) {
    error.clear();
    if (text == "lenet") return text;
    const auto fail = [&](const std::string& why) {
        error = cat("'", text, "' is not a network: ", why,
                    " (expected WIDTH-WIDTH[:ACTIVATION]-…, e.g. 784-30-10 or 784-100:tanh-10:softmax, or lenet)");
        return std::string();
    };
    std::vector<std::string> parts;
    std::size_t from = 0;
    for (std::size_t at; (at = text.find('-', from)) != std::string::npos; from = at + 1) parts.push_back(text.substr(from, at - from));
    parts.push_back(text.substr(from));
    if (parts.size() < 2) return fail("it needs an input width and at least one layer");
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        const std::size_t colon = p.find(':');
        const std::string width = p.substr(0, colon);
        const std::string activation = colon == std::string::npos ? std::string() : p.substr(colon + 1);
        if (width.empty()) return fail(cat("layer ", i, " has no width"));
        for (unsigned char c : width)
            if (!std::isdigit(c)) return fail(cat("'", width, "' is not a width"));
        const std::size_t first = width.find_first_not_of('0');
        if (first == std::string::npos) return fail("a width must be at least 1");
        const std::string digits = width.substr(first);
        if (digits.size() > 7) return fail(cat("the width ", digits, " is too large"));
        if (i == 0 && colon != std::string::npos) return fail("the input takes no activation");
        if (colon != std::string::npos && activation != "sigmoid" && activation != "tanh" && activation != "relu" &&
            activation != "softmax")
            return fail(cat("unknown activation '", activation, "' (sigmoid, tanh, relu, softmax)"));
        if (i) out += '-';
        out += digits;
        if (!activation.empty() && activation != "sigmoid") out += ":" + activation;
    }
    return out;
}

}  // namespace typegrad::cli
