// Issue 9 through the executable (TYPEGRAD_EXE): outputs that must not be replaced (devices,
// the run's own inputs), symbolic links, locks, FIFOs that must not hang, interruption by
// SIGINT/SIGTERM, stale temporary files, standard output that cannot be written, text from
// checkpoints, the data's identity on resume, eval on a test set alone. One CTest test per tag.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/util/random.hpp"
#include "../support/workdir.hpp"

using namespace typegrad;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using test::Bytes;
using test::read_bytes;
using test::read_text;
using test::split;
using test::write_bytes;

/// A fresh working directory, removed at the end of the test.
struct WorkDir : test::WorkDir {
    WorkDir() : test::WorkDir("typegrad-cli-robustness") {}
};

/// Starts `typegrad <args>` in dir; stdout goes to `out` ("-": closed), stderr to dir/err.
pid_t start(const WorkDir& dir, const std::string& args, const std::string& out = "out") {
    const std::vector<std::string> words = split(args);
    const std::string out_path = out.empty() || out[0] == '/' ? out : (dir / out).string();
    const std::string err_path = (dir / "err").string();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(TYPEGRAD_EXE));
        for (const auto& w : words) argv.push_back(const_cast<char*>(w.c_str()));
        argv.push_back(nullptr);
        const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e < 0 || ::chdir(dir.path.c_str()) != 0 || ::dup2(e, 2) < 0) ::_exit(126);
        if (out == "-") {
            ::close(1);
        } else {
            const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (o < 0 || ::dup2(o, 1) < 0) ::_exit(126);
        }
        ::unsetenv("TYPEGRAD_DATA");
        ::execv(TYPEGRAD_EXE, argv.data());
        ::_exit(127);
    }
    return pid;
}

/// Waits for pid; the exit code, or 128 + signal if it was killed. Fails the test after
/// `limit` (the process is then killed): a hang is a failure, not a stuck test run.
int wait_for(pid_t pid, std::chrono::seconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        REQUIRE((r == 0 || errno == EINTR));
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            FAIL("typegrad did not finish within " << limit.count() << " s (a hang)");
        }
        std::this_thread::sleep_for(5ms);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Result {
    int code = -1;
    std::string out, err;
};

Result run(const WorkDir& dir, const std::string& args, std::chrono::seconds limit = 60s) {
    Result r;
    r.code = wait_for(start(dir, args), limit);
    r.out = read_text(dir / "out");
    r.err = read_text(dir / "err");
    UNSCOPED_INFO("typegrad " << args << "\n--- exit " << r.code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err);
    return r;
}

/// Waits until `file` exists (a run has written its first checkpoint).
void wait_until_exists(const fs::path& file, pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!fs::exists(file)) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, WNOHANG) == 0);  // still running
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(5ms);
    }
}

/// The last line of a text.
std::string last_line(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    const auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

/// Temporary and lock files in dir.
std::vector<std::string> leftovers(const WorkDir& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir.path)) {
        const std::string name = e.path().filename().string();
        if (name.find(".tmp-") != std::string::npos || name.size() > 5 && name.substr(name.size() - 5) == ".lock")
            v.push_back(name);
    }
    return v;
}

/// MNIST-format IDX files (synthetic digits as bytes) in dir/data.
void write_idx(const fs::path& data, std::size_t n_train, std::size_t n_test, bool test_only = false) {
    fs::create_directories(data);
    const auto put = [](Bytes& b, std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
    };
    const auto write_set = [&](const std::string& prefix, const data::Dataset& d) {
        Bytes images{0, 0, 8, 3}, labels{0, 0, 8, 1};
        put(images, static_cast<std::uint32_t>(d.size()));
        put(images, 28);
        put(images, 28);
        images.insert(images.end(), d.pixels.begin(), d.pixels.end());
        put(labels, static_cast<std::uint32_t>(d.size()));
        labels.insert(labels.end(), d.labels.begin(), d.labels.end());
        write_bytes(data / (prefix + "-images-idx3-ubyte"), images);
        write_bytes(data / (prefix + "-labels-idx1-ubyte"), labels);
    };
    const auto split = data::synthetic_split(n_train, n_test, 5);
    if (!test_only) write_set("train", split.train);
    write_set("t10k", split.test);
}

