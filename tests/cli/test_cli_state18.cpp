// Issue 18, defect 7, through the executable (TYPEGRAD_EXE): `train --resume` of a checkpoint
// whose optimizer state was damaged (wrong length, NaN or infinite moments, an Adam step count
// of 2^64 - 1) and whose checksum was then fixed up. Before the fix it aborted (SIGABRT, "terminate
// called after throwing…") after printing the header, leaving run.tgck.lock and run.jsonl.lock
// behind, or reported "training diverged". Now it is one line naming the file and what is wrong,
// exit 1, before anything is printed, locked or written.
#include <catch2/catch.hpp>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "typegrad/io/checkpoint_file.hpp"
#include "../support/cli_process.hpp"
#include "../support/workdir.hpp"

using namespace typegrad;
namespace fs = std::filesystem;

namespace {

using test::Bytes;
using test::read_bytes;
using test::write_bytes;

/// Runs `typegrad <args>` (words split at spaces) in dir to the end.
test::CliResult run(const test::WorkDir& dir, const std::string& args) {
    test::Launch how;
    how.limit = std::chrono::seconds(120);
    return test::run_cli(dir.path, test::split(args), how);
}

/// Lock and temporary files in dir.
std::vector<std::string> leftovers(const test::WorkDir& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir.path)) {
        const std::string name = e.path().filename().string();
        if (name.find(".tmp-") != std::string::npos || (name.size() > 5 && name.substr(name.size() - 5) == ".lock"))
            v.push_back(name);
    }
    return v;
}

void put_float(std::vector<unsigned char>& state, std::size_t at, float v) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    for (std::size_t i = 0; i < 4; ++i) state[at + i] = static_cast<unsigned char>(bits >> (8 * i));
}

const std::string quick = " --limit 300 --test-limit 50 --quiet";

/// Trains one epoch of the default 784-30-10 float network with `optimizer` into dir/run.tgck,
/// then damages its optimizer state with `damage` and fixes the checksum up.
void damaged_checkpoint(const test::WorkDir& dir, const std::string& optimizer,
                        const std::function<void(std::vector<unsigned char>&)>& damage) {
    const test::CliResult made = run(dir, "train --optimizer " + optimizer + " --epochs 1 --save run.tgck" + quick);
    REQUIRE(made.code == 0);
    io::CheckpointImage image = io::parse_checkpoint(read_bytes(dir / "run.tgck"), "run.tgck");
    REQUIRE(image.header.optimizer == optimizer);
    REQUIRE_FALSE(image.header.optimizer_state.empty());
    damage(image.header.optimizer_state);
    write_bytes(dir / "run.tgck", io::serialize_checkpoint(image.header, image.payload));
}

/// Resumes from dir/run.tgck into itself with --metrics (and `options`): the one line
/// "typegrad: error: --resume run.tgck: <problem>", exit 1, nothing printed before it, nothing
/// written, no lock left.
void refused_with(const test::WorkDir& dir, const std::string& options, const std::string& problem) {
    const Bytes before = read_bytes(dir / "run.tgck");
    const test::CliResult r = run(dir, "train --resume run.tgck" + options + " --epochs 2 --save run.tgck --metrics run.jsonl" + quick);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "typegrad: error: --resume run.tgck: " + problem + "\n");
    CHECK(leftovers(dir).empty());
    CHECK_FALSE(fs::exists(dir / "run.jsonl"));
    CHECK(read_bytes(dir / "run.tgck") == before);
}

/// The damaged dir/run.tgck, resumed with its own optimizer, is refused naming the problem.
void refused(const test::WorkDir& dir, const std::string& optimizer, const std::string& problem) {
    refused_with(dir, " --optimizer " + optimizer, "damaged checkpoint: " + problem);
}

constexpr std::size_t parameters = 784 * 30 + 30 + 30 * 10 + 10;  // 23860 floats

}  // namespace

TEST_CASE("train --resume: an Adam state of the wrong length is a damaged checkpoint, not an abort", "[state18]") {
    test::WorkDir dir("typegrad-cli-state18");
    damaged_checkpoint(dir, "adam", [](auto& s) { s.resize(s.size() - 4); });
    refused(dir, "adam",
            "the adam state is " + std::to_string(8 + 2 * parameters * 4 - 4) + " bytes; for " +
                std::to_string(parameters) + " float parameters it is " + std::to_string(8 + 2 * parameters * 4) +
                " (the step count, then two moments per parameter), or 0 before the first step");
}

TEST_CASE("train --resume: a momentum state of the wrong length is a damaged checkpoint", "[state18]") {
    test::WorkDir dir("typegrad-cli-state18");
    damaged_checkpoint(dir, "momentum", [](auto& s) { s.resize(s.size() + 8); });
    refused(dir, "momentum",
            "the momentum state is " + std::to_string(parameters * 4 + 8) + " bytes; for " + std::to_string(parameters) +
                " float parameters it is " + std::to_string(parameters * 4) +
                " (a velocity per parameter), or 0 before the first step");
}

TEST_CASE("train --resume: NaN moments and a step count of 2^64 - 1 are a damaged checkpoint, not divergence",
          "[state18]") {
    test::WorkDir dir("typegrad-cli-state18");
    SECTION("a NaN first moment") {
        damaged_checkpoint(dir, "adam", [](auto& s) { put_float(s, 8 + 4 * 100, std::nanf("")); });
        refused(dir, "adam", "first moment 100 of the adam state is not a finite number");
    }
    SECTION("a step count of 2^64 - 1 (the next step wraps it to 0)") {
        damaged_checkpoint(dir, "adam", [](auto& s) { std::fill_n(s.begin(), 8, 0xff); });
        refused(dir, "adam", "the adam step count is 18446744073709551615 (a state with moments has made 1 to 2^53 steps)");
    }
    SECTION("an infinite Nesterov velocity") {
        damaged_checkpoint(dir, "nesterov", [](auto& s) { put_float(s, 4 * 7, -INFINITY); });
        refused(dir, "nesterov", "velocity 7 of the nesterov state is not a finite number");
    }
}

TEST_CASE("train --resume with another --optimizer than the checkpoint's is refused before anything is printed",
          "[state18]") {
    test::WorkDir dir("typegrad-cli-state18");
    damaged_checkpoint(dir, "adam", [](auto&) {});  // undamaged
    refused_with(dir, "", "the state is of optimizer 'adam', this trainer uses 'sgd' (--optimizer)");
    refused_with(dir, " --optimizer nesterov", "the state is of optimizer 'adam', this trainer uses 'nesterov' (--optimizer)");
}
