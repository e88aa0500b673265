// The benchmarks' data: MNIST when TYPEGRAD_MNIST_DIR is set (real images: their zeros matter,
// the kernels skip them), else the built-in synthetic digits.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>

#include "typegrad/data/dataset.hpp"

namespace typegrad::bench {

/// The split to measure on; `name` says which it is, for the benchmark's header line.
inline data::Split mnist_or_synthetic(std::size_t synthetic_train, std::size_t synthetic_test, std::string& name) {
    if (const char* dir = std::getenv("TYPEGRAD_MNIST_DIR"); dir && *dir) {
        name = std::string("MNIST from ") + dir;
        return data::load_idx_directory(dir);
    }
    name = "synthetic digits (set TYPEGRAD_MNIST_DIR for MNIST)";
    return data::synthetic_split(synthetic_train, synthetic_test, 1);
}

/// What dataset<…>() loaded, for the benchmark's header line.
inline std::string data_name;

/// The benchmark's data, loaded on first use.
template <std::size_t SyntheticTrain, std::size_t SyntheticTest>
const data::Split& dataset() {
    static const data::Split split = mnist_or_synthetic(SyntheticTrain, SyntheticTest, data_name);
    return split;
}

}  // namespace typegrad::bench