const std::string quick = " --limit 300 --test-limit 50 --quiet";
const std::string endless = " --epochs 100000 --limit 3000 --test-limit 50 --quiet";

}  // namespace

TEST_CASE("--save and --metrics never replace a device, a FIFO or a directory", "[outputs]") {
    WorkDir dir;
    struct stat before {};
    REQUIRE(::stat("/dev/null", &before) == 0);
    for (const std::string option : {"--save", "--metrics"}) {
        for (const std::string device : {"/dev/null", "/dev/full"}) {
            const Result r = run(dir, "train --epochs 1" + quick + " " + option + " " + device);
            CHECK(r.code == 1);
            CHECK(last_line(r.err) == "typegrad: error: " + option + " " + device +
                                          ": is not a regular file (a character device): only a regular file or a new "
                                          "name is replaced");
            CHECK(r.out.empty());  // refused before training
        }
    }
    struct stat after {};
    REQUIRE(::stat("/dev/null", &after) == 0);
    CHECK(S_ISCHR(after.st_mode));
    CHECK(after.st_ino == before.st_ino);
    // A FIFO, and a symbolic link to a device.
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    fs::create_symlink("/dev/null", dir / "null.tgck");
    const Result f = run(dir, "train --epochs 1" + quick + " --save fifo");
    CHECK(f.code == 1);
    CHECK(last_line(f.err) == "typegrad: error: --save fifo: is not a regular file (a FIFO): only a regular file or a "
                              "new name is replaced");
    const Result l = run(dir, "train --epochs 1" + quick + " --metrics null.tgck");
    CHECK(l.code == 1);
    CHECK(last_line(l.err) == "typegrad: error: --metrics null.tgck: links to '/dev/null', which is not a regular file (a "
                              "character device): only a regular file or a new name is replaced");
    CHECK(fs::is_fifo(dir / "fifo"));
    CHECK(fs::is_symlink(dir / "null.tgck"));
    CHECK(leftovers(dir).empty());
}

TEST_CASE("an output that is one of the run's inputs is refused, compared as files", "[outputs]") {
    WorkDir dir;
    write_idx(dir / "data", 200, 50);
    const Bytes images = read_bytes(dir / "data/train-images-idx3-ubyte");
    // The same file by another spelling, through a symbolic link, through a hard link.
    fs::create_symlink("data/t10k-labels-idx1-ubyte", dir / "labels-link");
    fs::create_hard_link(dir / "data/t10k-images-idx3-ubyte", dir / "hard");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"--save ./data/../data/train-images-idx3-ubyte", "data/train-images-idx3-ubyte"},
        {"--metrics labels-link", "data/t10k-labels-idx1-ubyte"},
        {"--save hard", "data/t10k-images-idx3-ubyte"},
    };
    for (const auto& [option, input] : cases) {
        const Result r = run(dir, "train --epochs 1 --data data --quiet " + option);
        CHECK(r.code == 1);
        CHECK(last_line(r.err) == "typegrad: error: " + option + ": is " + input +
                                      " (an input data file of this run); refusing to overwrite it");
        CHECK(r.out.empty());
    }
    CHECK(read_bytes(dir / "data/train-images-idx3-ubyte") == images);
    // --metrics onto the --resume checkpoint (a hard link to it) is refused; --save onto it is
    // the documented way to continue a run.
    REQUIRE(run(dir, "train --epochs 1 --data data --quiet --save run.tgck").code == 0);
    fs::create_hard_link(dir / "run.tgck", dir / "same.tgck");
    const Bytes saved = read_bytes(dir / "run.tgck");
    const Result m = run(dir, "train --epochs 2 --data data --quiet --resume run.tgck --metrics same.tgck");
    CHECK(m.code == 2);
    CHECK(last_line(m.err) == "typegrad: error: --resume: 'run.tgck' is also the --metrics file");
    // ... and so is a symbolic link to it (a new name for the metrics, the link followed).
    fs::create_symlink("run.tgck", dir / "via-link.csv");
    const Result l = run(dir, "train --epochs 2 --data data --quiet --resume run.tgck --metrics via-link.csv");
    CHECK(l.code != 0);
    CHECK(last_line(l.err).find("typegrad: error: --") == 0);
    CHECK(read_bytes(dir / "run.tgck") == saved);
    CHECK(run(dir, "train --epochs 2 --data data --quiet --resume run.tgck --save run.tgck").code == 0);
    CHECK(leftovers(dir).empty());
}

