// `typegrad plot` (plot.hpp): gnuplot from Debian (gnuplot-nox) draws the runs, one colour per
// file, test accuracy solid, validation accuracy dashed and training accuracy dotted in the upper
// panel, the training cost in the lower one, each run named in the legend by its file name.
//
// gnuplot's script is code: it runs `backquoted` text even inside double-quoted strings, and a
// newline starts a new command. So no path is ever written into it (gnuplot runs in a private
// directory and reads and writes fixed names there), the metrics reach it as numbers written by
// this program, and the only text from the user, the legend titles, is in single-quoted strings
// (where gnuplot substitutes nothing) with control characters escaped and quotes doubled.
#include "plot.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../io/file_kind.hpp"
#include "options.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint_file.hpp"

extern char** environ;

namespace typegrad::cli {

namespace {

namespace fs = std::filesystem;

struct Row {
    double epoch = 0, test = -1, validation = -1, cost = -1, training = -1;
};

/// The value of "key":NUMBER in a JSON line, or fallback.
double json_number(const std::string& line, const std::string& key, double fallback) {
    const std::string k = cat("\"", key, "\":");
    const std::size_t at = line.find(k);
    if (at == std::string::npos) return fallback;
    char* end = nullptr;
    const double v = std::strtod(line.c_str() + at + k.size(), &end);
    return end == line.c_str() + at + k.size() ? fallback : v;
}

/// A metrics file has a line of ~250 bytes per epoch: 64 MiB are some 250,000 epochs, far more
/// than any run writes, and a bound on what a file given by mistake (a disk image) costs.
constexpr std::size_t max_metrics_bytes = std::size_t{64} << 20;

[[noreturn]] void refuse(const fs::path& file, const std::string& problem) {
    throw RunError(cat(io::printable_text(file.string()), ": ", problem));
}

std::string too_large(std::uintmax_t bytes) {
    return cat("is ", bytes, " bytes; a metrics file may have at most ", max_metrics_bytes >> 20, " MiB");
}

/// An open file descriptor, closed on destruction.
struct Descriptor {
    int fd;
    ~Descriptor() {
        if (fd >= 0) ::close(fd);
    }
};

/// The whole of a metrics file. Only a regular file is opened, and without blocking: stat first
/// (open() of a FIFO waits for a writer), then open non-blocking and check that what was opened
/// is that file; and never more than max_metrics_bytes is read (/dev/zero is refused, a file
/// that grows while it is read is cut off and refused).
std::string read_metrics_file(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) refuse(file, cat("cannot open: ", std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) refuse(file, "is a directory, not a file");
    if (!S_ISREG(st.st_mode)) refuse(file, cat("is not a regular file (", io::file_kind(st.st_mode), ")"));
    if (static_cast<std::uintmax_t>(st.st_size) > max_metrics_bytes) refuse(file, too_large(st.st_size));
    const Descriptor in{::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
    if (in.fd < 0) refuse(file, cat("cannot open: ", std::strerror(errno)));
    struct stat opened {};
    if (::fstat(in.fd, &opened) != 0 || !S_ISREG(opened.st_mode) || opened.st_dev != st.st_dev ||
        opened.st_ino != st.st_ino)
        refuse(file, "changed while it was being opened (not a regular file any more)");
    std::string bytes(static_cast<std::size_t>(opened.st_size) + 1, '\0');  // one more: a file that grew
    std::size_t have = 0;
    for (;;) {
        const ssize_t n = ::read(in.fd, bytes.data() + have, bytes.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) refuse(file, cat("cannot read: ", std::strerror(errno)));
        if (n == 0) break;
        have += static_cast<std::size_t>(n);
        if (have > max_metrics_bytes) refuse(file, too_large(have) + " (it grew while it was read)");
        if (have == bytes.size()) bytes.resize(std::min(2 * bytes.size(), max_metrics_bytes + 1));
    }
    bytes.resize(have);
    return bytes;
}

std::vector<Row> read_metrics(const fs::path& file) {
    std::istringstream in(read_metrics_file(file));
    const std::string name = io::printable_text(file.string());
    std::vector<Row> rows;
    std::string line;
    std::vector<std::string> header;
    bool first = true;
    for (std::size_t number = 1; std::getline(in, line); ++number, first = false) {
        if (line.empty()) continue;
        Row r;
        if (line.front() == '{') {  // JSON lines
            r.epoch = json_number(line, "epoch", -1);
            r.test = json_number(line, "test_accuracy", -1);
            r.validation = json_number(line, "validation_accuracy", -1);
            r.cost = json_number(line, "training_cost", -1);
            r.training = json_number(line, "training_accuracy", -1);
        } else {  // CSV with its header
            std::vector<std::string> cells;
            std::istringstream fields(line);
            for (std::string c; std::getline(fields, c, ',');) cells.push_back(c);
            if (first) {
                header = cells;
                if (std::find(header.begin(), header.end(), "epoch") == header.end() ||
                    std::find(header.begin(), header.end(), "test_accuracy") == header.end())
                    throw RunError(cat(name, ": line 1 is not a record of 'typegrad train --metrics'"));
                continue;
            }
            for (std::size_t i = 0; i < cells.size() && i < header.size(); ++i) {
                if (cells[i].empty()) continue;
                const double v = std::strtod(cells[i].c_str(), nullptr);
                if (header[i] == "epoch") r.epoch = v;
                else if (header[i] == "test_accuracy") r.test = v;
                else if (header[i] == "validation_accuracy") r.validation = v;
                else if (header[i] == "training_cost") r.cost = v;
                else if (header[i] == "training_accuracy") r.training = v;
            }
        }
        if (r.epoch >= 1 && !(r.test >= 0) &&
            (line.find("\"test_mse\":") != std::string::npos ||
             (!header.empty() && std::find(header.begin(), header.end(), "test_mse") != header.end())))
            throw RunError(cat(name, ": line ", number, " is a regression's record (test mse, no accuracy): plot draws "
                                     "accuracies only"));
        if (!(r.epoch >= 1) || !(r.test >= 0))
            throw RunError(cat(name, ": line ", number, " is not a record of 'typegrad train --metrics'"));
        rows.push_back(r);
    }
    if (rows.empty()) throw RunError(cat(name, ": no epochs (not a file of 'typegrad train --metrics'?)"));
    return rows;
}

/// A legend title as a gnuplot string literal. Single-quoted: gnuplot substitutes nothing in it
/// (no `command`, no @macro, no backslash escape); a quote is doubled, and control characters
/// (a newline would end the command) and bytes that are not UTF-8 are written as \xNN.
std::string title_literal(const fs::path& file) {
    std::string out = "'";
    for (const char c : io::printable_text(file.filename().string())) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

/// A value for the data file: a finite number, else gnuplot's missing value.
std::string datum(double value, double scale) {
    if (!(value >= 0) || !std::isfinite(value * scale)) return "NaN";
    std::ostringstream s;
    s.precision(10);
    s << value * scale;
    return s.str();
}

/// The names gnuplot reads and writes, all in its private working directory: nothing the user
/// named is ever part of the script.
constexpr const char* script_name = "plot.gp";
constexpr const char* picture_name = "picture";
constexpr const char* errors_name = "errors.txt";
std::string data_name(std::size_t run) { return cat("run", run, ".dat"); }

/// Runs gnuplot on script_name in dir (its working directory, stdin and stdout /dev/null, stderr
/// to errors_name); returns its exit status (128 + signal if killed), or -1 if it could not be
/// started.
int run_gnuplot(const fs::path& dir) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errors_name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char* argv[] = {const_cast<char*>("gnuplot"), const_cast<char*>(script_name), nullptr};
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// What gnuplot said went wrong: its first line that is not a warning (else its first line),
/// escaped.
std::string gnuplot_error(const fs::path& errors) {
    std::ifstream in(errors);
    std::string first, line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        if (first.empty()) first = line;
        if (line.find("warning:") == std::string::npos) return io::printable_text(line);
    }
    return io::printable_text(first);
}

/// The script: fixed names, numbers, and the titles as title_literal.
std::string plot_script(const PlotOptions& o, std::size_t runs, bool png, bool any_validation, bool any_training) {
    std::ostringstream script;
    script << (png ? "set terminal pngcairo size 900,700 font 'sans,10'\n" : "set terminal svg size 900,700 font 'sans,10'\n");
    script << "set output '" << picture_name << "'\n";
    script << "set termoption noenhanced\nset datafile missing 'NaN'\nset key outside right\nset grid\nset multiplot layout 2,1\n";
    script << "set ylabel 'accuracy (%)'\nset title 'test accuracy (solid)" << (any_validation ? ", validation (dashed)" : "")
           << (any_training ? ", training (dotted)" : "") << "'\n";
    script << "plot ";
    for (std::size_t k = 0; k < runs; ++k) {
        const std::string file = cat("'", data_name(k), "'");
        script << (k ? ", " : "") << file << " using 1:2 with linespoints lt " << k + 1 << " dt 1 title "
               << title_literal(o.metrics[k]);
        if (any_validation) script << ", " << file << " using 1:3 with linespoints lt " << k + 1 << " dt 2 notitle";
        if (any_training) script << ", " << file << " using 1:5 with linespoints lt " << k + 1 << " dt 3 notitle";
    }
    script << "\nset xlabel 'epoch'\nset ylabel 'training cost per example'\nset title 'training cost'\nplot ";
    for (std::size_t k = 0; k < runs; ++k)
        script << (k ? ", " : "") << "'" << data_name(k) << "' using 1:4 with linespoints lt " << k + 1 << " title "
               << title_literal(o.metrics[k]);
    script << "\nunset multiplot\nset output\n";
    return script.str();
}

}  // namespace

OutputFile plot_output(const PlotOptions& o) {
    const std::string ext = o.output.extension().string();
    if (ext != ".png" && ext != ".svg")
        throw UsageError(cat(o.option, ": '", io::printable_text(o.output.string()), "' must end in .png or .svg"));
    std::vector<OutputFile::Input> inputs = o.inputs;
    for (const auto& f : o.metrics) inputs.push_back({f, "a metrics file"});
    return OutputFile(o.option, o.output, inputs);
}

int run_plot(const PlotOptions& o) {
    const OutputFile output = plot_output(o);
    std::vector<std::vector<Row>> runs;
    for (const auto& f : o.metrics) runs.push_back(read_metrics(f));

    // gnuplot works in a private temporary directory (mkdtemp: mode 0700), removed afterwards
    std::string pattern = (fs::temp_directory_path() / "typegrad-plot-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw RunError(cat("plot: cannot create a temporary directory: ", std::strerror(errno)));
    const fs::path dir = pattern;
    struct Cleanup {
        fs::path dir;
        ~Cleanup() {
            std::error_code e;
            fs::remove_all(dir, e);
        }
    } cleanup{dir};
    bool any_validation = false, any_training = false;
    for (std::size_t k = 0; k < runs.size(); ++k) {
        std::ofstream data(dir / data_name(k));
        for (const Row& r : runs[k]) {
            data << datum(r.epoch, 1) << ' ' << datum(r.test, 100) << ' ' << datum(r.validation, 100) << ' '
                 << datum(r.cost, 1) << ' ' << datum(r.training, 100) << '\n';
            any_validation = any_validation || r.validation >= 0;
            any_training = any_training || r.training >= 0;
        }
        if (!data.flush()) throw RunError(cat("plot: cannot write its data to ", dir.string(), ": ", std::strerror(errno)));
    }
    std::ofstream script(dir / script_name);
    script << plot_script(o, runs.size(), o.output.extension() == ".png", any_validation, any_training);
    if (!script.flush()) throw RunError(cat("plot: cannot write its script to ", dir.string(), ": ", std::strerror(errno)));
    script.close();

    const int status = run_gnuplot(dir);
    if (status == -1) throw RunError("plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
    std::ifstream in(dir / picture_name, std::ios::binary);
    const std::string picture{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (status != 0 || picture.empty()) {
        const std::string said = gnuplot_error(dir / errors_name);
        throw RunError(cat("plot: gnuplot failed (exit ", status, ")", said.empty() ? "" : ": ", said));
    }
    output.write(std::span(reinterpret_cast<const unsigned char*>(picture.data()), picture.size()));
    std::printf("typegrad plot: %zu run%s -> %s\n", runs.size(), runs.size() == 1 ? "" : "s",
                io::printable_text(o.output.string()).c_str());
    return exit_ok;
}

}  // namespace typegrad::cli
