// Issue 18 through the executable (TYPEGRAD_EXE): the cache of networks compiled on first use
// (src/cli/cache.hpp, src/cli/jit.cpp) and text printed from files.
//   [cache18-failures]  a compile interrupted, killed, out of time, memory or disk is cached
//                       nowhere and stops every process of the compiler; a genuine compile error
//                       is remembered with the command that clears it
//   [cache18-trust]     a cache directory that is not the user's own, planted links, a planted
//                       library, a planted error record
//   [cache18-bounds]    specs and checkpoints beyond the limits are refused before any compile
//   [escape18]          file- and user-supplied text reaches the terminal escaped
//   [cache22-parts]     a network compiled as two parts at once and linked, or whole (issue 22)
// Most cases use a stand-in compiler (TYPEGRAD_CXX, a shell script the test writes) that sleeps,
// prints what a real compiler prints when it fails, or builds a small shared object; one case
// compiles a real network. Each case checks that the compiler's processes are gone afterwards.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>
#include <string>
#include <thread>
#include <vector>

#include "typegrad/io/checkpoint_file.hpp"
#include "../support/cli_process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using typegrad::test::read_text;

namespace {

struct WorkDir : typegrad::test::WorkDir {
    WorkDir() : typegrad::test::WorkDir("typegrad-cli-cache18") {}
};

using Env = std::vector<std::pair<std::string, std::string>>;
using Result = typegrad::test::CliResult;

/// typegrad in a process group of its own (as a shell's job), so that a test can send SIGINT to
/// the group as a terminal's Ctrl-C does.
typegrad::test::Launch job(const Env& env, std::chrono::seconds limit = 120s) { return {env, 0, true, limit}; }

pid_t start(const WorkDir& dir, const std::vector<std::string>& args, const Env& env) {
    return typegrad::test::start_cli(dir.path, args, job(env));
}

int wait_for(pid_t pid, std::chrono::seconds limit = 120s) { return typegrad::test::wait_cli(pid, limit); }

Result run(const WorkDir& dir, const std::vector<std::string>& args, const Env& env, std::chrono::seconds limit = 120s) {
    return typegrad::test::run_cli(dir.path, args, job(env, limit));
}

/// A stand-in compiler: a shell script whose last argument is the output file.
std::string fake_compiler(const WorkDir& dir, const std::string& name, const std::string& body) {
    const fs::path p = dir / name;
    std::ofstream(p) << "#!/bin/sh\nfor a; do out=\"$a\"; done\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
}

/// Waits until a file exists (the stand-in compiler has started); false after 30 s.
bool appears(const fs::path& file) {
    for (int i = 0; i < 3000 && !fs::exists(file); ++i) std::this_thread::sleep_for(10ms);
    return fs::exists(file);
}

/// Whether the process whose pid the file holds is gone (allowing it 5 s to be reaped).
bool gone(const fs::path& pid_file) {
    const pid_t pid = static_cast<pid_t>(std::stol(read_text(pid_file)));
    for (int i = 0; i < 500; ++i) {
        if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

/// Names in the cache directory with this ending ("" for all).
std::vector<std::string> entries(const fs::path& cache, const std::string& ending = "") {
    std::vector<std::string> v;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache, ec)) {
        const std::string n = e.path().filename().string();
        if (n.ends_with(ending)) v.push_back(n);
    }
    return v;
}

/// Entries the cache must not keep after a failed or interrupted compile.
std::vector<std::string> leftovers(const fs::path& cache) {
    std::vector<std::string> v;
    for (const auto& n : entries(cache))
        if (n.starts_with("tmp-") || n.find(".tmp.") != std::string::npos || n.ends_with(".error") || n.ends_with(".manifest"))
            v.push_back(n);
    return v;
}

const std::vector<std::string> train_net = {"train", "--net", "784-7:relu-10:softmax", "--epochs", "1", "--limit", "100",
                                            "--test-limit", "100", "--quiet"};

/// A stand-in compiler that builds a small shared object (not a network): the compile succeeds,
/// typegrad then says the library is not one of its networks.
std::string harmless_compiler(const WorkDir& dir) {
    return fake_compiler(dir, "cc-ok", "printf '' | cc -shared -fPIC -x c - -o \"$out\"");
}

}  // namespace

