// Issue 18, defects 1, 5 and 8, through the executable (TYPEGRAD_EXE): text that must never reach
// gnuplot as a command ([plot-injection]), metrics files that are not regular files or are too
// large ([plot-input]), and outputs of plot, train --plot and export that are the command's own
// input, a link, a device, a FIFO, locked or left by a killed run ([outputs18]).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../support/cli_process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using typegrad::test::Bytes;
using typegrad::test::read_bytes;
using typegrad::test::read_text;
using typegrad::test::split;

struct WorkDir : typegrad::test::WorkDir {
    WorkDir() : typegrad::test::WorkDir("typegrad-cli-outputs18") {}
};

using typegrad::test::Launch;
using Result = typegrad::test::CliResult;

int wait_for(pid_t pid, std::chrono::seconds limit) { return typegrad::test::wait_cli(pid, limit); }

pid_t start(const WorkDir& dir, const std::vector<std::string>& words, const Launch& how = {}) {
    return typegrad::test::start_cli(dir.path, words, how);
}

Result run(const WorkDir& dir, const std::vector<std::string>& words, Launch how = {}, std::chrono::seconds limit = 60s) {
    how.limit = limit;
    return typegrad::test::run_cli(dir.path, words, how);
}

Result run(const WorkDir& dir, const std::string& args, const Launch& how = {}) { return run(dir, split(args), how); }

std::string last_line(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    const auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

void write_text(const fs::path& p, const std::string& text) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size());
    REQUIRE(std::fclose(f) == 0);
}

const std::string metrics_jsonl =
    "{\"epoch\":1,\"epochs\":2,\"test_accuracy\":0.5,\"training_cost\":0.4}\n"
    "{\"epoch\":2,\"epochs\":2,\"test_accuracy\":0.6,\"training_cost\":0.3}\n";

/// Every file under dir named "pwned" (what `touch pwned`, injected, would create; the file names
/// that carry the injection contain the word too, but are never exactly it).
std::vector<std::string> pwned_files(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.path().filename() == "pwned") found.push_back(e.path().string());
    return found;
}

bool is_svg(const fs::path& p) {
    const std::string s = read_text(p);
    return fs::is_regular_file(p) && s.find("<svg") != std::string::npos && s.find("</svg>") != std::string::npos;
}

/// Temporary and lock files in dir.
std::vector<std::string> leftovers(const fs::path& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.find(".tmp-") != std::string::npos || (name.size() > 5 && name.substr(name.size() - 5) == ".lock"))
            v.push_back(name);
    }
    return v;
}

/// Holds an fcntl write lock on `file` (as io::OutputLock does) while it lives.
struct HeldLock {
    int fd = -1;
    explicit HeldLock(const fs::path& file) {
        fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
        REQUIRE(fd >= 0);
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        REQUIRE(::fcntl(fd, F_SETLK, &lock) == 0);
    }
    ~HeldLock() { ::close(fd); }
    HeldLock(const HeldLock&) = delete;
    HeldLock& operator=(const HeldLock&) = delete;
};

/// A temporary file as a killed writer leaves it (no process has this pid: pid_max < 10^9).
const std::string dead_pid = "999999999";

/// The rules every output follows (src/cli/outputs.hpp), for `command` followed by a file name
/// ending in `suffix`: a link is written through (the link stays, its target is replaced), a FIFO
/// and a link to /dev/null are refused without blocking, an output locked by another process is
/// refused naming it, and temporary files of killed runs are removed.
void check_output_rules(const WorkDir& dir, const std::string& command, const std::string& suffix,
                        bool (*written)(const fs::path&)) {
    fs::create_directory(dir / "targets");
    fs::create_symlink("targets/real" + suffix, dir / ("link" + suffix));  // dangling until the first write
    for (int i = 0; i < 2; ++i) {
        CHECK(run(dir, command + " link" + suffix).code == 0);
        CHECK(fs::is_symlink(dir / ("link" + suffix)));
        CHECK(written(dir / ("targets/real" + suffix)));
    }

    REQUIRE(::mkfifo((dir / ("fifo" + suffix)).c_str(), 0600) == 0);
    fs::create_symlink("/dev/null", dir / ("null" + suffix));
    const Result f = run(dir, split(command + " fifo" + suffix), {}, 20s);
    CHECK(f.code == 1);
    CHECK(f.err == "typegrad: error: -o fifo" + suffix +
                       ": is not a regular file (a FIFO): only a regular file or a new name is replaced\n");
    const Result n = run(dir, command + " null" + suffix);
    CHECK(n.code == 1);
    CHECK(n.err == "typegrad: error: -o null" + suffix +
                       ": links to '/dev/null', which is not a regular file (a character device): only a regular "
                       "file or a new name is replaced\n");
    CHECK(fs::is_fifo(dir / ("fifo" + suffix)));
    CHECK(fs::is_character_file("/dev/null"));

    {
        HeldLock lock(dir / ("held" + suffix + ".lock"));
        const Result l = run(dir, command + " held" + suffix);
        CHECK(l.code == 1);
        CHECK(l.err.find("held" + suffix + ": is being written by another process (pid " + std::to_string(::getpid())) !=
              std::string::npos);
        CHECK(!fs::exists(dir / ("held" + suffix)));
    }
    fs::remove(dir / ("held" + suffix + ".lock"));
    write_text(dir / ("new" + suffix + ".tmp-" + dead_pid), "half a file");
    CHECK(run(dir, command + " new" + suffix).code == 0);
    CHECK(written(dir / ("new" + suffix)));
    CHECK(leftovers(dir.path).empty());
}

