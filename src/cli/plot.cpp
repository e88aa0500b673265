// `typegrad plot` (plot.hpp): gnuplot from Debian (gnuplot-nox) draws the runs, one colour per
// file, test accuracy solid, validation accuracy dashed and training accuracy dotted in the upper
// panel, the training cost in the lower one, each run named in the legend by its file name.
#include "plot.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.hpp"
#include "text.hpp"

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

std::vector<Row> read_metrics(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw RunError(cat(file.string(), ": cannot open: ", std::strerror(errno)));
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
                    throw RunError(cat(file.string(), ": line 1 is not a record of 'typegrad train --metrics'"));
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
        if (!(r.epoch >= 1) || !(r.test >= 0))
            throw RunError(cat(file.string(), ": line ", number, " is not a record of 'typegrad train --metrics'"));
        rows.push_back(r);
    }
    if (rows.empty()) throw RunError(cat(file.string(), ": no epochs (not a file of 'typegrad train --metrics'?)"));
    return rows;
}

/// A file name for gnuplot's double-quoted strings.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

/// Runs gnuplot on the script; returns its exit status, or -1 if it could not be started.
int run_gnuplot(const fs::path& script, std::string& error_output, const fs::path& errors) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const std::string path = script.string();
    char* argv[] = {const_cast<char*>("gnuplot"), const_cast<char*>(path.c_str()), nullptr};
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::ifstream in(errors);
    std::getline(in, error_output);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

int run_plot(const PlotOptions& o) {
    const std::string ext = o.output.extension().string();
    const bool png = ext == ".png", svg = ext == ".svg";
    if (!png && !svg) throw UsageError(cat("-o: '", o.output.string(), "' must end in .png or .svg"));
    if (o.output.has_parent_path() && !fs::is_directory(o.output.parent_path()))
        throw OutputError(cat("-o ", o.output.string(), ": directory '", o.output.parent_path().string(), "' does not exist"));
    std::error_code ec;
    if (fs::exists(o.output, ec) && !fs::is_regular_file(o.output, ec))
        throw OutputError(cat("-o ", o.output.string(), ": exists and is not a regular file"));
    std::vector<std::vector<Row>> runs;
    for (const auto& f : o.metrics) runs.push_back(read_metrics(f));

    // the data and the script in a private temporary directory; the picture beside the output
    std::string pattern = (fs::temp_directory_path() / "typegrad-plot-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw RunError(cat("plot: cannot create a temporary directory: ", std::strerror(errno)));
    const fs::path dir = pattern;
    const fs::path temp = o.output.parent_path() / cat(".", o.output.filename().string(), ".tmp-", ::getpid());
    struct Cleanup {
        fs::path dir, temp;
        ~Cleanup() {
            std::error_code e;
            fs::remove_all(dir, e);
            fs::remove(temp, e);
        }
    } cleanup{dir, temp};
    bool any_validation = false, any_training = false;
    for (std::size_t k = 0; k < runs.size(); ++k) {
        std::ofstream data(dir / cat("run", k, ".dat"));
        for (const Row& r : runs[k]) {
            data << r.epoch << ' ' << r.test * 100 << ' ';
            if (r.validation >= 0) {
                data << r.validation * 100;
                any_validation = true;
            } else {
                data << "NaN";
            }
            data << ' ' << (r.cost >= 0 ? std::to_string(r.cost) : std::string("NaN")) << ' ';
            if (r.training >= 0) {
                data << r.training * 100;
                any_training = true;
            } else {
                data << "NaN";
            }
            data << '\n';
        }
    }
    std::ofstream script(dir / "plot.gp");
    script << (png ? "set terminal pngcairo size 900,700 font 'sans,10'\n" : "set terminal svg size 900,700 font 'sans,10'\n");
    script << "set output " << quoted(temp.string()) << "\n";
    script << "set termoption noenhanced\nset datafile missing 'NaN'\nset key outside right\nset grid\nset multiplot layout 2,1\n";
    script << "set ylabel 'accuracy (%)'\nset title 'test accuracy (solid)" << (any_validation ? ", validation (dashed)" : "")
           << (any_training ? ", training (dotted)" : "") << "'\n";
    script << "plot ";
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const std::string file = quoted((dir / cat("run", k, ".dat")).string());
        const std::string name = quoted(o.metrics[k].filename().string());
        script << (k ? ", " : "") << file << " using 1:2 with linespoints lt " << k + 1 << " dt 1 title " << name;
        if (any_validation)
            script << ", " << file << " using 1:3 with linespoints lt " << k + 1 << " dt 2 notitle";
        if (any_training) script << ", " << file << " using 1:5 with linespoints lt " << k + 1 << " dt 3 notitle";
    }
    script << "\nset xlabel 'epoch'\nset ylabel 'training cost per example'\nset title 'training cost'\nplot ";
    for (std::size_t k = 0; k < runs.size(); ++k)
        script << (k ? ", " : "") << quoted((dir / cat("run", k, ".dat")).string()) << " using 1:4 with linespoints lt "
               << k + 1 << " title " << quoted(o.metrics[k].filename().string());
    script << "\nunset multiplot\nset output\n";
    script.close();

    std::string gnuplot_error;
    const int status = run_gnuplot(dir / "plot.gp", gnuplot_error, dir / "errors.txt");
    if (status == -1)
        throw RunError("plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
    if (status != 0 || !fs::exists(temp))
        throw RunError(cat("plot: gnuplot failed (exit ", status, ")", gnuplot_error.empty() ? "" : ": ", gnuplot_error));
    fs::rename(temp, o.output, ec);
    if (ec) throw OutputError(cat("-o ", o.output.string(), ": cannot write: ", ec.message()));
    std::printf("typegrad plot: %zu run%s -> %s\n", runs.size(), runs.size() == 1 ? "" : "s", o.output.c_str());
    return exit_ok;
}

}  // namespace typegrad::cli
