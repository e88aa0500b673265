#include "data.hpp"

#include <algorithm>
#include <cstdio>

#include "options.hpp"
#include "text.hpp"

namespace typegrad::cli {

namespace {
/// The text of a network that reads text (see load_data).
LoadedData load_text(const DataSource& source, std::size_t n_in, bool with_training_set) {
    if (!source.dir || source.from_environment)
        throw UsageError("--data: this network reads text (seqT): name a UTF-8 text file with --data FILE.txt");
    if (with_training_set && !source.test_file && source.validation == 0)
        throw UsageError(cat("--data ", source.dir->string(), ": name the test text with --test FILE, or hold out the last N "
                             "windows of the training text with --validation N"));
    if (source.target_given) throw UsageError(cat("--target: ", source.dir->string(), " is a text, whose targets are its next characters"));
    const auto read = [&](const std::filesystem::path& f, const std::u32string* vocabulary, const char* what) {
        data::TextNotes notes;
        data::Dataset d = data::read_text(f, n_in, vocabulary, &notes);
        if (notes.skipped > 0)
            say(stderr, "data: %s: %zu character%s not in the %s vocabulary left out (%s)", f.c_str(), notes.skipped,
                notes.skipped == 1 ? "" : "s", what, notes.examples.c_str());
        return d;
    };
    LoadedData p;
    p.from_files = true;
    const std::filesystem::path& first = *source.dir;
    if (with_training_set) {
        p.split.train = read(first, source.vocabulary, "model's");
        p.files = {first};
        p.description = first.string();
        if (source.test_file) {
            p.split.test = read(*source.test_file, &p.split.train.vocabulary, "training text's");
            p.files.push_back(*source.test_file);
            p.description = cat(first.string(), " / ", source.test_file->string());
        }
    } else {
        p.split.test = read(first, source.vocabulary, "model's");
        p.files = {first};
        p.description = first.string();
    }
    return p;  // checked against the network by check_fits, with the other data
}
}  // namespace

LoadedData load_data(const DataSource& source, std::size_t limit, std::size_t test_limit, std::size_t n_in,
                     std::size_t n_out, bool with_training_set) {
    LoadedData p;
    std::string what;
    std::error_code ec;
    if (source.dir && !std::filesystem::exists(*source.dir, ec) && !source.from_environment) {
        const std::string ext = source.dir->extension().string();
        if (ext == ".csv" || ext == ".npz" || ext == ".npy" || source.test_file)
            throw data::DataError(cat(source.dir->string(), ": no such file"));
    }
    if (source.test_file && !std::filesystem::exists(*source.test_file, ec))
        throw data::DataError(cat(source.test_file->string(), ": no such file (--test)"));
    for (const auto& f : {source.dir, source.test_file})
        if (!source.text && f && f->extension() == ".txt")
            throw UsageError(cat("--data ", f->string(), ": a text is read by a network whose input is seqT (T tokens), e.g. "
                                 "seq32-embed64-res(layernorm-attn4)-layernorm-vocab:softmax; this network's input is ",
                                 n_in, " values"));
    if (source.text) {
        p = load_text(source, n_in, with_training_set);
        what = source.dir->string();
    } else if (source.dir && !std::filesystem::is_directory(*source.dir, ec) &&
        std::filesystem::exists(*source.dir, ec)) {  // a data file: the training set (eval: the test set)
        what = source.dir->string();
        const std::filesystem::path& first = *source.dir;
        if (with_training_set && !source.test_file)
            throw UsageError(cat("--data ", first.string(),
                                 ": a data file is the training set; name the test set with --test FILE"));
        const data::TargetColumn target{source.target};
        if (source.target_given)
            for (const auto& f : {std::optional(first), source.test_file})
                if (f && data::file_format(*f) == data::FileFormat::npz)
                    throw UsageError(cat("--target: ", f->string(),
                                         " is not a table (CSV or .npy): an .npz archive's targets are its array y"));
        const auto read = [&](const std::filesystem::path& f, std::size_t lim) {
            data::Dataset d = data::read_file(f, target, lim);
            data::fit_targets(d, n_out, f.string());
            return d;
        };
        if (with_training_set) {
            p.split.train = read(first, limit);
            p.split.test = read(*source.test_file, test_limit);
            p.files = {first, *source.test_file};
            const data::Dataset &a = p.split.train, &b = p.split.test;
            if (a.image_size() != b.image_size() || a.channels != b.channels || a.rows != b.rows)
                throw data::DataError(cat(source.test_file->string(), ": examples of ", std::to_string(b.image_size()),
                                          " values, but those of ", first.string(), " have ",
                                          std::to_string(a.image_size())));
            if (a.task != b.task)
                throw data::DataError(cat(source.test_file->string(), ": its targets are ",
                                          b.task == data::Task::regression ? "real values" : "classes", ", those of ",
                                          first.string(), " ", a.task == data::Task::regression ? "real values" : "classes"));
            p.description = cat(first.string(), " / ", source.test_file->string());
        } else {
            p.split.test = read(first, test_limit);
            p.files = {first};
            p.description = first.string();
        }
        p.from_files = true;
    } else if (source.dir) {
        if (source.test_file)
            throw UsageError(cat("--test ", source.test_file->string(), ": --data ", source.dir->string(),
                                 " is an IDX directory, whose test set is its t10k files"));
        if (source.target_given)
            throw UsageError(cat("--target: --data ", source.dir->string(),
                                 " is an IDX directory, whose targets are its label files"));
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
    const bool held_out = source.text && with_training_set && !source.test_file;  // cut by prepare()
    if (p.split.test.size() == 0 && !held_out) throw data::DataError(cat(what, ": the test set is empty"));
    // a data file is named as it is; the test set of --data FILE --test FILE is the second file
    const std::string test_what = p.from_files && with_training_set && source.test_file ? source.test_file->string() : what;
    if (with_training_set) data::check_fits(p.split.train, n_in, n_out, cat(what, " (training set)"));
    if (!held_out) data::check_fits(p.split.test, n_in, n_out, cat(test_what, " (test set)"));
    return p;
}

}  // namespace typegrad::cli
