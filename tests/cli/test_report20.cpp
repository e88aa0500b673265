// Issue 20, item 2: what `typegrad train` reports — the epoch line's losses and a regression's
// MSE/MAE, the metrics file's columns (and an older file continued), and the progress printed in
// a log (stderr not a terminal) at every 10 % of a long epoch.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "report.hpp"

using namespace typegrad::cli;
using Catch::Matchers::Contains;
using Catch::Matchers::Matches;

namespace {

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::filesystem::path scratch(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("typegrad_report20_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir / name;
}

/// What f writes on stderr.
template <class F>
std::string stderr_of(F&& f) {
    const auto file = scratch("stderr.txt");
    std::fflush(stderr);
    const int saved = ::dup(STDERR_FILENO);
    REQUIRE(std::freopen(file.c_str(), "w", stderr) != nullptr);
    f();
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    return read(file);
}

EpochRecord classifier() {
    EpochRecord r;
    r.epoch = 2;
    r.epochs = 5;
    r.correct = 9132;
    r.tested = 10000;
    r.accuracy = 0.9132;
    r.seconds = 0.5;
    r.examples_per_second = 100000;
    r.training_cost = 0.0712;
    r.eta = 3;
    r.test_cost = 0.065;
    return r;
}

EpochRecord regression() {
    EpochRecord r;
    r.epoch = 3;
    r.epochs = 500;
    r.tested = 89;
    r.seconds = 0.002;
    r.examples_per_second = 176500;
    r.training_cost = 1520.25;
    r.eta = 0.001;
    r.regression = true;
    r.test_cost = 1456.5;
    r.test_mse = 2913;
    r.test_mae = 43.25;
    return r;
}

}  // namespace

TEST_CASE("the epoch line of a classifier carries the test loss, and the validation's with a validation set") {
    EpochRecord r = classifier();
    CHECK(epoch_line(r) ==
          "epoch 2/5  test accuracy 0.9132 (9132/10000)  0.500 s  100000 examples/s  cost 0.0712  eta 3  test cost 0.0650");
    r.validated = 1000;
    r.validation_accuracy = 0.9;
    r.validation_cost = 0.07;
    CHECK(epoch_line(r) == "epoch 2/5  test accuracy 0.9132 (9132/10000)  0.500 s  100000 examples/s  cost 0.0712  eta 3"
                           "  validation 0.9000  test cost 0.0650  validation cost 0.0700");
}

TEST_CASE("the epoch line of a regression gives mse and mae, no accuracy") {
    EpochRecord r = regression();
    CHECK(epoch_line(r) ==
          "epoch 3/500  test mse 2913 mae 43.25  0.002 s  176500 examples/s  cost 1520.25  eta 0.001  test cost 1456.5");
    r.validated = 88;
    r.validation_mse = 3012.5;
    r.validation_mae = 44.5;
    r.validation_cost = 1506.25;
    CHECK(epoch_line(r) == "epoch 3/500  test mse 2913 mae 43.25  0.002 s  176500 examples/s  cost 1520.25  eta 0.001"
                           "  validation mse 3012.5 mae 44.5  test cost 1456.5  validation cost 1506.25");
}

TEST_CASE("the metrics file has the losses and a regression's mse/mae, in CSV and JSON lines") {
    const auto csv = scratch("m.csv");
    const auto jsonl = scratch("m.jsonl");
    std::filesystem::remove(csv);
    std::filesystem::remove(jsonl);
    {
        MetricsWriter c(csv, MetricsFormat::csv), j(jsonl, MetricsFormat::json_lines);
        EpochRecord a = classifier(), b = regression();
        b.validated = 88;
        b.validation_mse = 3012.5;
        b.validation_mae = 44.5;
        b.validation_cost = 1506.25;
        c.add(a);
        c.add(b);
        j.add(a);
        j.add(b);
    }
    const std::string c = read(csv), j = read(jsonl);
    CHECK_THAT(c, Contains("training_accuracy,test_cost,validation_cost,test_mse,test_mae,validation_mse,validation_mae\n"));
    CHECK_THAT(c, Contains("\n2,5,0.913200,9132,10000,0.500000,100000.0,0.0712,3,,,0.065,,,,,\n"));
    CHECK_THAT(c, Contains("\n3,500,,0,89,0.002000,176500.0,1520.25,0.001,,,1456.5,1506.25,2913,43.25,3012.5,44.5\n"));
    CHECK_THAT(j, Contains("{\"epoch\":2,\"epochs\":5,\"test_accuracy\":0.913200,\"correct\":9132,"));
    CHECK_THAT(j, Contains("\"test_cost\":0.065}\n"));
    CHECK_THAT(j, Contains("\"eta\":0.001,\"test_mse\":2913,\"test_mae\":43.25,\"validation_mse\":3012.5,"
                           "\"validation_mae\":44.5,\"test_cost\":1456.5,\"validation_cost\":1506.25}\n"));
    CHECK_THAT(j, !Contains("\"epoch\":3,\"epochs\":500,\"test_accuracy\""));
}

TEST_CASE("a metrics file written before the loss columns is continued with empty ones") {
    const auto csv = scratch("old.csv");
    {
        std::ofstream out(csv);
        out << "epoch,epochs,test_accuracy,correct,tested,seconds,examples_per_second,training_cost,eta,"
               "validation_accuracy,training_accuracy\n"
               "1,5,0.900000,9000,10000,0.500000,100000.0,0.08,3,,\n"
               "2,5,0.910000,9100,10000,0.500000,100000.0,0.07,3,,\n";
    }
    MetricsWriter w(csv, MetricsFormat::csv);
    w.continue_from(1);
    EpochRecord r = classifier();
    w.add(r);
    const std::string c = read(csv);
    CHECK_THAT(c, Contains("\n1,5,0.900000,9000,10000,0.500000,100000.0,0.08,3,,,,,,,,\n2,5,0.913200"));
    CHECK_THAT(c, !Contains("0.910000"));
}

TEST_CASE("in a log, a long epoch's progress is printed at every 10 %; a short epoch's is not") {
    // long_epoch 0: every epoch is long
    const std::string log = stderr_of([] {
        ProgressBar bar(ProgressBar::Mode::log, 3, 10, 0, 0.0);
        for (std::size_t b = 1; b <= 200; ++b) bar.on_batch(b, 200);
    });
    for (int tenth = 1; tenth <= 9; ++tenth)
        CHECK_THAT(log, Contains("epoch 1/3: " + std::to_string(tenth * 10) + "% (" + std::to_string(tenth * 20) +
                                 "/200 batches, "));
    CHECK_THAT(log, !Contains("100%"));
    CHECK_THAT(log, !Contains("\r"));
    CHECK_THAT(log, Matches("(epoch 1/3: [0-9]+% \\([0-9]+/200 batches, [0-9.]+ s, [0-9]+ examples/s\\)\n){9}"));

    const std::string quiet = stderr_of([] {
        ProgressBar bar(ProgressBar::Mode::log, 3, 10, 0, 3600.0);
        for (std::size_t b = 1; b <= 200; ++b) bar.on_batch(b, 200);
    });
    CHECK(quiet.empty());
}