bool is_npz(const fs::path& p) { return fs::is_regular_file(p) && read_text(p).rfind("PK", 0) == 0; }
bool is_nonempty_file(const fs::path& p) { return fs::is_regular_file(p) && fs::file_size(p) > 0; }

/// The injections of issue 18 (defect 1), each as part of a file name; $TG_MARK is expanded by
/// the shell that would run them, to an absolute path the test watches.
std::vector<std::string> injections() {
    return {
        "b`touch $TG_MARK-backquote`",
        "d$(touch $TG_MARK-dollar)",
        "n\n!touch $TG_MARK-newline-bang\n",
        "l\nprint system('touch $TG_MARK-newline-system')\n",
        "r\rprint system('touch $TG_MARK-cr')\r",
        "s\"; print system(\"touch $TG_MARK-system\"); \"",
        "q'; print system('touch $TG_MARK-single'); '",
        "c\"`touch $TG_MARK-close-backquote`\"",
        "e!touch $TG_MARK-bang",
        "m@x; system 'touch $TG_MARK-macro'",
        "x`touch pwned`",
    };
}

}  // namespace

TEST_CASE("plot: no file name reaches gnuplot as code (metrics files, -o, TMPDIR)", "[plot-injection]") {
    WorkDir dir;
    fs::create_directory(dir / "marks");
    const Launch how{{{"TG_MARK", (dir / "marks/pwned").string()}}};
    int k = 0;
    for (const std::string& form : injections()) {
        CAPTURE(form);
        // appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) about "m" + std::string
        std::string metrics = "m", output = "o";
        for (std::string* name : {&metrics, &output}) name->append(std::to_string(k)).append(form);
        metrics += ".jsonl";
        output += ".svg";
        ++k;
        write_text(dir / metrics, metrics_jsonl);
        const Result r = run(dir, {"plot", metrics, "-o", output}, how);
        CHECK(r.code == 0);
        CHECK(is_svg(dir / output));
        CHECK(r.err.empty());
    }
    // The legend shows a name as it is (its control characters replaced), not as run.
    CHECK(read_text(dir / ("o0" + injections()[0] + ".svg")).find("touch $TG_MARK-backquote") != std::string::npos);
    // gnuplot's scratch directory under a TMPDIR whose name is an injection.
    const fs::path tmp = dir / "t`touch $TG_MARK-tmpdir`";
    fs::create_directory(tmp);
    write_text(dir / "a.jsonl", metrics_jsonl);
    Launch in_tmp = how;
    in_tmp.env.emplace_back("TMPDIR", tmp.string());
    CHECK(run(dir, {"plot", "a.jsonl", "-o", "t.svg"}, in_tmp).code == 0);
    CHECK(is_svg(dir / "t.svg"));
    CHECK(fs::is_empty(tmp));  // the scratch directory is removed
    CHECK(fs::is_empty(dir / "marks"));
    CHECK(pwned_files(dir.path).empty());
    CHECK(leftovers(dir.path).empty());
}

TEST_CASE("plot: the contents of a metrics file are numbers, never script text", "[plot-injection]") {
    WorkDir dir;
    fs::create_directory(dir / "marks");
    const Launch how{{{"TG_MARK", (dir / "marks/pwned").string()}}};
    write_text(dir / "a.jsonl",
               "{\"epoch\":1,\"test_accuracy\":0.5,\"training_cost\":0.4,\"note\":\"`touch $TG_MARK-json`\"}\n"
               "{\"epoch\":2,\"test_accuracy\":0.6`touch $TG_MARK-value`,\"training_cost\":\"\\n!touch $TG_MARK-bang\"}\n");
    write_text(dir / "b.csv",
               "epoch,test_accuracy,training_cost,`touch $TG_MARK-header`\n"
               "1,0.5$(touch $TG_MARK-cell),0.4,`touch $TG_MARK-cell2`\n"
               "2,0.6,0.3e0'; system('touch $TG_MARK-cell3'); ',x\n");
    const Result r = run(dir, {"plot", "a.jsonl", "b.csv", "-o", "p.svg"}, how);
    CHECK(r.code == 0);
    CHECK(is_svg(dir / "p.svg"));
    CHECK(fs::is_empty(dir / "marks"));
    CHECK(pwned_files(dir.path).empty());
}

