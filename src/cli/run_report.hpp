// What a run of `typegrad train` says: its header, the training note a checkpoint keeps, how to
// resume it, why it stopped and which epoch it chose.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "data.hpp"
#include "distributed.hpp"
#include "options.hpp"
#include "report.hpp"
#include "run_setup.hpp"
#include "text.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/train/monitor.hpp"

namespace typegrad::cli {

/// "typegrad train: 784-30-10 sigmoid, quadratic cost, float, autodiff gradient, batch 10, eta 3, 30 epochs, seed 42,
/// 60000 train / 10000 test (synthetic digits)", then "23860 parameters; data: 60000 examples of 28x28 bytes, class
/// labels"
void print_header(const TrainOptions& o, const LoadedData& p, const std::string& network, std::string_view cost,
                  const char* type, std::size_t parameters);

/// What a checkpoint records about how it was trained: everything besides the network and the
/// trainer's state that decides the weights of the next epochs (not --epochs, which only says
/// when to stop). A resumed run with the same text continues exactly as an uninterrupted one.
/// The data is named by what it is, not where it is: a fingerprint of the training examples used
/// (the same files through another path, or gzip instead of plain, give the same note), and no
/// path of this machine goes into the file.
std::string training_note(const TrainOptions& o, const data::Dataset& train);

/// "eta 1e+40 instead of eta 3": the items of two training notes that differ (the whole notes
/// if they do not have the same items).
std::string note_difference(const std::string& before, const std::string& now);

/// A command line as a shell would need it: arguments with anything but safe characters in
/// single quotes.
std::string shell_words(const std::vector<std::string>& words);

/// How to continue an interrupted run: the same command with --resume FILE (the --save file)
/// instead of any --resume it had.
std::string resume_command(const TrainOptions& o);

/// Standard output must take what is printed: a closed or full stdout is an error, not a
/// silent success.
void check_stdout();

/// What the validation monitor's score is (train::EpochStats::validation_score): a classifier's
/// accuracy, a regression's −MSE, or a text model's −loss per token.
enum class Score { accuracy, mse, loss };

/// Why training stopped before --epochs: "no improvement of validation accuracy for 5 epochs
/// (best 0.9612 at epoch 12)"; a regression's "of validation mse" and a text model's "of
/// validation loss" name their best as the mse or the loss (the score's negation).
inline std::string stop_text(train::StopReason why, const train::MonitorState& m, double eta0, Score score = Score::accuracy) {
    char value[48];
    if (score == Score::mse) std::snprintf(value, sizeof value, "%.6g", -m.best_accuracy);
    else if (score == Score::loss) std::snprintf(value, sizeof value, "%.4f nats/token", -m.best_accuracy);
    else std::snprintf(value, sizeof value, "%.4f", m.best_accuracy);
    const std::string best = cat("(best ", value, " at epoch ", std::to_string(m.best_epoch), ")");
    const char* metric = score == Score::mse ? "validation mse" : score == Score::loss ? "validation loss" : "validation accuracy";
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
    if (b.positions > 1) {
        if (b.validated > 0)
            std::snprintf(buf, sizeof buf, "best validation loss %.4f nats/token at epoch %zu: test loss %.4f nats/token",
                          b.validation_cost, b.epoch, b.test_cost);
        else
            std::snprintf(buf, sizeof buf, "best test loss %.4f nats/token at epoch %zu", b.test_cost, b.epoch);
    } else if (b.validated > 0) {
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
    if (r.positions > 1) return r.test_cost < best.test_cost;
    return r.regression ? r.test_mse < best.test_mse : r.accuracy > best.accuracy;
}

}  // namespace typegrad::cli