/// A stand-in compiler that writes its pid to dir/compiler.pid, then sleeps (replacing itself,
/// so the pid is the sleeping process's).
std::string sleeping_compiler(const WorkDir& dir) {
    return fake_compiler(dir, "cc-sleep", "echo $$ > '" + (dir / "compiler.pid").string() + "'\nexec sleep 60");
}

TEST_CASE("a compile interrupted by Ctrl-C stops every compiler process and caches nothing", "[cache18-failures]") {
    WorkDir dir;
    const std::string cache = (dir / "cache").string();
    // SIGINT to the whole process group, as a terminal's Ctrl-C sends it, and SIGTERM to typegrad
    for (const int sig : {SIGINT, SIGTERM}) {
        fs::remove(dir / "compiler.pid");
        const pid_t pid = start(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", sleeping_compiler(dir)}});
        REQUIRE(appears(dir / "compiler.pid"));
        ::kill(sig == SIGINT ? -pid : pid, sig);
        const int code = wait_for(pid, 30s);
        const std::string err = read_text(dir / "err");
        INFO(err);
        CHECK(code == 128 + sig);
        CHECK_THAT(err, Catch::Contains(std::string("typegrad: interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                                        " while compiling 784-7:relu-10:softmax (log-likelihood cost, float); nothing was written"));
        CHECK(gone(dir / "compiler.pid"));
        CHECK(leftovers(cache).empty());
    }
    // not poisoned: the next run compiles again
    const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", harmless_compiler(dir)}});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("compiling 784-7:relu-10:softmax"));
    CHECK_THAT(r.err, Catch::Contains("is not a network compiled by this typegrad"));
}

TEST_CASE("typegrad killed during a compile takes the compiler with it; the next run removes what it left", "[cache18-failures]") {
    WorkDir dir;
    const std::string cache = (dir / "cache").string();
    const pid_t pid = start(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", sleeping_compiler(dir)}});
    REQUIRE(appears(dir / "compiler.pid"));
    ::kill(pid, SIGKILL);
    CHECK(wait_for(pid, 30s) == 128 + SIGKILL);
    CHECK(gone(dir / "compiler.pid"));
    CHECK_FALSE(leftovers(cache).empty());  // its private directory stays: nothing could remove it
    const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", "/nonexistent/c++"}});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("needs the C++ compiler '/nonexistent/c++'"));
    CHECK(leftovers(cache).empty());
}

TEST_CASE("the compiler's time and memory are limited, and a limit hit is said and not cached", "[cache18-failures]") {
    WorkDir dir;
    const std::string cache = (dir / "cache").string();
    SECTION("time") {
        const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", sleeping_compiler(dir)},
                                              {"TYPEGRAD_COMPILE_SECONDS", "1"}});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("typegrad: error: compiling 784-7:relu-10:softmax (log-likelihood cost, float) took longer "
                                          "than 1 s and was stopped (the limit: TYPEGRAD_COMPILE_SECONDS); nothing was cached, "
                                          "the next run compiles again"));
        CHECK(r.seconds < 20);
        CHECK(gone(dir / "compiler.pid"));
    }
    SECTION("memory: the limit is applied to the compiler, and running out of it is said") {
        const std::string cxx = fake_compiler(dir, "cc-oom",
                                              "ulimit -v > '" + (dir / "limit").string() +
                                                  "'\necho 'cc1plus: out of memory allocating 65536 bytes after a total of 1 bytes'\nexit 1");
        const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", cxx}, {"TYPEGRAD_COMPILE_MEMORY_MB", "512"}});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("ran out of memory (the limit: 512 MiB of address space per compiler process, "
                                          "TYPEGRAD_COMPILE_MEMORY_MB); nothing was cached"));
        CHECK(read_text(dir / "limit") == "524288\n");  // KiB
    }
    SECTION("a limit that is not a number") {
        const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_COMPILE_SECONDS", "ten"}});
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Catch::Contains("typegrad: error: TYPEGRAD_COMPILE_SECONDS: expected a whole number from 1 to 86400, got 'ten'"));
    }
    CHECK(leftovers(cache).empty());
}

