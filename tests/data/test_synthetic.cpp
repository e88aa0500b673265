// The synthetic digits: deterministic, well-formed, balanced, and actually distinguishable.
#include "typegrad/data/dataset.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

using typegrad::data::Dataset;
using typegrad::data::synthetic_digits;
using typegrad::data::synthetic_split;

namespace {

/// Image i of d as values in [0, 1] (the dataset stores bytes).
std::vector<float> unit_image(const Dataset& d, std::size_t i) {
    const auto bytes = d.image(i);
    std::vector<float> v(bytes.size());
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = typegrad::data::unit_pixel(bytes[k]);
    return v;
}

/// Mean image of each class (empty vector for a class with no examples).
std::array<std::vector<double>, 10> class_means(const Dataset& d) {
    std::array<std::vector<double>, 10> means;
    std::array<std::size_t, 10> counts{};
    for (auto& m : means) m.assign(d.image_size(), 0.0);
    for (std::size_t i = 0; i < d.size(); ++i) {
        const auto img = unit_image(d, i);
        auto& m = means[d.labels[i]];
        for (std::size_t p = 0; p < img.size(); ++p) m[p] += img[p];
        ++counts[d.labels[i]];
    }
    for (std::size_t c = 0; c < 10; ++c) {
        if (counts[c] == 0) {
            means[c].clear();
            continue;
        }
        for (double& v : means[c]) v /= static_cast<double>(counts[c]);
    }
    return means;
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(s);
}

double distance(const std::vector<float>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(s);
}

}  // namespace

TEST_CASE("synthetic digits have MNIST's shape", "[data][synthetic]") {
    const Dataset d = synthetic_digits(123, 1);
    CHECK(d.rows == 28);
    CHECK(d.cols == 28);
    CHECK(d.size() == 123);
    CHECK(d.pixels.size() == 123u * 28u * 28u);
    CHECK(d.label_count() == 10);

    const Dataset empty = synthetic_digits(0, 1);
    CHECK(empty.size() == 0);
    CHECK(empty.pixels.empty());
}

TEST_CASE("synthetic digits are deterministic in (count, seed)", "[data][synthetic]") {
    const Dataset a = synthetic_digits(300, 42);
    const Dataset b = synthetic_digits(300, 42);
    CHECK(a.labels == b.labels);
    CHECK(a.pixels == b.pixels);

    const Dataset other = synthetic_digits(300, 43);
    std::size_t identical = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = a.image(i), y = other.image(i);
        identical += std::equal(x.begin(), x.end(), y.begin()) ? 1u : 0u;
    }
    CHECK(identical == 0);
}

TEST_CASE("a longer synthetic set starts with the shorter one", "[data][synthetic]") {
    const Dataset shorter = synthetic_digits(57, 9);
    const Dataset longer = synthetic_digits(200, 9);
    const Dataset prefix = longer.head(57);
    CHECK(prefix.labels == shorter.labels);
    CHECK(prefix.pixels == shorter.pixels);
}

TEST_CASE("synthetic pixels are in [0, 1] and images carry ink", "[data][synthetic]") {
    const Dataset d = synthetic_digits(1000, 5);
    // One assertion for the whole set (millions of REQUIREs would dominate the run time).
    // Bytes: every value is a valid pixel; full ink reaches the top of the range.
    CHECK(*std::max_element(d.pixels.begin(), d.pixels.end()) > 0.9 * 255);
    CHECK(std::count(d.pixels.begin(), d.pixels.end(), std::uint8_t{0}) > 0);
    double total_ink = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        const auto img = unit_image(d, i);
        const auto dark = std::count_if(img.begin(), img.end(), [](float v) { return v > 0.5f; });
        const double fraction = static_cast<double>(dark) / static_cast<double>(img.size());
        INFO("image " << i << " (label " << int{d.labels[i]} << ") has " << dark << " inked pixels");
        // A digit covers a few percent of the image (MNIST: about 13% on average), never
        // nothing and never most of it.
        REQUIRE(fraction > 0.02);
        REQUIRE(fraction < 0.45);
        total_ink += fraction;
    }
    const double mean_ink = total_ink / static_cast<double>(d.size());
    CHECK(mean_ink > 0.06);
    CHECK(mean_ink < 0.30);
    // The border is mostly background, as in MNIST.
    double border = 0;
    std::size_t border_pixels = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        const auto img = unit_image(d, i);
        for (std::size_t c = 0; c < 28; ++c) {
            border += img[c] + img[27 * 28 + c];
            border_pixels += 2;
        }
    }
    CHECK(border / static_cast<double>(border_pixels) < 0.08);
}

