// The training driver of `typegrad train`, a template over the network and the gradient engine,
// shared by the translation units that instantiate it: train.cpp (the article's MLPs) and
// train_lenet.cpp (LeNet-5), so that each network family compiles on its own core.
#pragma once

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "checkpoints.hpp"
#include "data.hpp"
#include "distributed.hpp"
#include "interrupt.hpp"
#include "outputs.hpp"
#include "menu.hpp"
#include "report.hpp"
#include "text.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/sgd.hpp"
#include "train.hpp"

namespace typegrad::cli {

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
/// The autodiff engine's chunk: the batch a network with batch norm was compiled for (its
/// generated entry's whole_batch, jit.cpp), else 10.
template <class M>
constexpr std::size_t autodiff_chunk() {
    if constexpr (requires { entry_of_t<M>::whole_batch; }) return entry_of_t<M>::whole_batch;
    else return 10;
}
template <AnyModel M>
using CliAutodiffEngine = train::AutodiffEngine<M, autodiff_chunk<M>()>;

using engines = type_list<                        //
    engine<"autodiff", CliAutodiffEngine>,        // derived from the network's type (default)
    engine<"reference", train::ReferenceEngine>>;  // the article's backprop, by hand

// ---------------------------------------------------------------------------------------------

template <class... Es>
std::vector<std::string> engine_names_of(type_list<Es...>) {
    return {std::string(Es::name)...};
}

/// The shortest text that reads back as the same double: 3, 0.1, 1e+40.
inline std::string format_real(double v) {
    char text[64];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, v);
    return ec == std::errc{} ? std::string(text, end) : std::string();
}

/// --init as a scheme ("default": the network's own, init::Scheme::automatic).
inline init::Scheme init_scheme(const std::string& name) {
    if (name == "normal") return init::Scheme::article;
    if (name == "network2") return init::Scheme::network2;
    if (name == "glorot") return init::Scheme::glorot;
    if (name == "he") return init::Scheme::he;
    if (name == "pytorch") return init::Scheme::pytorch;
    return init::Scheme::automatic;
}

/// --optimizer with --momentum.
inline train::AnyOptimizer make_optimizer(const TrainOptions& o) {
    if (o.optimizer == "adam") return train::Adam{};
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") {
        train::Momentum m;
        m.mu = o.momentum;
        m.nesterov = o.optimizer == "nesterov";
        return m;
    }
    return train::Sgd{};
}

/// ", nesterov 0.9, lambda 5, init network2": what differs from the article's SGD, for the
/// header (and, without the initialisation, for the training note).
inline std::string optimizer_text(const TrainOptions& o, bool with_init) {
    std::string s;
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") s += cat(", ", o.optimizer, " ", format_real(o.momentum));
    else if (o.optimizer != "sgd") s += cat(", ", o.optimizer);
    if (o.lambda != 0) s += cat(", lambda ", format_real(o.lambda));
    if (with_init && o.init != "default") s += cat(", init ", o.init);
    return s;
}

/// The data of a run, loaded, cut to --limit/--test-limit, the last --validation examples of
/// the training set held out, and checked against the network.
inline LoadedData prepare(const TrainOptions& o, std::size_t n_in, std::size_t n_out, data::Dataset& validation) {
    LoadedData p = load_data({o.data_dir, o.data_from_environment, o.seed, o.test_file, o.target, o.target_given}, o.limit,
                             o.test_limit, n_in, n_out, true);
    if (o.validation > 0) {
        if (o.validation >= p.split.train.size())
            throw UsageError(cat("--validation: ", std::to_string(o.validation), " held-out examples leave none of the ",
                                 std::to_string(p.split.train.size()), " training examples to train on"));
        validation = p.split.train.tail(o.validation);
        p.split.train = p.split.train.head(p.split.train.size() - o.validation);
    }
    if (o.batch > p.split.train.size())
        throw UsageError(cat("--batch: ", std::to_string(o.batch), " is larger than the number of training examples (",
                             std::to_string(p.split.train.size()), ")"));
    return p;
}

