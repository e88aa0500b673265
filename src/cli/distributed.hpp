// `mpirun -np P typegrad train …`: the processes of a data-parallel run (docs/distributed.md).
// The executable starts MPI when an MPI launcher started it (and the build has MPI); every
// other run is one process and never touches MPI. Only process 0 prints and writes files.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "options.hpp"
#include "typegrad/dist/communicator.hpp"
#include "typegrad/dist/data_parallel.hpp"
#include "typegrad/train/trainer.hpp"

namespace typegrad::cli {

/// For main(): MPI for the lifetime of the object when launched by mpirun (MPI_Init_thread;
/// the other processes' stdout and stderr go to /dev/null), nothing otherwise.
class Processes {
public:
    Processes(int& argc, char**& argv);
    ~Processes();
    Processes(const Processes&) = delete;
    Processes& operator=(const Processes&) = delete;
    /// main's exit code: with several processes, an error after which others may wait in a
    /// collective (anything but bad usage, which every process finds alike) ends them all.
    int end(int code);
};

/// Whether this build can run under mpirun (it was built with MPI).
[[nodiscard]] bool built_with_mpi() noexcept;
/// Whether this run is a process of an MPI job (even a job of one process).
[[nodiscard]] bool in_mpi_job() noexcept;
/// The processes of this run (one, alone, unless in an MPI job).
[[nodiscard]] dist::Communicator& processes();
/// Where process 0 reports errors, and the others too (their stderr is /dev/null otherwise);
/// the text names the process when there are several: " (process 1 of 2)".
[[nodiscard]] std::FILE* error_stream() noexcept;
[[nodiscard]] std::string process_text();
/// The signal (SIGINT or SIGTERM) at which every process of the run stops here, or 0: a
/// collective over the processes of an MPI job (each calls it at the same point of the run), so
/// that they all stop after the same batch, even when mpirun's forwarded signal reached one
/// process a batch before another; alone, pending_signal(). A process stopped by it ends
/// normally (Processes::end does not abort the job).
[[nodiscard]] int agreed_signal();

/// The options as this process uses them: on processes other than 0, no --save, --metrics,
/// --plot or progress bar (process 0 writes the files; every process reads --resume).
[[nodiscard]] TrainOptions for_this_process(TrainOptions o);
/// Checks the options against the processes and the training set (after --validation):
/// UsageError if a global batch of P·m examples is larger than the training set, or
/// --average-every is given outside an MPI job.
void check_processes(const TrainOptions& o, std::size_t n_train);
/// What the training note of a checkpoint adds for several processes (", 2 processes, local SGD
/// averaging every 10 steps"), since the weights depend on it; "" for one process.
[[nodiscard]] std::string processes_note(const TrainOptions& o);
/// The header line of a data-parallel run on process 0 (none for one process alone).
void print_processes(const TrainOptions& o);

/// What drive() adds to a training run in an MPI job: the engine joins the processes, local SGD
/// averages after the batches its schedule says, and, over several processes, an epoch's
/// training cost and running accuracy count every process's examples.
template <class M, class Trainer>
class DataParallelRun {
public:
    DataParallelRun(const TrainOptions& o, Trainer& trainer, M& net)
        : trainer_(trainer), net_(net), local_(o.average_every.has_value()),
          schedule_(o.average_every.value_or(0)) {
        if (!in_mpi_job()) return;
        comm_ = &processes();
        trainer.engine().join(*comm_, local_ ? dist::Mode::local_sgd : dist::Mode::gradient_sum);
    }
    /// The trainer's per-batch hook: local SGD's averaging.
    void after_batch(std::size_t done, std::size_t total) {
        if (comm_ != nullptr && local_ && schedule_.after_step(done == total))
            dist::average(*comm_, net_, trainer_.optimizer(), buffer_);
    }
    /// The trainer's per-epoch hook, before reporting (a collective under local SGD).
    void on_epoch(train::EpochStats& s, std::size_t n_train) {
        if (comm_ == nullptr || !local_) return;
        const auto totals = trainer_.engine().epoch_totals();
        if (comm_->size() == 1) return;  // the trainer's own figures, exactly as without mpirun
        s.training_cost = n_train ? totals.cost / static_cast<double>(n_train) : 0.0;
        if (trainer_.options().training_accuracy == train::Options::TrainingAccuracy::running && s.training_counted) {
            s.training_correct = totals.correct;
            s.training_accuracy = static_cast<double>(totals.correct) / static_cast<double>(s.training_counted);
        }
    }

private:
    Trainer& trainer_;
    M& net_;
    bool local_;
    dist::AveragingSchedule schedule_;
    dist::Communicator* comm_ = nullptr;
    std::vector<typename M::value_type> buffer_;
};

}  // namespace typegrad::cli