TEST_CASE("a full disk or a killed compiler is reported as what it is; only a genuine compile error is remembered",
          "[cache18-failures]") {
    WorkDir dir;
    const std::string cache = (dir / "cache").string();
    const Env env{{"TYPEGRAD_CACHE_DIR", cache}};
    const auto with = [&](const std::string& cxx) {
        Env e = env;
        e.emplace_back("TYPEGRAD_CXX", cxx);
        return e;
    };
    {
        const Result r = run(dir, train_net, with(fake_compiler(dir, "cc-full",
            "echo 'cc1plus: fatal error: error writing to /tmp/ccQ.s: No space left on device'\nexit 1")));
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("failed for lack of disk space (No space left on device); nothing was cached"));
        CHECK(leftovers(cache).empty());
    }
    {
        const Result r = run(dir, train_net, with(fake_compiler(dir, "cc-killed",
            "echo 'g++: fatal error: Killed signal terminated program cc1plus'\nexit 1")));
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("was killed by signal 9 (the system's out-of-memory killer?); nothing was cached"));
        CHECK(leftovers(cache).empty());
    }
    {
        const Result r = run(dir, train_net, with(fake_compiler(dir, "cc-signal", "kill -SEGV $$")));
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("was killed by signal 11"));
        CHECK(leftovers(cache).empty());
    }
    // a genuine error: remembered, and the message says how to clear it
    const std::string bad = fake_compiler(dir, "cc-error",
        "touch '" + (dir / "compiled").string() + "'\necho 'network.cpp:12:5: error: static assertion failed: this layer cannot follow the previous one'\nexit 1");
    const Result first = run(dir, train_net, with(bad));
    CHECK(first.code == 2);
    CHECK_THAT(first.err, Catch::Contains("typegrad: error: --net 784-7:relu-10:softmax: this layer cannot follow the previous one "
                                          "(the compiler's output: "));
    REQUIRE(entries(cache, ".error").size() == 1);
    fs::remove(dir / "compiled");
    const Result again = run(dir, train_net, with(bad));
    CHECK_FALSE(fs::exists(dir / "compiled"));  // not compiled again
    CHECK(again.code == 2);
    CHECK_THAT(again.err, Catch::Contains("this layer cannot follow the previous one (remembered from an earlier compile; "));
    CHECK_THAT(again.err, Catch::Contains(".error to compile again)"));
}

