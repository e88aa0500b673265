// Test support for the tests that run the typegrad executable (TYPEGRAD_EXE, defined by each
// test's CMake): start it in a working directory with its words as they are (spaces, quotes,
// newlines kept), wait for it with a time limit (a hang fails the test instead of stalling the
// run), and collect its exit code, output and peak memory. Include after catch2/catch.hpp.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "workdir.hpp"

#ifndef TYPEGRAD_EXE
#error "define TYPEGRAD_EXE (the path of the typegrad executable) before including cli_process.hpp"
#endif

namespace typegrad::test {

/// How typegrad is started.
struct Launch {
    std::vector<std::pair<std::string, std::string>> env;  // added to the environment
    rlim_t address_space = 0;        // RLIMIT_AS of the child; 0: unlimited
    bool own_process_group = false;  // a process group of its own, as a shell's job (kill(-pid) reaches it all)
    std::chrono::seconds limit{60};  // longer than this is a hang: killed, and the test fails
};

struct CliResult {
    int code = -1;        // the exit code, or 128 + the signal that ended it
    std::string out, err; // what it wrote to stdout and stderr
    double seconds = 0;   // wall-clock time
    long max_rss_kb = 0;  // its peak resident set
};

/// The executable under test: TYPEGRAD_EXE, or $TYPEGRAD_TEST_EXE (to run a test against
/// another build, e.g. the one before a fix).
inline const char* cli_executable() {
    const char* other = std::getenv("TYPEGRAD_TEST_EXE");
    return other != nullptr && *other != '\0' ? other : TYPEGRAD_EXE;
}

/// Starts `typegrad <words>` in dir; stdout to dir/out, stderr to dir/err.
inline pid_t start_cli(const std::filesystem::path& dir, const std::vector<std::string>& words, const Launch& how = {}) {
    const std::string out = (dir / "out").string(), err = (dir / "err").string();
    const char* exe = cli_executable();
    std::vector<char*> argv{const_cast<char*>(exe)};
    for (const auto& w : words) argv.push_back(const_cast<char*>(w.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (how.own_process_group) ::setpgid(0, 0);
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || ::chdir(dir.c_str()) != 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
        ::unsetenv("TYPEGRAD_DATA");
        for (const auto& [name, value] : how.env) ::setenv(name.c_str(), value.c_str(), 1);
        if (how.address_space != 0) {
            const struct rlimit limit {how.address_space, how.address_space};
            ::setrlimit(RLIMIT_AS, &limit);
        }
        ::execv(exe, argv.data());
        ::_exit(127);
    }
    if (how.own_process_group) ::setpgid(pid, pid);
    return pid;
}

/// Waits for pid (and sets *max_rss_kb to its peak RSS); the exit code, or 128 + signal. After
/// `limit` it is killed (its whole group if it has its own) and the test fails.
inline int wait_cli(pid_t pid, std::chrono::seconds limit, long* max_rss_kb = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    struct rusage usage {};
    for (;;) {
        const pid_t r = ::wait4(pid, &status, WNOHANG, &usage);
        if (r == pid) break;
        REQUIRE((r == 0 || errno == EINTR));
        if (std::chrono::steady_clock::now() > deadline) {
            if (::getpgid(pid) == pid) ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            FAIL("typegrad did not finish within " << limit.count() << " s (a hang)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (max_rss_kb != nullptr) *max_rss_kb = usage.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Runs `typegrad <words>` in dir to the end; what it did is shown if a check fails.
inline CliResult run_cli(const std::filesystem::path& dir, const std::vector<std::string>& words, const Launch& how = {}) {
    const auto t0 = std::chrono::steady_clock::now();
    CliResult r;
    r.code = wait_cli(start_cli(dir, words, how), how.limit, &r.max_rss_kb);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.out = read_text(dir / "out");
    r.err = read_text(dir / "err");
    std::string line;
    for (const auto& w : words) line += " [" + w + "]";
    UNSCOPED_INFO("typegrad" << line << "\n--- exit " << r.code << ", " << r.seconds << " s, peak RSS " << r.max_rss_kb / 1024
                             << " MB\n--- stdout\n" << r.out << "--- stderr\n" << r.err);
    return r;
}

}  // namespace typegrad::test