TEST_CASE("--save through a symbolic link replaces the file it points to; the link stays", "[outputs]") {
    WorkDir dir;
    fs::create_directory(dir / "runs");
    fs::create_symlink("runs/real.tgck", dir / "latest.tgck");  // dangling until the first save
    REQUIRE(run(dir, "train --epochs 1" + quick + " --save latest.tgck --metrics m.csv").code == 0);
    CHECK(fs::is_symlink(dir / "latest.tgck"));
    REQUIRE(fs::is_regular_file(dir / "runs/real.tgck"));
    const Result r = run(dir, "train --epochs 2" + quick + " --resume latest.tgck --save latest.tgck");
    CHECK(r.code == 0);
    CHECK(fs::is_symlink(dir / "latest.tgck"));
    CHECK(run(dir, "eval --model runs/real.tgck --test-limit 10").out.find(" 2 epochs trained") != std::string::npos);
    CHECK(leftovers(dir).empty());
    for (const auto& e : fs::directory_iterator(dir / "runs")) CHECK(e.path().filename() == "real.tgck");
}

TEST_CASE("two runs writing the same file: the second is refused and told who holds it", "[outputs]") {
    WorkDir dir;
    const pid_t first = start(dir, "train --save run.tgck --metrics m.jsonl" + endless, "first.out");
    wait_until_exists(dir / "run.tgck", first);
    for (const std::string option : {"--save run.tgck", "--metrics m.jsonl"}) {
        const Result second = run(dir, "train --epochs 1" + quick + " " + option);
        CHECK(second.code == 1);
        const std::string file = split(option)[1];
        CHECK(last_line(second.err) == "typegrad: error: " + option + ": is being written by another process (pid " +
                                           std::to_string(first) + ", which holds the lock on '" + file + ".lock')");
    }
    REQUIRE(::kill(first, SIGTERM) == 0);
    CHECK(wait_for(first) == 143);
    CHECK(leftovers(dir).empty());  // the locks are released with the files that held them
    CHECK(run(dir, "train --epochs 1" + quick + " --save run.tgck").code == 0);  // and free again
}

TEST_CASE("FIFOs and devices as inputs are refused at once instead of blocking", "[hang]") {
    WorkDir dir;
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    // Each of these blocked forever in open() before; wait_for fails the test after 20 s.
    const Result model = run(dir, "eval --model fifo", 20s);
    CHECK(model.code == 1);
    CHECK(last_line(model.err) == "typegrad: error: --model fifo: is not a regular file (a FIFO)");
    const Result resume = run(dir, "train --resume fifo", 20s);
    CHECK(resume.code == 1);
    CHECK(last_line(resume.err) == "typegrad: error: --resume fifo: is not a regular file (a FIFO)");
    write_idx(dir / "data", 100, 20);
    fs::remove(dir / "data/train-labels-idx1-ubyte");
    REQUIRE(::mkfifo((dir / "data/train-labels-idx1-ubyte").c_str(), 0600) == 0);
    const Result data = run(dir, "train --data data --epochs 1 --quiet", 20s);
    CHECK(data.code == 1);
    CHECK(last_line(data.err) == "typegrad: error: data/train-labels-idx1-ubyte: is not a regular file (a FIFO)");
    // /dev/zero as the images file: not "element type 0x00 is not supported".
    fs::remove(dir / "data/train-images-idx3-ubyte");
    fs::create_symlink("/dev/zero", dir / "data/train-images-idx3-ubyte");
    const Result zero = run(dir, "train --data data --epochs 1 --quiet", 20s);
    CHECK(zero.code == 1);
    CHECK(last_line(zero.err) == "typegrad: error: data/train-images-idx3-ubyte: is not a regular file (a character device)");
}

