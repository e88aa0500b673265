// `typegrad train --save/--resume` and `typegrad eval`, through the executable (TYPEGRAD_EXE):
// resumption gives the bytes of an uninterrupted run, two runs give the same bytes, a writer
// SIGKILLed at each step of a save leaves a checkpoint that loads, damaged or foreign
// checkpoints are refused.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/sgd.hpp"
#include "typegrad/util/random.hpp"
#include "../support/workdir.hpp"

using namespace typegrad;
namespace fs = std::filesystem;

namespace {

using test::Bytes;
using test::read_bytes;
using test::read_text;
using test::split;
using test::write_bytes;

/// A fresh working directory, removed at the end of the test.
struct WorkDir : test::WorkDir {
    WorkDir() : test::WorkDir("typegrad-cli-checkpoints") {}
};

/// Starts `typegrad <args>` in dir with stdout and stderr going to dir/<log>.out and .err.
pid_t start(const WorkDir& dir, const std::string& args, const std::string& log) {
    const std::vector<std::string> words = split(args);
    const std::string out = (dir / (log + ".out")).string(), err = (dir / (log + ".err")).string();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(TYPEGRAD_EXE));
        for (const auto& w : words) argv.push_back(const_cast<char*>(w.c_str()));
        argv.push_back(nullptr);
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || ::chdir(dir.path.c_str()) != 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
        ::unsetenv("TYPEGRAD_DATA");
        ::execv(TYPEGRAD_EXE, argv.data());
        ::_exit(127);
    }
    return pid;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) REQUIRE(errno == EINTR);
    return status;
}

struct Result {
    int code = -1;  // exit code; -1 if killed by a signal
    std::string out, err;
};

/// Runs `typegrad <args>` in dir to the end.
Result run(const WorkDir& dir, const std::string& args) {
    const int status = wait_for(start(dir, args, "log"));
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_text(dir / "log.out");
    r.err = read_text(dir / "log.err");
    INFO("typegrad " << args << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err);
    CHECK(r.code >= 0);
    return r;
}

Result run_ok(const WorkDir& dir, const std::string& args) {
    Result r = run(dir, args);
    INFO("typegrad " << args << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err);
    REQUIRE(r.code == 0);
    return r;
}

/// A metrics CSV without the seconds and examples_per_second columns (the only ones that
/// depend on the machine), line by line.
std::vector<std::string> metrics_without_timing(const fs::path& csv) {
    std::istringstream in(read_text(csv));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> cells;
        std::istringstream fields(line);
        for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
        REQUIRE(cells.size() >= 9);  // the last, validation_accuracy and training_accuracy, are empty without their options
        std::string kept = cells[0] + "," + cells[1] + "," + cells[2] + "," + cells[3] + "," + cells[4];
        for (std::size_t c = 7; c < cells.size(); ++c) kept += "," + cells[c];  // training cost, eta, validation
        lines.push_back(kept);
    }
    return lines;
}

/// The "test accuracy ..." lines of a run's stdout.
std::vector<std::string> accuracy_lines(const std::string& out) {
    std::vector<std::string> v;
    const std::regex re("test accuracy [0-9.]+ \\([0-9]+/[0-9]+\\)");
    for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it) v.push_back(it->str());
    return v;
}

const std::string quick = " --limit 2000 --test-limit 200 --quiet";

}  // namespace

