// The training driver of `typegrad train`, compiled once (drive.hpp): everything of a run that
// does not depend on the network's type, over TrainingSession.
#include "drive.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "checkpoints.hpp"
#include "data.hpp"
#include "distributed.hpp"
#include "interrupt.hpp"
#include "outputs.hpp"
#include "report.hpp"
#include "run_report.hpp"
#include "run_setup.hpp"
#include "text.hpp"

namespace typegrad::cli {

void BatchProgress::after(std::size_t batch_done, std::size_t total) {
    bar.on_batch(batch_done, total);
    done = batch_done;
    batches = total;
    if (const int sig = agreed_signal(); sig != 0) throw Interrupted{sig};
}

int drive_session(const TrainOptions& given, const io::CheckpointImage* resume, TrainingSession& session) {
    TrainOptions o = given;
    const NetworkFacts& f = session.facts();
    if (!o.eta_given) o.eta = optimizer_eta(o, f.default_eta);
    if (!o.schedule_given) parse_schedule(f.default_schedule, o);
    if (f.couples_examples) check_batch_norm_options(o, f.whole_batch);
    session.create(o.seed, init_scheme(o.init));
    train::TrainerState start{};
    if (resume) {
        const std::string file = o.resume->string();
        try {
            start = session.restore(*resume, file);
        } catch (const io::CheckpointError& e) {
            throw RunError(cat("--resume ", e.what(), o.net_given ? cat(" (--net ", o.net, ")") : std::string()));
        }
        if (!session.parameters_finite()) throw RunError(cat("--resume ", file, ": ", non_finite_parameters));
        if (start.epochs_done >= o.epochs) {
            say(stdout, "typegrad train: %s already has %zu epoch%s (--epochs %zu): nothing to train", file.c_str(),
                        start.epochs_done, start.epochs_done == 1 ? "" : "s", o.epochs);
            return exit_ok;
        }
        const train::Monitor was(train::PlateauRule{o.halve_after, o.max_halvings, o.patience}, start.monitor);
        if (const auto why = was.stopped(); why != train::StopReason::none) {
            say(stdout, "typegrad train: %s stopped after epoch %zu: %s: nothing to train", file.c_str(),
                        start.epochs_done,
                        stop_text(why, start.monitor, o.eta,
                                  !resume->header.vocabulary.empty() ? Score::loss      // a text model's
                                  : start.monitor.best_accuracy < 0  ? Score::mse       // a regression's −MSE
                                                                     : Score::accuracy)
                            .c_str());
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
    const LoadedData p = prepare(o, f.input_width, f.output_width, validation);
    if (o.plot && p.split.test.task == data::Task::regression)
        throw UsageError(cat("--plot ", o.plot->string(), ": draws accuracies, and this is a regression (its metrics are "
                             "test_mse and test_mae in the --metrics file)"));
    check_processes(o, p.split.train.size());
    if (const int sig = agreed_signal(); sig != 0) throw Interrupted{sig};
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
    const std::string vocabulary = data::utf8(p.split.train.vocabulary);  // a text's characters, kept in the checkpoint

    print_header(o, p, f.description, f.cost, f.element_type, f.parameter_count);
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
    session.start(o, options, make_optimizer(o));
    if (resume) {
        try {
            session.continue_from(start);
        } catch (const std::invalid_argument& e) {  // another optimizer: its state cannot continue
            throw RunError(cat("--resume ", o.resume->string(), ": ", e.what(), " (--optimizer)"));
        }
    }

    ProgressBar bar(o.quiet ? ProgressBar::Mode::off
                    : ProgressBar::stderr_is_terminal() ? ProgressBar::Mode::bar : ProgressBar::Mode::log,
                    o.epochs, o.batch, start.epochs_done);
    BatchProgress progress{bar};
    EpochRecord best;
    std::size_t saved_epoch = 0;  // the last epoch this run saved with --save
    std::size_t epoch_done = start.epochs_done;
    try {
        session.run(
            p.split.train, validation, p.split.test,
            [&](const train::EpochStats& e) {
                EpochRecord r{e.epoch, e.epochs, e.correct, e.tested, e.accuracy, e.seconds, e.examples_per_second,
                              e.training_cost, e.eta, e.validated, e.validation_accuracy, e.training_counted,
                              e.training_accuracy,
                              e.decision.halved && e.decision.stop == train::StopReason::none ? o.halve_after : std::size_t{0},
                              session.eta(), e.regression, e.test_cost, e.validation_cost, e.test_mse, e.test_mae,
                              e.validation_mse, e.validation_mae};
                r.positions = e.positions;
                bar.clear();
                std::printf("%s\n", epoch_line(r).c_str());
                (void)flush_stdout();
                if (metrics) metrics->add(r);
                // The trainer calls this only after checking that every parameter is finite, so
                // a diverged network is never saved.
                const auto save = [&](const OutputFile& file) {  // file.what(): "--save"
                    try {
                        session.save(file.target(), note, vocabulary);
                    } catch (const io::CheckpointError& error) {
                        throw OutputError(cat(file.what(), " ", error.what()));
                    }
                };
                if (save_file) {
                    save(*save_file);
                    saved_epoch = e.epoch;
                }
                // with a validation set, the monitor decides (its state goes on through --resume)
                if (r.validated > 0 ? e.decision.improved : better_on_test(r, best)) {
                    best = r;
                    if (save_best_file) save(*save_best_file);
                }
                epoch_done = e.epoch;
                progress.done = 0;
                check_stdout();  // after the checkpoint: a full stdout loses no epoch
                if (e.epoch < e.epochs)
                    if (const int sig = agreed_signal(); sig != 0) throw Interrupted{sig};
            },
            progress);
    } catch (const Interrupted& i) {
        bar.clear();
        (void)flush_stdout();
        std::string where = progress.done > 0 ? cat("in epoch ", std::to_string(epoch_done + 1), " (", std::to_string(progress.done),
                                                    " of ", std::to_string(progress.batches), " batches done, abandoned)")
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
    if (const auto why = session.stopped(); why != train::StopReason::none)
        std::printf("stopped after epoch %zu: %s\n", session.epochs_done(),
                    stop_text(why, session.monitor_state(), o.eta,
                              p.split.test.is_text()                       ? Score::loss
                              : p.split.test.task == data::Task::regression ? Score::mse
                                                                            : Score::accuracy)
                        .c_str());
    if (best.epoch > 0) {
        std::printf("%s%s\n", best_text(best).c_str(),
                    o.save_best ? cat(" (saved in ", o.save_best->string(), ")").c_str() : "");
    } else if (const train::MonitorState m = session.monitor_state(); m.best_epoch > 0) {  // resumed, no epoch improved on it
        const bool regression = p.split.test.task == data::Task::regression, text = p.split.test.is_text();
        std::printf("best validation %s %.6g at epoch %zu, before this run (no epoch of this run improved on it)\n",
                    text ? "loss" : regression ? "mse" : "accuracy", regression || text ? -m.best_accuracy : m.best_accuracy,
                    m.best_epoch);
    }
    check_stdout();
    return exit_ok;
}

}  // namespace typegrad::cli