TEST_CASE("train --metrics … --plot …: the names reach gnuplot as text only", "[plot-injection]") {
    WorkDir dir;
    fs::create_directory(dir / "marks");
    const Launch how{{{"TG_MARK", (dir / "marks/pwned").string()}}};
    const std::string metrics = "t`touch $TG_MARK-train-metrics`\n!touch $TG_MARK-train-bang\n.jsonl";
    const std::string picture = "p$(touch $TG_MARK-train-plot)`touch pwned`.svg";
    const Result r =
        run(dir, {"train", "--epochs", "1", "--limit", "200", "--test-limit", "100", "--quiet", "--metrics", metrics,
                  "--plot", picture},
            how, 120s);
    CHECK(r.code == 0);
    CHECK(is_svg(dir / picture));
    CHECK(fs::is_empty(dir / "marks"));
    CHECK(pwned_files(dir.path).empty());
}

TEST_CASE("plot refuses a FIFO, a device and a directory at once, and a metrics file beyond its bound",
          "[plot-input]") {
    WorkDir dir;
    write_text(dir / "a.jsonl", metrics_jsonl);
    REQUIRE(::mkfifo((dir / "f.jsonl").c_str(), 0600) == 0);
    fs::create_directory(dir / "dir.jsonl");
    // Sparse: 8 GiB of zeros costs the disk nothing, and would cost a reader without bound 8 GiB.
    {
        const int fd = ::open((dir / "big.jsonl").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        REQUIRE(fd >= 0);
        REQUIRE(::ftruncate(fd, off_t{8} << 30) == 0);
        ::close(fd);
    }
    // Just beyond the bound, in valid lines.
    {
        std::string line = "{\"epoch\":1,\"test_accuracy\":0.5,\"training_cost\":0.4}\n";
        std::string text;
        while (text.size() <= (std::size_t{64} << 20)) text += line;
        write_text(dir / "long.jsonl", text);
    }
    Launch bounded;
    bounded.address_space = rlim_t{2} << 30;  // a reader without bound fails instead of swapping
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"f.jsonl", "f.jsonl: is not a regular file (a FIFO)"},
        {"/dev/zero", "/dev/zero: is not a regular file (a character device)"},
        {"dir.jsonl", "dir.jsonl: is a directory, not a file"},
        {"big.jsonl", "big.jsonl: is 8589934592 bytes; a metrics file may have at most 64 MiB"},
        {"long.jsonl", "long.jsonl: is " + std::to_string(fs::file_size(dir / "long.jsonl")) +
                           " bytes; a metrics file may have at most 64 MiB"},
    };
    for (const auto& [file, message] : cases) {
        for (const bool second : {false, true}) {  // alone, and after a good file
            std::vector<std::string> words{"plot"};
            if (second) words.push_back("a.jsonl");
            words.insert(words.end(), {file, "-o", "p.svg"});
            Result r;
            r.code = wait_for(start(dir, words, bounded), 20s);
            r.err = read_text(dir / "err");
            INFO("plot " << file << (second ? " (second)" : "") << "\n--- stderr\n" << r.err);
            CHECK(r.code == 1);
            CHECK(r.err == "typegrad: error: " + message + "\n");
            CHECK(!fs::exists(dir / "p.svg"));
        }
    }
    CHECK(fs::is_fifo(dir / "f.jsonl"));
    CHECK(leftovers(dir.path).empty());
}

TEST_CASE("plot -o: never the plot's own input, written through a link, never a device or FIFO, locked",
          "[outputs18]") {
    WorkDir dir;
    write_text(dir / "in.svg", metrics_jsonl);  // a metrics file that has the output's name
    write_text(dir / "a.jsonl", metrics_jsonl);
    fs::create_hard_link(dir / "a.jsonl", dir / "hard.svg");
    fs::create_symlink("a.jsonl", dir / "soft.svg");
    const std::vector<std::pair<std::string, std::string>> self = {
        {"plot in.svg -o in.svg", "-o in.svg: is in.svg"},
        {"plot a.jsonl -o hard.svg", "-o hard.svg: is a.jsonl"},
        {"plot a.jsonl -o soft.svg", "-o soft.svg: is a.jsonl"},
        {"plot in.svg a.jsonl -o ./soft.svg", "-o ./soft.svg: is a.jsonl"},
    };
    for (const auto& [args, message] : self) {
        const Result r = run(dir, args);
        CHECK(r.code == 1);
        CHECK(r.err.rfind("typegrad: error: " + message + " (a metrics file of this run); refusing to overwrite it\n", 0) == 0);
    }
    CHECK(read_text(dir / "in.svg") == metrics_jsonl);
    CHECK(read_text(dir / "a.jsonl") == metrics_jsonl);
    CHECK(fs::is_symlink(dir / "soft.svg"));

    check_output_rules(dir, "plot a.jsonl -o", ".svg", is_svg);
}