/// "typegrad train: 784-30-10 sigmoid, quadratic cost, float, autodiff gradient, batch 10, eta 3, 30 epochs, seed 42,
/// 60000 train / 10000 test (synthetic digits)", then "23860 parameters; data: 60000 examples of 28x28 bytes, class
/// labels"
inline void print_header(const TrainOptions& o, const LoadedData& p, const std::string& network, std::string_view cost,
                  const char* type, std::size_t parameters) {
    std::string schedule = o.schedule == "constant" ? std::string() : cat(" (schedule ", o.schedule, ")");
    if (o.patience > 0) schedule += cat(", patience ", std::to_string(o.patience));
    const std::string threads = o.threads == 1 ? std::string() : cat(", ", std::to_string(o.threads), " threads");
    say(stdout, "typegrad train: %s, %s cost, %s, %s gradient, batch %zu%s, eta %g%s%s, %zu epoch%s, seed %llu, "
                "%zu train%s / %zu test (%s)",
                network.c_str(), std::string(cost).c_str(), type, o.grad.c_str(), o.batch, threads.c_str(), o.eta,
                schedule.c_str(),
                optimizer_text(o, true).c_str(), o.epochs,
                o.epochs == 1 ? "" : "s", static_cast<unsigned long long>(o.seed), p.split.train.size(),
                o.validation ? cat(" / ", std::to_string(o.validation), " validation").c_str() : "", p.split.test.size(),
                p.description.c_str());
    say(stdout, "%zu parameters; data: %s%s", parameters, p.split.train.describe().c_str(),
        p.split.train.task == data::Task::regression ? " (regression: test mse and mae are over every output)" : "");
    (void)flush_stdout();
}

/// What a checkpoint records about how it was trained: everything besides the network and the
/// trainer's state that decides the weights of the next epochs (not --epochs, which only says
/// when to stop). A resumed run with the same text continues exactly as an uninterrupted one.
/// The data is named by what it is, not where it is: a fingerprint of the training examples used
/// (the same files through another path, or gzip instead of plain, give the same note), and no
/// path of this machine goes into the file.
inline std::string training_note(const TrainOptions& o, const data::Dataset& train) {
    const std::string eta_text = format_real(o.eta);
    const std::size_t n_train = train.size();
    std::string data;
    if (o.test_file) {
        data = cat("a data file (content ", data::content_fingerprint(train), ")");
    } else if (o.data_dir) {
        data = cat("IDX data (content ", data::content_fingerprint(train), ")");
    } else {
        data = cat("synthetic digits (seed ", std::to_string(o.seed), ")");
    }
    // the schedule only when there is one, so that notes of constant-eta runs read as before
    const std::string schedule = o.schedule == "constant" ? std::string() : cat(", schedule ", o.schedule);
    // the threads only when not 1: they change the last bits of every step (and notes of one
    // thread read as before)
    const std::string threads = o.threads == 1 ? std::string() : cat(", ", std::to_string(o.threads), " threads");
    return cat("batch ", std::to_string(o.batch), threads, ", eta ", eta_text, schedule, optimizer_text(o, false), ", ",
               o.grad, " gradient, ", std::to_string(n_train), " training examples of ", data);
}

/// "eta 1e+40 instead of eta 3": the items of two training notes that differ (the whole notes
/// if they do not have the same items).
inline std::string note_difference(const std::string& before, const std::string& now) {
    const auto items = [](const std::string& s) {
        std::vector<std::string> v;
        std::size_t from = 0;
        for (std::size_t at; (at = s.find(", ", from)) != std::string::npos; from = at + 2)
            v.push_back(s.substr(from, at - from));
        v.push_back(s.substr(from));
        return v;
    };
    const auto a = items(before), b = items(now);
    if (a.size() != b.size()) return cat(now, " instead of ", before);
    std::vector<std::string> changes;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) changes.push_back(cat(b[i], " instead of ", a[i]));
    return join(changes);
}

