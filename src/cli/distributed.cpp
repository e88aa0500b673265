// The processes of `typegrad train` (distributed.hpp).
#include "distributed.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <memory>
#include <string>

#include "interrupt.hpp"
#include "text.hpp"

#if TYPEGRAD_HAVE_MPI
#include "typegrad/dist/mpi.hpp"
#endif

namespace typegrad::cli {
namespace {

struct State {
#if TYPEGRAD_HAVE_MPI
    std::unique_ptr<dist::MpiSession> session;
#endif
    dist::Solo solo;
    std::FILE* errors = nullptr;  // process > 0: its stderr as it was before /dev/null
    int stopping = 0;              // the signal every process agreed to stop at (agreed_signal)
};

State& state() {
    static State s;
    return s;
}

}  // namespace

bool built_with_mpi() noexcept { return TYPEGRAD_HAVE_MPI != 0; }

bool in_mpi_job() noexcept {
#if TYPEGRAD_HAVE_MPI
    return state().session != nullptr;
#else
    return false;
#endif
}

dist::Communicator& processes() {
#if TYPEGRAD_HAVE_MPI
    if (state().session) return state().session->world();
#endif
    return state().solo;
}

std::FILE* error_stream() noexcept { return state().errors ? state().errors : stderr; }

std::string process_text() {
    const dist::Communicator& c = processes();
    if (c.size() == 1 || c.rank() == 0) return {};  // process 0 speaks for the run
    return cat(" (process ", std::to_string(c.rank()), " of ", std::to_string(c.size()), ")");
}

int agreed_signal() {
    const int own = pending_signal();
    dist::Communicator& c = processes();
    if (c.size() == 1) return own;
    // how many processes have each of the two signals (a sum: the one collective there is)
    std::array<double, 2> count{own == SIGINT ? 1.0 : 0.0, own == SIGTERM ? 1.0 : 0.0};
    c.sum(count);
    const int agreed = own != 0 ? own : count[1] > 0 ? SIGTERM : count[0] > 0 ? SIGINT : 0;
    if (agreed != 0) state().stopping = agreed;
    return agreed;
}

Processes::Processes([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#if TYPEGRAD_HAVE_MPI
    if (!dist::launched_by_mpi()) return;
    state().session = std::make_unique<dist::MpiSession>(argc, argv);
    if (processes().rank() == 0) return;
    // Process 0 alone reports: the others print nothing but their own errors.
    std::fflush(stdout);
    std::fflush(stderr);
    const int saved = ::dup(STDERR_FILENO);
    if (saved >= 0) state().errors = ::fdopen(saved, "w");
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        ::close(null);
    }
#endif
}

Processes::~Processes() {
#if TYPEGRAD_HAVE_MPI
    state().session.reset();  // MPI_Finalize
#endif
}

int Processes::end(int code) {
#if TYPEGRAD_HAVE_MPI
    // every process stops where the others do after an agreed signal: MPI_Finalize, no abort
    const bool agreed_stop = state().stopping != 0 && code == 128 + state().stopping;
    if (state().session && processes().size() > 1 && code != exit_ok && code != exit_usage && !agreed_stop) {
        std::fflush(stdout);
        if (state().errors) std::fflush(state().errors);
        state().session->abort(code);
    }
#endif
    return code;
}

TrainOptions for_this_process(TrainOptions o) {
    if (processes().rank() == 0) return o;
    o.save.reset();
    o.metrics.reset();
    o.plot.reset();
    o.quiet = true;
    return o;
}

void check_processes(const TrainOptions& o, std::size_t n_train) {
    if (o.average_every && !in_mpi_job())
        throw UsageError(built_with_mpi()
                             ? "--average-every: local SGD averages the processes of an MPI job: run under mpirun "
                               "(mpirun -np P typegrad train ... --average-every H)"
                             : "--average-every: this typegrad was built without MPI (install libopenmpi-dev and "
                               "configure again; see docs/distributed.md)");
    const auto p = static_cast<std::size_t>(processes().size());
    if (p > 1 && o.threads > 1)
        throw UsageError(cat("--threads: ", std::to_string(o.threads), " threads in each of ", std::to_string(p),
                             " MPI processes are not supported: run one process per core instead (mpirun -np ",
                             std::to_string(p * o.threads), " … without --threads)"));
    if (p > 1 && o.batch * p > n_train)
        throw UsageError(cat("--batch: ", std::to_string(p), " processes × ", std::to_string(o.batch),
                             " examples make a global batch larger than the ", std::to_string(n_train),
                             " training examples"));
}

namespace {
std::string averaging_text(const TrainOptions& o) {
    if (*o.average_every == 0) return "local SGD averaging after every epoch";
    return cat("local SGD averaging every ", std::to_string(*o.average_every), " step",
               *o.average_every == 1 ? "" : "s", " and after every epoch");
}
}  // namespace

std::string processes_note(const TrainOptions& o) {
    const int p = processes().size();
    if (p == 1) return {};
    return cat(", ", std::to_string(p), " processes, ", o.average_every ? averaging_text(o) : "gradients summed");
}

void print_processes(const TrainOptions& o) {
    const int p = processes().size();
    if (!in_mpi_job() || p == 1) return;
    if (o.average_every)
        std::printf("%d processes (MPI): %s; batch %zu per process, every epoch sharded over the processes\n", p,
                    averaging_text(o).c_str(), o.batch);
    else
        std::printf("%d processes (MPI): gradients summed every step, batch %d x %zu = %zu\n", p, p, o.batch,
                    static_cast<std::size_t>(p) * o.batch);
}

}  // namespace typegrad::cli
