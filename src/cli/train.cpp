// `typegrad train`: the menus of network shapes and gradient engines, and the training driver,
// a template over both. This is the only file that instantiates networks and trainers.
#include "train.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "report.hpp"
#include "text.hpp"
#include "typegrad/data/dataset.hpp"
#include "menu.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/sgd.hpp"

namespace typegrad::cli {
namespace {

/// A string usable as a template argument: engine<"reference", ...>.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }  // NOLINT: implicit on purpose
    [[nodiscard]] constexpr std::string_view view() const { return {chars, N - 1}; }
};

/// A gradient engine on the --grad menu: its name and the engine template (instantiated with
/// the network type), as Trainer<M, Engine> expects it.
template <fixed_string Name, template <AnyModel> class Engine>
struct engine {
    static constexpr std::string_view name = Name.view();
    template <class M>
    using type = Engine<M>;
};

// ---------------------------------------------------------------------------------------------
// The menus. Adding a network shape or an engine is one line (put it first in the list); the
// defaults are named in options.hpp (TrainOptions) and checked against these lists at startup.

/// --net: the compiled-in network shapes (menu.hpp), in float.
using float_networks = cli::networks<float>;

/// --grad: the gradient engines, each a template over the model type with
/// operator()(net, x, y, Gradients&, Accumulate), like train::ReferenceEngine.
using engines = type_list<                        //
    engine<"autodiff", train::AutodiffEngine>,    // derived from the network's type (default)
    engine<"reference", train::ReferenceEngine>>;  // the article's backprop, by hand

// ---------------------------------------------------------------------------------------------

template <class... Es>
std::vector<std::string> engine_names_of(type_list<Es...>) {
    return {std::string(Es::name)...};
}

/// The data of a run, loaded, cut to --limit/--test-limit and checked against the network.
struct Prepared {
    data::Split split;
    std::string description;  // for the header line
};

Prepared prepare(const TrainOptions& o, std::size_t n_in, std::size_t n_out) {
    Prepared p;
    std::string what;
    if (o.data_dir) {
        what = o.data_dir->string();
        try {
            p.split = data::load_idx_directory(*o.data_dir);
        } catch (const data::DataError& e) {
            if (!o.data_from_environment) throw;
            throw data::DataError(cat(e.what(), " (directory from $TYPEGRAD_DATA)"));
        }
        p.description = cat("IDX data from ", o.data_from_environment ? "$TYPEGRAD_DATA=" : "", what);
    } else {
        // The synthetic digits are generated one by one from (seed, index), so the first n of
        // 60000 are the same as 60000 cut to n: generate only what is used.
        constexpr std::size_t train_count = 60000;
        constexpr std::size_t test_count = 10000;
        const std::size_t n_train = o.limit ? std::min(o.limit, train_count) : train_count;
        const std::size_t n_test = o.test_limit ? std::min(o.test_limit, test_count) : test_count;
        std::fprintf(stderr, "data: synthetic digits (%zu train, %zu test); pass --data DIR for MNIST\n", n_train,
                     n_test);
        what = "synthetic digits";
        p.split = data::synthetic_split(n_train, n_test, o.seed);
        p.description = "synthetic digits";
    }
    if (o.limit && o.limit < p.split.train.size()) p.split.train = p.split.train.head(o.limit);
    if (o.test_limit && o.test_limit < p.split.test.size()) p.split.test = p.split.test.head(o.test_limit);

    if (p.split.train.size() == 0) throw data::DataError(cat(what, ": the training set is empty"));
    if (p.split.test.size() == 0) throw data::DataError(cat(what, ": the test set is empty"));
    data::check_fits(p.split.train, n_in, n_out, cat(what, " (training set)"));
    data::check_fits(p.split.test, n_in, n_out, cat(what, " (test set)"));
    if (o.batch > p.split.train.size())
        throw UsageError(cat("--batch: ", std::to_string(o.batch), " is larger than the number of training examples (",
                             std::to_string(p.split.train.size()), ")"));
    return p;
}

/// "typegrad train: 784-30-10 sigmoid, quadratic cost, float, autodiff gradient, batch 10, eta 3, 30 epochs, seed 42,
/// 60000 train / 10000 test (synthetic digits)"
void print_header(const TrainOptions& o, const Prepared& p, const std::string& shape, std::string_view cost,
                  const char* type) {
    std::printf("typegrad train: %s sigmoid, %s cost, %s, %s gradient, batch %zu, eta %g, %zu epoch%s, seed %llu, "
                "%zu train / %zu test (%s)\n",
                shape.c_str(), std::string(cost).c_str(), type, o.grad.c_str(), o.batch, o.eta, o.epochs,
                o.epochs == 1 ? "" : "s", static_cast<unsigned long long>(o.seed), p.split.train.size(),
                p.split.test.size(), p.description.c_str());
    std::fflush(stdout);
}

/// The training run for network M with gradient engine Engine.
template <class M, class Engine>
int drive(const TrainOptions& o) {
    // Everything that can fail before training is checked before the metrics file is touched.
    const Prepared p = prepare(o, M::input_width, M::output_width);
    std::optional<MetricsWriter> metrics;
    if (o.metrics) metrics.emplace(*o.metrics, o.metrics_format);

    print_header(o, p, shape_name<M>(), M::cost_type::name,
                 std::is_same_v<typename M::value_type, float> ? "float" : "double");

    M net{o.seed};
    train::Options options;
    options.epochs = o.epochs;
    options.batch = o.batch;
    options.eta = o.eta;
    options.seed = o.seed;
    train::Trainer<M, Engine> trainer(net, options);

    ProgressBar bar(!o.quiet && ProgressBar::stderr_is_terminal(), o.epochs, o.batch);
    EpochRecord best;
    trainer.run(
        p.split.train, p.split.test,
        [&](const train::EpochStats& s) {
            const EpochRecord r{s.epoch, s.epochs, s.correct, s.tested, s.accuracy, s.seconds, s.examples_per_second};
            bar.clear();
            std::printf("%s\n", epoch_line(r).c_str());
            std::fflush(stdout);
            if (metrics) metrics->add(r);
            if (best.epoch == 0 || r.accuracy > best.accuracy) best = r;
        },
        [&](std::size_t done, std::size_t total) { bar.on_batch(done, total); });
    bar.clear();
    std::printf("best test accuracy %.4f at epoch %zu\n", best.accuracy, best.epoch);
    std::fflush(stdout);
    return exit_ok;
}

template <class M, class... Es>
int run_with_engine(const TrainOptions& o, type_list<Es...>) {
    int rc = -1;
    const bool found = ((o.grad == Es::name ? (rc = drive<M, typename Es::template type<M>>(o), true) : false) || ...);
    if (!found) throw UsageError(cat("--grad: unknown engine '", o.grad, "'; the engines are ", join(engine_names())));
    return rc;
}

template <class... Ms>
int run_with_network(const TrainOptions& o, type_list<Ms...>) {
    int rc = -1;
    const bool found = ((o.net == shape_name<Ms>() ? (rc = run_with_engine<Ms>(o, engines{}), true) : false) || ...);
    if (!found)
        throw UsageError(
            cat("--net: unknown network shape '", o.net, "'; the compiled-in shapes are ", join(network_names())));
    return rc;
}

}  // namespace

const std::vector<std::string>& network_names() {
    static const std::vector<std::string> names = shape_names_of(float_networks{});
    return names;
}

const std::vector<std::string>& engine_names() {
    static const std::vector<std::string> names = engine_names_of(engines{});
    return names;
}

int run_train(const TrainOptions& options) { return run_with_network(options, float_networks{}); }

}  // namespace typegrad::cli
