// typegrad::mpi: the MPI communicator (include/typegrad/dist/mpi.hpp). The only file with mpi.h.
#include "typegrad/dist/mpi.hpp"

#include <mpi.h>

#include <cstdlib>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace typegrad::dist {

bool launched_by_mpi() noexcept {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"}) {
        if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return true;
    }
    return false;
}

namespace {
template <class T>
MPI_Datatype mpi_type() noexcept {
    if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    else return MPI_DOUBLE;
}
}  // namespace

struct MpiSession::World final : Communicator {
    int rank_ = 0, size_ = 1;
    std::vector<int> counts, displs, segment_counts, segment_displs;
    std::vector<float> scratch_f;
    std::vector<double> scratch_d;

    [[nodiscard]] int rank() const noexcept override { return rank_; }
    [[nodiscard]] int size() const noexcept override { return size_; }
    void sum(std::span<float> x) override { ordered_sum(x, scratch_f); }
    void sum(std::span<double> x) override { ordered_sum(x, scratch_d); }

    // Process q owns the segment [q·N/P, (q+1)·N/P) of x: it receives that segment of every
    // process, adds them in rank order, and every process gathers the P sums.
    template <class T>
    void ordered_sum(std::span<T> x, std::vector<T>& scratch) {
        if (x.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
            throw std::length_error("dist::sum: more than INT_MAX values in one call");
        const std::size_t n = x.size(), p = static_cast<std::size_t>(size_), r = static_cast<std::size_t>(rank_);
        counts.resize(p);
        displs.resize(p);
        for (std::size_t q = 0; q < p; ++q) {
            displs[q] = static_cast<int>(q * n / p);
            counts[q] = static_cast<int>((q + 1) * n / p - q * n / p);
        }
        const int mine = counts[r];
        scratch.resize(p * static_cast<std::size_t>(mine));
        segment_counts.assign(p, mine);
        segment_displs.resize(p);
        for (std::size_t q = 0; q < p; ++q) segment_displs[q] = static_cast<int>(q) * mine;
        const MPI_Datatype type = mpi_type<T>();
        MPI_Alltoallv(x.data(), counts.data(), displs.data(), type, scratch.data(), segment_counts.data(),
                      segment_displs.data(), type, MPI_COMM_WORLD);
        T* out = x.data() + displs[r];
        const auto len = static_cast<std::size_t>(mine);
        for (std::size_t i = 0; i < len; ++i) out[i] = scratch[i];
        for (std::size_t q = 1; q < p; ++q) {
            const T* in = scratch.data() + q * len;
            for (std::size_t i = 0; i < len; ++i) out[i] += in[i];
        }
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x.data(), counts.data(), displs.data(), type,
                       MPI_COMM_WORLD);
    }
};

MpiSession::MpiSession(int& argc, char**& argv) {
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw std::runtime_error("MPI_Init_thread failed");
    world_ = std::make_unique<World>();
    MPI_Comm_rank(MPI_COMM_WORLD, &world_->rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_->size_);
}

MpiSession::~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

Communicator& MpiSession::world() noexcept { return *world_; }

void MpiSession::abort(int code) noexcept {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; should it, the process still ends
}

void mpi_allreduce_sum(std::span<float> x) {
    MPI_Allreduce(MPI_IN_PLACE, x.data(), static_cast<int>(x.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

}  // namespace typegrad::dist