TEST_CASE("a resumed run gives the bytes of an uninterrupted one", "[resume]") {
    // The options vary the path through the trainer: batched autodiff, the reference engine and
    // a batch size that is not the batched engine's, two hidden layers.
    const auto options = GENERATE(as<std::string>{}, "", " --grad reference", " --batch 7 --net 784-60-30-10 --eta 1.5");
    INFO("options:" << options);
    WorkDir dir;
    run_ok(dir, "train --epochs 3 --save a.tgck --metrics a.csv" + quick + options);
    run_ok(dir, "train --epochs 2 --save b.tgck" + quick + options);
    const Bytes after_two = read_bytes(dir / "b.tgck");
    const Result resumed = run_ok(dir, "train --resume b.tgck --epochs 3 --save c.tgck --metrics c.csv" + quick + options);
    CHECK(resumed.out.find("resuming from b.tgck after epoch 2") != std::string::npos);
    CHECK(resumed.err.find("note:") == std::string::npos);  // the same options: no note

    CHECK(read_bytes(dir / "b.tgck") == after_two);  // the file resumed from is not touched
    REQUIRE(fs::exists(dir / "c.tgck"));
    CHECK(read_bytes(dir / "a.tgck") == read_bytes(dir / "c.tgck"));
    const auto a = metrics_without_timing(dir / "a.csv");
    const auto c = metrics_without_timing(dir / "c.csv");
    REQUIRE(a.size() == 4);  // header and epochs 1-3
    REQUIRE(c.size() == 2);  // header and epoch 3
    CHECK(c[0] == a[0]);
    CHECK(c[1] == a[3]);

    const Result eval_a = run_ok(dir, "eval --model a.tgck --test-limit 200");
    const Result eval_c = run_ok(dir, "eval --model c.tgck --test-limit 200");
    CHECK(accuracy_lines(eval_a.out) == accuracy_lines(eval_c.out));
    CHECK(accuracy_lines(eval_a.out).size() == 1);

    // Resuming onto the same files, one epoch at a time, gives the same bytes again, and the
    // metrics file goes on as one history.
    run_ok(dir, "train --epochs 1 --save d.tgck --metrics d.csv" + quick + options);
    run_ok(dir, "train --resume d.tgck --save d.tgck --epochs 2 --metrics d.csv" + quick + options);
    run_ok(dir, "train --resume d.tgck --save d.tgck --epochs 3 --metrics d.csv" + quick + options);
    CHECK(read_bytes(dir / "d.tgck") == read_bytes(dir / "a.tgck"));
    const auto d = metrics_without_timing(dir / "d.csv");
    REQUIRE(d.size() == 4);
    CHECK(d[0] == a[0]);
    CHECK(d[3] == a[3]);
    CHECK(d[1] == "1,1" + a[1].substr(3));  // written by a run of --epochs 1
    CHECK(d[2] == "2,2" + a[2].substr(3));
}

TEST_CASE("a run with halve:K:N and --patience, interrupted and resumed, gives the bytes and the stop of an uninterrupted one",
          "[monitor]") {
    WorkDir dir;
    const std::string options = " --validation 300 --schedule halve:2:3 --patience 4 --training-accuracy running" + quick;
    const Result full = run_ok(dir, "train --epochs 40 --save a.tgck --metrics a.csv" + options);
    std::smatch m;
    const std::regex stop_line("stopped after epoch ([0-9]+): [^\n]*\n");
    REQUIRE(std::regex_search(full.out, m, stop_line));
    const std::string stop = m.str(0);
    const std::size_t stop_epoch = std::stoul(m.str(1));
    const std::regex halved("epoch ([0-9]+)/40 [^\n]*\\(eta halved to 1\\.5");
    std::smatch h;
    REQUIRE(std::regex_search(full.out, h, halved));
    const std::size_t first_halving = std::stoul(h.str(1));
    INFO("first halving after epoch " << first_halving << ", stop after epoch " << stop_epoch);
    REQUIRE(first_halving + 1 < stop_epoch);
    REQUIRE(stop_epoch < 40);

    // Interrupted after the first halving (--epochs is when to stop, not part of the run's state).
    const std::string k = std::to_string(first_halving + 1);
    run_ok(dir, "train --epochs " + k + " --save b.tgck" + options);
    const Result resumed = run_ok(dir, "train --epochs 40 --resume b.tgck --save c.tgck --metrics c.csv" + options);
    CHECK(resumed.out.find("resuming from b.tgck after epoch " + k) != std::string::npos);
    CHECK(resumed.out.find("eta 1.5  validation") != std::string::npos);  // the halving was restored
    CHECK(resumed.err.find("note:") == std::string::npos);
    CHECK(resumed.out.find(stop) != std::string::npos);
    CHECK(read_bytes(dir / "c.tgck") == read_bytes(dir / "a.tgck"));
    const auto a = metrics_without_timing(dir / "a.csv");
    const auto c = metrics_without_timing(dir / "c.csv");
    REQUIRE(a.size() == stop_epoch + 1);
    REQUIRE(c.size() == stop_epoch - first_halving);
    CHECK(c.back() == a.back());

    // The stopped run stays stopped; with more patience it goes on.
    const Result again = run_ok(dir, "train --epochs 40 --resume c.tgck --save c.tgck" + options);
    CHECK(again.out == "typegrad train: c.tgck " + stop.substr(0, stop.size() - 1) + ": nothing to train\n");
    const Result more = run_ok(dir, "train --epochs " + std::to_string(stop_epoch + 1) + " --resume c.tgck --save d.tgck" +
                                        " --validation 300 --schedule halve:2:3 --patience 40 --training-accuracy running" +
                                        quick);
    CHECK(more.out.find("epoch " + std::to_string(stop_epoch + 1) + "/") != std::string::npos);
}

