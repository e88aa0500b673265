// The Dataset's small helpers (cutting, describing, fingerprinting) and the checks that fit a
// dataset's targets to a network's outputs.
#include "typegrad/data/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace typegrad::data {
namespace {

template <class V>
V slice(const V& v, std::size_t from, std::size_t count, std::size_t width) {
    if (v.empty()) return V{};
    return V(v.begin() + static_cast<std::ptrdiff_t>(from * width),
             v.begin() + static_cast<std::ptrdiff_t>((from + count) * width));
}

// The text of windows [from, from + count) of d, cut into windows again from its start.
Dataset cut_text(const Dataset& d, std::size_t from, std::size_t count) {
    Dataset out;
    out.vocabulary = d.vocabulary;
    out.window = d.window;
    out.rows = d.rows;
    out.cols = d.cols;
    out.task = d.task;
    const std::size_t begin = count ? d.starts[from] : 0, end = count ? d.starts[from + count - 1] + d.window + 1 : 0;
    out.tokens = std::make_shared<const std::vector<std::uint32_t>>(d.tokens->begin() + static_cast<std::ptrdiff_t>(begin),
                                                                     d.tokens->begin() + static_cast<std::ptrdiff_t>(end));
    return out.windows(0);
}

Dataset cut(const Dataset& d, std::size_t from, std::size_t count) {
    if (d.is_text()) return cut_text(d, from, count);
    Dataset out;
    out.rows = d.rows;
    out.cols = d.cols;
    out.channels = d.channels;
    out.pixels = slice(d.pixels, from, count, d.image_size());
    out.features = slice(d.features, from, count, d.image_size());
    out.labels = slice(d.labels, from, count, 1);
    out.targets = slice(d.targets, from, count, d.target_width);
    out.target_width = d.target_width;
    out.task = d.task;
    return out;
}

std::string hex8(std::uint32_t value) {
    static constexpr char digit_chars[] = "0123456789abcdef";
    std::string s;
    for (int i = 7; i >= 0; --i) s += digit_chars[(value >> (4 * i)) & 0xfu];
    return s;
}

std::uint32_t crc_bytes(const void* data, std::size_t size, std::uint32_t start) {
    uLong c = start;
    const auto* p = static_cast<const Bytef*>(data);
    for (std::size_t left = size; left > 0;) {  // zlib takes a uInt length
        const std::size_t n = std::min<std::size_t>(left, std::size_t{1} << 30);
        c = ::crc32(c, p, static_cast<uInt>(n));
        p += n;
        left -= n;
    }
    return static_cast<std::uint32_t>(c);
}

std::string number(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    return buf;
}

std::string shape_text(const Dataset& d) {
    std::string s;
    if (d.channels != 1) s += std::to_string(d.channels) + "x";
    if (d.rows != 1 || d.channels != 1) s += std::to_string(d.rows) + "x";
    return s + std::to_string(d.cols);
}

}  // namespace

std::size_t Dataset::label_count() const noexcept {
    if (labels.empty()) return task == Task::classification ? target_width : 0;
    return std::size_t{*std::max_element(labels.begin(), labels.end())} + 1;
}

Dataset Dataset::head(std::size_t n) const { return cut(*this, 0, std::min(n, size())); }

Dataset Dataset::tail(std::size_t n) const {
    const std::size_t keep = std::min(n, size());
    return cut(*this, size() - keep, keep);
}

Dataset Dataset::windows(std::size_t offset) const {
    Dataset out = *this;
    out.starts.clear();
    const std::size_t n = tokens ? tokens->size() : 0;
    if (window > 0)
        for (std::size_t s = offset; s + window + 1 <= n; s += window) out.starts.push_back(s);
    return out;
}

std::string Dataset::describe() const {
    if (is_text())
        return std::to_string(tokens->size()) + " characters of text, a vocabulary of " + std::to_string(vocabulary.size()) +
               ", " + std::to_string(size()) + " windows of " + std::to_string(window) + " + 1";
    std::string s = std::to_string(size()) + " examples of " + shape_text(*this) +
                    (float_inputs() ? " floats" : " bytes");
    if (!labels.empty()) return s + ", class labels";
    if (task == Task::classification) return s + ", class probabilities (" + std::to_string(target_width) + ")";
    return s + ", " + (target_width == 1 ? std::string("a real target") : std::to_string(target_width) + " real targets");
}

