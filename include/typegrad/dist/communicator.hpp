// The processes of a data-parallel run, as the trainer sees them: how many there are, which one
// this is, and one collective — the element-wise sum of a buffer over all of them. The trainer
// and the data-parallel engine (data_parallel.hpp) know only this interface; the MPI
// implementation (dist/mpi.hpp, compiled into typegrad::mpi when MPI is found) is the one place
// that includes mpi.h.
//
// Contract of sum(x): on return, x holds on every process Σ_r x_r, added in rank order
// ((x_0 + x_1) + x_2) + …, so the bits are the same on every process and in every run with the
// same number of processes (MPI_Allreduce promises neither: its order of additions is the
// implementation's and may depend on the message size and the process placement).
#pragma once

#include <cstddef>
#include <span>

namespace typegrad::dist {

class Communicator {
public:
    virtual ~Communicator() = default;
    /// This process: 0 … size() − 1.
    [[nodiscard]] virtual int rank() const noexcept = 0;
    /// The number of processes (at least 1).
    [[nodiscard]] virtual int size() const noexcept = 0;
    /// x ← Σ over the processes of their x, in rank order, on every process (see above). Every
    /// process must call it with the same length.
    virtual void sum(std::span<float> x) = 0;
    virtual void sum(std::span<double> x) = 0;
};

/// One process on its own: sum() leaves x as it is.
class Solo final : public Communicator {
public:
    [[nodiscard]] int rank() const noexcept override { return 0; }
    [[nodiscard]] int size() const noexcept override { return 1; }
    void sum(std::span<float>) override {}
    void sum(std::span<double>) override {}
};

}  // namespace typegrad::dist
