// No heap allocation inside a gradient evaluation or a training step: operator new is replaced
// by one that counts, and the count must not move.
#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <array>
#include <span>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/sgd.hpp"
#include "typegrad/util/thread_pool.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}

void* operator new(std::size_t n) {
    ++allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    ++allocations;
    const std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try { return operator new(n); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try { return operator new(n); } catch (...) { return nullptr; }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try { return operator new(n, a); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try { return operator new(n, a); } catch (...) { return nullptr; }
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace typegrad;

TEST_CASE("the counter sees allocations (so a zero below means something)", "[ad][alloc]") {
    const std::size_t before = allocations;
    // the object and its parameter storage; through a volatile pointer, which GCC's -fallocation-dce
    // cannot see through (GCC 12 removed the object's new/delete pair once the trainer's headers
    // grew <thread>, and the count fell to 1)
    static Network<float, 4, 3>* volatile escaped = nullptr;
    escaped = new Network<float, 4, 3>{1};
    delete escaped;
    REQUIRE(allocations - before >= 2);
}

TEST_CASE("autodiff::backprop_into and reference::backprop_into do not allocate", "[ad][alloc]") {
    using M = Network<float, 784, 30, 10>;
    M net{1};
    Gradients<M> g;
    autodiff::Workspace<M> ws;
    reference::Workspace<M> rws;
    M::input_type x;
    x.fill(0.5f);
    M::output_type y;
    y.fill(0.0f);
    y[3] = 1.0f;
    const std::size_t before = allocations;
    for (int i = 0; i < 10; ++i) {
        autodiff::backprop_into(net, x, y, g, ws, Accumulate::yes);
        reference::backprop_into(net, x, y, g, rws, Accumulate::yes);
    }
    REQUIRE(allocations == before);
}

TEST_CASE("a training step does not allocate", "[ad][alloc][train]") {
    using M = Network<float, 784, 30, 10>;
    const auto data = data::synthetic_digits(100, 1);
    M net{1};
    train::Trainer<M> trainer(net, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 1});
    trainer.epoch(data);  // the first epoch sizes the shuffle order
    std::array<std::size_t, 23> examples{};  // 2 chunks of 10 and 3 single examples
    for (std::size_t k = 0; k < examples.size(); ++k) examples[k] = (k * 7) % data.size();
    const std::size_t before = allocations;
    for (std::size_t b = 0; b < 10; ++b) trainer.step(data, examples);
    REQUIRE(allocations == before);
}

TEST_CASE("a training step of a CNN with dropout does not allocate (im2col and masks live in fixed buffers)",
          "[ad][alloc][train][cnn]") {
    using M = Model<float, decltype(input<1, 28, 28> | conv2d<4, 5, 1, 2> | relu | max_pool<2> | conv2d<6, 3> | relu |
                                    dropout<0.25> | flatten | dense<10> | softmax),
                    cost::LogLikelihood>;
    const auto data = data::synthetic_digits(100, 2);
    M net{2};
    train::Trainer<M> trainer(net, {.epochs = 1, .batch = 10, .eta = 0.05, .seed = 2});
    trainer.epoch(data);
    std::array<std::size_t, 13> examples{};  // a chunk of 10 and 3 single examples
    for (std::size_t k = 0; k < examples.size(); ++k) examples[k] = (k * 7) % data.size();
    const std::size_t before = allocations;
    for (std::size_t b = 0; b < 5; ++b) trainer.step(data, examples);
    REQUIRE(allocations == before);
}

TEST_CASE("a threaded training step does not allocate (even shares, uneven shares, idle threads, dropout)",
          "[ad][alloc][train][threads]") {
    using M = Network<float, 784, 30, 10>;
    const auto data = data::synthetic_digits(100, 1);
    std::array<std::size_t, 23> examples{};
    for (std::size_t k = 0; k < examples.size(); ++k) examples[k] = (k * 7) % data.size();
    for (std::size_t threads : {2, 3}) {
        M net{1};
        train::Trainer<M> trainer(net, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 1, .threads = threads});
        trainer.epoch(data);  // sizes the shuffle order; starts the pool's threads
        const std::size_t before = allocations;
        for (std::size_t b = 0; b < 10; ++b) {
            trainer.step(data, examples);                                       // 23 over the threads
            trainer.step(data, std::span<const std::size_t>(examples).first(1));  // one example: the others idle
        }
        REQUIRE(allocations == before);
    }
    using D = Model<float, decltype(input<784> | dense<20> | relu | dropout<0.25> | dense<10> | softmax),
                    cost::LogLikelihood>;
    D net{2};
    train::Trainer<D> trainer(net, {.epochs = 1, .batch = 10, .eta = 0.1, .seed = 2, .threads = 2});
    trainer.epoch(data);
    const std::size_t before = allocations;
    for (std::size_t b = 0; b < 10; ++b) trainer.step(data, examples);
    REQUIRE(allocations == before);
}

TEST_CASE("threaded evaluation does not allocate after its first use", "[ad][alloc][train][threads]") {
    using M = Network<float, 784, 30, 10>;
    const auto data = data::synthetic_digits(103, 1);
    M net{1};
    ThreadPool pool(2);
    train::ParallelEvaluator<M> evaluator(pool);
    const std::size_t first = evaluator.count_correct(net, data);
    const std::size_t before = allocations;
    for (int i = 0; i < 5; ++i) REQUIRE(evaluator.count_correct(net, data) == first);
    REQUIRE(allocations == before);
}
