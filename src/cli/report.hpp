// What `typegrad train` reports: the per-epoch line, the progress bar on stderr and the
// metrics file. Nothing here depends on the network type, so none of it is a template.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "options.hpp"

namespace typegrad::cli {

/// Flushes standard output; false if it cannot be written (closed, full, a broken pipe). The
/// reason of the first failure is kept in stdout_error(): the stream's error flag does not keep
/// it, and a later flush of the emptied buffer "succeeds" with errno unset.
inline int& stdout_error() noexcept {
    static int error = 0;
    return error;
}
inline bool flush_stdout() noexcept {
    errno = 0;
    if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return true;
    if (stdout_error() == 0) stdout_error() = errno != 0 ? errno : EIO;
    return false;
}

/// One epoch's results (train::EpochStats without the library dependency).
struct EpochRecord {
    std::size_t epoch = 0;  // 1-based
    std::size_t epochs = 0;
    std::size_t correct = 0;
    std::size_t tested = 0;
    double accuracy = 0.0;
    double seconds = 0.0;  // training time of the epoch, evaluation excluded
    double examples_per_second = 0.0;
    double training_cost = 0.0;  // per training example, averaged over the epoch's batches
    double eta = 0.0;
    std::size_t validated = 0;   // 0: no validation set
    double validation_accuracy = 0.0;
    std::size_t training_counted = 0;  // 0: training accuracy not monitored
    double training_accuracy = 0.0;
    std::size_t halved_after = 0;  // η is halved after this epoch: the epochs without improvement (0: not halved)
    double next_eta = 0.0;         // the η after the halving
    bool regression = false;       // the metrics are MSE and MAE (the accuracies are not printed)
    double test_cost = 0.0;        // per test example
    double validation_cost = 0.0;  // per validation example (with a validation set)
    double test_mse = 0.0, test_mae = 0.0;
    double validation_mse = 0.0, validation_mae = 0.0;
    std::size_t positions = 1;     // a text: predictions per example (its window); the costs are per token
};

/// "epoch 1/30  test accuracy 0.9132 (9132/10000)  0.412 s  145631 examples/s  cost 0.0712  eta 3",
/// then "  validation 0.9123" with a validation set, "  training 0.9345" with the training
/// accuracy, "  test cost 0.0650" (and "  validation cost 0.0701"): the loss per example of
/// each set ("cost" is the training set's), and "  (eta halved to 1.5: 10 epochs without
/// improvement)" after a halving. A regression: "epoch 3/500  test mse 3012.5 mae 44.1  …
/// validation mse 2950.2 mae 43.7  test cost …". A text (positions > 1): "epoch 2/20  test loss
/// 1.2345 nats/token  accuracy 0.6012 (…/… tokens)  … tokens/s  cost 1.3012  eta 0.001", the
/// costs per token.
[[nodiscard]] std::string epoch_line(const EpochRecord& r);

/// A single line on stderr redrawn with '\r': epoch, bar, percentage, examples/s. Draws only
/// when enabled (stderr is a terminal and not --quiet), at most about 10 times per second,
/// and looks at the clock only every few batches so the training loop stays cheap.
///
/// In log mode (stderr is not a terminal: a log file, CI) it prints instead a line at every 10 %
/// of an epoch that takes 10 s or more (as projected from its progress so far): "epoch 2/30: 40%
/// (2400/6000 batches, 12.1 s, 1983 examples/s)", so a long epoch shows in a log that it moves.
class ProgressBar {
public:
    enum class Mode { off, bar, log };
    /// epochs_done: epochs trained before (a resumed run); the first epoch drawn is the next one.
    /// long_epoch: in log mode, the projected length of an epoch from which its 10 % steps are printed.
    ProgressBar(Mode mode, std::size_t epochs, std::size_t batch, std::size_t epochs_done = 0, double long_epoch = 10.0);
    ProgressBar(bool enabled, std::size_t epochs, std::size_t batch, std::size_t epochs_done = 0)
        : ProgressBar(enabled ? Mode::bar : Mode::off, epochs, batch, epochs_done) {}
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    ~ProgressBar();

    /// Called after every batch of an epoch: done of total batches (done == 1 starts an epoch).
    void on_batch(std::size_t done, std::size_t total) {
        if (!enabled_) return;
        if (mode_ == Mode::log) {  // at the first batch and at each 10 % step
            if (done == 1 || done * 10 / total != (done - 1) * 10 / total) tick(done, total);
            return;
        }
        if (done == 1 || done == total || done % check_every_ == 0) tick(done, total);
    }

    /// Erases the bar (before a line is printed on stdout).
    void clear();

    /// True if stderr is a terminal.
    [[nodiscard]] static bool stderr_is_terminal();

private:
    void tick(std::size_t done, std::size_t total);
    void draw(const std::string& line);

    void log(std::size_t done, std::size_t total, std::chrono::steady_clock::time_point now);
    bool enabled_;
    Mode mode_;
    std::size_t next_tenth_ = 1;  // log mode: the next 10 % step to report
    double long_epoch_ = 10.0;    // log mode: seconds
    std::size_t epochs_;
    std::size_t batch_;
    std::size_t check_every_;
    std::size_t epoch_ = 0;
    std::size_t drawn_width_ = 0;
    std::chrono::steady_clock::time_point epoch_start_{};
    std::chrono::steady_clock::time_point last_draw_{};
};

/// Checks that `file` can be written (its directory exists and a temporary file can be created
/// and removed there, and `file` is not a directory); throws OutputError starting with `what`
/// (e.g. "--save run.tgck") otherwise. `file` itself is not touched.
void check_writable(const std::filesystem::path& file, const std::string& what);

/// The --metrics file: after every epoch the whole file (all epochs so far) is written to
/// FILE.tmp-<pid> and renamed onto FILE, so FILE is always complete.
class MetricsWriter {
public:
    /// Checks that FILE can be written (its directory exists and a temporary file can be created
    /// and removed there); throws OutputError otherwise. FILE itself is not touched.
    MetricsWriter(std::filesystem::path file, MetricsFormat format);
    MetricsWriter(const MetricsWriter&) = delete;
    MetricsWriter& operator=(const MetricsWriter&) = delete;
    ~MetricsWriter();

    /// For a resumed run: keeps the records of epochs 1 … epochs_done that FILE already holds
    /// (lines this writer wrote, in FILE's format; anything else is dropped), so that FILE goes on
    /// as one history. Records of later epochs are dropped: those epochs are trained again.
    void continue_from(std::size_t epochs_done);

    /// Appends a record and replaces FILE; throws OutputError if that fails.
    void add(const EpochRecord& r);

private:
    [[nodiscard]] std::string render() const;

    std::filesystem::path file_;
    std::filesystem::path temp_;
    MetricsFormat format_;
    std::vector<std::string> previous_;  // lines kept by continue_from, each ending in '\n'
    std::vector<EpochRecord> records_;
};

}  // namespace typegrad::cli