TEST_CASE("train --plot: never the run's checkpoint or metrics file", "[outputs18]") {
    WorkDir dir;
    const std::string quick = "train --epochs 1 --limit 200 --test-limit 100 --quiet ";
    // The metrics file drawn onto itself: refused before training, nothing written.
    const Result m = run(dir, quick + "--metrics m.svg --plot m.svg");
    CHECK(m.code == 1);
    CHECK(m.err.rfind("typegrad: error: --plot m.svg: is m.svg (", 0) == 0);
    CHECK(m.out.empty());
    CHECK(!fs::exists(dir / "m.svg"));
    // ... and the --save checkpoint, as a name and through a link.
    const Result s = run(dir, quick + "--save run.svg --metrics m.jsonl --plot run.svg");
    CHECK(s.code == 1);
    CHECK(s.err.rfind("typegrad: error: --plot run.svg: is run.svg (", 0) == 0);
    CHECK(s.out.empty());
    REQUIRE(run(dir, quick + "--save run.tgck").code == 0);
    const Bytes saved = read_bytes(dir / "run.tgck");
    fs::create_symlink("run.tgck", dir / "run-link.svg");
    const Result r = run(dir, "train --epochs 2 --limit 200 --test-limit 100 --quiet --resume run.tgck --metrics m.jsonl "
                              "--plot run-link.svg");
    CHECK(r.code == 1);
    CHECK(r.err.rfind("typegrad: error: --plot run-link.svg: is run.tgck (", 0) == 0);
    CHECK(read_bytes(dir / "run.tgck") == saved);
    CHECK(fs::is_symlink(dir / "run-link.svg"));
    // A link is written through.
    fs::create_directory(dir / "pics");
    fs::create_symlink("pics/real.svg", dir / "link.svg");
    CHECK(run(dir, quick + "--metrics m2.jsonl --plot link.svg").code == 0);
    CHECK(fs::is_symlink(dir / "link.svg"));
    CHECK(is_svg(dir / "pics/real.svg"));
    CHECK(leftovers(dir.path).empty());
}

TEST_CASE("export -o: never the --model checkpoint, written through a link, never a device or FIFO, locked",
          "[outputs18]") {
    WorkDir dir;
    REQUIRE(run(dir, split("train --epochs 1 --limit 200 --test-limit 100 --quiet --save m.tgck"), {}, 120s).code == 0);
    const Bytes model = read_bytes(dir / "m.tgck");
    const Result probe = run(dir, "export --model m.tgck -o probe.onnx");
    const bool onnx = probe.code == 0;
    if (!onnx) WARN("this build has no ONNX support: the .onnx cases are skipped (" << last_line(probe.err) << ")");

    // The checkpoint as the output: through a symbolic link, a hard link, another spelling.
    fs::create_symlink("m.tgck", dir / "out.npz");
    fs::create_hard_link(dir / "m.tgck", dir / "hard.npz");
    std::vector<std::pair<std::string, std::string>> self = {
        {"export --model m.tgck -o out.npz", "-o out.npz: is m.tgck"},
        {"export --model m.tgck -o hard.npz", "-o hard.npz: is m.tgck"},
        {"export --model ./hard.npz -o ../" + dir.path.filename().string() + "/out.npz",
         "-o ../" + dir.path.filename().string() + "/out.npz: is ./hard.npz"},
    };
    fs::copy_file(dir / "m.tgck", dir / "m.onnx");  // a checkpoint named like the output
    if (onnx) {
        self.emplace_back("export --model m.onnx -o m.onnx", "-o m.onnx: is m.onnx");
        fs::create_symlink("m.tgck", dir / "out.onnx");
        self.emplace_back("export --model m.tgck -o out.onnx", "-o out.onnx: is m.tgck");
    }
    for (const auto& [args, message] : self) {
        const Result r = run(dir, args);
        CHECK(r.code == 1);
        CHECK(r.err == "typegrad: error: " + message + " (the --model checkpoint of this run); refusing to overwrite it\n");
        CHECK(r.out.empty());
    }
    CHECK(read_bytes(dir / "m.tgck") == model);
    CHECK(read_bytes(dir / "m.onnx") == model);
    CHECK(fs::is_symlink(dir / "out.npz"));

    check_output_rules(dir, "export --model m.tgck -o", ".npz", is_npz);
    if (onnx) check_output_rules(dir, "export --model m.tgck -o", ".onnx", is_nonempty_file);
    CHECK(read_bytes(dir / "m.tgck") == model);
}
