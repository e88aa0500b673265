// A fork-join pool for synchronous data parallelism: `run(f)` calls f(k) for k = 0 … size()−1,
// f(0) on the calling thread and f(k) on the pool's worker k, and returns when every call has
// returned. Which k runs where is fixed, so a job that gives share k to call k computes the same
// thing whatever the timing.
//
// The jobs this pool is made for are short (the gradient of 5 examples takes ~10 µs), so the
// hand-offs are atomics, not a mutex and condition variable per job: a worker spins on the job
// counter for a while (with the CPU's pause hint), then yields its core, then sleeps in
// std::atomic::wait (a futex on Linux) until the next job; the caller waits for the workers the
// same way. Spinning keeps the hand-off well under a microsecond while jobs follow each other
// (training steps); sleeping keeps an idle pool (between epochs, while the caller writes a
// checkpoint) from holding cores. Nothing is allocated by run().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

namespace typegrad {

namespace detail {
/// The CPU's spin-wait hint: lets the sibling hyper-thread run and saves power while spinning.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Waits until `a` no longer holds `old`: spins, then yields, then sleeps in atomic::wait.
/// Returns the new value (read with acquire).
template <class U>
U wait_while_equal(const std::atomic<U>& a, U old) noexcept {
    // ~20–50 µs of spinning at pause's 40–140 cycles: longer than the caller's work between two
    // jobs of a training step (the optimizer's update), far shorter than a pause of the caller.
    constexpr int spins = 2000;
    constexpr int yields = 200;
    for (int i = 0; i < spins; ++i) {
        const U v = a.load(std::memory_order_acquire);
        if (v != old) return v;
        spin_pause();
    }
    for (int i = 0; i < yields; ++i) {
        const U v = a.load(std::memory_order_acquire);
        if (v != old) return v;
        std::this_thread::yield();
    }
    for (;;) {
        a.wait(old, std::memory_order_acquire);
        const U v = a.load(std::memory_order_acquire);
        if (v != old) return v;
    }
}
}  // namespace detail

/// A barrier for the participants of one ThreadPool::run() (all of them call arrive_and_wait the
/// same number of times): spins, then yields, then sleeps, as the pool's hand-offs do. Reusable
/// at once: the last to arrive resets the count before it releases the others.
class SpinBarrier {
public:
    explicit SpinBarrier(std::size_t participants) noexcept : participants_(static_cast<std::uint32_t>(participants)) {}
    void arrive_and_wait() noexcept {
        const std::uint32_t phase = phase_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == participants_) {
            arrived_.store(0, std::memory_order_relaxed);
            phase_.fetch_add(1, std::memory_order_release);  // publishes everything written before arriving
            phase_.notify_all();
        } else {
            (void)detail::wait_while_equal(phase_, phase);
        }
    }

private:
    std::uint32_t participants_;
    alignas(64) std::atomic<std::uint32_t> arrived_{0};
    alignas(64) std::atomic<std::uint32_t> phase_{0};
};

class ThreadPool {
public:
    /// The most threads a pool (and `--threads`) takes: far more than any machine this runs on
    /// has cores, few enough that a typo (--threads 10000) is an error rather than 10000 threads.
    static constexpr std::size_t max_threads = 256;

    /// A pool of `threads` participants: the caller of run() and threads − 1 workers, started
    /// here. Throws std::invalid_argument for 0 or more than max_threads.
    explicit ThreadPool(std::size_t threads) : size_(threads) {
        if (threads == 0 || threads > max_threads)
            throw std::invalid_argument("ThreadPool: the number of threads must be in [1, 256]");
        workers_.reserve(threads - 1);
        for (std::size_t k = 1; k < threads; ++k) workers_.emplace_back([this, k] { work(k); });
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool() {
        stop_.store(true, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
        generation_.notify_all();
        // the jthreads join here
    }

    /// The number of participants (threads, counting the caller of run()).
    std::size_t size() const noexcept { return size_; }

    /// Calls f(k) for every k in [0, size()): f(0) here, f(k) on worker k; returns when all have
    /// returned. f must not throw (a throw ends the program: the calls on other threads could not
    /// be abandoned half-way). Not reentrant: one run() at a time, from one thread.
    template <class F>
    void run(F&& f) noexcept {
        using Fn = std::remove_reference_t<F>;
        if (size_ == 1) {
            f(std::size_t{0});
            return;
        }
        job_ = [](void* ctx, std::size_t k) noexcept { (*static_cast<Fn*>(ctx))(k); };
        context_ = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
        pending_.store(static_cast<std::uint32_t>(size_ - 1), std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);  // publishes job_, context_, pending_
        generation_.notify_all();  // cheap when no worker sleeps (libstdc++ counts the waiters)
        f(std::size_t{0});
        for (std::uint32_t left = pending_.load(std::memory_order_acquire); left != 0;)
            left = detail::wait_while_equal(pending_, left);
    }

private:
    void work(std::size_t k) noexcept {
        std::uint32_t seen = 0;
        for (;;) {
            seen = detail::wait_while_equal(generation_, seen);
            if (stop_.load(std::memory_order_relaxed)) return;
            job_(context_, k);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
        }
    }

    std::size_t size_;
    void (*job_)(void*, std::size_t) noexcept = nullptr;
    void* context_ = nullptr;
    std::atomic<bool> stop_{false};
    // apart from each other and from the fields above: the workers poll generation_ while the
    // last one decrements pending_
    alignas(64) std::atomic<std::uint32_t> generation_{0};
    alignas(64) std::atomic<std::uint32_t> pending_{0};
    std::vector<std::jthread> workers_;  // last: started after every field above is initialised
};

}  // namespace typegrad
