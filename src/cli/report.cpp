#include "report.hpp"

#include "typegrad/io/checkpoint_file.hpp"

#include "text.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>
#include <utility>

namespace typegrad::cli {
namespace {

namespace fs = std::filesystem;

template <class... Args>
std::string format(const char* fmt, Args... args) {
    char buf[256];
    const int n = std::snprintf(buf, sizeof buf, fmt, args...);
    if (n < 0) return {};
    if (static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, static_cast<std::size_t>(n));
    std::string out(static_cast<std::size_t>(n) + 1, '\0');
    std::snprintf(out.data(), out.size(), fmt, args...);
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string quoted(const fs::path& p) { return cat("'", p.string(), "'"); }

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

}  // namespace

/// The CSV header of --metrics (a file with another first line is not continued on --resume).
constexpr const char* metrics_csv_header =
    "epoch,epochs,test_accuracy,correct,tested,seconds,examples_per_second,training_cost,eta,validation_accuracy,"
    "training_accuracy,test_cost,validation_cost,test_mse,test_mae,validation_mse,validation_mae";
/// Earlier headers: such a file is continued, its lines given empty columns for the ones it lacks.
constexpr const char* metrics_csv_header_before_losses =
    "epoch,epochs,test_accuracy,correct,tested,seconds,examples_per_second,training_cost,eta,validation_accuracy,"
    "training_accuracy";
constexpr const char* metrics_csv_header_before_training_accuracy =
    "epoch,epochs,test_accuracy,correct,tested,seconds,examples_per_second,training_cost,eta,validation_accuracy";

std::string epoch_line(const EpochRecord& r) {
    std::string line;
    if (r.positions > 1) {  // a text: the costs are per token, the accuracy over its positions
        line = format("epoch %zu/%zu  test loss %.4f nats/token  accuracy %.4f (%zu/%zu tokens)  %.3f s  %.0f tokens/s  cost %.4f  eta %g",
                      r.epoch, r.epochs, r.test_cost, r.accuracy, r.correct, r.tested, r.seconds,
                      r.examples_per_second * static_cast<double>(r.positions), r.training_cost, r.eta);
        if (r.validated > 0) line += format("  validation loss %.4f accuracy %.4f", r.validation_cost, r.validation_accuracy);
        if (r.training_counted > 0) line += format("  training %.4f", r.training_accuracy);
        if (r.halved_after > 0)
            line += format("  (eta halved to %g: %zu epoch%s without improvement)", r.next_eta, r.halved_after,
                           r.halved_after == 1 ? "" : "s");
        return line;
    }
    if (r.regression)
        line = format("epoch %zu/%zu  test mse %.6g mae %.6g  %.3f s  %.0f examples/s  cost %.6g  eta %g", r.epoch,
                      r.epochs, r.test_mse, r.test_mae, r.seconds, r.examples_per_second, r.training_cost, r.eta);
    else
        line = format("epoch %zu/%zu  test accuracy %.4f (%zu/%zu)  %.3f s  %.0f examples/s  cost %.4f  eta %g", r.epoch,
                      r.epochs, r.accuracy, r.correct, r.tested, r.seconds, r.examples_per_second, r.training_cost,
                      r.eta);
    if (r.validated > 0) {
        if (r.regression) line += format("  validation mse %.6g mae %.6g", r.validation_mse, r.validation_mae);
        else line += format("  validation %.4f", r.validation_accuracy);
    }
    if (r.training_counted > 0 && !r.regression) line += format("  training %.4f", r.training_accuracy);
    line += format(r.regression ? "  test cost %.6g" : "  test cost %.4f", r.test_cost);
    if (r.validated > 0) line += format(r.regression ? "  validation cost %.6g" : "  validation cost %.4f", r.validation_cost);
    if (r.halved_after > 0)
        line += format("  (eta halved to %g: %zu epoch%s without improvement)", r.next_eta, r.halved_after,
                       r.halved_after == 1 ? "" : "s");
    return line;
}

// --- progress bar ------------------------------------------------------------------------------

ProgressBar::ProgressBar(Mode mode, std::size_t epochs, std::size_t batch, std::size_t epochs_done, double long_epoch)
    : enabled_(mode != Mode::off), mode_(mode), long_epoch_(long_epoch), epochs_(epochs), batch_(batch == 0 ? 1 : batch),
      epoch_(epochs_done) {
    // Look at the clock about every 1000 examples (a few milliseconds of training).
    check_every_ = std::max<std::size_t>(1, 1024 / batch_);
}

ProgressBar::~ProgressBar() { clear(); }

bool ProgressBar::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressBar::tick(std::size_t done, std::size_t total) {
    using namespace std::chrono;
    const auto now = steady_clock::now();
    const bool first = done == 1;
    if (first) {
        ++epoch_;
        epoch_start_ = now;
    }
    if (mode_ == Mode::log) {
        if (first) next_tenth_ = 1;
        log(done, total, now);
        return;
    }
    const bool last = done == total;
    if (!first && !last && now - last_draw_ < milliseconds(100)) return;
    last_draw_ = now;

    constexpr std::size_t width = 30;
    const double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(width));
    std::string bar(filled, '#');
    bar.append(width - std::min(width, filled), '.');
    const double elapsed = duration<double>(now - epoch_start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done * batch_) / elapsed : 0.0;
    std::string line = format("epoch %zu/%zu [%s] %3.0f%%", epoch_, epochs_, bar.c_str(), 100.0 * fraction);
    if (last) line += "  evaluating...";
    else if (!first) line += format("  %.0f examples/s", rate);
    draw(line);
}

void ProgressBar::log(std::size_t done, std::size_t total, std::chrono::steady_clock::time_point now) {
    if (total == 0 || done >= total) return;  // the epoch's own line follows
    const std::size_t tenth = done * 10 / total;
    if (tenth < next_tenth_) return;
    next_tenth_ = tenth + 1;
    const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
    const double fraction = static_cast<double>(done) / static_cast<double>(total);
    if (elapsed / fraction < long_epoch_) return;  // a short epoch: its line is enough
    std::fprintf(stderr, "epoch %zu/%zu: %zu%% (%zu/%zu batches, %.1f s, %.0f examples/s)\n", epoch_, epochs_,
                 tenth * 10, done, total, elapsed, elapsed > 0 ? static_cast<double>(done * batch_) / elapsed : 0.0);
    std::fflush(stderr);
}

void ProgressBar::draw(const std::string& line) {
    std::string out = cat("\r", line);
    if (line.size() < drawn_width_) out.append(drawn_width_ - line.size(), ' ');
    drawn_width_ = std::max(drawn_width_, line.size());
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
}

void ProgressBar::clear() {
    if (drawn_width_ == 0) return;
    std::string out = cat("\r", std::string(drawn_width_, ' '), "\r");
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
    drawn_width_ = 0;
}

// --- metrics file -------------------------------------------------------------------------------

void check_writable(const fs::path& file, const std::string& what) {
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    std::error_code ec;
    const auto dir_status = fs::status(dir, ec);
    if (dir_status.type() == fs::file_type::not_found)
        throw OutputError(cat(what, ": directory ", quoted(dir), " does not exist"));
    if (ec) throw OutputError(cat(what, ": cannot access directory ", quoted(dir), ": ", ec.message()));
    if (!fs::is_directory(dir_status)) throw OutputError(cat(what, ": ", quoted(dir), " is not a directory"));
    if (fs::is_directory(fs::status(file, ec))) throw OutputError(cat(what, ": is a directory"));

    fs::path probe_name = file;
    probe_name += cat(".tmp-", std::to_string(static_cast<long>(::getpid())));
    std::unique_ptr<std::FILE, FileCloser> probe(std::fopen(probe_name.c_str(), "w"));
    if (!probe) throw OutputError(cat(what, ": cannot create a file in ", quoted(dir), ": ", std::strerror(errno)));
    probe.reset();
    fs::remove(probe_name, ec);
}

MetricsWriter::MetricsWriter(fs::path file, MetricsFormat format) : file_(std::move(file)), format_(format) {
    check_writable(file_, cat("--metrics ", file_.string()));
    temp_ = file_;
    temp_ += cat(".tmp-", std::to_string(static_cast<long>(::getpid())));
}

MetricsWriter::~MetricsWriter() {
    std::error_code ec;
    fs::remove(temp_, ec);  // only left behind if a write failed
}

void MetricsWriter::continue_from(std::size_t epochs_done) {
    previous_.clear();
    std::ifstream in(file_);
    if (!in) return;  // no earlier metrics
    const std::string csv_header = metrics_csv_header;
    const std::string json_start = "{\"epoch\":";
    bool first = true;
    std::string missing_columns;  // an older file: its lines lack the last columns
    for (std::string line; std::getline(in, line); first = false) {
        if (format_ == MetricsFormat::csv && first) {
            if (line == metrics_csv_header_before_training_accuracy) missing_columns = ",,,,,,,";
            else if (line == metrics_csv_header_before_losses) missing_columns = ",,,,,,";
            else if (line != csv_header) return;  // not a file this writer wrote
            continue;
        }
        line += missing_columns;
        const std::size_t start = format_ == MetricsFormat::csv ? 0 : json_start.size();
        if (format_ == MetricsFormat::json_lines && line.compare(0, json_start.size(), json_start) != 0) continue;
        std::size_t epoch = 0;
        const char* digits = line.data() + std::min(start, line.size());
        const auto [end, ec] = std::from_chars(digits, line.data() + line.size(), epoch);
        if (ec != std::errc{} || end == line.data() + line.size() || *end != ',') continue;  // "3," in both formats
        if (epoch >= 1 && epoch <= epochs_done) previous_.push_back(line + "\n");
    }
}

void MetricsWriter::add(const EpochRecord& r) {
    records_.push_back(r);
    const std::string text = render();
    // The checkpoints' writer: temporary file, fsync, rename, fsync of the directory; links
    // followed, devices never replaced (one atomic writer for every output).
    try {
        io::write_file_atomically(file_, std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat("--metrics ", e.what()));
    }
}

std::string MetricsWriter::render() const {
    std::string out;
    if (format_ == MetricsFormat::csv) {
        out += metrics_csv_header;
        out += "\n";
        for (const auto& line : previous_) out += line;
        for (const auto& r : records_) {
            const bool v = r.validated > 0;
            out += format("%zu,%zu,%s,%zu,%zu,%.6f,%.1f,%.6g,%.6g,%s,%s,%.6g,%s,%s,%s,%s,%s\n", r.epoch, r.epochs,
                          r.regression ? "" : format("%.6f", r.accuracy).c_str(), r.correct, r.tested, r.seconds,
                          r.examples_per_second, r.training_cost, r.eta,
                          v && !r.regression ? format("%.6f", r.validation_accuracy).c_str() : "",
                          r.training_counted && !r.regression ? format("%.6f", r.training_accuracy).c_str() : "",
                          r.test_cost, v ? format("%.6g", r.validation_cost).c_str() : "",
                          r.regression ? format("%.6g", r.test_mse).c_str() : "",
                          r.regression ? format("%.6g", r.test_mae).c_str() : "",
                          v && r.regression ? format("%.6g", r.validation_mse).c_str() : "",
                          v && r.regression ? format("%.6g", r.validation_mae).c_str() : "");
        }
    } else {
        for (const auto& line : previous_) out += line;
        for (const auto& r : records_) {
            const bool v = r.validated > 0;
            std::string extra;
            if (r.regression) {
                extra = format(",\"test_mse\":%.9g,\"test_mae\":%.9g", r.test_mse, r.test_mae);
                if (v) extra += format(",\"validation_mse\":%.9g,\"validation_mae\":%.9g", r.validation_mse, r.validation_mae);
            } else {
                if (v) extra += format(",\"validation_accuracy\":%.6f", r.validation_accuracy);
                if (r.training_counted) extra += format(",\"training_accuracy\":%.6f", r.training_accuracy);
            }
            extra += format(",\"test_cost\":%.9g", r.test_cost);
            if (v) extra += format(",\"validation_cost\":%.9g", r.validation_cost);
            out += format(
                "{\"epoch\":%zu,\"epochs\":%zu,%s\"correct\":%zu,\"tested\":%zu,"
                "\"seconds\":%.6f,\"examples_per_second\":%.1f,\"training_cost\":%.6g,\"eta\":%.6g%s}\n",
                r.epoch, r.epochs, r.regression ? "" : format("\"test_accuracy\":%.6f,", r.accuracy).c_str(), r.correct,
                r.tested, r.seconds, r.examples_per_second, r.training_cost, r.eta, extra.c_str());
        }
    }
    return out;
}

}  // namespace typegrad::cli