TEST_CASE("synthetic labels cover 0-9 evenly", "[data][synthetic]") {
    const Dataset d = synthetic_digits(2000, 11);
    std::array<std::size_t, 10> counts{};
    for (const auto label : d.labels) {
        REQUIRE(label < 10);
        ++counts[label];
    }
    for (std::size_t c = 0; c < 10; ++c) {
        INFO("class " << c);
        CHECK(counts[c] >= 160);
        CHECK(counts[c] <= 240);
    }
    // Not in a fixed cycle 0, 1, 2, ... which would make batches unrepresentative.
    std::size_t in_order = 0;
    for (std::size_t i = 0; i < d.size(); ++i) in_order += d.labels[i] == i % 10 ? 1u : 0u;
    CHECK(in_order < d.size() / 2);
}

TEST_CASE("synthetic digits are centred like MNIST", "[data][synthetic]") {
    const Dataset d = synthetic_digits(1000, 3);
    double mass = 0, row = 0, col = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        const auto img = unit_image(d, i);
        for (std::size_t p = 0; p < img.size(); ++p) {
            mass += img[p];
            row += img[p] * static_cast<double>(p / 28);
            col += img[p] * static_cast<double>(p % 28);
        }
    }
    CHECK(row / mass == Approx(13.5).margin(1.5));
    CHECK(col / mass == Approx(13.5).margin(1.5));
}

TEST_CASE("each synthetic class looks different from the others", "[data][synthetic]") {
    const Dataset d = synthetic_digits(4000, 21);
    // Class means from two disjoint halves: a class must be closer to itself (the other
    // half's mean) than to any other class, otherwise labels would not be learnable.
    Dataset first = d.head(2000);
    Dataset second;
    second.rows = d.rows;
    second.cols = d.cols;
    second.pixels.assign(d.pixels.begin() + 2000 * 784, d.pixels.end());
    second.labels.assign(d.labels.begin() + 2000, d.labels.end());
    const auto a = class_means(first);
    const auto b = class_means(second);
    for (std::size_t c = 0; c < 10; ++c) {
        REQUIRE(!a[c].empty());
        REQUIRE(!b[c].empty());
        const double same = distance(a[c], b[c]);
        for (std::size_t other = 0; other < 10; ++other) {
            if (other == c) continue;
            INFO("class " << c << " vs " << other);
            CHECK(distance(a[c], a[other]) > 2.0 * same);
            CHECK(distance(a[c], a[other]) > 1.5);
        }
    }
}

TEST_CASE("synthetic digits are learnable by a nearest-class-mean classifier", "[data][synthetic]") {
    // A crude check of learnability without a network: MNIST gives about 82% this way.
    // Jitter and noise must leave the classes separable, but not trivially so.
    const auto [train, test] = synthetic_split(3000, 1000, 8);
    const auto means = class_means(train);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < test.size(); ++i) {
        std::size_t best = 0;
        double best_distance = distance(unit_image(test, i), means[0]);
        for (std::size_t c = 1; c < 10; ++c) {
            const double dist = distance(unit_image(test, i), means[c]);
            if (dist < best_distance) {
                best_distance = dist;
                best = c;
            }
        }
        correct += best == test.labels[i] ? 1u : 0u;
    }
    const double accuracy = static_cast<double>(correct) / static_cast<double>(test.size());
    INFO("nearest-class-mean accuracy " << accuracy);
    CHECK(accuracy > 0.6);
    CHECK(accuracy < 0.99);
}

TEST_CASE("synthetic_split draws train and test from different seeds", "[data][synthetic]") {
    const auto split = synthetic_split(200, 100, 77);
    CHECK(split.train.size() == 200);
    CHECK(split.test.size() == 100);
    CHECK(split.train.rows == 28);
    CHECK(split.test.cols == 28);

    // Deterministic as a whole.
    const auto again = synthetic_split(200, 100, 77);
    CHECK(again.train.pixels == split.train.pixels);
    CHECK(again.test.pixels == split.test.pixels);

    // The training set is synthetic_digits(train_count, seed); the test set is not a copy
    // of any of its images.
    CHECK(split.train.pixels == synthetic_digits(200, 77).pixels);
    for (std::size_t i = 0; i < split.test.size(); ++i) {
        const auto t = split.test.image(i);
        for (std::size_t j = 0; j < split.train.size(); ++j) {
            const auto s = split.train.image(j);
            REQUIRE_FALSE(std::equal(t.begin(), t.end(), s.begin()));
        }
    }
}
