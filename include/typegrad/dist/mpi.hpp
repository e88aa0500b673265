// The processes of an MPI job as a Communicator (communicator.hpp). Declared here without
// mpi.h; defined in src/dist/mpi.cpp, the library typegrad::mpi, built when CMake finds MPI
// (option TYPEGRAD_MPI) — MPI's C API, since its C++ bindings were deprecated in MPI-2.2 and
// removed in MPI-3.
#pragma once

#include <memory>
#include <span>

#include "typegrad/dist/communicator.hpp"

namespace typegrad::dist {

/// Whether this process was started by an MPI launcher (mpirun, mpiexec, srun): the launchers'
/// environment variables (Open MPI's OMPI_COMM_WORLD_SIZE, PMIx's PMIX_RANK, MPICH's PMI_SIZE).
/// A process started on its own does not initialise MPI at all.
[[nodiscard]] bool launched_by_mpi() noexcept;

/// MPI, initialised (MPI_Init_thread, MPI_THREAD_FUNNELED: only the thread that made the
/// session calls MPI) for the session's lifetime and finalised after it; one per process.
class MpiSession {
public:
    MpiSession(int& argc, char**& argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    /// MPI_COMM_WORLD. sum() is the ordered sum of communicator.hpp: a reduce-scatter whose
    /// segments are added in rank order (MPI_Alltoallv), then MPI_Allgatherv of the sums — as
    /// many bytes per process as a ring allreduce, and the same bits everywhere.
    [[nodiscard]] Communicator& world() noexcept;
    /// Ends every process of the job with this exit code (MPI_Abort): for an error one process
    /// meets while the others wait for it in a collective.
    [[noreturn]] void abort(int code) noexcept;

private:
    struct World;
    std::unique_ptr<World> world_;
};

/// For measurements (benchmarks/mpi_sum.cpp): MPI_Allreduce(MPI_SUM) of x in place, the
/// implementation's order of additions.
void mpi_allreduce_sum(std::span<float> x);

}  // namespace typegrad::dist
