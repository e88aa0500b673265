// `typegrad train`'s options: validation of what CLI11 parsed (registration is in main.cpp).
//
// Numbers are taken as strings and converted here, so every bad value gets a message that
// names the option and says what was expected, and "-3", "1e3", "12abc" or "inf" never slip
// through a lenient conversion.
#include "options.hpp"
#include "predict.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>
#include <system_error>

#include "derive.hpp"
#include "text.hpp"
#include "typegrad/util/thread_pool.hpp"

namespace typegrad::cli {

TrainOptions::TrainOptions() = default;
TrainOptions::TrainOptions(const TrainOptions&) = default;
TrainOptions::TrainOptions(TrainOptions&&) noexcept = default;
TrainOptions& TrainOptions::operator=(const TrainOptions&) = default;
TrainOptions& TrainOptions::operator=(TrainOptions&&) noexcept = default;
TrainOptions::~TrainOptions() = default;
namespace {

[[noreturn]] void bad(const std::string& option, const std::string& what) { throw UsageError(cat(option, ": ", what)); }

/// A non-negative decimal integer, digits only. allow_zero: whether 0 is accepted.
std::uint64_t parse_unsigned(const std::string& option, const std::string& text, bool allow_zero) {
    const std::string expected =
        cat("expected ", allow_zero ? "a non-negative integer" : "a positive integer", ", got '", text, "'");
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
        bad(option, expected);
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) bad(option, cat("'", text, "' is too large"));
    if (ec != std::errc{} || end != text.data() + text.size()) bad(option, expected);
    if (!allow_zero && value == 0) bad(option, expected);
    return value;
}

std::size_t parse_size(const std::string& option, const std::string& text, bool allow_zero) {
    const std::uint64_t v = parse_unsigned(option, text, allow_zero);
    if (v > std::numeric_limits<std::size_t>::max()) bad(option, cat("'", text, "' is too large"));
    return static_cast<std::size_t>(v);
}

/// --threads: 1 to ThreadPool::max_threads (a number past it is more likely a typo than a
/// machine). No 0 for "all cores": a run's result depends on its number of threads, so the
/// command says it.
std::size_t parse_threads(const std::string& text) {
    constexpr std::size_t most = ThreadPool::max_threads;
    const std::string expected = cat("expected a positive integer no larger than ", std::to_string(most), ", got '", text, "'");
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
        bad("--threads", expected);
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > most) bad("--threads", expected);
    return static_cast<std::size_t>(value);
}

/// A finite number > 0 in plain decimal or scientific notation ("3", "0.5", "1e-1"), as a
/// double. Too large for a double is "not a finite number"; too small "underflows" (1e-400 is
/// not infinite, it is below what a double holds), and so does a subnormal (1e-320: 5 digits of
/// precision, a range of 309-digit numbers).
double parse_positive_real(const std::string& option, const std::string& text) {
    const std::string expected = cat("expected a positive number, got '", text, "'");
    const bool number_chars = !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isdigit(c) != 0 || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    });
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool named = lower == "nan" || lower == "inf" || lower == "infinity" || lower == "+inf" || lower == "-inf";
    if (!number_chars && !named) bad(option, expected);
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    const bool range = errno == ERANGE;
    if (end != text.c_str() + text.size()) bad(option, expected);
    if (!std::isfinite(value)) bad(option, cat("'", text, "' is not a finite number"));
    if (text[0] == '-' || value < 0.0 || (value == 0.0 && !range)) bad(option, cat("must be greater than 0, got '", text, "'"));
    if (range || value < std::numeric_limits<double>::min())
        bad(option, cat("'", text, "' underflows: it is below the smallest normal double, 2.2e-308",
                        value == 0.0 ? " (it rounds to 0)" : ""));
    return value;
}

/// The same number in the network's element type T must still be a positive number: a learning
/// rate that rounds to 0 in float trains nothing.
template <class T>
void check_positive_in(const std::string& option, const std::string& text, double value, const char* type) {
    if (static_cast<T>(value) == T(0))
        bad(option, cat("'", text, "' rounds to 0 in ", type, ", the network's element type: nothing would train"));
}