// An installed typegrad (PREFIX/bin/typegrad with PREFIX/include and PREFIX/share/typegrad/cli):
// a header changed under the same executable (an upgrade of a header only the networks read)
// changes the cache key, so neither a cached network nor a remembered failure of the old headers
// is used. Before session 18 the key held the executable's bytes but not the headers'.
TEST_CASE("a change to typegrad's headers is a new cache key, for networks and for remembered failures", "[cache18-failures]") {
    WorkDir dir;
    const fs::path prefix = dir / "prefix";
    fs::create_directories(prefix / "bin");
    fs::create_directories(prefix / "share" / "typegrad" / "cli");
    fs::copy_file(typegrad::test::cli_executable(), prefix / "bin" / "typegrad");
    fs::copy(fs::path(TYPEGRAD_SOURCE_DIR) / "include", prefix / "include", fs::copy_options::recursive);
    for (const auto& e : fs::directory_iterator(fs::path(TYPEGRAD_SOURCE_DIR) / "src" / "cli"))
        if (e.path().extension() == ".hpp") fs::copy_file(e.path(), prefix / "share" / "typegrad" / "cli" / e.path().filename());
    struct UseExe {
        explicit UseExe(const fs::path& p) { ::setenv("TYPEGRAD_TEST_EXE", p.c_str(), 1); }
        ~UseExe() { ::unsetenv("TYPEGRAD_TEST_EXE"); }
    } use((prefix / "bin" / "typegrad"));
    const std::string cache = (dir / "cache").string();
    const std::string bad = fake_compiler(dir, "cc-error",
        "touch '" + (dir / "compiled").string() + "'\necho 'network.cpp:12:5: error: static assertion failed: not with these headers'\nexit 1");
    const Env env{{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", bad}};
    const Result first = run(dir, train_net, env);
    CHECK(first.code == 2);
    CHECK_THAT(first.err, Catch::Contains("not with these headers (the compiler's output: "));
    REQUIRE(fs::exists(dir / "compiled"));
    fs::remove(dir / "compiled");
    const Result again = run(dir, train_net, env);  // the same headers: remembered
    CHECK_FALSE(fs::exists(dir / "compiled"));
    CHECK_THAT(again.err, Catch::Contains("(remembered from an earlier compile; "));
    std::ofstream(prefix / "include" / "typegrad" / "train" / "trainer.hpp", std::ios::app) << "// a later version\n";
    const Result changed = run(dir, train_net, env);  // another header: compiled again
    CHECK(fs::exists(dir / "compiled"));
    CHECK(changed.code == 2);
    CHECK_THAT(changed.err, !Catch::Contains("remembered"));
    CHECK(entries(cache, ".error").size() == 2);
}

TEST_CASE("a cache directory that is not the user's own is refused before anything in it is read", "[cache18-trust]") {
    WorkDir dir;
    const fs::path cache = dir / "cache";
    fs::create_directory(cache);
    const Env env{{"TYPEGRAD_CACHE_DIR", cache.string()}, {"TYPEGRAD_CXX", "/nonexistent/c++"}};
    SECTION("created private") {
        fs::remove(cache);
        run(dir, train_net, env);
        struct stat st {};
        REQUIRE(::stat(cache.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0700);
    }
    SECTION("writable by its group") {
        ::chmod(cache.c_str(), 0770);
        const Result r = run(dir, train_net, env);
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("typegrad: error: the cache of networks compiled on first use, " + cache.string() +
                                          ", is writable by its group (mode 0770): refusing to load code from it; make it yours "
                                          "(chmod go-w) or set TYPEGRAD_CACHE_DIR to a directory of your own)"));
    }
    SECTION("writable by others, as /tmp") {
        ::chmod(cache.c_str(), 01777);
        const Result r = run(dir, train_net, env);
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("is writable by others (mode 1777): refusing to load code from it"));
    }
    SECTION("owned by another user") {
        fs::path foreign = cache;
        if (::geteuid() == 0) {
            REQUIRE(::chown(cache.c_str(), 65534, 65534) == 0);
        } else {
            foreign = "/";  // root's
        }
        Env e = env;
        e.front().second = foreign.string();  // TYPEGRAD_CACHE_DIR
        const Result r = run(dir, train_net, e);
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains(", is owned by user " + std::string(::geteuid() == 0 ? "65534" : "0") + ", not by you"));
    }
    SECTION("a planted link instead of a file typegrad writes is refused and its target left alone") {
        std::ofstream(dir / "victim") << "precious\n";
        fs::create_symlink(dir / "victim", cache / "secret");
        const Result r = run(dir, train_net, env);
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains((cache / "secret").string() + ": is a symbolic link, which typegrad never creates in its "
                                          "cache: refusing it (delete it)"));
        CHECK(read_text(dir / "victim") == "precious\n");
    }
}

