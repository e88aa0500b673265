// CSV tables (read_csv), the choice of a table's target column (TargetColumn, shared with the
// .npy table reader in npy.cpp), and read_file, which tells an .npz archive, an .npy table and
// CSV text apart by their first bytes.
//
// Files are untrusted input, as IDX files are (src/data/idx.cpp): only regular files are opened
// (never blocking), a file above max_csv_bytes is refused before it is read, and the text is
// then held whole while it is parsed (the values kept take at most twice its size: every value
// is at least 2 bytes of text, "0," and 4 bytes as a float). Parsing is strict and says where
// it stops: the line (counting every line from 1, blank ones too) and the column (its header
// name, or its index counted from 0 as --target counts) of the first field that is not a
// finite number, the line of a row with the wrong number of fields, any quoted field. Numbers
// are parsed with std::from_chars (as C++ writes them, whatever the locale); text from the
// file is escaped before it goes into a message (io::printable_text) and cut short. The values
// kept are at most 1 GiB of floats, as the other readers'.
//
// With a limit, the lines after the first `limit` examples are not parsed (nor checked).
#include "typegrad/data/dataset.hpp"

#include "file_input.hpp"

#include "typegrad/io/checkpoint_file.hpp"  // io::printable_text

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace typegrad::data {


namespace {

namespace fs = std::filesystem;
using detail::FileDescriptor;
using detail::fail;
using detail::shown;

/// Larger CSV files are refused before they are read (the text is held whole).
constexpr std::uint64_t max_csv_bytes = std::uint64_t{1} << 30;
/// What the reader keeps, at most (as the other readers).
constexpr std::uint64_t max_payload_bytes = std::uint64_t{1} << 30;



std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// The whole field as a number (std::from_chars: "1.5", "-2e3", "nan", "inf"; a leading '+' is
/// accepted too), or false.
bool parse_number(std::string_view field, double& value) {
    if (field.size() > 1 && field.front() == '+' && field[1] != '-' && field[1] != '+') field.remove_prefix(1);
    if (field.empty()) return false;
    const auto r = std::from_chars(field.data(), field.data() + field.size(), value);
    // Out of double's range ("1e999") is still a number, if not a finite one.
    if (r.ec == std::errc::result_out_of_range && r.ptr == field.data() + field.size()) {
        value = field.front() == '-' ? -HUGE_VAL : HUGE_VAL;
        return true;
    }
    return r.ec == std::errc{} && r.ptr == field.data() + field.size();
}

/// Splits a line at its commas, each field trimmed of spaces and tabs.
void split(std::string_view line, std::vector<std::string_view>& fields) {
    fields.clear();
    for (;;) {
        const std::size_t comma = line.find(',');
        fields.push_back(trim(line.substr(0, comma)));
        if (comma == std::string_view::npos) return;
        line.remove_prefix(comma + 1);
    }
}

/// "columns: age, sex, bmi" for a short header; "11 columns: age, sex, bmi, ..., target" (the
/// first three and the last) for a long one.
std::string column_list(const std::vector<std::string>& names) {
    std::string s;
    const auto add = [&](const std::string& name) { s += (s.empty() ? "" : ", ") + shown(name, 32); };
    if (names.size() <= 8) {
        for (const std::string& name : names) add(name);
        return "columns: " + s;
    }
    for (std::size_t i = 0; i < 3; ++i) add(names[i]);
    return std::to_string(names.size()) + " columns: " + s + ", ..., " + shown(names.back(), 32);
}

std::string index_range(std::size_t columns) {
    return "0.." + std::to_string(columns - 1) + ", -" + std::to_string(columns) + "..-1, first or last";
}

/// Reads the file whole (after refusing one above max_csv_bytes).
std::string read_text(const fs::path& path, int fd, std::uint64_t size) {
    if (size > max_csv_bytes)
        fail(path, "is " + std::to_string(size) + " bytes, more than the 1 GiB this CSV reader accepts");
    std::string text(static_cast<std::size_t>(size), '\0');
    const std::size_t got = detail::read_at(fd, path, 0, text.data(), text.size());
    text.resize(got);  // a file cut short meanwhile: what it holds now
    return text;
}

Dataset parse_csv(const fs::path& path, std::string_view text, const TargetColumn& target, std::size_t limit) {
    if (text.substr(0, 3) == "\xef\xbb\xbf") text.remove_prefix(3);  // a UTF-8 byte order mark (Excel)
    std::vector<std::string_view> fields;
    std::vector<std::string> names;  // the header's, if any
    std::size_t columns = 0;         // 0: no line seen yet
    std::size_t target_column = 0;
    bool header = false;
    std::size_t examples = 0;
    std::size_t max_examples = 0;  // what 1 GiB of floats holds
    Dataset d;
    std::size_t line_number = 0;
    while (!text.empty() && (limit == 0 || examples < limit)) {
        ++line_number;
        const std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(line).empty()) continue;
        const auto at = [&] { return "line " + std::to_string(line_number); };  // for a message
        if (line.find('\0') != std::string_view::npos)
            fail(path, at() + " holds a NUL byte: binary data, not CSV text (nor an .npz or .npy file)");
        if (line.find('"') != std::string_view::npos)
            fail(path, at() + ": quoted fields are not supported (numbers only, separated by commas): " + shown(line, 60));
        split(line, fields);

        if (columns == 0) {
            // The first line: a header if any of its fields is text.
            columns = fields.size();
            double ignored = 0;
            header = std::any_of(fields.begin(), fields.end(),
                                 [&](std::string_view f) { return !f.empty() && !parse_number(f, ignored); });
            if (columns < 2) {
                const bool other = line.find(';') != std::string_view::npos || line.find('\t') != std::string_view::npos;
                fail(path, "has 1 column; a table needs at least 2 (the features and a target)" +
                               std::string(other ? ": fields are separated by commas only, not semicolons or tabs" : ""));
            }
            if (header) names.assign(fields.begin(), fields.end());
            target_column = detail::target_index(path, target, columns, header ? &names : nullptr,
                                                 "the file has no header line of column names");
            d.rows = 1;
            d.cols = columns - 1;
            d.target_width = 1;
            d.task = Task::regression;
            // Room for as many rows as the rest of the text can hold: a row of n fields is at
            // least 2n bytes with its newline; so the floats take at most twice the text.
            max_examples = max_payload_bytes / (columns * sizeof(float));
            std::uint64_t rows = std::min<std::uint64_t>(std::count(text.begin(), text.end(), '\n') + 1,
                                                         (text.size() + 1) / (2 * columns)) +
                                 (header ? 0 : 1);  // the rest, and this line
            if (limit > 0) rows = std::min<std::uint64_t>(rows, limit);
            rows = std::min<std::uint64_t>(rows, max_examples);
            d.features.reserve(static_cast<std::size_t>(rows * (columns - 1)));
            d.targets.reserve(static_cast<std::size_t>(rows));
            if (header) continue;
        }

        if (examples == max_examples)
            fail(path, at() + ": more than " + std::to_string(max_examples) + " examples of " + std::to_string(columns) +
                           " values, more than the 1 GiB of floats this reader keeps (read fewer with a limit)");
        if (fields.size() != columns)
            fail(path, at() + " has " + std::to_string(fields.size()) + (fields.size() == 1 ? " field" : " fields") +
                           ", expected " + std::to_string(columns));
        for (std::size_t c = 0; c < columns; ++c) {
            double v = 0;
            const bool number = parse_number(fields[c], v);
            if (!number || !std::isfinite(v) || !std::isfinite(static_cast<float>(v))) {
                const std::string column = header ? "column \"" + shown(names[c], 32) + "\""
                                                  : "column " + std::to_string(c) + " (0-based)";
                const std::string problem = !number              ? "is not a number"
                                            : !std::isfinite(v)  ? "is not a finite number"
                                                                 : "is beyond float32's range";
                fail(path, at() + ", " + column + ": \"" + shown(fields[c]) + "\" " + problem);
            }
            if (c == target_column) d.targets.push_back(static_cast<float>(v));
            else d.features.push_back(static_cast<float>(v));
        }
        ++examples;
    }
    if (examples == 0) fail(path, std::string("has no examples") + (header ? " (only a header line)" : " (an empty file)"));
    return d;
}

}  // namespace