bool ends_with_ignoring_case(const std::string& s, const std::string& suffix) {
    if (s.size() < suffix.size()) return false;
    const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
    return std::equal(suffix.begin(), suffix.end(), s.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                      [&](char a, char b) { return lower(a) == lower(b); });
}

/// --data DIR, else $TYPEGRAD_DATA if set and not empty, else nothing (the synthetic digits).
void data_option(bool given, const std::string& value, std::optional<std::filesystem::path>& dir, bool& from_environment) {
    if (given) {
        if (value.empty()) bad("--data", "the directory or file name is empty");
        dir = std::filesystem::path(value);
    } else if (const char* env = std::getenv("TYPEGRAD_DATA"); env != nullptr && *env != '\0') {
        dir = std::filesystem::path(env);
        from_environment = true;
    }
}

/// A file name given to `option`: not empty, not a directory name ("out/").
std::filesystem::path file_option(const std::string& option, const std::string& value) {
    if (value.empty()) bad(option, "the file name is empty");
    const std::filesystem::path p(value);
    if (!p.has_filename()) bad(option, cat("'", value, "' names a directory, not a file"));
    return p;
}

}  // namespace

/// --schedule: "constant", "step:EVERY:FACTOR" (η × FACTOR every EVERY epochs) or "halve:K[:N]"
/// (η halved after K epochs without improvement of the validation accuracy, training stopped at
/// the N-th halving; N = 7 by default, Nielsen's η/128).
void parse_schedule(const std::string& text, TrainOptions& o) {
    o.schedule = text;
    o.decay_every = 0;
    o.decay_factor = 1.0;
    o.halve_after = 0;
    o.max_halvings = 7;
    if (text == "constant") return;
    const auto fail = [&] {
        bad("--schedule", cat("expected 'constant', 'step:EVERY:FACTOR' (η times FACTOR every EVERY epochs, e.g. "
                              "step:4:0.2) or 'halve:K[:N]' (η halved after K epochs without improvement of the "
                              "validation accuracy, stop at the N-th halving, e.g. halve:10:7), got '", text, "'"));
    };
    const auto count = [&](const std::string& digits, std::size_t& out) {
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
            fail();
        char* end = nullptr;
        errno = 0;
        const unsigned long long k = std::strtoull(digits.c_str(), &end, 10);
        if (errno != 0 || *end != '\0' || k == 0 || k > std::numeric_limits<std::size_t>::max()) fail();
        out = static_cast<std::size_t>(k);
    };
    if (text.rfind("halve:", 0) == 0) {
        const std::string rest = text.substr(6);
        const auto colon = rest.find(':');
        count(rest.substr(0, colon), o.halve_after);
        if (colon != std::string::npos) {
            count(rest.substr(colon + 1), o.max_halvings);
            if (o.max_halvings > 64)
                bad("--schedule", cat("'", text, "': at most 64 halvings (η/2^64 trains nothing), got ",
                                      std::to_string(o.max_halvings)));
        }
        return;
    }
    if (text.rfind("step:", 0) != 0) fail();
    const std::string rest = text.substr(5);
    const auto colon = rest.find(':');
    if (colon == std::string::npos) fail();
    const std::string every = rest.substr(0, colon), factor = rest.substr(colon + 1);
    if (factor.empty()) fail();
    std::size_t k = 0;
    count(every, k);
    char* end = nullptr;
    errno = 0;
    const double f = std::strtod(factor.c_str(), &end);
    if (errno != 0 || *end != '\0' || !(f > 0.0) || !std::isfinite(f)) fail();
    o.decay_every = k;
    o.decay_factor = f;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ec;
    if (std::filesystem::equivalent(a, b, ec)) return true;
    const auto norm = [](const std::filesystem::path& p) {
        std::error_code e;
        const auto abs = std::filesystem::absolute(p, e);
        return (e ? p : abs).lexically_normal();
    };
    return norm(a) == norm(b);
}

