// Where `typegrad train` and `typegrad eval` get their examples: --data DIR, $TYPEGRAD_DATA or
// the built-in synthetic digits, cut to --limit/--test-limit and checked against the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "typegrad/data/dataset.hpp"

namespace typegrad::cli {

struct DataSource {
    std::optional<std::filesystem::path> dir;  // none: the synthetic digits
    bool from_environment = false;             // dir came from $TYPEGRAD_DATA
    std::uint64_t seed = 42;                   // of the synthetic digits
};

struct LoadedData {
    data::Split split;
    std::string description;  // "synthetic digits", "IDX data from DIR", for the header line
    std::vector<std::filesystem::path> files;  // the IDX files read (none for the synthetic digits)
};

/// Loads the data, reading only the first `limit` training and `test_limit` test examples
/// (0: all), and checks that they fit a network with n_in inputs and n_out outputs. Without
/// `with_training_set` the training set is neither read nor needed (for eval: a directory with
/// only the two t10k files will do). Prints "data: ..." notes on stderr (which of a plain and a
/// .gz file was read). Throws data::DataError.
LoadedData load_data(const DataSource& source, std::size_t limit, std::size_t test_limit, std::size_t n_in,
                     std::size_t n_out, bool with_training_set);

}  // namespace typegrad::cli