TEST_CASE("a planted library, error record or link never overrides a compiled network, and no planted code runs",
          "[cache18-trust]") {
    WorkDir dir;
    const fs::path cache = dir / "cache";
    const Env env{{"TYPEGRAD_CACHE_DIR", cache.string()}};
    const std::vector<std::string> args = {"train", "--net", "784-6:relu-10:softmax", "--epochs", "1", "--limit", "100",
                                           "--test-limit", "100", "--quiet"};
    const Result first = run(dir, args, env, 600s);  // a real compile
    REQUIRE(first.code == 0);
    const std::vector<std::string> manifests = entries(cache, ".manifest");
    REQUIRE(manifests.size() == 1);
    const std::string stem = manifests[0].substr(0, manifests[0].size() - 9);
    std::vector<std::string> libraries = entries(cache, ".so");
    REQUIRE(libraries.size() == 1);
    const fs::path library = cache / libraries[0];

    // an error record planted beside a valid library changes nothing
    std::ofstream(cache / (stem + ".error")) << "\033[2J planted";
    const Result with_error = run(dir, args, env);
    CHECK(with_error.code == 0);
    CHECK(with_error.err.find("planted") == std::string::npos);

    // a library replaced by one whose constructor would create a file: refused before loading
    const fs::path evil = dir / "evil.c";
    std::ofstream(evil) << "#include <stdio.h>\n__attribute__((constructor)) static void f(void) { fclose(fopen(\"" << (dir / "pwned").string()
                        << "\", \"w\")); }\n";
    const fs::path saved = dir / "saved.so";
    fs::copy_file(library, saved);
    REQUIRE(std::system(("cc -shared -fPIC -o '" + library.string() + "' '" + evil.string() + "'").c_str()) == 0);
    const Result planted = run(dir, args, env);
    CHECK(planted.code == 1);
    CHECK_THAT(planted.err, Catch::Contains(library.string() + ": its content does not match the SHA-256 recorded when it was "
                                            "compiled (" + (cache / manifests[0]).string() + "): refusing to load it"));
    CHECK_FALSE(fs::exists(dir / "pwned"));

    // the manifest replaced by a link: refused, its target untouched
    fs::remove(library);
    fs::copy_file(saved, library);
    fs::rename(cache / manifests[0], dir / "manifest");
    fs::create_symlink(dir / "manifest", cache / manifests[0]);
    const Result linked = run(dir, args, env);
    CHECK(linked.code == 1);
    CHECK_THAT(linked.err, Catch::Contains(": is a symbolic link, which typegrad never creates in its cache"));

    // without a manifest, an error record is replayed escaped, with the file that clears it
    fs::remove(cache / manifests[0]);
    const Result replayed = run(dir, args, env);
    CHECK(replayed.code == 2);
    CHECK_THAT(replayed.err, Catch::Contains("\\x1b[2J planted (remembered from an earlier compile; the compiler's output: "));
    CHECK_THAT(replayed.err, Catch::Contains("; delete " + (cache / (stem + ".error")).string() + " to compile again)"));
    CHECK(replayed.err.find('\033') == std::string::npos);
}

namespace {

/// A checkpoint of the compiled-in 784-30-10 (trained for one epoch on 100 synthetic digits),
/// parsed, for tests that alter its header.
typegrad::io::CheckpointImage menu_checkpoint(const WorkDir& dir) {
    const Result r = run(dir, {"train", "--epochs", "1", "--limit", "100", "--test-limit", "100", "--quiet", "--save", "base.tgck"}, {});
    REQUIRE(r.code == 0);
    return typegrad::io::read_checkpoint_file(dir / "base.tgck");
}

void write_checkpoint(const fs::path& p, const typegrad::io::CheckpointImage& image) {
    typegrad::test::write_bytes(p, typegrad::io::serialize_checkpoint(image.header, image.payload));
}

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

}  // namespace