TEST_CASE("a checkpoint with an all-zero generator is refused instead of hanging the shuffle", "[hang]") {
    WorkDir dir;
    Network<float, 784, 30, 10> net{1};
    io::save_checkpoint(dir / "zero.tgck", net, {1, Rng::State{}, "sgd", {}, {}, 0.0});  // a valid checksum around the zero state
    const std::string message = "zero.tgck: invalid header: the shuffling generator's state is all zero (a generator "
                                "in that state never changes; no trainer saves it)";
    const Result r = run(dir, "train --epochs 2" + quick + " --resume zero.tgck", 20s);
    CHECK(r.code == 1);
    CHECK(last_line(r.err) == "typegrad: error: --resume " + message);
    const Result e = run(dir, "eval --model zero.tgck --test-limit 10", 20s);
    CHECK(e.code == 1);
    CHECK(last_line(e.err) == "typegrad: error: --model " + message);
}

TEST_CASE("SIGINT or SIGTERM: the last epoch's checkpoint is kept, one line says how to resume", "[interrupt]") {
    WorkDir dir;
    for (const int sig : {SIGINT, SIGTERM}) {
        const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
        INFO(name);
        fs::remove(dir / "run.tgck");
        const pid_t pid = start(dir, "train --save run.tgck --metrics m.csv" + endless);
        wait_until_exists(dir / "run.tgck", pid);
        REQUIRE(::kill(pid, sig) == 0);
        CHECK(wait_for(pid) == (sig == SIGINT ? 130 : 143));
        const std::string err = read_text(dir / "err");
        INFO(err);
        const std::regex line("typegrad: interrupted by " + name +
                              " (in epoch ([0-9]+) \\([0-9]+ of 300 batches done, abandoned\\)|after epoch ([0-9]+)); "
                              "run.tgck holds epoch ([0-9]+); continue with: typegrad train --save run.tgck --metrics "
                              "m.csv --epochs 100000 --limit 3000 --test-limit 50 --quiet --resume run.tgck");
        std::smatch m;
        const std::string last = last_line(err);
        REQUIRE(std::regex_match(last, m, line));
        const long held = std::stol(m[4].str());
        if (m[2].matched) CHECK(std::stol(m[2].str()) == held + 1);
        else CHECK(std::stol(m[3].str()) == held);
        CHECK(err.find("typegrad: error") == std::string::npos);
        CHECK(leftovers(dir).empty());
        // The checkpoint is that epoch's, and the metrics file has every epoch up to it.
        const Result e = run(dir, "eval --model run.tgck --test-limit 10");
        std::string trained = std::to_string(held);  // (not " " + ...: GCC 12's false -Wrestrict, PR 105329)
        trained += held == 1 ? " epoch trained" : " epochs trained";
        CHECK(e.out.find(trained) != std::string::npos);
        std::size_t lines = 0;
        std::istringstream metrics(read_text(dir / "m.csv"));
        for (std::string l; std::getline(metrics, l);) ++lines;
        CHECK(lines == static_cast<std::size_t>(held) + 1);
        // The command resumes.
        const Result more = run(dir, "train --epochs " + std::to_string(held + 1) +
                                         " --limit 3000 --test-limit 50 --quiet --resume run.tgck --save run.tgck");
        CHECK(more.code == 0);
        CHECK(more.err.find("note:") == std::string::npos);
    }
    // Without --save there is nothing to resume from, and it says so.
    const pid_t pid = start(dir, "train" + endless);
    std::this_thread::sleep_for(300ms);
    REQUIRE(::kill(pid, SIGINT) == 0);
    CHECK(wait_for(pid) == 130);
    CHECK(std::regex_match(last_line(read_text(dir / "err")),
                           std::regex("typegrad: interrupted by SIGINT (in epoch [0-9]+ \\([0-9]+ of 300 batches done, "
                                      "abandoned\\)|after epoch [0-9]+|before training started); (no checkpoint was saved "
                                      "\\(use --save FILE to be able to resume\\)|nothing was written)")));
}

