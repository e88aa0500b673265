// The options of `typegrad train`: the strings CLI11 fills in, and the validated values the
// training driver works with. Only main.cpp includes CLI11 (it is slow to compile).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace typegrad::cli {

/// Exit codes: 0 success, 1 a data or file error, 2 bad usage (options, arguments).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

/// A bad option value, found after CLI11's parse (exit code 2). what() is one line naming the
/// option, e.g. "--epochs: expected a positive integer, got 'abc'".
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A file the tool writes cannot be written (exit code 1).
class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A run that cannot go on: an unusable checkpoint, a diverged training (exit code 1).
class RunError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class MetricsFormat { csv, json_lines };

/// The validated options of `typegrad train`.
struct TrainOptions {
    std::optional<std::filesystem::path> data_dir;  // none: the built-in synthetic digits; an IDX directory or a file
    bool data_from_environment = false;             // data_dir came from $TYPEGRAD_DATA, not --data
    std::optional<std::filesystem::path> test_file;  // --test FILE: the test set of a --data FILE
    std::string target = "last";                     // --target COLUMN of a CSV or .npy table
    bool target_given = false;
    std::optional<std::filesystem::path> save_best;  // --save-best FILE: the best validation epoch's checkpoint
    std::size_t epochs = 30;
    std::size_t batch = 10;
    double eta = 3.0;          // the network's default (menu.hpp) unless eta_given
    bool eta_given = false;
    std::size_t decay_every = 0;  // --schedule step:EVERY:FACTOR (0: constant η)
    double decay_factor = 1.0;
    std::size_t halve_after = 0;   // --schedule halve:K[:N] (0: no halving on plateaus)
    std::size_t max_halvings = 7;  // its N
    std::size_t patience = 0;      // --patience P (0: no early stopping)
    std::string training_accuracy; // --training-accuracy: "" (not monitored), "running" or "eval"
    std::string schedule = "constant";  // as given, for the header and the training note
    bool schedule_given = false;        // else the network's default (menu.hpp)
    std::uint64_t seed = 42;
    std::size_t limit = 0;       // 0: all training examples
    std::size_t test_limit = 0;  // 0: all test examples
    std::size_t validation = 0;  // --validation: the last N training examples held out
    std::optional<std::filesystem::path> plot;  // --plot: draw the --metrics file after training
    std::string cost;                  // --cost: "" (the network's first in the menu), quadratic, cross-entropy, log-likelihood
    std::string init = "default";      // --init: default (the network's), normal, network2, glorot, he, pytorch
    std::string optimizer = "sgd";     // --optimizer: sgd, momentum, nesterov, adam
    double momentum = 0.9;             // --momentum: μ of momentum and nesterov
    double lambda = 0.0;               // --lambda: L2 regularisation
    std::string net = "784-30-10";   // the default, a canonical spec (spec.hpp): menu.hpp's, or compiled on first use
    std::string dtype = "float";     // --dtype: float or double (double is compiled on first use)
    std::string grad = "autodiff";   // the default; one of engine_names() (train.cpp)
    bool net_given = false;          // --net was on the command line (else --resume may choose it)
    std::optional<std::filesystem::path> metrics;
    MetricsFormat metrics_format = MetricsFormat::json_lines;
    std::optional<std::filesystem::path> save;    // --save: a checkpoint after every epoch
    std::optional<std::filesystem::path> resume;  // --resume: continue from this checkpoint
    bool quiet = false;
    std::optional<std::size_t> average_every;  // --average-every H: local SGD (0: "epoch"); none: gradients summed
    std::size_t threads = 1;           // --threads: of data-parallel training and evaluation
    std::vector<std::string> command;  // the arguments after "typegrad" (to say how to resume)
    // a network that reads text (seqT): its vocabulary, bound before the network was compiled
    // (the training file's characters, or the --resume checkpoint's)
    bool text = false;
    std::u32string vocabulary;