TEST_CASE("specs beyond the limits are refused in one line before any compile", "[cache18-bounds]") {
    WorkDir dir;
    const Env env{{"TYPEGRAD_CACHE_DIR", (dir / "cache").string()}, {"TYPEGRAD_CXX", "/nonexistent/c++"}};
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"784" + repeat("-10", 40), "more than 40 layers (activations included)"},
        {"784" + repeat("-10:relu", 16) + "-10:softmax", "17 dense and conv layers, more than the 16 typegrad compiles"},
        {"784-9000-10", "a dense layer of 9000 units, more than the 8192 typegrad compiles"},
        {"784-8000-8000-10", "70368010 parameters, more than the 16777216 typegrad compiles"},
        {"1x28x28-conv600k3:relu-10", "a convolution of 600 channels, more than the 512 typegrad compiles"},
        {"1x28x28-conv6k17:relu-10", "a 17x17 kernel, larger than the 15x15 typegrad compiles"},
        {"1x28x28-conv6k3p3:relu-10", "a padding of 3 with a 3x3 kernel (the padding must be smaller than the kernel)"},
        {"3x1024x1024-10", "an input of 3145728 elements, more than the 1048576 typegrad compiles"},
    };
    for (const auto& [spec, why] : cases) {
        for (const char* command : {"train", "gradcheck", "derive"}) {
            const Result r = run(dir, {command, "--net", spec}, env);
            CHECK(r.code == 2);
            CHECK_THAT(r.err, Catch::Contains("' is beyond what typegrad compiles: " + why + " (README, \"Limits\")"));
            CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
            CHECK(r.seconds < 2);
        }
    }
    // the largest that is allowed goes on to the compile
    const Result wide = run(dir, {"train", "--net", "784-8192-10"}, env);
    CHECK(wide.code == 1);
    CHECK_THAT(wide.err, Catch::Contains("needs the C++ compiler '/nonexistent/c++'"));
}

TEST_CASE("a checkpoint whose layer text is beyond the limits or disagrees with its widths compiles nothing",
          "[cache18-bounds]") {
    WorkDir dir;
    const Env env{{"TYPEGRAD_CACHE_DIR", (dir / "cache").string()}, {"TYPEGRAD_CXX", "/nonexistent/c++"}};
    const typegrad::io::CheckpointImage base = menu_checkpoint(dir);
    SECTION("100 layers named") {
        typegrad::io::CheckpointImage image = base;
        image.header.layers = "input<784>" + repeat(" | dense<10> | σ", 100);
        write_checkpoint(dir / "deep.tgck", image);
        for (const char* command : {"eval", "predict", "export"}) {
            std::vector<std::string> args = {command, "--model", "deep.tgck"};
            if (std::string(command) == "predict") args.push_back("none.pgm");
            if (std::string(command) == "export") args.insert(args.end(), {"-o", "deep.npz"});
            const Result r = run(dir, args, env);
            CHECK(r.code == 1);
            CHECK_THAT(r.err, Catch::Contains("--model deep.tgck: holds a network beyond what typegrad compiles: more than 40 layers"));
            CHECK(r.seconds < 2);
            CHECK_FALSE(fs::exists(dir / "deep.npz"));
        }
    }
    SECTION("the built-in 784-30-10's widths with the layer text of a 784-28-10") {
        typegrad::io::CheckpointImage image = base;
        image.header.layers = "input<784> | dense<28> | σ | dense<10> | σ";
        write_checkpoint(dir / "altered.tgck", image);
        const Result r = run(dir, {"eval", "--model", "altered.tgck"}, env);
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Catch::Contains("typegrad: error: --model altered.tgck: is damaged: its layer description (784-28-10) gives "
                                          "the widths 784-28-28-10-10 after each layer, but the file records 784-30-30-10-10"));
        const Result resumed = run(dir, {"train", "--resume", "altered.tgck", "--epochs", "2"}, env);
        CHECK(resumed.code == 1);
        CHECK_THAT(resumed.err, Catch::Contains("--resume altered.tgck: is damaged: its layer description (784-28-10)"));
    }
}