/// A command line as a shell would need it: arguments with anything but safe characters in
/// single quotes.
inline std::string shell_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        const bool safe = !w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 || std::string_view("-_./=:,+@%").find(static_cast<char>(c)) != std::string_view::npos;
        });
        if (safe) {
            out += w;
            continue;
        }
        out += '\'';
        for (const char c : w) {
            if (c == '\'') out += "'\\''";
            else out += c;
        }
        out += '\'';
    }
    return out;
}

/// How to continue an interrupted run: the same command with --resume FILE (the --save file)
/// instead of any --resume it had.
inline std::string resume_command(const TrainOptions& o) {
    std::vector<std::string> words{"typegrad"};
    for (std::size_t i = 0; i < o.command.size(); ++i) {
        const std::string& a = o.command[i];
        if (a == "--resume") {
            ++i;  // and its value
            continue;
        }
        if (a.rfind("--resume=", 0) == 0) continue;
        words.push_back(a);
    }
    words.push_back("--resume");
    words.push_back(o.save->string());
    // under mpirun the run continues under mpirun, with as many processes
    const int p = processes().size();
    return (p > 1 ? cat("mpirun -np ", p, " ") : std::string()) + shell_words(words);
}

/// Standard output must take what is printed: a closed or full stdout is an error, not a
/// silent success.
inline void check_stdout() {
    if (!flush_stdout()) throw OutputError(cat("standard output: cannot write: ", std::strerror(stdout_error())));
}

/// The --resume checkpoint, parsed; errors name the option.
inline io::CheckpointImage read_resume(const std::filesystem::path& file) {
    try {
        return io::read_checkpoint_file(file);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--resume ", e.what()));
    }
}

/// Why training stopped before --epochs: "no improvement of validation accuracy for 5 epochs
/// (best 0.9612 at epoch 12)" (a regression: "of validation mse", whose best is −best_accuracy).
inline std::string stop_text(train::StopReason why, const train::MonitorState& m, double eta0, bool regression = false) {
    char accuracy[32];
    if (regression) std::snprintf(accuracy, sizeof accuracy, "%.6g", -m.best_accuracy);
    else std::snprintf(accuracy, sizeof accuracy, "%.4f", m.best_accuracy);
    const std::string best = cat("(best ", accuracy, " at epoch ", std::to_string(m.best_epoch), ")");
    const char* metric = regression ? "validation mse" : "validation accuracy";
    if (why == train::StopReason::patience)
        return cat("no improvement of ", metric, " for ", std::to_string(m.epochs_without_improvement), " epoch",
                   m.epochs_without_improvement == 1 ? "" : "s", " ", best);
    return cat("eta halved ", std::to_string(m.halvings), " time", m.halvings == 1 ? "" : "s", ", to ",
               format_real(eta0 * m.eta_scale()), ", on plateaus of the ", metric, " ", best);
}

/// The result line of a run. With a validation set, the epoch chosen on it and that epoch's test
/// result: "best validation accuracy 0.9712 at epoch 12: test accuracy 0.9690 (9690/10000)";
/// without one, the article's "best test accuracy 0.9512 at epoch 27". A regression reports
/// mse (lower is better) and mae instead.
inline std::string best_text(const EpochRecord& b) {
    char buf[256];
    if (b.validated > 0) {
        if (b.regression)
            std::snprintf(buf, sizeof buf, "best validation mse %.6g at epoch %zu: test mse %.6g mae %.6g", b.validation_mse,
                          b.epoch, b.test_mse, b.test_mae);
        else
            std::snprintf(buf, sizeof buf, "best validation accuracy %.4f at epoch %zu: test accuracy %.4f (%zu/%zu)",
                          b.validation_accuracy, b.epoch, b.accuracy, b.correct, b.tested);
    } else if (b.regression) {
        std::snprintf(buf, sizeof buf, "best test mse %.6g (mae %.6g) at epoch %zu", b.test_mse, b.test_mae, b.epoch);
    } else {
        std::snprintf(buf, sizeof buf, "best test accuracy %.4f at epoch %zu", b.accuracy, b.epoch);
    }
    return buf;
}

