// Networks compiled on first use (jit.hpp).
#include "jit.hpp"

#include <dlfcn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "cache.hpp"
#include "interrupt.hpp"
#include "pch.hpp"
#include "typegrad/io/checkpoint_file.hpp"
#include "text.hpp"
#include "typegrad_jit_config.hpp"

extern char** environ;

namespace typegrad::cli {
namespace fs = std::filesystem;

namespace {

/// The contents of typegrad's own executable, hashed: a rebuilt typegrad never loads a shared
/// object compiled against another build.
std::string own_executable_hash() {
    static const std::string hash = [] {
        Descriptor fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
        if (!fd) return std::string(TYPEGRAD_JIT_VERSION);
        return sha256_hex(read_all(fd.get(), std::size_t{1} << 31, "/proc/self/exe"));
    }();
    return hash;
}

std::string environment(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

fs::path cache_directory() {
    if (const std::string d = environment("TYPEGRAD_CACHE_DIR"); !d.empty()) return d;
    if (const std::string d = environment("XDG_CACHE_HOME"); !d.empty()) return fs::path(d) / "typegrad";
    if (const std::string d = environment("HOME"); !d.empty()) return fs::path(d) / ".cache" / "typegrad";
    throw RunError("compiling a network on first use needs a cache directory: set TYPEGRAD_CACHE_DIR (or HOME)");
}

/// Where typegrad's headers are: installed beside the executable (PREFIX/bin/typegrad with
/// PREFIX/include and PREFIX/share/typegrad/cli, wherever PREFIX was moved), else the source tree
/// typegrad was built from, else the configured install prefix. Both directories hold what a
/// generated translation unit includes.
struct Headers {
    fs::path include, cli;
};
Headers find_headers() {
    std::error_code ec;
    const fs::path prefix = fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path();
    const Headers candidates[] = {
        {prefix / "include", prefix / "share" / "typegrad" / "cli"},
        {fs::path(TYPEGRAD_JIT_SOURCE_DIR) / "include", fs::path(TYPEGRAD_JIT_SOURCE_DIR) / "src" / "cli"},
        {fs::path(TYPEGRAD_JIT_INSTALL_INCLUDE_DIR), fs::path(TYPEGRAD_JIT_INSTALL_CLI_DIR)},
    };
    for (const Headers& h : candidates)
        if (fs::exists(h.include / "typegrad" / "typegrad.hpp", ec) && fs::exists(h.cli / "plugin.hpp", ec)) return h;
    throw RunError(cat("compiling a network on first use needs typegrad's headers, found neither beside the executable (",
                       (prefix / "include").string(), ") nor in ", TYPEGRAD_JIT_SOURCE_DIR,
                       " (the source tree typegrad was built from) nor in ", TYPEGRAD_JIT_INSTALL_INCLUDE_DIR));
}

/// The SHA-256 of the headers a compile reads (typegrad's headers and the CLI's, by path and
/// bytes): part of the cache key, so that a network cached by one version of the headers is
/// never loaded, nor its failure remembered, for another, even where typegrad's executable is
/// byte for byte the same (a change to a header only the networks include: plugin.hpp's macros,
/// a kernel no compiled-in network uses). About 0.85 MB read once per run that compiles or loads
/// a network.
std::string headers_hash(const Headers& h) {
    static std::map<std::string, std::string> known;  // by the headers' directories
    const std::string where = cat(h.include.string(), "\n", h.cli.string());
    if (const auto it = known.find(where); it != known.end()) return it->second;
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(h.include / "typegrad", ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->path().extension() == ".hpp") files.push_back(it->path());
    for (const auto& e : fs::directory_iterator(h.cli, ec))
        if (e.path().extension() == ".hpp") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::string text;
    for (const fs::path& f : files) {
        text += f.string();
        text += '\0';
        if (Descriptor fd{::open(f.c_str(), O_RDONLY | O_CLOEXEC)}) text += read_all(fd.get(), std::size_t{16} << 20, f.string());
        else text += "(unreadable)";
        text += '\0';
    }
    return known.emplace(where, sha256_hex(text)).first->second;
}

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> words;
    std::istringstream in(s);
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

/// The compiler, typegrad's flags and `inputs` into the shared object `output` (last): with the
/// headers' directories, the compile of a source; without, the link of the parts' objects.
std::vector<std::string> compiler_command(const std::vector<std::string>& inputs, const fs::path& output) {
    std::string compiler = environment("TYPEGRAD_CXX");
    if (compiler.empty()) compiler = TYPEGRAD_JIT_COMPILER;
    std::vector<std::string> cmd{compiler};
    for (auto& w : split_words(TYPEGRAD_JIT_FLAGS)) cmd.push_back(w);
    for (const char* w : {"-fPIC", "-shared", "-w"}) cmd.emplace_back(w);
    cmd.insert(cmd.end(), inputs.begin(), inputs.end());
    cmd.push_back("-o");
    cmd.push_back(output.string());
    return cmd;
}

/// The compile command, output file last.
std::vector<std::string> compile_command(const Headers& h, const fs::path& source, const fs::path& output) {
    return compiler_command({"-I" + h.include.string(), "-I" + h.cli.string(), source.string()}, output);
}

/// The compile of one part of a plugin into an object file (plugin.hpp, TYPEGRAD_PLUGIN_PART):
/// the compile command with -c for -shared.
std::vector<std::string> part_command(const Headers& h, const fs::path& source, const fs::path& object, int part) {
    std::vector<std::string> cmd = compile_command(h, source, object);
    const auto shared = std::find(cmd.begin(), cmd.end(), "-shared");
    *shared = "-c";
    cmd.insert(shared + 1, cat("-DTYPEGRAD_PLUGIN_PART=", part));
    return cmd;
}

/// The directory of the precompiled plugin_prelude.hpp (CMake's typegrad_jit_pch), when it may
/// be used: the headers are the source tree's it was made from, and none of the headers its
/// depfile lists is newer than it (pch.hpp; an edited header without a rebuild is parsed, not
/// taken stale from the .gch). The compiler itself also refuses a .gch made with other flags or
/// by another compiler (TYPEGRAD_CXX) and then parses the header: the program is the same either
/// way, so the cache key leaves this out.
std::optional<fs::path> precompiled_prelude(const Headers& h) {
    std::error_code ec;
    const fs::path dir(TYPEGRAD_JIT_PCH_DIR);
    if (!fs::equivalent(h.cli, fs::path(TYPEGRAD_JIT_SOURCE_DIR) / "src" / "cli", ec) || ec) return std::nullopt;
    if (!precompiled_header_fresh(dir / "plugin_prelude.hpp.gch", dir / "plugin_prelude.d")) return std::nullopt;
    return dir;
}

/// The compiler as an executable path: a path that is executable, or a name found on $PATH; ""
/// if it cannot be run. (Resolved before fork: the child only calls execve.)
std::string executable(const std::string& program) {
    if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? program : std::string();
    std::istringstream path(environment("PATH"));
    for (std::string dir; std::getline(path, dir, ':');)
        if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return (fs::path(dir) / program).string();
    return {};
}

std::string no_compiler(const std::string& program) {
    return cat("compiling a network on first use needs the C++ compiler '", program,
               "', which cannot be run (install g++, or set TYPEGRAD_CXX)");
}

/// "784-100:tanh-10:softmax" → "784-100_tanh-10_softmax": a spec as part of a file name.
std::string file_stem(const std::string& spec) {
    std::string s;
    for (const char c : spec.substr(0, 80)) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
    return s;
}

/// What went wrong in a failed compile, in one line: typegrad's static_assert message if there
/// is one, else the compiler's first error.
std::string compile_error(const std::string& log) {
    std::istringstream in(log);
    std::string first_error;
    for (std::string line; std::getline(in, line);) {
        constexpr std::string_view assertion = "error: static assertion failed: ";
        if (const std::size_t at = line.find(assertion); at != std::string::npos) {
            std::string message = line.substr(at + assertion.size());
            // "(see 'conv_fits<Layer, input shape>' below)" points into the compiler's output
            if (const std::size_t see = message.find(" (see '"); see != std::string::npos && message.ends_with(" below)"))
                message.erase(see);
            return message;
        }
        if (const std::size_t at = line.find("error: "); at != std::string::npos && first_error.empty())
            first_error = line.substr(at + 7);
    }
    return first_error.empty() ? std::string("the compiler failed") : first_error;
}

/// A positive whole number from the environment variable `name`, else `fallback`; UsageError
/// naming the variable for anything else.
long limit_from_environment(const char* name, long fallback, long most) {
    const std::string v = environment(name);
    if (v.empty()) return fallback;
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (end == v.c_str() || *end != '\0' || errno != 0 || n <= 0 || n > most)
        throw UsageError(cat(name, ": expected a whole number from 1 to ", most, ", got '", v, "'"));
    return n;
}

/// Whether two compilers may run at once: TYPEGRAD_COMPILE_JOBS (default: 2 on a machine with a
/// second core, else 1). A plugin for train or for the other commands is then compiled as two
/// parts (plugin.hpp; gradcheck's is small and compiles whole); the
/// library is the same program either way, so the cache key leaves this out.
bool two_compilers() {
    return limit_from_environment("TYPEGRAD_COMPILE_JOBS", std::thread::hardware_concurrency() >= 2 ? 2 : 1, 64) >= 2;
}

/// How a compile ended.
struct CompilerRun {
    int status = 0;         // the compiler's exit status, or 128 + the signal that ended it
    bool timed_out = false; // stopped by typegrad at the time limit
};

/// One compiler process: its command and the file its output goes to.
struct CompilerJob {
    std::vector<std::string> command;
    fs::path log;
};

/// Runs the compiler jobs at once (one per core: the parts of a plugin), each with its output in
/// its log; shows the elapsed time on a terminal. The status is the first job's, in their order,
/// that did not succeed (0 when all did).
///
/// The compilers run in a process group of their own, led by a small watchdog process that typegrad
/// forks: a Ctrl-C on the terminal reaches typegrad alone (typegrad then stops the whole group,
/// cc1plus and ld included, and nothing half-compiled is taken for a compile error), and when
/// typegrad dies, even by SIGKILL, the kernel tells the watchdog (PR_SET_PDEATHSIG), which kills
/// the group. The address space of every process of the group is limited to `megabytes`; after
/// `seconds` typegrad kills the group. Throws Interrupted on SIGINT/SIGTERM.
CompilerRun run_compiler(const std::vector<CompilerJob>& jobs, const std::string& what, long seconds, long megabytes) {
    // everything the children use is made before fork: after it, only async-signal-safe calls
    std::vector<std::vector<char*>> argvs;
    std::vector<Descriptor> outs;
    for (const CompilerJob& job : jobs) {
        std::vector<char*> argv;
        for (const auto& w : job.command) argv.push_back(const_cast<char*>(w.c_str()));
        argv.push_back(nullptr);
        argvs.push_back(std::move(argv));
        outs.emplace_back(::open(job.log.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!outs.back()) throw RunError(cat("cannot create ", job.log.string(), ": ", std::strerror(errno)));
    }
    Descriptor null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null) throw RunError(cat("cannot open /dev/null: ", std::strerror(errno)));
    std::vector<pid_t> compilers(jobs.size(), -1);
    const pid_t parent = ::getpid();
    const rlim_t bytes = static_cast<rlim_t>(megabytes) << 20;

    const pid_t watchdog = ::fork();
    if (watchdog < 0) throw RunError(cat("cannot start the compiler: ", std::strerror(errno)));
    if (watchdog == 0) {
        // Only async-signal-safe calls from here on (typegrad may have threads).
        ::setpgid(0, 0);
        struct sigaction sa {};
        sa.sa_handler = SIG_DFL;
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (::getppid() != parent) ::_exit(125);  // typegrad died before the line above
        // The watchdog: SIGTERM (typegrad gone) ends the whole group, the compilers first — from
        // before the first fork, so that typegrad dying while the second compiler is being
        // started does not leave the first one running. (A compiler not yet exec'd that gets it
        // kills the group too.)
        sa.sa_handler = [](int) { ::kill(0, SIGKILL); };
        ::sigaction(SIGTERM, &sa, nullptr);
        for (std::size_t j = 0; j < argvs.size(); ++j) {
            compilers[j] = ::fork();
            if (compilers[j] == 0) {
                const struct rlimit limit {bytes, bytes};
                ::setrlimit(RLIMIT_AS, &limit);
                ::dup2(null.get(), STDIN_FILENO);
                ::dup2(outs[j].get(), STDOUT_FILENO);
                ::dup2(outs[j].get(), STDERR_FILENO);
                ::execve(argvs[j][0], argvs[j].data(), environ);
                ::_exit(127);
            }
            if (compilers[j] < 0) ::_exit(126);  // typegrad then kills what was started (the group)
        }
        if (::getppid() != parent) ::kill(0, SIGKILL);
        int first_failure = 0;
        for (const pid_t compiler : compilers) {
            int status = 0;
            while (::waitpid(compiler, &status, 0) < 0 && errno == EINTR) {
            }
            const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (first_failure == 0) first_failure = code;
        }
        ::_exit(first_failure);
    }
    ::setpgid(watchdog, watchdog);  // also here: no kill(-watchdog) may miss the group
    outs.clear();
    null = Descriptor();
    struct Group {  // kills and reaps the group on every way out of this function
        pid_t leader;
        bool reaped = false;
        int status = 0;
        void stop() {
            if (reaped) return;
            ::kill(-leader, SIGKILL);
            while (::waitpid(leader, &status, 0) < 0 && errno == EINTR) {
            }
            reaped = true;
        }
        ~Group() { stop(); }
    } group{watchdog};

    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    const auto start = std::chrono::steady_clock::now();
    long shown = -1;
    for (;;) {
        const pid_t r = ::waitpid(watchdog, &group.status, WNOHANG);
        if (r == watchdog) {
            group.reaped = true;
            ::kill(-watchdog, SIGKILL);  // anything the compiler left running in the group
            if (terminal) std::fprintf(stderr, "\r\033[K");
            if (pending_signal() != 0) throw Interrupted{pending_signal(), "while compiling " + what};
            return {WIFEXITED(group.status) ? WEXITSTATUS(group.status) : 128 + WTERMSIG(group.status), false};
        }
        if (pending_signal() != 0) {
            group.stop();
            if (terminal) std::fprintf(stderr, "\r\033[K");
            throw Interrupted{pending_signal(), "while compiling " + what};
        }
        const auto elapsed = std::chrono::steady_clock::now() - start;
        if (elapsed >= std::chrono::seconds(seconds)) {
            group.stop();
            if (terminal) std::fprintf(stderr, "\r\033[K");
            return {128 + SIGKILL, true};
        }
        const long s = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
        if (terminal && s != shown) {
            std::fprintf(stderr, "\rtypegrad: compiling %s … %ld s", what.c_str(), s);
            std::fflush(stderr);
            shown = s;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

/// Why a compile that did not succeed failed, when it is not the network's fault: the compiler
/// was killed, ran out of memory or disk, crashed. Such a failure is reported and cached nowhere;
/// the next run compiles again. "" when the log shows a genuine error of the generated code
/// (a static_assert of typegrad, an error at a line of a source file): that one is remembered.
std::string failure_not_of_the_network(const CompilerRun& run, const std::string& log, long seconds, long megabytes) {
    const auto has = [&](std::string_view s) { return log.find(s) != std::string::npos; };
    if (run.timed_out)
        return cat("took longer than ", seconds, " s and was stopped (the limit: TYPEGRAD_COMPILE_SECONDS)");
    if (has("out of memory") || has("virtual memory exhausted") || has("Cannot allocate memory") || has("std::bad_alloc"))
        return cat("ran out of memory (the limit: ", megabytes, " MiB of address space per compiler process, "
                   "TYPEGRAD_COMPILE_MEMORY_MB)");
    if (has("No space left on device") || has("Disk quota exceeded"))
        return "failed for lack of disk space (No space left on device)";
    if (has("Killed signal terminated program") || run.status >= 128)
        return cat("was killed by signal ", run.status >= 128 ? run.status - 128 : SIGKILL,
                   " (the system's out-of-memory killer?)");
    if (has("internal compiler error")) return "crashed (an internal compiler error)";
    // a genuine error: "FILE:LINE:COLUMN: error: …"
    const auto located = [](std::string_view line) {
        const std::size_t at = line.find(": error: ");
        if (at == std::string_view::npos) return false;
        std::string_view place = line.substr(0, at);  // FILE:LINE:COLUMN
        for (int field = 0; field < 2; ++field) {
            const std::size_t colon = place.rfind(':');
            if (colon == std::string_view::npos || colon + 1 == place.size() ||
                place.find_first_not_of("0123456789", colon + 1) != std::string_view::npos)
                return false;
            place = place.substr(0, colon);
        }
        return !place.empty();
    };
    std::istringstream lines(log);
    for (std::string line; run.status == 1 && std::getline(lines, line);)
        if (located(line)) return {};
    return cat("failed (exit status ", run.status, ")");
}

const char* cost_class(const std::string& cost) {
    if (cost == "cross-entropy") return "CrossEntropy";
    if (cost == "log-likelihood") return "LogLikelihood";
    return "Quadratic";
}

/// η when --eta is not given: the article's 3 for the quadratic cost, network2's 0.5 for the
/// cross-entropy, 0.1 for a softmax classifier (0.05 with convolutions, as LeNet's).
double default_eta_of(const JitRequest& r) {
    if (r.cost == "quadratic") return 3.0;
    if (r.cost == "cross-entropy") return 0.5;
    return has_convolution(r.network) ? 0.05 : 0.1;  // inside a block too
}

}  // namespace

JitRequest checkpoint_request(const io::CheckpointHeader& h, const std::string& origin) {
    std::string error;
    JitRequest r{parse_layers_description(h.layers, error), h.cost, h.element_type, origin};
    if (!error.empty())
        throw RunError(cat(origin, ": holds the network ", io::printable_text(h.layers), ", which typegrad cannot rebuild: ", error));
    if (const std::string why = limits_error(r.network); !why.empty())
        throw RunError(cat(origin, ": holds a network beyond what typegrad compiles: ", why, " (README, \"Limits\")"));
    // The layer text is what would be compiled; the widths are what the payload was checked
    // against. A file where they disagree is damaged, whichever of the two was altered: refused
    // before anything is compiled.
    const SpecShapes shapes = infer_shapes(r.network);
    if (!shapes.error.empty() || shapes.widths != h.widths || shapes.parameter_layers != h.parameter_layers ||
        (!h.parameter_sizes.empty() && shapes.parameter_sizes != h.parameter_sizes)) {
        const auto widths = [](const std::vector<std::uint64_t>& w) {
            std::string out;
            for (const std::uint64_t v : w) out += cat(out.empty() ? "" : "-", v);
            return out;
        };
        throw RunError(cat(origin, ": is damaged: its layer description (", spec_text(r.network), ") ",
                           shapes.error.empty() ? cat("gives the widths ", widths(shapes.widths), " after each layer, but the file records ",
                                                      widths(h.widths))
                                                : cat("does not describe a network: ", shapes.error)));
    }
    if (h.cost != "quadratic" && h.cost != "cross-entropy" && h.cost != "log-likelihood")
        throw RunError(cat(origin, ": holds a network with the unknown cost '", io::printable_text(h.cost), "'"));
    if (h.element_type != "float" && h.element_type != "double")
        throw RunError(cat(origin, ": holds a network of the unknown element type '", io::printable_text(h.element_type), "'"));
    return r;
}

std::string default_cost(const NetworkSpec& network) {
    const bool softmax_output = !network.layers.empty() && network.layers.back().is_activation("softmax");
    return softmax_output ? "log-likelihood" : "quadratic";
}

std::string cost_fit_error(const NetworkSpec& network, const std::string& cost) {
    const LayerSpec* last = network.layers.empty() ? nullptr : &network.layers.back();
    const std::string output = last != nullptr && last->kind == LayerSpec::Kind::word && last->word->role == spec::Word::Role::activation
                                   ? std::string(last->word->keyword)
                                   : std::string("linear");
    const auto fits = [&](const char* needed, const char* what) {
        if (output == needed) return std::string();
        const char* instead = output == "softmax" ? "log-likelihood" : output == "sigmoid" ? "cross-entropy" : nullptr;
        return cat("--cost ", cost, " does not fit the network's ", output, " output: ", cost, " takes ", what, "; ",
                   instead ? cat("after a ", output, " use --cost ", instead, " (or quadratic)") : std::string("use --cost quadratic, which fits any output"));
    };
    if (cost == "cross-entropy") return fits("sigmoid", "a sigmoid's outputs, each in (0, 1)");
    if (cost == "log-likelihood") return fits("softmax", "a softmax's probability vector");
    return {};
}

namespace {
/// A header of --layers: its absolute path and the SHA-256 of its bytes.
struct LayerHeader {
    std::string path, sha256;
};
std::vector<LayerHeader>& layer_header_list() {
    static std::vector<LayerHeader> headers;
    return headers;
}
/// The #include lines of the --layers headers, each after a comment with the SHA-256 of its bytes
/// (so that the source, and so the cache key, changes when a header does).
std::string layer_includes() {
    std::string out;
    for (const LayerHeader& h : layer_header_list())
        out += cat("// --layers ", h.path, ", sha256 ", h.sha256, "\n#include \"", h.path, "\"\n");
    return out;
}
}  // namespace

std::vector<std::string> layer_headers() {
    std::vector<std::string> out;
    for (const LayerHeader& h : layer_header_list()) out.push_back(h.path);
    return out;
}

namespace {
/// How each JitRequest::Variant shows: in the cache's file names, in messages, in the source's
/// first line; the macro that ends the generated source names the table it defines (plugin.hpp).
/// A variant compiled as two parts at once ends with the macros of its parts too, chosen by
/// TYPEGRAD_PLUGIN_PART: `part1` and `part2` name them, with the table's macro's arguments.
struct VariantText {
    const char* stem;     // "-check"
    const char* purpose;  // ", for gradcheck"
    const char* table;    // "TYPEGRAD_DEFINE_CHECK_PLUGIN("
    const char* part1 = nullptr;  // "TYPEGRAD_DEFINE_TRAINING_PART(typegrad::cli::engines, " (null: compiled whole)
    const char* part2 = nullptr;
};
VariantText variant_text(JitRequest::Variant v) {
    switch (v) {
        case JitRequest::Variant::every_engine:
            return {"-engines", ", every --grad engine", "TYPEGRAD_DEFINE_PLUGIN(",
                    "TYPEGRAD_DEFINE_TRAINING_PART(typegrad::cli::engines, ", "TYPEGRAD_DEFINE_TABLE_PART(typegrad::cli::engines, "};
        case JitRequest::Variant::checking: return {"-check", ", for gradcheck", "TYPEGRAD_DEFINE_CHECK_PLUGIN("};
        case JitRequest::Variant::commands:
            return {"-commands", ", for eval, predict, generate, export and derive", "TYPEGRAD_DEFINE_COMMANDS_PLUGIN(",
                    "TYPEGRAD_DEFINE_FORWARD_PART(", "TYPEGRAD_DEFINE_COMMANDS_TABLE_PART("};
        case JitRequest::Variant::default_engine: break;
    }
    return {"", "", "TYPEGRAD_DEFINE_DEFAULT_ENGINE_PLUGIN(", "TYPEGRAD_DEFINE_TRAINING_PART(typegrad::cli::default_engines, ",
            "TYPEGRAD_DEFINE_TABLE_PART(typegrad::cli::default_engines, "};
}
}  // namespace

std::string plugin_source(const JitRequest& r) {
    const VariantText v = variant_text(r.variant);
    const std::string spec = spec_text(r.network);
    const std::string layers = cpp_layers(r.network);
    char eta[32];
    std::snprintf(eta, sizeof eta, "%g", default_eta_of(r));
    return cat("// Generated by typegrad ", TYPEGRAD_JIT_VERSION, ": the network ", spec, ", ", r.cost, " cost, ", r.element_type,
               v.purpose,
               ",\n// compiled on first use (src/cli/jit.hpp). typegrad writes this file; it is kept to show what was compiled.\n",
               "#include \"plugin_prelude.hpp\"  // first: the build may hold it precompiled\n",
               layer_includes(), "\n",
               "namespace typegrad_generated {\nusing namespace typegrad;\n",
               "inline constexpr auto layers = ", layers, ";\n",
               "using network = Model<", r.element_type, ", std::remove_const_t<decltype(layers)>, cost::", cost_class(r.cost), ">;\n",
               "struct entry {\n    static std::string name() { return \"", spec, "\"; }\n",
               "    static std::string description() { return \"", spec, "\"; }\n",
               "    static constexpr double default_eta = ", eta, ";\n",
               "    static constexpr const char* default_schedule = \"constant\";\n",
               r.whole_batch > 0 ? cat("    static constexpr std::size_t whole_batch = ", r.whole_batch, ";\n") : std::string(),
               "};\n}  // namespace typegrad_generated\n\n",
               "template <>\nstruct typegrad::cli::generated_entry<typegrad_generated::network> {\n",
               "    using type = typegrad_generated::entry;\n};\n\n",
               v.part1 == nullptr
                   ? cat(v.table, "typegrad_generated::network)\n")
                   : cat("// compiled whole, or as two parts at once (src/cli/plugin.hpp)\n",
                         "#if defined(TYPEGRAD_PLUGIN_PART) && TYPEGRAD_PLUGIN_PART == 1\n",
                         v.part1, "typegrad_generated::network)\n",
                         "#elif defined(TYPEGRAD_PLUGIN_PART) && TYPEGRAD_PLUGIN_PART == 2\n",
                         v.part2, "typegrad_generated::network)\n",
                         "#else\n", v.table, "typegrad_generated::network)\n#endif\n"));
}

namespace {

/// The manifest of a compiled network: which file holds it and the SHA-256 of that file's bytes.
/// The library's name carries the start of its hash, so that two runs compiling the same network
/// at once never replace each other's file with different bytes: the manifest, replaced
/// atomically, always names a file that matches it.
struct Manifest {
    std::string library, sha256;
    [[nodiscard]] std::string text() const { return cat("typegrad-cache 1\nlibrary ", library, "\nsha256 ", sha256, "\n"); }
    static std::optional<Manifest> parse(const std::string& text) {
        std::istringstream in(text);
        std::string magic, version, k1, library, k2, sha;
        if (!(in >> magic >> version >> k1 >> library >> k2 >> sha) || magic != "typegrad-cache" || version != "1" ||
            k1 != "library" || k2 != "sha256" || sha.size() != 64 || library.find('/') != std::string::npos ||
            !library.ends_with(".so"))
            return std::nullopt;
        return Manifest{library, sha};
    }
};

constexpr std::size_t max_library_bytes = std::size_t{1} << 30;

/// The cache's own secret (random, made once, 0600): part of every key, so that the names of
/// the cache's files cannot be predicted from a spec by anyone who cannot read the cache.
std::string cache_secret(const CacheDirectory& dir) {
    if (auto s = dir.read_entry("secret", 256)) return *s;
    if (!dir.writable()) return {};
    unsigned char random[32];
    Descriptor urandom(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    if (!urandom || ::read(urandom.get(), random, sizeof random) != static_cast<ssize_t>(sizeof random))
        throw RunError("cannot read /dev/urandom");
    const std::string secret = sha256_hex(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
    dir.create_entry_once("secret", secret);  // another run may have made it first: the same for both
    return *dir.read_entry("secret", 256);
}

/// Opens a library, checks its bytes against `sha256` and loads it through the descriptor that
/// was hashed (no second look-up by name); RunError when it does not match or does not load.
/// Returns its handle, open for the life of the process.
void* load_verified(std::optional<Descriptor> fd, const std::string& sha256, const fs::path& shown, const fs::path& manifest) {
    if (!fd) throw RunError(cat(shown.string(), " is missing (delete ", manifest.string(), " to compile the network again)"));
    ::lseek(fd->get(), 0, SEEK_SET);
    if (sha256_hex(read_all(fd->get(), max_library_bytes, shown.string())) != sha256)
        throw RunError(cat(shown.string(), ": its content does not match the SHA-256 recorded when it was compiled (",
                           manifest.string(), "): refusing to load it (delete both to compile the network again)"));
    void* handle = ::dlopen(cat("/proc/self/fd/", fd->get()).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* e = ::dlerror();
        throw RunError(cat("cannot load ", shown.string(), ": ", e ? e : "unknown error", " (delete it to compile the network again)"));
    }
    // kept open for the life of the process: glibc knows loaded objects by name, and a later
    // library must never be opened as "/proc/self/fd/N" with this N again
    (void)fd->release();
    return handle;
}

/// What compile_cached compiles: the source, and how its files and messages name it.
struct Compilation {
    std::string source;
    std::string stem;    // the start of its files' names: "784-30-10-quadratic-float"
    std::string what;    // in messages: "784-30-10 (quadratic cost, float)"
    std::string origin;  // the option it came from: "--net", "--layers my.hpp"
    std::string shown;   // what a failure names after the origin: the spec, the header
    bool in_parts = false;  // the source holds two parts to compile at once (plugin.hpp)
};

/// A loaded library: its handle (open for the life of the process) and its file in the cache.
struct Loaded {
    void* handle = nullptr;
    fs::path library;
};

/// The shared object of c.source: from the cache when it holds it (its bytes checked), else
/// compiled (a progress line on stderr), cached and loaded.
Loaded compile_cached(const Compilation& c) {
    const std::string& source = c.source;
    const std::string& what = c.what;
    const std::string named = c.shown.empty() ? c.origin : cat(c.origin, " ", c.shown);  // "--net 784-30:relu-10"
    const long seconds = limit_from_environment("TYPEGRAD_COMPILE_SECONDS", 900, 86400);
    const long megabytes = limit_from_environment("TYPEGRAD_COMPILE_MEMORY_MB", 8192, 1 << 24);
    const Headers headers = find_headers();
    const CacheDirectory dir(cache_directory());
    dir.remove_stale_temporaries();
    // the key: the cache's secret, the source, the compile command (without the file names),
    // typegrad's own build and the headers the compile reads
    std::string key_text = cat(cache_secret(dir), "\n", source, "\n");
    for (const auto& w : compile_command(headers, "", "")) key_text += w + '\n';
    key_text += own_executable_hash();
    key_text += headers_hash(headers);
    const std::string stem = cat(c.stem, "-", sha256_hex(key_text).substr(0, 32));
    const std::string manifest_name = stem + ".manifest", failure_name = stem + ".error", log_name = stem + ".log";

    // compiled before: load it, after checking its bytes; compiled before, and the network did
    // not compile: the same message at once
    const auto cached = [&]() -> std::optional<Loaded> {
        if (const auto text = dir.read_entry(manifest_name, 4096)) {
            const auto m = Manifest::parse(*text);
            if (!m) throw RunError(cat((dir.path() / manifest_name).string(), ": is not a manifest of typegrad's cache (delete it)"));
            return Loaded{load_verified(dir.open_entry(m->library, max_library_bytes), m->sha256, dir.path() / m->library,
                                        dir.path() / manifest_name),
                          dir.path() / m->library};
        }
        if (const auto message = dir.read_entry(failure_name, 4096))
            throw UsageError(cat(named, ": ", io::printable_text(*message), " (remembered from an earlier compile; "
                                 "the compiler's output: ", (dir.path() / log_name).string(), "; delete ",
                                 (dir.path() / failure_name).string(), " to compile again)"));
        return std::nullopt;
    };
    if (auto loaded = cached()) return std::move(*loaded);
    // Runs that need the same network at once (the processes of an MPI run on one machine, two
    // commands started together) compile it once: the others wait for the lock and load it.
    std::optional<CacheLock> lock;
    if (dir.writable()) {
        for (bool told = false;; told = true) {
            if (auto held = dir.try_lock_entry(stem + ".lock")) {
                lock.emplace(std::move(*held));
                break;
            }
            if (!told) {
                std::fprintf(stderr, "typegrad: another typegrad is compiling %s into %s; waiting for it\n", what.c_str(),
                             dir.path().c_str());
                std::fflush(stderr);
            }
            if (pending_signal() != 0) throw Interrupted{pending_signal(), cat("while waiting for another typegrad's compile of ", what)};
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    if (lock)  // another run may have compiled it in the meantime
        if (auto loaded = cached()) return std::move(*loaded);

    const std::string compiler = compile_command(headers, "", "")[0];
    const std::string program = executable(compiler);
    if (program.empty()) throw RunError(no_compiler(compiler));
    if (!dir.writable())
        throw RunError(cat("cannot compile ", what, ": the cache ", dir.path().string(),
                           " is read-only and does not hold it (compile it once where the cache can be written)"));
    const fs::path work = dir.make_private_directory();
    struct RemoveWork {
        fs::path path;
        ~RemoveWork() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } remove_work{work};
    {
        Descriptor fd(::open((work / "network.cpp").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd || ::write(fd.get(), source.data(), source.size()) != static_cast<ssize_t>(source.size()))
            throw RunError(cat("cannot write ", (work / "network.cpp").string(), ": ", std::strerror(errno)));
    }
    std::fprintf(stderr, "typegrad: compiling %s on first use, into %s\n", what.c_str(), dir.path().c_str());
    std::fflush(stderr);
    const auto start = std::chrono::steady_clock::now();
    const auto pch = precompiled_prelude(headers);
    const auto with_program = [&](std::vector<std::string> command) {
        command[0] = program;
        // searched first: its .gch stands for plugin_prelude.hpp (a link has no include path)
        const auto first_include = std::find_if(command.begin(), command.end(), [](const std::string& w) { return w.starts_with("-I"); });
        if (pch && first_include != command.end()) command.insert(first_include, "-I" + pch->string());
        return command;
    };
    std::vector<CompilerJob> jobs;
    if (c.in_parts && two_compilers()) {  // the two parts at once, then the link (plugin.hpp)
        for (int part : {1, 2})
            jobs.push_back({with_program(part_command(headers, work / "network.cpp", work / cat("part", part, ".o"), part)),
                            work / cat("compiler-", part, ".log")});
    } else {
        jobs.push_back({with_program(compile_command(headers, work / "network.cpp", work / "network.so")), work / "compiler.log"});
    }
    CompilerRun run = run_compiler(jobs, what, seconds, megabytes);
    if (run.status == 0 && jobs.size() > 1) {
        const auto spent = static_cast<long>(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        jobs = {{with_program(compiler_command({(work / "part1.o").string(), (work / "part2.o").string()}, work / "network.so")),
                 work / "compiler.log"}};
        run = run_compiler(jobs, what, std::max(1L, seconds - spent), megabytes);
    }
    std::string log;  // the output of the compilers that ran last, when they failed
    if (run.status != 0)
        for (const CompilerJob& job : jobs)
            if (Descriptor fd{::open(job.log.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)})
                log += read_all(fd.get(), std::size_t{64} << 20, job.log.string());
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run.status == 127) throw RunError(no_compiler(compiler));
    if (run.status != 0) {
        if (jobs.size() > 1) {  // the parts' output, kept as one log
            Descriptor fd(::open((work / "compiler.log").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (fd && ::write(fd.get(), log.data(), log.size()) != static_cast<ssize_t>(log.size())) log += "\n(typegrad could not keep all of this output)";
        }
        const fs::path kept = dir.path() / log_name;
        try {
            dir.install_entry(work / "compiler.log", log_name);
        } catch (const RunError&) {
        }
        if (const std::string why = failure_not_of_the_network(run, log, seconds, megabytes); !why.empty())
            throw RunError(cat("compiling ", what, " ", why, "; nothing was cached, the next run compiles again (the compiler's output: ",
                               kept.string(), ")"));
        const std::string message = compile_error(log);
        dir.write_entry(failure_name, message);
        throw UsageError(cat(named, ": ", io::printable_text(message), " (the compiler's output: ", kept.string(), ")"));
    }
    // the library: hashed through the descriptor that is then loaded; made the user's alone
    const fs::path built = work / "network.so";
    Descriptor fd(::open(built.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd || ::fchmod(fd.get(), 0700) != 0) throw RunError(cat("cannot open ", built.string(), ": ", std::strerror(errno)));
    const std::string sha = sha256_hex(read_all(fd.get(), max_library_bytes, built.string()));
    const Manifest manifest{cat(stem, "-", sha.substr(0, 16), ".so"), sha};
    dir.install_entry(built, manifest.library);
    dir.install_entry(work / "network.cpp", stem + ".cpp");
    dir.write_entry(manifest_name, manifest.text());
    dir.remove_entry(failure_name);
    std::fprintf(stderr, "typegrad: compiled %s in %.1f s; later runs load it from the cache\n", (c.shown.empty() ? what : c.shown).c_str(),
                 elapsed);
    std::fflush(stderr);
    return {load_verified(std::move(fd), sha, dir.path() / manifest.library, dir.path() / manifest_name), dir.path() / manifest.library};
}

}  // namespace

const PluginApi& load_network(const JitRequest& r) {
    static std::map<std::string, const PluginApi*> loaded;  // by source: each network once per run
    const std::string source = plugin_source(r);
    if (const auto it = loaded.find(source); it != loaded.end()) return *it->second;
    const std::string spec = spec_text(r.network);
    // a spec was bounded when parsed; a request built otherwise is checked here, before anything
    if (const std::string why = limits_error(r.network); !why.empty())
        throw UsageError(cat(r.origin, " ", spec, ": beyond what typegrad compiles: ", why, " (README, \"Limits\")"));
    const VariantText v = variant_text(r.variant);
    const Loaded lib = compile_cached({source, cat(file_stem(spec), "-", r.cost, "-", r.element_type, v.stem),
                                       cat(spec, " (", r.cost, " cost, ", r.element_type, v.purpose, ")"),
                                       r.origin, spec, v.part1 != nullptr});
    const auto entry = reinterpret_cast<PluginEntry>(::dlsym(lib.handle, plugin_symbol));
    const PluginApi* api = entry ? entry() : nullptr;
    if (api == nullptr || api->abi != plugin_abi)
        throw RunError(cat(lib.library.string(), " is not a network compiled by this typegrad (delete it to compile again)"));
    loaded.emplace(source, api);
    return *api;
}

void use_layer_headers(const std::vector<std::string>& files) {
    for (const std::string& file : files) {
        const std::string origin = cat("--layers ", file);
        std::error_code ec;
        const fs::path path = fs::canonical(file, ec);
        if (ec) throw UsageError(cat(origin, ": cannot open: ", ec.message()));
        if (!fs::is_regular_file(path, ec)) throw UsageError(cat(origin, ": is not a regular file"));
        const std::string text = path.string();
        for (const unsigned char c : text)
            if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
                throw UsageError(cat(origin, ": its path holds a quote, a backslash or a control character, which typegrad does not "
                                             "write into an #include (rename or link the file)"));
        Descriptor fd(::open(text.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw UsageError(cat(origin, ": cannot open: ", std::strerror(errno)));
        const std::string sha = sha256_hex(read_all(fd.get(), std::size_t{16} << 20, text));
        auto& list = layer_header_list();
        if (std::none_of(list.begin(), list.end(), [&](const LayerHeader& h) { return h.path == text; })) list.push_back({text, sha});
    }
    if (layer_header_list().empty()) return;
    // the headers' words: a small library of their registrations, compiled once and cached; its
    // words join the registry, so --net and a checkpoint's layer text can name the layers
    std::string names;
    for (const LayerHeader& h : layer_header_list()) names += cat(names.empty() ? "" : ", ", fs::path(h.path).filename().string());
    const std::string source = cat("// Generated by typegrad ", TYPEGRAD_JIT_VERSION, ": the --net words of the layers of ", names,
                                   " (src/cli/jit.hpp, --layers).\n#include <cstddef>\n#include \"typegrad/nn/spec.hpp\"\n",
                                   layer_includes(),
                                   "\nextern \"C\" std::size_t typegrad_layer_words(const typegrad::spec::Word* const** words) {\n"
                                   "    *words = typegrad::spec::registry().data();\n    return typegrad::spec::registry().size();\n}\n");
    const std::string first = fs::path(layer_header_list().front().path).filename().string();
    const Loaded lib = compile_cached({source, cat("layers-", file_stem(first)), cat("the layers of ", names),
                                       cat("--layers ", layer_header_list().front().path), ""});
    using Words = std::size_t (*)(const spec::Word* const**);
    const auto words = reinterpret_cast<Words>(::dlsym(lib.handle, "typegrad_layer_words"));
    if (words == nullptr) throw RunError(cat(lib.library.string(), " is not a library of layers compiled by this typegrad (delete it)"));
    const spec::Word* const* list = nullptr;
    const std::size_t n = words(&list);
    // the same array as this program's registry when the library shares it (the executable exports
    // its symbols): adding what is there already is refused, harmlessly
    const std::vector<const spec::Word*> found(list, list + n);
    for (const spec::Word* w : found) (void)spec::add(*w);
}

}  // namespace typegrad::cli