namespace {

/// Whether text holds no control character but line ends: nothing a terminal would act on.
bool inert(const std::string& text) {
    return std::none_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\n') || u == 0x7f;
    });
}

}  // namespace

TEST_CASE("text from files and the command line reaches the terminal escaped", "[escape18]") {
    WorkDir dir;
    const Env env{{"TYPEGRAD_CACHE_DIR", (dir / "cache").string()}, {"TYPEGRAD_CXX", "/nonexistent/c++"}};
    const std::string esc = "\033[2J\033]0;title\007";
    const std::string shown = "\\x1b[2J\\x1b]0;title\\x07";
    const auto check = [&](const Result& r, const std::string& expected) {
        CHECK(inert(r.out));
        CHECK(inert(r.err));
        CHECK_THAT(r.out + r.err, Catch::Contains(expected));
    };
    SECTION("an unknown command") {
        const Result r = run(dir, {esc + "trian"}, env);
        CHECK(r.code == 2);
        check(r, "unknown command '" + shown + "trian'");
    }
    SECTION("file names in errors, with a newline") {
        const Result r = run(dir, {"eval", "--model", "m" + esc + "\n.tgck"}, env);
        CHECK(r.code == 1);
        check(r, "m" + shown);  // the newline: "\\x0a", or "; " where CLI11 took the value apart
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        const Result p = run(dir, {"plot", "a" + esc + ".jsonl", "-o", "x.svg"}, env);
        CHECK(p.code != 0);
        check(p, "a" + shown + ".jsonl");
    }
    const typegrad::io::CheckpointImage base = menu_checkpoint(dir);
    SECTION("a file name in eval's and predict's headers") {
        const std::string name = "m" + esc + ".tgck";
        fs::copy_file(dir / "base.tgck", dir / name);
        const Result r = run(dir, {"eval", "--model", name, "--test-limit", "10"}, env);
        CHECK(r.code == 0);
        check(r, "typegrad eval: m" + shown + ".tgck: 784-30-10");
        std::ofstream(dir / "blank.pgm") << "P5\n28 28\n255\n" << std::string(784, '\0');
        const Result p = run(dir, {"predict", "--model", name, "blank.pgm"}, env);
        CHECK(p.code == 0);
        check(p, "typegrad predict: m" + shown + ".tgck: ");
    }
    SECTION("the optimizer's name in a resume error") {
        typegrad::io::CheckpointImage image = base;
        image.header.optimizer = esc + "sgd";
        write_checkpoint(dir / "opt.tgck", image);
        const Result r = run(dir, {"train", "--resume", "opt.tgck", "--epochs", "2"}, env);
        CHECK(r.code == 1);
        check(r, shown + "sgd");
    }
    SECTION("an unknown layer in a checkpoint") {
        typegrad::io::CheckpointImage image = base;
        image.header.layers = "input<784> | " + esc + "dense<30> | σ | dense<10> | σ";
        write_checkpoint(dir / "layer.tgck", image);
        const Result r = run(dir, {"eval", "--model", "layer.tgck"}, env);
        CHECK(r.code == 1);
        check(r, shown + "dense<30>");
    }
}