/// Without a validation set: whether epoch record r has a better test result than best (none
/// yet: best.epoch == 0). With one, the monitor decides (train::Decision::improved).
inline bool better_on_test(const EpochRecord& r, const EpochRecord& best) {
    if (best.epoch == 0) return true;
    return r.regression ? r.test_mse < best.test_mse : r.accuracy > best.accuracy;
}

/// The training run for network M with gradient engine Engine, from scratch or from `resume`.
/// The batch size an engine trains a network with batch norm with (0: it cannot).
template <class E>
constexpr std::size_t whole_batch_of() {
    if constexpr (requires { E::whole_batch; }) return E::whole_batch;
    else return 0;
}

/// A network with batch norm normalises over the whole mini-batch, which one process and one
/// thread run as one program of --batch examples (compiled for that size: `whole`).
inline void check_batch_norm_options(const TrainOptions& o, std::size_t whole) {
    const std::string why = "batch norm normalises over the whole mini-batch";
    if (whole == 0)
        throw UsageError(cat("--grad ", o.grad, ": the engine computes the gradient one example at a time, and ", why,
                             " (use --grad autodiff)"));
    if (o.batch < 2) throw UsageError(cat("--batch ", o.batch, ": ", why, ", which needs at least 2 examples"));
    if (o.batch != whole)
        throw RunError(cat("--batch ", o.batch, ": this network was compiled for batches of ", whole,
                           " (batch norm's mini-batch is one program of that size)"));
    if (o.threads > 1) throw UsageError(cat("--threads ", o.threads, ": ", why, ", which one thread computes (use --threads 1)"));
    if (processes().size() > 1)
        throw UsageError(cat("mpirun -np ", processes().size(), ": ", why,
                             ", which one process computes; each process would normalise its own share"));
}

/// The η of --optimizer when --eta is not given, from the network's SGD default `sgd_eta`: Adam's
/// 1e-3 (PyTorch's and Keras' default); momentum and Nesterov sgd_eta · (1 − μ), whose steps once
/// the velocity has built up (η/(1 − μ)) are SGD's; SGD sgd_eta.
inline double optimizer_eta(const TrainOptions& o, double sgd_eta) {
    if (o.optimizer == "adam") return 1e-3;
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") return sgd_eta * (1.0 - o.momentum);
    return sgd_eta;
}