std::string content_fingerprint(const Dataset& d) {
    // Byte images with labels: the CRC of the pixels (seeded with the shape), then of the labels,
    // as before float data existed, so checkpoints written then still match.
    const std::uint32_t shape = static_cast<std::uint32_t>(d.rows * 65599u + d.cols) ^
                                static_cast<std::uint32_t>((d.channels - 1) * 2654435761u);
    const std::uint32_t empty = static_cast<std::uint32_t>(::crc32(0L, Z_NULL, 0));
    std::uint32_t a = crc_bytes(d.pixels.data(), d.pixels.size(), empty ^ shape);
    a = crc_bytes(d.features.data(), d.features.size() * sizeof(float), a);
    if (d.is_text()) {
        a = crc_bytes(d.tokens->data(), d.tokens->size() * sizeof(std::uint32_t), a);
        a = crc_bytes(d.vocabulary.data(), d.vocabulary.size() * sizeof(char32_t), a);
    }
    std::uint32_t b = crc_bytes(d.labels.data(), d.labels.size(), empty);
    if (!d.targets.empty()) {
        const std::uint32_t width = static_cast<std::uint32_t>(d.target_width);
        b = crc_bytes(&width, sizeof width, b);
        b = crc_bytes(d.targets.data(), d.targets.size() * sizeof(float), b);
    }
    return hex8(a) + hex8(b);
}

void fit_targets(Dataset& d, std::size_t n_out, const std::string& what) {
    if (!d.labels.empty() || d.targets.empty()) return;
    const std::size_t n = d.size();
    if (d.target_width == 1 && n_out > 1) {
        std::vector<std::uint8_t> labels(n);
        for (std::size_t i = 0; i < n; ++i) {
            const float t = d.targets[i];
            if (!(t >= 0.0f) || t != std::floor(t) || t >= static_cast<float>(n_out) || t > 255.0f)
                throw DataError(what + ": the target of example " + std::to_string(i) + " is " + number(t) +
                                ", not a class index in [0, " + std::to_string(std::min<std::size_t>(n_out, 256)) +
                                ") for a network with " + std::to_string(n_out) + " outputs" +
                                (n_out > 256 ? " (class labels stop at 255: give one-hot targets instead)" : ""));
            labels[i] = static_cast<std::uint8_t>(t);
        }
        d.labels = std::move(labels);
        d.targets.clear();
        d.targets.shrink_to_fit();
        d.target_width = 0;
        d.task = Task::classification;
        return;
    }
    if (d.target_width != n_out)
        throw DataError(what + ": the targets have " + std::to_string(d.target_width) + " values per example but the network has " +
                        std::to_string(n_out) + " outputs");
    bool probabilities = n_out > 1;
    for (std::size_t i = 0; i < n && probabilities; ++i) {
        double sum = 0;
        for (std::size_t k = 0; k < n_out; ++k) {
            const float t = d.targets[i * n_out + k];
            probabilities &= t >= 0.0f;
            sum += t;
        }
        probabilities &= std::abs(sum - 1.0) <= 1e-4;
    }
    d.task = probabilities ? Task::classification : Task::regression;
}

void check_fits(const Dataset& d, std::size_t n_in, std::size_t n_out, const std::string& what) {
    if (d.is_text()) {
        if (d.window != n_in || d.window * d.vocabulary.size() != n_out)
            throw DataError(what + ": windows of " + std::to_string(d.window) + " characters over a vocabulary of " +
                            std::to_string(d.vocabulary.size()) + ", but the network reads " + std::to_string(n_in) +
                            " tokens and has " + std::to_string(n_out) + " outputs" +
                            (n_out % n_in == 0 ? " (" + std::to_string(n_out / n_in) + " per position)" : std::string()));
        return;
    }
    if (d.image_size() != n_in)
        throw DataError(what + (d.float_inputs() ? ": examples have " : ": images have ") + std::to_string(d.image_size()) +
                        (d.float_inputs() ? " values" : " pixels") +
                        (d.rows == 1 && d.channels == 1 ? std::string() : " (" + shape_text(d) + ")") +
                        " but the network's input width is " + std::to_string(n_in));
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        if (d.labels[i] >= n_out)
            throw DataError(what + ": label " + std::to_string(d.labels[i]) + " at index " + std::to_string(i) +
                            " is out of range for a network with " + std::to_string(n_out) + " outputs");
    }
    if (d.labels.empty() && d.target_width != n_out)
        throw DataError(what + ": the targets have " + std::to_string(d.target_width) +
                        " values per example but the network has " + std::to_string(n_out) + " outputs");
}

}  // namespace typegrad::data