TEST_CASE("temporary files of killed runs are removed by the next run writing the same file", "[interrupt]") {
    WorkDir dir;
    // Three writers killed with SIGKILL while saving (their temporaries stay behind).
    std::vector<std::string> stale;
    for (int i = 0; i < 3; ++i) {
        const pid_t dead = ::fork();
        REQUIRE(dead >= 0);
        if (dead == 0) ::_exit(0);
        REQUIRE(::waitpid(dead, nullptr, 0) == dead);
        stale.push_back("run.tgck.tmp-" + std::to_string(dead));
        write_bytes(dir / stale.back(), Bytes(100, 0xab));
    }
    const Result r = run(dir, "train --epochs 1" + quick + " --save run.tgck");
    CHECK(r.code == 0);
    CHECK(r.err.find("note: --save run.tgck: removed 3 temporary files left by killed runs") != std::string::npos);
    CHECK(leftovers(dir).empty());
    CHECK(fs::exists(dir / "run.tgck"));
}

TEST_CASE("standard output closed or full: an error and a non-zero exit", "[stdout]") {
    WorkDir dir;
    // Full from the start: the header line fails, before any training (a stdout that fills up
    // later fails after the epoch's checkpoint is written, so no epoch is lost).
    const int full = wait_for(start(dir, "train --epochs 1" + quick + " --save other.tgck", "/dev/full"));
    CHECK(full == 1);
    CHECK(last_line(read_text(dir / "err")) == "typegrad: error: standard output: cannot write: No space left on device");
    CHECK_FALSE(fs::exists(dir / "other.tgck"));
    CHECK(leftovers(dir).empty());
    REQUIRE(wait_for(start(dir, "train --epochs 1" + quick + " --save run.tgck")) == 0);
    CHECK(wait_for(start(dir, "derive", "/dev/full")) == 1);
    CHECK(wait_for(start(dir, "eval --model run.tgck --test-limit 10", "/dev/full")) == 1);
    CHECK(wait_for(start(dir, "--help", "/dev/full")) == 1);
    // Closed: refused before anything runs (and no file the run opens becomes its stdout).
    const int closed = wait_for(start(dir, "train --epochs 1" + quick + " --save other.tgck", "-"));
    CHECK(closed == 1);
    CHECK(last_line(read_text(dir / "err")) ==
          "typegrad: error: standard output is closed: nothing could be reported (redirect it to /dev/null to discard it)");
    CHECK_FALSE(fs::exists(dir / "other.tgck"));
    CHECK(wait_for(start(dir, "train --epochs 1" + quick, "/dev/null")) == 0);
}