TEST_CASE("two identical runs write identical checkpoints and metrics", "[reproducible]") {
    WorkDir dir;
    run_ok(dir, "train --epochs 2 --save x.tgck --metrics x.csv" + quick);
    run_ok(dir, "train --epochs 2 --save y.tgck --metrics y.csv" + quick);
    CHECK(read_bytes(dir / "x.tgck") == read_bytes(dir / "y.tgck"));
    CHECK(metrics_without_timing(dir / "x.csv") == metrics_without_timing(dir / "y.csv"));
    // Another seed gives other weights.
    run_ok(dir, "train --epochs 2 --save z.tgck --seed 7" + quick);
    CHECK(read_bytes(dir / "x.tgck") != read_bytes(dir / "z.tgck"));
}

TEST_CASE("--threads 2: runs are identical, resume bit for bit, differ from one thread only in the last bits",
          "[threads]") {
    WorkDir dir;
    const std::string threaded = " --threads 2" + quick;
    const Result x = run_ok(dir, "train --epochs 2 --save x.tgck --metrics x.csv" + threaded);
    CHECK(x.out.find("autodiff gradient, batch 10, 2 threads, eta 3, 2 epochs") != std::string::npos);
    run_ok(dir, "train --epochs 2 --save y.tgck --metrics y.csv" + threaded);
    CHECK(read_bytes(dir / "x.tgck") == read_bytes(dir / "y.tgck"));
    CHECK(metrics_without_timing(dir / "x.csv") == metrics_without_timing(dir / "y.csv"));

    // --threads 1 is the run without the option; 2 threads is another (same sums, another order)
    run_ok(dir, "train --epochs 2 --save one.tgck" + quick);
    run_ok(dir, "train --epochs 2 --save one_explicit.tgck --threads 1" + quick);
    CHECK(read_bytes(dir / "one.tgck") == read_bytes(dir / "one_explicit.tgck"));
    CHECK(read_bytes(dir / "one.tgck") != read_bytes(dir / "x.tgck"));

    // resumed with the same --threads: the uninterrupted run's bytes, no note; with another: a note
    run_ok(dir, "train --epochs 1 --save r.tgck" + threaded);
    const Result resumed = run_ok(dir, "train --epochs 2 --resume r.tgck --save r.tgck" + threaded);
    CHECK(resumed.err.find("note:") == std::string::npos);
    CHECK(read_bytes(dir / "r.tgck") == read_bytes(dir / "x.tgck"));
    const Result other = run_ok(dir, "train --epochs 3 --resume r.tgck --save s.tgck --threads 3" + quick);
    CHECK(other.err.find("note: resuming r.tgck with 3 threads instead of 2 threads: the result will differ") !=
          std::string::npos);

    // eval with threads counts what one thread counts
    const Result e1 = run_ok(dir, "eval --model x.tgck --test-limit 200");
    const Result e2 = run_ok(dir, "eval --model x.tgck --test-limit 200 --threads 2");
    REQUIRE(accuracy_lines(e1.out).size() == 1);
    CHECK(accuracy_lines(e1.out) == accuracy_lines(e2.out));
    CHECK(e1.out.find("trained with batch 10, 2 threads, eta 3, autodiff gradient") != std::string::npos);
}