template <class M, class Engine>
inline int drive(const TrainOptions& given, const io::CheckpointImage* resume) {
    TrainOptions o = given;
    if (!o.eta_given) o.eta = optimizer_eta(o, default_eta<M>());
    if (!o.schedule_given) parse_schedule(entry_of_t<M>::default_schedule, o);
    if constexpr (train::couples_examples_v<M>) check_batch_norm_options(o, whole_batch_of<Engine>());
    M net{o.seed, init_scheme(o.init)};
    train::TrainerState start{};
    if (resume) {
        const std::string file = o.resume->string();
        try {
            start = io::restore_checkpoint(*resume, net, file);
        } catch (const io::CheckpointError& e) {
            throw RunError(cat("--resume ", e.what(), o.net_given ? cat(" (--net ", o.net, ")") : std::string()));
        }
        if (!train::parameters_finite(net)) throw RunError(cat("--resume ", file, ": ", non_finite_parameters));
        if (start.epochs_done >= o.epochs) {
            say(stdout, "typegrad train: %s already has %zu epoch%s (--epochs %zu): nothing to train", file.c_str(),
                        start.epochs_done, start.epochs_done == 1 ? "" : "s", o.epochs);
            return exit_ok;
        }
        const train::Monitor was(train::PlateauRule{o.halve_after, o.max_halvings, o.patience}, start.monitor);
        if (const auto why = was.stopped(); why != train::StopReason::none) {
            say(stdout, "typegrad train: %s stopped after epoch %zu: %s: nothing to train", file.c_str(),
                        start.epochs_done, stop_text(why, start.monitor, o.eta, start.monitor.best_accuracy < 0).c_str());
            return exit_ok;
        }
        // another optimizer's state cannot continue: refused before anything is printed or locked
        // (its state was checked when the file was read, io::check_optimizer_state)
        if (const std::string chosen = make_optimizer(o).name(); start.optimizer != chosen)
            throw RunError(cat("--resume ", file, ": the state is of optimizer '", io::printable_text(start.optimizer),
                               "', this trainer uses '", chosen, "' (--optimizer)"));
    }

    // Everything that can fail before training is checked before the output files are touched.
    data::Dataset validation;
    const LoadedData p = prepare(o, M::input_width, M::output_width, validation);
    if (o.plot && p.split.test.task == data::Task::regression)
        throw UsageError(cat("--plot ", o.plot->string(), ": draws accuracies, and this is a regression (its metrics are "
                             "test_mse and test_mae in the --metrics file)"));
    check_processes(o, p.split.train.size());
    if (pending_signal() != 0) throw Interrupted{pending_signal()};
    std::vector<OutputFile::Input> inputs;
    for (const auto& f : p.files) inputs.push_back({f, "an input data file"});
    std::optional<OutputFile> save_file, metrics_file, save_best_file;
    if (o.save) save_file.emplace("--save", *o.save, inputs);  // --save may be the --resume file
    if (o.save_best) save_best_file.emplace("--save-best", *o.save_best, inputs);
    if (resume) inputs.push_back({*o.resume, "the --resume checkpoint"});
    if (o.metrics) metrics_file.emplace("--metrics", *o.metrics, inputs);
    if (save_file && metrics_file && save_file->target() == metrics_file->target())
        throw UsageError(cat("--save: '", o.save->string(), "' is also the --metrics file"));
    for (const OutputFile* f : {save_file ? &*save_file : nullptr, metrics_file ? &*metrics_file : nullptr,
                                save_best_file ? &*save_best_file : nullptr}) {
        if (f == nullptr || f->removed().empty()) continue;
        std::vector<std::string> names;
        for (const auto& r : f->removed()) names.push_back(r.filename().string());
        say(stderr, "note: %s: removed %zu temporary file%s left by killed runs (%s)", f->what().c_str(),
                     names.size(), names.size() == 1 ? "" : "s", io::printable_text(join(names)).c_str());
    }
    std::optional<MetricsWriter> metrics;
    if (metrics_file) metrics.emplace(metrics_file->target(), o.metrics_format);
    if (metrics && resume) metrics->continue_from(start.epochs_done);
    const std::string note = training_note(o, p.split.train) + processes_note(o);

    print_header(o, p, network_description<M>(), M::cost_type::name,
                 std::is_same_v<typename M::value_type, float> ? "float" : "double", M::parameter_count);
    print_processes(o);
    if (resume) {
        say(stdout, "resuming from %s after epoch %zu", o.resume->c_str(), start.epochs_done);
        (void)flush_stdout();
        if (!resume->header.training.empty() && resume->header.training != note)
            say(stderr, "note: resuming %s with %s: the result will differ from an uninterrupted run",
                         o.resume->c_str(), io::printable_text(note_difference(resume->header.training, note)).c_str());
    }
    check_stdout();

    train::Options options;
    options.epochs = o.epochs;
    options.batch = o.batch * static_cast<std::size_t>(processes().size());  // a global batch: a share per process
    options.eta = o.eta;
    options.seed = o.seed;
    options.decay_every = o.decay_every;
    options.decay_factor = o.decay_factor;
    options.lambda = o.lambda;
    options.threads = o.threads;
    options.plateau = {.halve_after = o.halve_after, .max_halvings = o.max_halvings, .patience = o.patience};
    using TrainingAccuracy = train::Options::TrainingAccuracy;
    options.training_accuracy = o.training_accuracy == "running" ? TrainingAccuracy::running
                                : o.training_accuracy == "eval"  ? TrainingAccuracy::evaluated
                                                                 : TrainingAccuracy::off;
    using Trainer = train::Trainer<M, dist::DataParallelEngine<M, Engine>, train::AnyOptimizer>;
    Trainer trainer(net, options, make_optimizer(o));
    DataParallelRun<M, Trainer> processes_run(o, trainer, net);
    if (resume) {
        try {
            trainer.restore(start);
        } catch (const std::invalid_argument& e) {  // another optimizer: its state cannot continue
            throw RunError(cat("--resume ", o.resume->string(), ": ", e.what(), " (--optimizer)"));
        }
    }

    ProgressBar bar(o.quiet ? ProgressBar::Mode::off
                    : ProgressBar::stderr_is_terminal() ? ProgressBar::Mode::bar : ProgressBar::Mode::log,
                    o.epochs, o.batch, start.epochs_done);
    EpochRecord best;
    std::size_t saved_epoch = 0;  // the last epoch this run saved with --save
    std::size_t epoch_done = start.epochs_done, batch_done = 0, batches = 0;
    try {
        trainer.run(
            p.split.train, validation, p.split.test,
            [&](train::EpochStats s) {
                processes_run.on_epoch(s, p.split.train.size());
                const EpochRecord r{s.epoch,   s.epochs,      s.correct,           s.tested,
                                    s.accuracy, s.seconds,     s.examples_per_second, s.training_cost,
                                    s.eta,      s.validated,   s.validation_accuracy, s.training_counted,
                                    s.training_accuracy,
                                    s.decision.halved && s.decision.stop == train::StopReason::none
                                        ? o.halve_after : std::size_t{0},
                                    trainer.eta(), s.regression, s.test_cost, s.validation_cost, s.test_mse,
                                    s.test_mae, s.validation_mse, s.validation_mae};
                bar.clear();
                std::printf("%s\n", epoch_line(r).c_str());
                (void)flush_stdout();
                if (metrics) metrics->add(r);
                // The trainer calls this only after checking that every parameter is finite, so
                // a diverged network is never saved.
                if (o.save) {
                    try {
                        io::save_checkpoint(save_file->target(), net, trainer.state(), note);
                    } catch (const io::CheckpointError& e) {
                        throw OutputError(cat("--save ", e.what()));
                    }
                    saved_epoch = s.epoch;
                }
                // with a validation set, the monitor decides (its state goes on through --resume)
                if (r.validated > 0 ? s.decision.improved : better_on_test(r, best)) {
                    best = r;
                    if (o.save_best) {
                        try {
                            io::save_checkpoint(save_best_file->target(), net, trainer.state(), note);
                        } catch (const io::CheckpointError& e) {
                            throw OutputError(cat("--save-best ", e.what()));
                        }
                    }
                }
                epoch_done = s.epoch;
                batch_done = 0;
                check_stdout();  // after the checkpoint: a full stdout loses no epoch
                if (pending_signal() != 0 && s.epoch < s.epochs) throw Interrupted{pending_signal()};
            },
            [&](std::size_t done, std::size_t total) {
                processes_run.after_batch(done, total);
                bar.on_batch(done, total);
                batch_done = done;
                batches = total;
                if (pending_signal() != 0) throw Interrupted{pending_signal()};
            });
    } catch (const Interrupted& i) {
        bar.clear();
        (void)flush_stdout();
        std::string where = batch_done > 0 ? cat("in epoch ", std::to_string(epoch_done + 1), " (", std::to_string(batch_done),
                                                 " of ", std::to_string(batches), " batches done, abandoned)")
                                           : cat("after epoch ", std::to_string(epoch_done));
        std::string kept;
        if (saved_epoch > 0 || (resume && o.save && same_existing_file(*o.save, *o.resume)))
            kept = cat(o.save->string(), " holds epoch ", std::to_string(saved_epoch > 0 ? saved_epoch : start.epochs_done),
                       "; continue with: ", resume_command(o));
        else if (o.save && resume)
            kept = cat("no checkpoint was saved; ", o.resume->string(), " (epoch ", std::to_string(start.epochs_done),
                       ") is unchanged");
        else if (o.save)
            kept = "no checkpoint was saved (the first epoch did not finish)";
        else
            kept = "no checkpoint was saved (use --save FILE to be able to resume)";
        say(stderr, "typegrad: interrupted by %s %s; %s", signal_name(i.signal), where.c_str(), kept.c_str());
        return 128 + i.signal;
    } catch (const train::Diverged& e) {
        bar.clear();
        (void)flush_stdout();
        std::string kept;
        const std::string resumed_epochs = std::to_string(start.epochs_done);
        if (saved_epoch > 0)
            kept = cat("the last good checkpoint ", o.save->string(), " (epoch ", std::to_string(saved_epoch), ") is kept");
        else if (resume && o.save && same_file(*o.save, *o.resume))
            kept = cat("the last good checkpoint ", o.save->string(), " (epoch ", resumed_epochs, ") is kept");
        else if (resume && o.save)
            kept = cat("no checkpoint was saved to ", o.save->string(), "; ", o.resume->string(), " (epoch ",
                       resumed_epochs, ") is unchanged");
        else if (resume)
            kept = cat("no checkpoint was saved (use --save FILE); ", o.resume->string(), " (epoch ", resumed_epochs,
                       ") is unchanged");
        else if (o.save)
            kept = "no checkpoint was saved (the first epoch did not finish)";
        else
            kept = "no checkpoint was saved (use --save FILE)";
        throw RunError(cat(e.what(), "; ", kept));
    }
    bar.clear();
    if (const auto why = trainer.stopped(); why != train::StopReason::none)
        std::printf("stopped after epoch %zu: %s\n", trainer.epochs_done(),
                    stop_text(why, trainer.monitor().state(), o.eta, p.split.test.task == data::Task::regression).c_str());
    if (best.epoch > 0) {
        std::printf("%s%s\n", best_text(best).c_str(),
                    o.save_best ? cat(" (saved in ", o.save_best->string(), ")").c_str() : "");
    } else if (const auto& m = trainer.monitor().state(); m.best_epoch > 0) {  // resumed, no epoch improved on it
        const bool regression = p.split.test.task == data::Task::regression;
        std::printf("best validation %s %.6g at epoch %zu, before this run (no epoch of this run improved on it)\n",
                    regression ? "mse" : "accuracy", regression ? -m.best_accuracy : m.best_accuracy, m.best_epoch);
    }
    check_stdout();
    return exit_ok;
}

template <class M, class... Es>
inline int run_with_engine(const TrainOptions& o, const io::CheckpointImage* resume, type_list<Es...>) {
    int rc = -1;
    const bool found =
        ((o.grad == Es::name ? (rc = drive<M, typename Es::template type<M>>(o, resume), true) : false) || ...);
    if (!found) throw UsageError(cat("--grad: unknown engine '", o.grad, "'; the engines are ", join(engine_names())));
    return rc;
}

/// Whether the checkpoint holds network M of the menu (explicitly instantiated for LeNet in
/// train_lenet.cpp, like train_network, so that train.cpp does not instantiate LeNet's types).
template <class M>
bool network_holds(const io::CheckpointHeader& header) {
    return io::holds<M>(header);
}

/// Trains network M of the menu with the --grad engine: explicitly instantiated once per network
/// (train.cpp, train_lenet.cpp).
template <class M>
int train_network(const TrainOptions& o, const io::CheckpointImage* resume) {
    return run_with_engine<M>(o, resume, engines{});
}

}  // namespace typegrad::cli
