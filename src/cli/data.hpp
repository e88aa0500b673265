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
    std::optional<std::filesystem::path> dir;  // none: the synthetic digits; an IDX directory, or a data file
    bool from_environment = false;             // dir came from $TYPEGRAD_DATA
    std::uint64_t seed = 42;                   // of the synthetic digits
    std::optional<std::filesystem::path> test_file;  // --test: the test set of a data file
    std::string target = "last";                     // --target: a table's target column
    bool target_given = false;
    bool text = false;                               // a network that reads text: --data FILE is a text
    const std::u32string* vocabulary = nullptr;      // the model's (none: the training file's own)
    std::size_t validation = 0;                      // --validation N: a text without --test holds out N windows
};

struct LoadedData {
    data::Split split;
    std::string description;  // "synthetic digits", "IDX data from DIR", for the header line
    std::vector<std::filesystem::path> files;  // the files read (none for the synthetic digits)
    bool from_files = false;                   // --data FILE (not an IDX directory)
};

/// Loads the data, reading only the first `limit` training and `test_limit` test examples
/// (0: all), and checks that they fit a network with n_in inputs and n_out outputs (a single
/// target column becomes class indices for a network of more than one output,
/// data::fit_targets). Without `with_training_set` the training set is neither read nor needed
/// (for eval: a directory with only the two t10k files will do, and a --data FILE is the test
/// set). A --data FILE for training needs --test FILE. Prints "data: ..." notes on stderr (which of a plain and a
/// .gz file was read). Throws data::DataError.
///
/// A network that reads text (`text`, n_in = its window T) reads --data FILE as UTF-8 text
/// (data::read_text) in windows of T + 1 characters; its vocabulary is `vocabulary` or the
/// training file's; the characters of a test file outside it are left out, with a note. A text
/// needs --test FILE or --validation N (its last N windows are then the test set, cut off by
/// prepare()).
LoadedData load_data(const DataSource& source, std::size_t limit, std::size_t test_limit, std::size_t n_in,
                     std::size_t n_out, bool with_training_set);

}  // namespace typegrad::cli