TEST_CASE("eval reports what the last epoch reported", "[eval]") {
    WorkDir dir;
    const Result train = run_ok(dir, "train --epochs 2 --save run.tgck" + quick);
    const Result eval = run_ok(dir, "eval --model run.tgck --test-limit 200");
    REQUIRE(accuracy_lines(train.out).size() == 2);
    REQUIRE(accuracy_lines(eval.out).size() == 1);
    CHECK(accuracy_lines(eval.out)[0] == accuracy_lines(train.out)[1]);
    CHECK(eval.out.find("typegrad eval: run.tgck: 784-30-10 sigmoid, quadratic cost, float, 2 epochs trained, 200 test "
                        "(synthetic digits)") == 0);

    // A double network saved by the library is on the menu too (train runs float only).
    Network<double, 784, 30, 10> net{3};
    io::save_checkpoint(dir / "double.tgck", net, {5, Rng(5).state(), "sgd", {}, {}, 0.0});
    const Result d = run_ok(dir, "eval --model double.tgck --test-limit 50");
    CHECK(d.out.find("784-30-10 sigmoid, quadratic cost, double, 5 epochs trained, 50 test") != std::string::npos);
    CHECK(d.out.find("trained with") == std::string::npos);  // no training note in that file
    CHECK(accuracy_lines(d.out).size() == 1);

    // A network outside the menu is compiled on first use (tests/cli/compile_on_first_use.sh);
    // one whose layers have no --net spec (here a linear "id" activation) cannot be, and says so.
    using Linear = Model<double, Sequential<Shape<784>, Dense<30>, Activation<fn::Identity>, Dense<10>, Sigmoid>>;
    Linear odd{3};
    io::save_checkpoint(dir / "odd.tgck", odd, {0, Rng(6).state(), "sgd", {}, {}, 0.0});
    const Result e = run(dir, "eval --model odd.tgck");
    CHECK(e.code == 1);
    CHECK(e.err == "typegrad: error: --model odd.tgck: holds the network input<784> | dense<30> | id | dense<10> | σ, "
                   "which typegrad cannot rebuild: the layer 'id' has no --net spec (a layer of your own: name its header with --layers FILE)\n");
    const Result resume_odd = run(dir, "train --resume odd.tgck" + quick);
    CHECK(resume_odd.code == 1);
    CHECK(resume_odd.err == "typegrad: error: --resume odd.tgck: holds the network input<784> | dense<30> | id | dense<10> | "
                            "σ, which typegrad cannot rebuild: the layer 'id' has no --net spec (a layer of your own: name its header with --layers FILE)\n");

    // Parameters that are not finite are not trained on.
    Network<float, 784, 30, 10> nan_net{3};
    nan_net.biases<0>()[0] = std::numeric_limits<float>::quiet_NaN();
    io::save_checkpoint(dir / "nan.tgck", nan_net, {1, Rng(7).state(), "sgd", {}, {}, 0.0});
    const Result n = run(dir, "train --resume nan.tgck --epochs 2" + quick);
    CHECK(n.code == 1);
    CHECK(n.err == "typegrad: error: --resume nan.tgck: a weight or bias is NaN or infinite (saved by a diverged run?)\n");
}

TEST_CASE("damaged checkpoints are refused with one line naming the damage", "[damaged]") {
    WorkDir dir;
    run_ok(dir, "train --epochs 1 --save run.tgck" + quick);
    const Bytes good = read_bytes(dir / "run.tgck");
    REQUIRE(good.size() == 95834);  // version 3: 95739 bytes of version 1 + 47 (parameter sizes, optimizer) + 48 (validation monitor)

    const auto refused = [&](const Bytes& bytes, const std::string& message) {
        write_bytes(dir / "bad.tgck", bytes);
        const std::vector<std::string> commands = {"eval --model bad.tgck",
                                                   "train --resume bad.tgck --save bad.tgck --epochs 2" + quick};
        for (const std::string& command : commands) {
            const Result r = run(dir, command);
            INFO(command << "\n" << r.err);
            CHECK(r.code == 1);
            const std::string option = r.err.find("--model") != std::string::npos ? "--model" : "--resume";
            CHECK(r.err == "typegrad: error: " + option + " bad.tgck: " + message + "\n");
            CHECK(r.out.empty());
        }
        CHECK(read_bytes(dir / "bad.tgck") == bytes);  // a failed resume writes nothing
    };

    Bytes flipped = good;
    flipped[50000] ^= 0x04;
    refused(flipped, "checksum mismatch: the file is corrupted");
    refused(Bytes(good.begin(), good.begin() + 60000),
            "truncated: the payload is 95440 bytes but only " + std::to_string(60000 - (good.size() - 95440 - 4)) +
                " bytes follow the header");
    refused(Bytes(good.begin(), good.begin() + 6), "truncated: 6 bytes, inside the magic number");
    refused(Bytes(good.begin(), good.end() - 2), "truncated: the checksum after the payload is missing (2 of 4 bytes)");
    refused(Bytes{}, "the file is empty, not a typegrad checkpoint");
    Bytes v5 = good;
    v5[8] = 5;
    refused(v5, "checkpoint version 5, this build reads versions 1 to 4");
    Bytes gzip = good;
    gzip[0] = 0x1f;
    gzip[1] = 0x8b;
    refused(gzip, "not a typegrad checkpoint (bad magic number)");
}