namespace detail {

/// The index of the target column among `columns`: a name of `names` (exact; it wins over the
/// words and numbers below, should a column be called "last" or "3"), "first", "last", a 0-based
/// index or a negative one from the end. `unnamed_why` says why names cannot be used when
/// `names` is null.
std::size_t target_index(const fs::path& path, const TargetColumn& target, std::size_t columns,
                         const std::vector<std::string>* names, std::string_view unnamed_why) {
    const std::string& spec = target.spec;
    if (names != nullptr) {
        const auto count = std::count(names->begin(), names->end(), spec);
        if (count > 1)
            fail(path, "the target column name \"" + shown(spec) + "\" names " + std::to_string(count) +
                           " columns (choose one by its index: " + index_range(columns) + ")");
        if (count == 1) return static_cast<std::size_t>(std::find(names->begin(), names->end(), spec) - names->begin());
    }
    if (spec == "first") return 0;
    if (spec == "last") return columns - 1;
    long long index = 0;
    const auto r = std::from_chars(spec.data(), spec.data() + spec.size(), index);
    const bool numeric = !spec.empty() && r.ptr == spec.data() + spec.size() && r.ec != std::errc::invalid_argument;
    if (numeric) {
        const auto n = static_cast<long long>(columns);
        if (r.ec == std::errc{} && index >= -n && index < n) return static_cast<std::size_t>(index < 0 ? index + n : index);
        fail(path, "target column " + shown(spec) + " is out of range: the table has " + std::to_string(columns) +
                       " columns (" + index_range(columns) + ")");
    }
    if (names != nullptr)
        fail(path, "no column \"" + shown(spec) + "\" (" + column_list(*names) + ")");
    fail(path, "no column \"" + shown(spec) + "\": " + std::string(unnamed_why) + " (choose the target by its index: " +
                   index_range(columns) + ")");
}

}  // namespace detail