TrainOptions validate(const TrainArgs& raw) {
    TrainOptions o;
    data_option(raw.data_given, raw.data, o.data_dir, o.data_from_environment);
    if (raw.test_given) {
        o.test_file = file_option("--test", raw.test);
        if (!o.data_dir) bad("--test", "names the test set of a --data FILE: give the training set with --data FILE");
    }
    if (raw.target_given && raw.target.empty()) bad("--target", "the column is empty (a name, an index, first or last)");
    o.target = raw.target;
    o.target_given = raw.target_given;
    o.epochs = parse_size("--epochs", raw.epochs, false);
    o.batch = parse_size("--batch", raw.batch, false);
    o.eta = parse_positive_real("--eta", raw.eta);
    o.dtype = raw.dtype;
    // in float networks, eta and the step eta/m the trainer applies must be positive floats too
    if (o.dtype == "float") {
        check_positive_in<float>("--eta", raw.eta, o.eta, "float");
        if (static_cast<float>(o.eta / static_cast<double>(o.batch)) == 0.0f)
            bad("--eta", cat("'", raw.eta, "' divided by the batch size ", std::to_string(o.batch),
                             " rounds to 0 in float (the network's element type): nothing would train"));
    }
    parse_schedule(raw.schedule, o);
    o.schedule_given = raw.schedule_given;
    o.seed = parse_unsigned("--seed", raw.seed, true);
    o.limit = parse_size("--limit", raw.limit, true);
    o.test_limit = parse_size("--test-limit", raw.test_limit, true);
    o.validation = parse_size("--validation", raw.validation, true);
    // The validation accuracy decides halvings and stopping: both need a validation set.
    if (o.halve_after > 0 && o.validation == 0)
        bad("--schedule", cat("'", raw.schedule, "' halves eta when the validation accuracy stops improving: it needs "
                              "--validation N (e.g. --validation 10000)"));
    if (raw.patience_given) {
        o.patience = parse_size("--patience", raw.patience, false);
        if (o.validation == 0)
            bad("--patience", "stops when the validation accuracy stops improving: it needs --validation N (e.g. "
                              "--validation 10000)");
    }
    o.training_accuracy = raw.training_accuracy;
    if (!o.training_accuracy.empty() && o.training_accuracy != "running" && o.training_accuracy != "eval")
        bad("--training-accuracy", cat("expected 'running' (counted while training, free) or 'eval' (the "
                                       "network evaluated on the training set after every epoch), got '",
                                       raw.training_accuracy, "'"));
    if (raw.plot_given) {
        o.plot = file_option("--plot", raw.plot);
        const std::string ext = o.plot->extension().string();
        if (ext != ".png" && ext != ".svg") bad("--plot", cat("'", raw.plot, "' must end in .png or .svg"));
        if (!raw.metrics_given) bad("--plot", "needs --metrics FILE (the picture is drawn from it)");
    }
    o.cost = raw.cost;
    o.init = raw.init;
    o.optimizer = raw.optimizer;
    o.momentum = parse_positive_real("--momentum", raw.momentum);
    if (!(o.momentum < 1.0)) bad("--momentum", cat("must be less than 1, got '", raw.momentum, "'"));
    {
        char* end = nullptr;
        errno = 0;
        const double l = raw.lambda.empty() ? -1.0 : std::strtod(raw.lambda.c_str(), &end);
        if (raw.lambda.empty() || errno != 0 || *end != '\0' || !(l >= 0.0) || !std::isfinite(l) || std::isspace(static_cast<unsigned char>(raw.lambda[0])))
            bad("--lambda", cat("expected a finite number >= 0, got '", raw.lambda, "'"));
        o.lambda = l;
    }
    o.net = raw.net;
    o.net_given = raw.net_given;
    o.eta_given = raw.eta_given;
    o.grad = raw.grad;
    if (raw.metrics_given) {
        o.metrics = file_option("--metrics", raw.metrics);
        o.metrics_format =
            ends_with_ignoring_case(raw.metrics, ".csv") ? MetricsFormat::csv : MetricsFormat::json_lines;
    }
    if (raw.average_every_given) {  // whether this is an MPI job is checked when training starts
        if (raw.average_every == "epoch") o.average_every = 0;
        else if (raw.average_every == "0") bad("--average-every", "expected a positive number of steps or 'epoch', got '0'");
        else o.average_every = parse_size("--average-every", raw.average_every, false);
    }
    if (raw.save_given) o.save = file_option("--save", raw.save);
    if (raw.resume_given) o.resume = file_option("--resume", raw.resume);
    if (raw.save_best_given) {
        o.save_best = file_option("--save-best", raw.save_best);
        if (o.validation == 0)
            bad("--save-best", "keeps the epoch with the best validation result: it needs --validation N (e.g. "
                               "--validation 10000)");
        if (o.save && same_file(*o.save_best, *o.save)) bad("--save-best", cat("'", raw.save_best, "' is also the --save file"));
        if (o.resume && same_file(*o.save_best, *o.resume))
            bad("--save-best", cat("'", raw.save_best, "' is also the --resume file"));
        if (o.metrics && same_file(*o.save_best, *o.metrics))
            bad("--save-best", cat("'", raw.save_best, "' is also the --metrics file"));
    }
    // The metrics file is text: it must not replace a checkpoint.
    if (o.metrics && o.save && same_file(*o.metrics, *o.save))
        bad("--save", cat("'", raw.save, "' is also the --metrics file"));
    if (o.metrics && o.resume && same_file(*o.metrics, *o.resume))
        bad("--resume", cat("'", raw.resume, "' is also the --metrics file"));
    o.quiet = raw.quiet;
    o.threads = parse_threads(raw.threads);
    o.command = raw.command;
    return o;
}

