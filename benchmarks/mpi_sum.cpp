// The cost of one sum of a network's parameters over the processes of an MPI job: typegrad's
// ordered sum (Communicator::sum: reduce-scatter in rank order, then allgather) against
// MPI_Allreduce(MPI_SUM), for 784-30-10 (23 860 floats) and 784-100-10 (79 510 floats).
//   mpirun -np 2 build/benchmarks/mpi_sum
// Rank 0 prints the median and the minimum over 2000 repetitions (after 200 to warm up), each
// started together after a barrier-like sum of one value.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <span>
#include <vector>

#include "typegrad/dist/mpi.hpp"

int main(int argc, char** argv) {
    typegrad::dist::MpiSession session(argc, argv);
    typegrad::dist::Communicator& world = session.world();
    for (const std::size_t n : {std::size_t{23860}, std::size_t{79510}}) {
        std::vector<float> x(n);
        for (const bool ordered : {true, false}) {
            std::vector<double> micros;
            for (int rep = 0; rep < 2200; ++rep) {
                std::fill(x.begin(), x.end(), 0.5f + static_cast<float>(world.rank()));
                float sync = 0;
                world.sum(std::span<float>(&sync, 1));
                const auto start = std::chrono::steady_clock::now();
                if (ordered) world.sum(std::span<float>(x));
                else typegrad::dist::mpi_allreduce_sum(std::span<float>(x));
                const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
                if (rep >= 200) micros.push_back(us);
            }
            std::sort(micros.begin(), micros.end());
            if (world.rank() == 0)
                std::printf("%d processes, %6zu floats (%4zu KiB): %-28s median %7.1f us, min %7.1f us\n", world.size(), n,
                            n * sizeof(float) / 1024, ordered ? "ordered sum (typegrad)" : "MPI_Allreduce(MPI_SUM)",
                            micros[micros.size() / 2], micros.front());
        }
    }
}