TEST_CASE("eval refuses NaN or infinite weights with --resume's message, and needs only the test set", "[eval]") {
    WorkDir dir;
    Network<float, 784, 30, 10> nan_net{3};
    nan_net.weights<1>()(2, 3) = std::numeric_limits<float>::infinity();
    io::save_checkpoint(dir / "inf.tgck", nan_net, {1, Rng(3).state(), "sgd", {}, {}, 0.0});
    const std::string message = "inf.tgck: a weight or bias is NaN or infinite (saved by a diverged run?)";
    const Result e = run(dir, "eval --model inf.tgck --test-limit 10");
    CHECK(e.code == 1);
    CHECK(e.err == "typegrad: error: --model " + message + "\n");
    CHECK(e.out.empty());
    const Result r = run(dir, "train --epochs 2" + quick + " --resume inf.tgck");
    CHECK(r.code == 1);
    CHECK(r.err == "typegrad: error: --resume " + message + "\n");

    // A directory with only the two t10k files is enough for eval (not for train).
    write_idx(dir / "test-only", 0, 30, true);
    REQUIRE(run(dir, "train --epochs 1" + quick + " --save run.tgck").code == 0);
    const Result ok = run(dir, "eval --model run.tgck --data test-only");
    CHECK(ok.code == 0);
    CHECK(ok.out.find("test accuracy") != std::string::npos);
    CHECK(ok.out.find("/30)") != std::string::npos);
    const Result t = run(dir, "train --epochs 1 --data test-only --quiet");
    CHECK(t.code == 1);
    CHECK(last_line(t.err) == "typegrad: error: test-only: missing train-images-idx3-ubyte (or .gz)");
    // Plain and .gz of the same file: which one is read is said.
    write_idx(dir / "both", 100, 30);
    fs::copy_file(dir / "both/t10k-images-idx3-ubyte", dir / "both/t10k-images-idx3-ubyte.gz");  // name only
    const Result both = run(dir, "eval --model run.tgck --data both");
    CHECK(both.code == 0);
    CHECK(both.err.find("data: both/t10k-images-idx3-ubyte: read (t10k-images-idx3-ubyte.gz beside it is not)") !=
          std::string::npos);
}

TEST_CASE("text from a checkpoint is escaped wherever it is printed", "[notes]") {
    WorkDir dir;
    Network<float, 784, 30, 10> net{3};
    const std::string evil = "batch 10, eta 3\x1b]0;pwned\x07\x1b[2J\r\nline two \xc2\x9b" "31m";
    io::save_checkpoint(dir / "evil.tgck", net, {1, Rng(3).state(), "sgd", {}, {}, 0.0}, evil);
    const Result e = run(dir, "eval --model evil.tgck --test-limit 10");
    CHECK(e.code == 0);
    CHECK(e.out.find("trained with batch 10, eta 3\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x0aline two \\xc2\\x9b31m\n") !=
          std::string::npos);
    const Result r = run(dir, "train --epochs 2" + quick + " --resume evil.tgck");
    CHECK(r.code == 0);
    CHECK(r.err.find('\x1b') == std::string::npos);
    CHECK(r.err.find("\\x1b]0;pwned") != std::string::npos);
    for (const Result* x : {&e, &r})
        for (const char c : x->out + x->err) CHECK((c == '\n' || static_cast<unsigned char>(c) >= 0x20));
}

TEST_CASE("checkpoints name the data by content, not by path: another path to it is the same data", "[notes]") {
    WorkDir dir;
    write_idx(dir / "data", 300, 50);
    REQUIRE(run(dir, "train --epochs 1 --data data --quiet --save run.tgck").code == 0);
    const std::string bytes = read_text(dir / "run.tgck");
    CHECK(bytes.find(dir.path.string()) == std::string::npos);  // no path of this machine
    CHECK(bytes.find("IDX data (content ") != std::string::npos);
    // The same files through a symbolic link, and gzip-compressed copies: no "will differ" note.
    fs::create_directory_symlink(dir / "data", dir / "elsewhere");
    const Result same = run(dir, "train --epochs 2 --data elsewhere --quiet --resume run.tgck --save a.tgck");
    CHECK(same.code == 0);
    CHECK(same.err.find("note:") == std::string::npos);
    // Other data: the note says so.
    write_idx(dir / "other", 300, 50);
    Bytes images = read_bytes(dir / "other/train-images-idx3-ubyte");
    images[500] ^= 0x55;
    write_bytes(dir / "other/train-images-idx3-ubyte", images);
    const Result other = run(dir, "train --epochs 2 --data other --quiet --resume run.tgck --save b.tgck");
    CHECK(other.code == 0);
    CHECK(std::regex_search(other.err, std::regex("note: resuming run.tgck with 300 training examples of IDX data "
                                                  "\\(content [0-9a-f]+\\) instead of 300 training examples of IDX data "
                                                  "\\(content [0-9a-f]+\\): the result will differ")));
}
