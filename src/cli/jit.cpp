// Networks compiled on first use (jit.hpp).
#include "jit.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "interrupt.hpp"
#include "typegrad/io/checkpoint_file.hpp"
#include "text.hpp"
#include "typegrad_jit_config.hpp"

extern char** environ;

namespace typegrad::cli {
namespace fs = std::filesystem;

namespace {

/// FNV-1a, 64 bits: the cache key (not a security boundary: the cache is the user's own).
struct Fnv {
    std::uint64_t h = 14695981039346656037ull;
    void add(std::string_view s) {
        for (const unsigned char c : s) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;  // a separator, so that "ab"+"c" differs from "a"+"bc"
    }
};

std::string hex(std::uint64_t v) {
    char s[17];
    std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(v));
    return s;
}

/// The contents of typegrad's own executable, hashed: a rebuilt typegrad never loads a shared
/// object compiled against another build.
std::string own_executable_hash() {
    static const std::string hash = [] {
        std::ifstream in("/proc/self/exe", std::ios::binary);
        if (!in) return std::string(TYPEGRAD_JIT_VERSION);
        Fnv f;
        std::vector<char> buffer(1 << 16);
        while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
            f.add(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
        return hex(f.h);
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

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> words;
    std::istringstream in(s);
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

/// The compile command, output file last.
std::vector<std::string> compile_command(const Headers& h, const fs::path& source, const fs::path& output) {
    std::string compiler = environment("TYPEGRAD_CXX");
    if (compiler.empty()) compiler = TYPEGRAD_JIT_COMPILER;
    std::vector<std::string> cmd{compiler};
    for (auto& w : split_words(TYPEGRAD_JIT_FLAGS)) cmd.push_back(w);
    for (const char* w : {"-fPIC", "-shared", "-w"}) cmd.emplace_back(w);
    cmd.push_back("-I" + h.include.string());
    cmd.push_back("-I" + h.cli.string());
    cmd.push_back(source.string());
    cmd.push_back("-o");
    cmd.push_back(output.string());
    return cmd;
}

/// Whether the compiler can be run: a path that is executable, or a name found on $PATH.
bool runnable(const std::string& program) {
    if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
    std::istringstream path(environment("PATH"));
    for (std::string dir; std::getline(path, dir, ':');)
        if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
    return false;
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

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Writes text to p through a temporary file and a rename, so that a concurrent run never reads
/// half of it.
void write_text(const fs::path& p, const std::string& text) {
    const fs::path tmp = p.string() + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw RunError(cat("cannot write ", p.string(), " (the cache of networks compiled on first use; set TYPEGRAD_CACHE_DIR "
                               "to another directory)"));
        }
    }
    std::error_code ec;
    fs::rename(tmp, p, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw RunError(cat("cannot write ", p.string(), ": ", ec.message()));
    }
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

/// Runs the compiler with its output in `log`; shows the elapsed time on a terminal. Returns the
/// exit status (-1: the compiler could not be started). Throws Interrupted on SIGINT/SIGTERM.
int run_compiler(const std::vector<std::string>& cmd, const fs::path& log, const std::string& what) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> argv;
    for (const auto& w : cmd) argv.push_back(const_cast<char*>(w.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return -1;
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    const auto start = std::chrono::steady_clock::now();
    long shown = -1;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (terminal) std::fprintf(stderr, "\r\033[K");
            if (WIFEXITED(status)) return WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status);
            return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
        if (pending_signal() != 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, &status, 0);
            if (terminal) std::fprintf(stderr, "\r\033[K");
            throw Interrupted{pending_signal()};
        }
        const long seconds = static_cast<long>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count());
        if (terminal && seconds != shown) {
            std::fprintf(stderr, "\rtypegrad: compiling %s … %ld s", what.c_str(), seconds);
            std::fflush(stderr);
            shown = seconds;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
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
    for (const auto& l : r.network.layers)
        if (l.kind == LayerSpec::Kind::conv) return 0.05;
    return 0.1;
}

}  // namespace

JitRequest checkpoint_request(const io::CheckpointHeader& h, const std::string& origin) {
    std::string error;
    JitRequest r{parse_layers_description(h.layers, error), h.cost, h.element_type, origin};
    if (!error.empty())
        throw RunError(cat(origin, ": holds the network ", io::printable_text(h.layers), ", which typegrad cannot rebuild: ", error));
    if (h.cost != "quadratic" && h.cost != "cross-entropy" && h.cost != "log-likelihood")
        throw RunError(cat(origin, ": holds a network with the unknown cost '", io::printable_text(h.cost), "'"));
    if (h.element_type != "float" && h.element_type != "double")
        throw RunError(cat(origin, ": holds a network of the unknown element type '", io::printable_text(h.element_type), "'"));
    return r;
}

std::string default_cost(const NetworkSpec& network) {
    const bool softmax_output = !network.layers.empty() && network.layers.back().kind == LayerSpec::Kind::activation &&
                                network.layers.back().activation == "softmax";
    return softmax_output ? "log-likelihood" : "quadratic";
}

std::string plugin_source(const JitRequest& r) {
    const std::string spec = spec_text(r.network);
    char eta[32];
    std::snprintf(eta, sizeof eta, "%g", default_eta_of(r));
    return cat("// Generated by typegrad ", TYPEGRAD_JIT_VERSION, ": the network ", spec, ", ", r.cost, " cost, ", r.element_type,
               ",\n// compiled on first use (src/cli/jit.hpp). typegrad writes this file; it is kept to show what was compiled.\n",
               "#define TYPEGRAD_PLUGIN_SOURCE\n#define TYPEGRAD_VERSION \"", TYPEGRAD_JIT_VERSION, "\"\n#include \"plugin.hpp\"\n\n",
               "namespace typegrad_generated {\nusing namespace typegrad;\n",
               "inline constexpr auto layers = ", cpp_layers(r.network), ";\n",
               "using network = Model<", r.element_type, ", std::remove_const_t<decltype(layers)>, cost::", cost_class(r.cost), ">;\n",
               "struct entry {\n    static std::string name() { return \"", spec, "\"; }\n",
               "    static std::string description() { return \"", spec, "\"; }\n",
               "    static constexpr double default_eta = ", eta, ";\n",
               "    static constexpr const char* default_schedule = \"constant\";\n};\n}  // namespace typegrad_generated\n\n",
               "template <>\nstruct typegrad::cli::generated_entry<typegrad_generated::network> {\n",
               "    using type = typegrad_generated::entry;\n};\n\nTYPEGRAD_DEFINE_PLUGIN(typegrad_generated::network)\n");
}

const PluginApi& load_network(const JitRequest& r) {
    static std::map<std::string, const PluginApi*> loaded;  // by source: each network once per run
    const std::string source = plugin_source(r);
    if (const auto it = loaded.find(source); it != loaded.end()) return *it->second;

    const std::string spec = spec_text(r.network);
    const std::string what = cat(spec, " (", r.cost, " cost, ", r.element_type, ")");
    const Headers headers = find_headers();
    const fs::path dir = cache_directory();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw RunError(cat("cannot create ", dir.string(), ", the cache of networks compiled on first use",
                           ec ? cat(": ", ec.message()) : std::string(), " (set TYPEGRAD_CACHE_DIR to another directory)"));
    // the key: the source, the compile command (without the file names) and typegrad's build
    Fnv key;
    key.add(source);
    for (const auto& w : compile_command(headers, "", "")) key.add(w);
    key.add(own_executable_hash());
    const std::string stem = cat(file_stem(spec), "-", r.cost, "-", r.element_type, "-", hex(key.h));
    const fs::path library = dir / (stem + ".so"), source_file = dir / (stem + ".cpp"), log = dir / (stem + ".log"),
                   failure = dir / (stem + ".error");

    if (fs::exists(failure, ec))  // compiled before, and failed: the same message at once
        throw UsageError(cat(r.origin, " ", spec, ": ", read_text(failure), " (the compiler's output: ", log.string(), ")"));
    if (!fs::exists(library, ec)) {
        const std::string compiler = compile_command(headers, "", "")[0];
        if (!runnable(compiler)) throw RunError(no_compiler(compiler));
        write_text(source_file, source);
        const fs::path tmp = library.string() + ".tmp." + std::to_string(::getpid());
        std::fprintf(stderr, "typegrad: compiling %s on first use, into %s\n", what.c_str(), dir.c_str());
        std::fflush(stderr);
        const auto start = std::chrono::steady_clock::now();
        int status = 0;
        try {
            status = run_compiler(compile_command(headers, source_file, tmp), log, what);
        } catch (...) {
            fs::remove(tmp, ec);
            throw;
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (status == -1) {
            fs::remove(tmp, ec);
            throw RunError(no_compiler(compiler));
        }
        if (status != 0) {
            fs::remove(tmp, ec);
            const std::string message = compile_error(read_text(log));
            write_text(failure, message);
            throw UsageError(cat(r.origin, " ", spec, ": ", message, " (the compiler's output: ", log.string(), ")"));
        }
        fs::rename(tmp, library, ec);
        if (ec) {
            fs::remove(tmp, ec);
            throw RunError(cat("cannot write ", library.string(), ": ", ec.message()));
        }
        std::fprintf(stderr, "typegrad: compiled %s in %.1f s; later runs load it from the cache\n", spec.c_str(), seconds);
        std::fflush(stderr);
    }

    void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* e = ::dlerror();
        throw RunError(cat("cannot load ", library.string(), ": ", e ? e : "unknown error",
                           " (delete it to compile the network again)"));
    }
    const auto entry = reinterpret_cast<PluginEntry>(::dlsym(handle, plugin_symbol));
    const PluginApi* api = entry ? entry() : nullptr;
    if (api == nullptr || api->abi != plugin_abi)
        throw RunError(cat(library.string(), " is not a network compiled by this typegrad (delete it to compile again)"));
    loaded.emplace(source, api);
    return *api;
}

}  // namespace typegrad::cli
