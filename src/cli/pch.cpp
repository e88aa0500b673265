#include "pch.hpp"

#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace typegrad::cli {

bool precompiled_header_fresh(const std::filesystem::path& gch, const std::filesystem::path& depfile) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto made = fs::last_write_time(gch, ec);
    if (ec) return false;
    std::ifstream dep(depfile);
    if (!dep) return false;
    const std::string text((std::istreambuf_iterator<char>(dep)), std::istreambuf_iterator<char>());
    const auto colon = text.find(": ");
    if (colon == std::string::npos) return false;
    std::string name;
    std::size_t listed = 0;
    const auto stale = [&] {  // the name read so far: missing or newer than the .gch
        if (name.empty()) return false;
        ++listed;
        const auto t = fs::last_write_time(name, ec);
        name.clear();
        return ec || t > made;
    };
    for (std::size_t i = colon + 2; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' && i + 1 < text.size() && text[i + 1] == ' ') {
            name += ' ';
            ++i;
        } else if (c == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i;
        } else if (c == ' ' || c == '\n' || c == '\t') {
            if (stale()) return false;
        } else {
            name += c;
        }
    }
    return !stale() && listed > 0;
}

}  // namespace typegrad::cli