Dataset read_csv(const fs::path& file, const TargetColumn& target, std::size_t limit) {
    std::uint64_t size = 0;
    const FileDescriptor fd(detail::open_regular(file, size));
    return parse_csv(file, read_text(file, fd.get(), size), target, limit);
}

namespace {
/// The format that the first bytes of a file (got of them at magic) say.
FileFormat format_of(const unsigned char* magic, std::size_t got) {
    const auto starts = [&](std::string_view m) { return got >= m.size() && std::memcmp(magic, m.data(), m.size()) == 0; };
    if (starts("PK\x03\x04") || starts("PK\x05\x06")) return FileFormat::npz;  // a zip archive: an entry, or none at all
    if (starts("\x93NUMPY")) return FileFormat::npy;
    return FileFormat::csv;
}
}  // namespace

FileFormat file_format(const fs::path& file) {
    std::uint64_t size = 0;
    const FileDescriptor fd(detail::open_regular(file, size));
    unsigned char magic[6] = {};
    return format_of(magic, detail::read_at(fd.get(), file, 0, magic, sizeof magic));
}

Dataset read_file(const fs::path& file, const TargetColumn& target, std::size_t limit) {
    std::uint64_t size = 0;
    const FileDescriptor fd(detail::open_regular(file, size));
    unsigned char magic[6] = {};
    switch (format_of(magic, detail::read_at(fd.get(), file, 0, magic, sizeof magic))) {
        case FileFormat::npz:
            if (target.spec != TargetColumn{}.spec)
                fail(file, "an .npz archive's targets are its array y: a target column (\"" + shown(target.spec) +
                               "\") does not apply");
            return detail::read_npz_open(file, fd.get(), size, limit);
        case FileFormat::npy: return detail::read_npy_table_open(file, fd.get(), size, target, limit);
        case FileFormat::csv: break;
    }
    return parse_csv(file, read_text(file, fd.get(), size), target, limit);
}

}  // namespace typegrad::data
