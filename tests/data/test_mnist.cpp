// The IDX reader against the real MNIST files, found through TYPEGRAD_MNIST_DIR. Without
// that variable the test is skipped (exit code 77, CTest's SKIP_RETURN_CODE); with it, a
// directory that cannot be read is a failure, not a skip.
#define CATCH_CONFIG_RUNNER
#include "typegrad/data/dataset.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using typegrad::data::Dataset;
using typegrad::data::load_idx_directory;
using typegrad::data::Split;

namespace {

std::string mnist_dir;

/// Loaded once: decompressing 60 000 images for every test case would be slow.
const Split& mnist() {
    static const Split split = load_idx_directory(mnist_dir);
    return split;
}

double mean_pixel(const Dataset& d) {
    double sum = 0;
    for (const std::uint8_t v : d.pixels) sum += typegrad::data::unit_pixel(v);
    return sum / static_cast<double>(d.pixels.size());
}

}  // namespace

TEST_CASE("MNIST loads with the published sizes", "[data][mnist]") {
    INFO("TYPEGRAD_MNIST_DIR=" << mnist_dir);
    const Split& split = mnist();
    CHECK(split.train.size() == 60000);
    CHECK(split.test.size() == 10000);
    CHECK(split.train.rows == 28);
    CHECK(split.train.cols == 28);
    CHECK(split.test.rows == 28);
    CHECK(split.test.cols == 28);
    CHECK(split.train.pixels.size() == 60000u * 784u);
    CHECK(split.test.pixels.size() == 10000u * 784u);
}

TEST_CASE("MNIST labels are the digits 0-9, each well represented", "[data][mnist]") {
    const Split& split = mnist();
    for (const Dataset* d : {&split.train, &split.test}) {
        std::array<std::size_t, 10> counts{};
        const auto out_of_range = std::find_if(d->labels.begin(), d->labels.end(), [](auto l) { return l >= 10; });
        REQUIRE(out_of_range == d->labels.end());
        for (const auto label : d->labels) ++counts[label];
        for (std::size_t c = 0; c < 10; ++c) {
            INFO("digit " << c << " appears " << counts[c] << " times in " << d->size());
            // MNIST's classes range from 9% to 11% of each set.
            CHECK(counts[c] * 100 > d->size() * 8);
            CHECK(counts[c] * 100 < d->size() * 12);
        }
    }
    CHECK(split.train.label_count() == 10);
    CHECK_NOTHROW(typegrad::data::check_fits(split.train, 784, 10, mnist_dir));
}

TEST_CASE("MNIST pixels are scaled to [0, 1] with the known mean", "[data][mnist]") {
    const Split& split = mnist();
    // The training set's mean intensity is 0.1307 (the usual normalisation constant); the
    // test set's is 0.1325.
    CHECK(mean_pixel(split.train) == Approx(0.1307).margin(0.005));
    CHECK(mean_pixel(split.test) == Approx(0.1325).margin(0.005));
    std::uint8_t lo = 255, hi = 0;
    for (const std::uint8_t v : split.train.pixels) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    CHECK(typegrad::data::unit_pixel(lo) == 0.0f);
    CHECK(typegrad::data::unit_pixel(hi) == 1.0f);
}

TEST_CASE("MNIST images and labels are paired in the published order", "[data][mnist]") {
    const Split& split = mnist();
    // The first training labels are 5 0 4 1 9 2 1 3 1 4, the first test labels 7 2 1 0 4.
    const std::array<int, 10> train_first{5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
    const std::array<int, 5> test_first{7, 2, 1, 0, 4};
    for (std::size_t i = 0; i < train_first.size(); ++i) CHECK(int{split.train.labels[i]} == train_first[i]);
    for (std::size_t i = 0; i < test_first.size(); ++i) CHECK(int{split.test.labels[i]} == test_first[i]);
    // The digit's ink is in the middle: corners are blank in every image.
    for (std::size_t i = 0; i < split.train.size(); i += 997) {
        const auto img = split.train.image(i);
        INFO("image " << i);
        CHECK(img[0] == 0);
        CHECK(img[27] == 0);
        CHECK(img[27 * 28] == 0);
        CHECK(img[28 * 28 - 1] == 0);
    }
}

int main(int argc, char* argv[]) {
    const char* dir = std::getenv("TYPEGRAD_MNIST_DIR");
    if (dir == nullptr) {
        std::puts("TYPEGRAD_MNIST_DIR is not set: skipping the real-MNIST tests");
        return 77;
    }
    // Set but empty is a mistake in the environment, not a request to skip: it fails below
    // like any unreadable directory.
    mnist_dir = dir;
    // Catch returns the number of failures, which could be 77 and read as "skipped".
    return Catch::Session().run(argc, argv) == 0 ? 0 : 1;
}