    // (defined in options.cpp: a copy of these options is 5 KB of code, compiled once in the
    // executable instead of in every network's plugin)
    TrainOptions();
    TrainOptions(const TrainOptions&);
    TrainOptions(TrainOptions&&) noexcept;
    TrainOptions& operator=(const TrainOptions&);
    TrainOptions& operator=(TrainOptions&&) noexcept;
    ~TrainOptions();
};

/// Sets o's schedule from "constant", "step:EVERY:FACTOR" or "halve:K[:N]"; throws UsageError
/// naming --schedule.
void parse_schedule(const std::string& text, TrainOptions& o);

/// The options of `typegrad train` as given: CLI11 (main.cpp) fills these in as strings, and
/// validate() converts them.
struct TrainArgs {
    std::string data;
    bool data_given = false;  // --data was on the command line (else $TYPEGRAD_DATA is read)
    std::string test;
    bool test_given = false;
    std::string target = "last";
    bool target_given = false;
    std::string save_best;
    bool save_best_given = false;
    std::string epochs = "30";
    std::string batch = "10";
    std::string eta = "3.0";  // checked as given; replaced by the network's default unless eta_given
    bool eta_given = false;
    std::string schedule = "constant";
    bool schedule_given = false;
    std::string seed = "42";
    std::string limit = "0";
    std::string test_limit = "0";
    std::string validation = "0";
    std::string patience;
    bool patience_given = false;
    std::string training_accuracy;  // "" if not given
    std::string plot;
    bool plot_given = false;
    std::string cost;
    std::string init = "default";
    std::string optimizer = "sgd";
    std::string momentum = "0.9";
    std::string lambda = "0";
    std::string net = TrainOptions{}.net;
    std::string dtype = TrainOptions{}.dtype;
    std::string grad = TrainOptions{}.grad;
    bool net_given = false;
    std::string metrics;
    bool metrics_given = false;
    std::string save;
    bool save_given = false;
    std::string resume;
    bool resume_given = false;
    bool quiet = false;
    std::string average_every;
    bool average_every_given = false;
    std::string threads = "1";
    std::vector<std::string> command;  // the arguments after "typegrad", as given
};

/// The options, validated, with $TYPEGRAD_DATA read if --data was not given; throws UsageError
/// naming the first bad option.
[[nodiscard]] TrainOptions validate(const TrainArgs& args);

/// The validated options of `typegrad eval`.
struct EvalOptions {
    std::filesystem::path model;                    // --model: the checkpoint
    std::optional<std::filesystem::path> data_dir;  // none: the built-in synthetic digits; a file: the test set
    bool data_from_environment = false;
    std::string target = "last";  // --target COLUMN of a CSV or .npy table
    bool target_given = false;
    std::uint64_t seed = 42;     // of the synthetic digits
    std::size_t test_limit = 0;  // 0: all test examples
    std::size_t threads = 1;     // --threads
};

/// The options of `typegrad eval` as given.
struct EvalArgs {
    std::string model;
    std::string data;
    bool data_given = false;
    std::string target = "last";
    bool target_given = false;
    std::string seed = "42";
    std::string test_limit = "0";
    std::string threads = "1";
};

/// The options of `typegrad eval`, validated like validate()'s.
[[nodiscard]] EvalOptions validate(const EvalArgs& args);

/// The options of `typegrad generate` as given (predict.hpp has the validated GenerateOptions).
struct GenerateArgs {
    std::string model;
    std::string prompt;
    std::string tokens = "100";
    std::string temperature = "1";
    std::string seed = "42";
};

struct GenerateOptions;
/// The options of `typegrad generate`, validated like validate()'s.
[[nodiscard]] GenerateOptions validate(const GenerateArgs& args);

/// Whether a and b name the same file: the same file if both exist, else the same absolute,
/// normalised path.
[[nodiscard]] bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace typegrad::cli
