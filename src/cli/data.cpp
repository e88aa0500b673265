#include "data.hpp"

#include <algorithm>
#include <cstdio>

#include "text.hpp"

namespace typegrad::cli {

LoadedData load_data(const DataSource& source, std::size_t limit, std::size_t test_limit, std::size_t n_in,
                     std::size_t n_out, bool with_training_set) {
    LoadedData p;
    std::string what;
    if (source.dir) {
        what = source.dir->string();
        try {
            const data::IdxFiles files = data::find_idx_files(*source.dir, with_training_set);
            for (const auto& note : files.notes) say(stderr, "data: %s", note.c_str());
            p.files = files.all();
            p.split = data::load_idx_files(*source.dir, files, {limit, test_limit, with_training_set});
        } catch (const data::DataError& e) {
            if (!source.from_environment) throw;
            throw data::DataError(cat(e.what(), " (directory from $TYPEGRAD_DATA)"));
        }
        p.description = cat("IDX data from ", source.from_environment ? "$TYPEGRAD_DATA=" : "", what);
    } else {
        // The synthetic digits are generated one by one from (seed, index), so the first n of
        // 60000 are the same as 60000 cut to n: generate only what is used.
        constexpr std::size_t train_count = 60000;
        constexpr std::size_t test_count = 10000;
        const std::size_t n_train = !with_training_set ? 0 : limit ? std::min(limit, train_count) : train_count;
        const std::size_t n_test = test_limit ? std::min(test_limit, test_count) : test_count;
        if (with_training_set)
            std::fprintf(stderr, "data: synthetic digits (%zu train, %zu test); pass --data DIR for MNIST\n", n_train,
                         n_test);
        else
            std::fprintf(stderr, "data: synthetic digits (%zu test); pass --data DIR for MNIST\n", n_test);
        what = "synthetic digits";
        p.split = data::synthetic_split(n_train, n_test, source.seed);
        p.description = "synthetic digits";
    }
    if (!with_training_set) p.split.train = data::Dataset{};
    if (limit && limit < p.split.train.size()) p.split.train = p.split.train.head(limit);
    if (test_limit && test_limit < p.split.test.size()) p.split.test = p.split.test.head(test_limit);

    if (with_training_set && p.split.train.size() == 0) throw data::DataError(cat(what, ": the training set is empty"));
    if (p.split.test.size() == 0) throw data::DataError(cat(what, ": the test set is empty"));
    if (with_training_set) data::check_fits(p.split.train, n_in, n_out, cat(what, " (training set)"));
    data::check_fits(p.split.test, n_in, n_out, cat(what, " (test set)"));
    return p;
}

}  // namespace typegrad::cli