namespace {
int stop_at_stage = 0;  // the write_file_atomically stage at which the forked writer stops
void stop_here(int stage) {
    if (stage == stop_at_stage) ::raise(SIGSTOP);
}
}  // namespace

TEST_CASE("a writer killed at any point of a save leaves the old checkpoint or the new one", "[crash]") {
    // Deterministic: a forked writer stops itself (SIGSTOP, through io::testing::write_hook) at a
    // known point of write_file_atomically; the parent sees it stopped there (not before, not
    // after), looks at the files, and kills it with SIGKILL. For each point the checkpoint must
    // then load, holding the old epoch or the new one; the next run writing it removes what the
    // killed writer left behind.
    WorkDir dir;
    const fs::path file = dir / "run.tgck";
    run_ok(dir, "train --epochs 1 --save run.tgck" + quick);
    const Bytes old_bytes = read_bytes(file);
    for (const int stage : {1, 2, 3}) {
        INFO("stopped at stage " << stage);
        const Network<float, 784, 30, 10> net{static_cast<std::uint64_t>(stage)};
        const train::TrainerState state{static_cast<std::size_t>(10 + stage), Rng(stage).state(), "sgd", {}, {}, 0.0};
        const Bytes new_bytes = io::checkpoint_bytes(net, state, "written by a killed writer");
        stop_at_stage = stage;
        const pid_t writer = ::fork();
        REQUIRE(writer >= 0);
        if (writer == 0) {
            try {
                io::testing::write_hook = stop_here;
                io::save_checkpoint(file, net, state, "written by a killed writer");
            } catch (...) {
                ::_exit(3);
            }
            ::_exit(0);  // not reached: killed while stopped
        }
        int status = 0;
        REQUIRE(::waitpid(writer, &status, WUNTRACED) == writer);
        REQUIRE(WIFSTOPPED(status));  // the kill lands exactly at that point
        const fs::path temp = dir / ("run.tgck.tmp-" + std::to_string(writer));
        if (stage == 1) {  // half the temporary file written
            REQUIRE(fs::exists(temp));
            CHECK(fs::file_size(temp) == new_bytes.size() / 2);
            CHECK(read_bytes(file) == old_bytes);
        } else if (stage == 2) {  // temporary file complete, not yet renamed
            CHECK(read_bytes(temp) == new_bytes);
            CHECK(read_bytes(file) == old_bytes);
        } else {  // renamed, directory not yet synced
            CHECK_FALSE(fs::exists(temp));
            CHECK(read_bytes(file) == new_bytes);
        }
        REQUIRE(::kill(writer, SIGKILL) == 0);
        REQUIRE(::waitpid(writer, &status, 0) == writer);
        REQUIRE(WIFSIGNALED(status));
        const Result e = run_ok(dir, "eval --model run.tgck --test-limit 20");
        CHECK(e.out.find(stage < 3 ? " 1 epoch trained" : " 13 epochs trained") != std::string::npos);
        CHECK(fs::exists(temp) == (stage < 3));  // what a SIGKILL leaves behind
        if (stage == 3) write_bytes(file, old_bytes);
    }
    // The next run writing the file removes the two temporaries of the killed writers.
    const Result next = run_ok(dir, "train --epochs 2 --resume run.tgck --save run.tgck" + quick);
    CHECK(next.err.find("note: --save run.tgck: removed 2 temporary files left by killed runs") != std::string::npos);
    for (const auto& entry : fs::directory_iterator(dir.path))
        CHECK(entry.path().filename().string().find("run.tgck.tmp-") == std::string::npos);
}