EvalOptions validate(const EvalArgs& raw) {
    EvalOptions o;
    o.model = file_option("--model", raw.model);
    data_option(raw.data_given, raw.data, o.data_dir, o.data_from_environment);
    if (raw.target_given && raw.target.empty()) bad("--target", "the column is empty (a name, an index, first or last)");
    o.target = raw.target;
    o.target_given = raw.target_given;
    o.seed = parse_unsigned("--seed", raw.seed, true);
    o.test_limit = parse_size("--test-limit", raw.test_limit, true);
    o.threads = parse_threads(raw.threads);
    return o;
}

}  // namespace typegrad::cli

namespace typegrad::cli {

GradcheckOptions validate(const GradcheckArgs& raw) {
    GradcheckOptions o;
    o.net = raw.net;
    o.cost = raw.cost;
    if (raw.dtype != "double")
        bad("--dtype", cat("gradcheck runs in double only, not '", raw.dtype,
                           "': in float, rounding (about 1e-7 of J) is larger than the error of the finite differences it checks"));
    o.seed = parse_unsigned("--seed", raw.seed, true);
    o.samples = parse_size("--samples", raw.samples, true);
    o.step = parse_positive_real("--step", raw.step);
    if (!(o.step < 1.0)) bad("--step", cat("must be less than 1, got '", raw.step, "'"));
    return o;
}

GenerateOptions validate(const GenerateArgs& raw) {
    GenerateOptions o;
    o.model = file_option("--model", raw.model);
    o.prompt = raw.prompt;
    o.tokens = parse_size("--tokens", raw.tokens, false);
    if (o.tokens > 1000000) bad("--tokens", cat("at most 1000000 characters, got '", raw.tokens, "'"));
    const bool zero = raw.temperature.find_first_not_of("0.") == std::string::npos && raw.temperature.find('0') != std::string::npos &&
                      std::count(raw.temperature.begin(), raw.temperature.end(), '.') <= 1;
    o.temperature = zero ? 0.0 : parse_positive_real("--temperature", raw.temperature);
    if (o.temperature > 100) bad("--temperature", cat("at most 100 (0: greedy), got '", raw.temperature, "'"));
    o.seed = parse_unsigned("--seed", raw.seed, true);
    return o;
}

}  // namespace typegrad::cli
