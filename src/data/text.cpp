// Text as data (issue 21): a UTF-8 file read as characters, each a token, cut into windows of
// T + 1 characters. Validated like the other readers: a regular file only, its size checked before
// it is read, every byte sequence decoded strictly (no overlong forms, no surrogates), one
// DataError naming the file and the byte offset otherwise.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "file_input.hpp"
#include "typegrad/data/dataset.hpp"

namespace typegrad::data {
namespace {

constexpr std::uint64_t max_text_bytes = std::uint64_t{256} << 20;
constexpr std::size_t max_vocabulary = 65536;

// Decodes the sequence at bytes[i]; the code point, and i past it; false for an invalid one.
bool next_code_point(std::string_view bytes, std::size_t& i, char32_t& c) noexcept {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    std::size_t n = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
        c = b0;
        ++i;
        return true;
    }
    if ((b0 & 0xe0) == 0xc0) n = 1, c = b0 & 0x1f, min = 0x80;
    else if ((b0 & 0xf0) == 0xe0) n = 2, c = b0 & 0x0f, min = 0x800;
    else if ((b0 & 0xf8) == 0xf0) n = 3, c = b0 & 0x07, min = 0x10000;
    else return false;
    if (i + n >= bytes.size()) return false;  // cut short by the end
    for (std::size_t k = 1; k <= n; ++k) {
        const auto b = static_cast<unsigned char>(bytes[i + k]);
        if ((b & 0xc0) != 0x80) return false;
        c = (c << 6) | (b & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
    i += n + 1;
    return true;
}

}  // namespace

std::string utf8(std::u32string_view s) {
    std::string out;
    for (const char32_t c : s) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (c < 0x800) {
            out += static_cast<char>(0xc0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            out += static_cast<char>(0xe0 | (c >> 12));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (c & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (c >> 18));
            out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (c & 0x3f));
        }
    }
    return out;
}

bool decode_utf8(std::string_view bytes, std::u32string& out) {
    out.clear();
    for (std::size_t i = 0; i < bytes.size();) {
        char32_t c = 0;
        if (!next_code_point(bytes, i, c)) return false;
        out += c;
    }
    return true;
}

Dataset read_text(const std::filesystem::path& file, std::size_t window, const std::u32string* vocabulary,
                  TextNotes* notes) {
    if (window == 0) detail::fail(file, "a window of 0 characters");
    std::uint64_t size = 0;
    detail::FileDescriptor fd(detail::open_regular(file, size));
    if (size > max_text_bytes)
        detail::fail(file, "a text of " + std::to_string(size) + " bytes, more than the 256 MiB typegrad reads");
    std::string bytes(static_cast<std::size_t>(size), '\0');
    if (detail::read_at(fd.get(), file, 0, bytes.data(), bytes.size()) != bytes.size())
        detail::fail(file, "the file shrank while it was read");

    std::u32string text;
    text.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size();) {
        const std::size_t at = i;
        char32_t c = 0;
        if (!next_code_point(bytes, i, c))
            detail::fail(file, "not UTF-8 text: an invalid byte sequence at byte " + std::to_string(at) + " (0x" +
                                   [&] {
                                       static constexpr char hex[] = "0123456789abcdef";
                                       const auto b = static_cast<unsigned char>(bytes[at]);
                                       return std::string{hex[b >> 4], hex[b & 15]};
                                   }() + ")");
        if (c == 0) detail::fail(file, "not text: a NUL byte at byte " + std::to_string(at));
        if (c == U'\r' && i < bytes.size() && bytes[i] == '\n') continue;  // CR LF is one newline
        text += c;
    }

    Dataset d;
    d.window = window;
    d.rows = 1;
    d.cols = window;
    if (vocabulary) {
        if (vocabulary->empty() || !std::is_sorted(vocabulary->begin(), vocabulary->end()) ||
            std::adjacent_find(vocabulary->begin(), vocabulary->end()) != vocabulary->end())
            detail::fail(file, "the model's vocabulary is not a sorted list of distinct characters");
        d.vocabulary = *vocabulary;
    } else {
        d.vocabulary = text;
        std::sort(d.vocabulary.begin(), d.vocabulary.end());
        d.vocabulary.erase(std::unique(d.vocabulary.begin(), d.vocabulary.end()), d.vocabulary.end());
        if (d.vocabulary.size() > max_vocabulary)
            detail::fail(file, std::to_string(d.vocabulary.size()) + " distinct characters, more than the " +
                                   std::to_string(max_vocabulary) + " of a vocabulary typegrad reads");
    }
    auto ids = std::make_shared<std::vector<std::uint32_t>>();
    ids->reserve(text.size());
    std::u32string unknown;
    std::size_t skipped = 0;
    for (const char32_t c : text) {
        const auto at = std::lower_bound(d.vocabulary.begin(), d.vocabulary.end(), c);
        if (at == d.vocabulary.end() || *at != c) {
            ++skipped;
            if (unknown.size() < 10 && unknown.find(c) == std::u32string::npos) unknown += c;
            continue;
        }
        ids->push_back(static_cast<std::uint32_t>(at - d.vocabulary.begin()));
    }
    if (notes) *notes = TextNotes{skipped, io::printable_text(utf8(unknown))};
    if (ids->size() < window + 1)
        detail::fail(file, "a text of " + std::to_string(ids->size()) + " characters" +
                               (skipped ? " in the vocabulary" : "") + ", fewer than the " +
                               std::to_string(window + 1) + " of one window (T + 1)");
    d.tokens = std::move(ids);
    return d.windows(0);
}

}  // namespace typegrad::data
