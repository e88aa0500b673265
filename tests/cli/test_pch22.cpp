// Issue 22, item 4: the precompiled plugin_prelude.hpp is used only while it is fresh
// (src/cli/pch.hpp): every header its depfile names exists and is not newer than the .gch.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "../support/workdir.hpp"
#include "pch.hpp"

namespace fs = std::filesystem;
using typegrad::cli::precompiled_header_fresh;

namespace {
void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
void age(const fs::path& p, int seconds) { fs::last_write_time(p, fs::last_write_time(p) - std::chrono::seconds(seconds)); }
}  // namespace

TEST_CASE("a precompiled header is fresh only while no header it was made from is newer", "[cli][jit]") {
    const typegrad::test::WorkDir w("pch22");
    const fs::path a = w.path / "a.hpp", spaced = w.path / "with space.hpp", gch = w.path / "p.hpp.gch", dep = w.path / "p.d";
    write(a, "// a\n");
    write(spaced, "// b\n");
    write(gch, "gch");
    age(a, 100);
    age(spaced, 100);
    // the compiler's -MD output: continuation lines, a space escaped
    write(dep, gch.string() + ": \\\n " + a.string() + " \\\n " + (w.path / "with\\ space.hpp").string() + "\n");
    CHECK(precompiled_header_fresh(gch, dep));

    SECTION("a header edited after the .gch was made") {
        age(gch, 200);
        CHECK_FALSE(precompiled_header_fresh(gch, dep));
    }
    SECTION("the header whose name has a space, edited") {
        fs::last_write_time(spaced, fs::last_write_time(gch) + std::chrono::seconds(5));
        CHECK_FALSE(precompiled_header_fresh(gch, dep));
    }
    SECTION("a header gone") {
        fs::remove(a);
        CHECK_FALSE(precompiled_header_fresh(gch, dep));
    }
    SECTION("no .gch, no depfile, a depfile without a list") {
        CHECK_FALSE(precompiled_header_fresh(w.path / "none.gch", dep));
        CHECK_FALSE(precompiled_header_fresh(gch, w.path / "none.d"));
        write(dep, gch.string() + ":\n");
        CHECK_FALSE(precompiled_header_fresh(gch, dep));
        write(dep, "garbage");
        CHECK_FALSE(precompiled_header_fresh(gch, dep));
    }
}