// Issue 22: a network that trains is compiled as two parts at once (the training driver, the
// rest; src/cli/plugin.hpp), then linked; TYPEGRAD_COMPILE_JOBS=1 compiles it whole.
TEST_CASE("a network is compiled as two parts at once and linked, or whole with TYPEGRAD_COMPILE_JOBS=1", "[cache22-parts]") {
    WorkDir dir;
    const std::string cache = (dir / "cache").string();
    // a stand-in compiler that records each command line, then builds a small shared object
    const std::string cxx = fake_compiler(dir, "cc-record", "echo \"$*\" >> '" + (dir / "commands").string() +
                                                                "'\nprintf '' | cc -shared -fPIC -x c - -o \"$out\"");
    const auto commands = [&] {
        std::vector<std::string> lines;
        std::ifstream in(dir / "commands");
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        fs::remove(dir / "commands");
        return lines;
    };
    const auto has = [](const std::string& line, const std::string& word) { return (" " + line + " ").find(" " + word + " ") != std::string::npos; };
    SECTION("two parts, then the link") {
        const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", cxx}, {"TYPEGRAD_COMPILE_JOBS", "2"}});
        CHECK_THAT(r.err, Catch::Contains("is not a network compiled by this typegrad"));  // the stand-in's library
        const auto lines = commands();
        REQUIRE(lines.size() == 3);
        std::vector<std::string> parts;
        for (std::size_t k = 0; k < 2; ++k) {  // the two compiles, in either order
            CHECK(has(lines[k], "-c"));
            CHECK_FALSE(has(lines[k], "-shared"));
            CHECK(lines[k].find("network.cpp") != std::string::npos);
            parts.push_back(has(lines[k], "-DTYPEGRAD_PLUGIN_PART=1") ? "1" : has(lines[k], "-DTYPEGRAD_PLUGIN_PART=2") ? "2" : "?");
        }
        std::sort(parts.begin(), parts.end());
        CHECK(parts == std::vector<std::string>{"1", "2"});
        CHECK(has(lines[2], "-shared"));
        CHECK(lines[2].find("part1.o") != std::string::npos);
        CHECK(lines[2].find("part2.o") != std::string::npos);
        CHECK(lines[2].find("network.cpp") == std::string::npos);
        CHECK(entries(cache, ".manifest").size() == 1);  // one library, cached
        CHECK(entries(cache, ".so").size() == 1);
    }
    SECTION("whole") {
        const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", cxx}, {"TYPEGRAD_COMPILE_JOBS", "1"}});
        CHECK_THAT(r.err, Catch::Contains("is not a network compiled by this typegrad"));
        const auto lines = commands();
        REQUIRE(lines.size() == 1);
        CHECK(has(lines[0], "-shared"));
        CHECK(lines[0].find("TYPEGRAD_PLUGIN_PART") == std::string::npos);
    }
    SECTION("a number of jobs that is not one") {
        const Result r = run(dir, train_net, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_CXX", cxx}, {"TYPEGRAD_COMPILE_JOBS", "0"}});
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Catch::Contains("typegrad: error: TYPEGRAD_COMPILE_JOBS: expected a whole number from 1 to 64, got '0'"));
        CHECK_FALSE(fs::exists(dir / "commands"));
        CHECK(leftovers(cache).empty());
    }
}

TEST_CASE("the same network compiled whole and in two parts trains alike", "[cache22-parts]") {
    WorkDir dir;
    const std::vector<std::string> args = {"train", "--net", "784-9:relu-10:softmax", "--epochs", "1", "--limit", "200",
                                           "--test-limit", "100", "--seed", "3"};
    std::vector<std::string> outputs;
    for (const char* jobs : {"1", "2"}) {
        const std::string cache = (dir / (std::string("cache-") + jobs)).string();
        const Result r = run(dir, args, {{"TYPEGRAD_CACHE_DIR", cache}, {"TYPEGRAD_COMPILE_JOBS", jobs}}, 300s);
        INFO(r.err);
        REQUIRE(r.code == 0);
        CHECK_THAT(r.err, Catch::Contains("typegrad: compiled 784-9:relu-10:softmax in "));
        outputs.push_back(r.out.substr(r.out.find("epoch 1/1")));
    }
    // the epoch's line but its time and speed
    const auto scores = [](const std::string& line) {
        const auto time = line.find(" s ");
        return line.substr(0, line.rfind("  ", time)) + line.substr(line.find("cost"));
    };
    CHECK(scores(outputs[0]) == scores(outputs[1]));
}
