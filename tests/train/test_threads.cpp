// Synchronous data-parallel training (issue 12): the pool, the threaded gradient and evaluation,
// and the trainer with Options::threads.
//
// Exact (==, bit for bit) where the claim is exact: a run depends on the number of threads only
// (two runs with N = 2, the same shares summed by hand), one thread is the serial trainer, counts
// of correct predictions are the serial counts. Against the serial gradient (another order of the
// same sums): 1e-12 relative per tensor (max_relative_error), in double.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <numeric>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/sgd.hpp"
#include "typegrad/util/thread_pool.hpp"

#include "../support/same_bits.hpp"

using namespace typegrad;

namespace {

using Mlp = Network<double, 784, 30, 10>;
using SoftmaxMlp = Model<double, decltype(input<784> | dense<20> | relu | dense<10> | softmax), cost::LogLikelihood>;
using DropoutMlp =
    Model<float, decltype(input<784> | dense<20> | relu | dropout<0.25> | dense<10> | softmax), cost::LogLikelihood>;

using test::same_parameters;

template <AnyModel M>
bool same_gradients(const Gradients<M>& a, const Gradients<M>& b) {
    bool same = true;
    for_each_parameter_pair<typename M::composition>(a.parameters(), b.parameters(), [&](auto, const auto& x, const auto& y) {
        same &= std::memcmp(x.data(), y.data(), x.size() * sizeof(typename M::value_type)) == 0;
    });
    return same;
}

// The same values (a zero of either sign equal to the other): ParallelEngine::step does not add
// the shares' gradients on the rows of the first dense layer's weight that no share touched, where
// they hold zeros whose sign gradient()'s sum may change.
template <AnyModel M>
bool same_gradient_values(const Gradients<M>& a, const Gradients<M>& b) {
    bool same = true;
    for_each_parameter_pair<typename M::composition>(a.parameters(), b.parameters(), [&](auto, const auto& x, const auto& y) {
        for (std::size_t i = 0; i < x.size(); ++i) same &= x.data()[i] == y.data()[i];
    });
    return same;
}

std::vector<std::size_t> some_examples(std::size_t m, std::size_t n) {
    std::vector<std::size_t> v(m);
    for (std::size_t k = 0; k < m; ++k) v[k] = (k * 37 + 5) % n;
    return v;
}

/// The trainer's weights after `epochs` epochs with `threads` threads.
template <AnyModel M>
M trained(std::size_t threads, const data::Dataset& d, std::size_t batch, std::size_t epochs = 2) {
    M net{7};
    train::Trainer<M> trainer(net, {.epochs = epochs, .batch = batch, .eta = 0.5, .seed = 3, .threads = threads});
    for (std::size_t e = 0; e < epochs; ++e) trainer.epoch(d);
    return net;
}

}  // namespace

TEST_CASE("share(m, n, k) cuts m items into n contiguous shares, the first m mod n one longer", "[train][threads]") {
    STATIC_REQUIRE(train::share(10, 3, 0) == std::pair<std::size_t, std::size_t>{0, 4});
    STATIC_REQUIRE(train::share(10, 3, 1) == std::pair<std::size_t, std::size_t>{4, 7});
    STATIC_REQUIRE(train::share(10, 3, 2) == std::pair<std::size_t, std::size_t>{7, 10});
    STATIC_REQUIRE(train::share(1, 2, 0) == std::pair<std::size_t, std::size_t>{0, 1});
    STATIC_REQUIRE(train::share(1, 2, 1) == std::pair<std::size_t, std::size_t>{1, 1});  // empty: an idle thread
    for (std::size_t m : {0, 1, 2, 5, 10, 23, 100})
        for (std::size_t n : {1, 2, 3, 4, 7}) {
            std::size_t next = 0;
            for (std::size_t k = 0; k < n; ++k) {
                const auto [first, last] = train::share(m, n, k);
                REQUIRE(first == next);
                REQUIRE(last - first >= m / n);
                REQUIRE(last - first <= m / n + 1);
                next = last;
            }
            REQUIRE(next == m);
        }
}

TEST_CASE("ThreadPool::run calls f(k) once for every k, f(0) on the caller, the others on distinct threads",
          "[train][threads][pool]") {
    for (std::size_t n : {1, 2, 3, 5}) {
        ThreadPool pool(n);
        REQUIRE(pool.size() == n);
        std::vector<std::thread::id> ran(n);
        std::vector<int> calls(n, 0);
        pool.run([&](std::size_t k) noexcept {
            ran[k] = std::this_thread::get_id();
            ++calls[k];
        });
        REQUIRE(std::all_of(calls.begin(), calls.end(), [](int c) { return c == 1; }));
        REQUIRE(ran[0] == std::this_thread::get_id());
        REQUIRE(std::set<std::thread::id>(ran.begin(), ran.end()).size() == n);
    }
    REQUIRE_THROWS_AS(ThreadPool(0), std::invalid_argument);
    REQUIRE_THROWS_AS(ThreadPool(ThreadPool::max_threads + 1), std::invalid_argument);
}

TEST_CASE("ThreadPool: run returns only after every call has returned, job after job", "[train][threads][pool]") {
    ThreadPool pool(3);
    std::vector<std::size_t> slot(3, 0);  // plain memory: each run must see the previous run's writes
    std::atomic<std::size_t> total{0};
    for (std::size_t job = 1; job <= 20000; ++job) {
        pool.run([&](std::size_t k) noexcept {
            slot[k] += job;  // a data race (ThreadSanitizer) unless run() joins before the next job
            total.fetch_add(1, std::memory_order_relaxed);
        });
        if (job % 5000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the workers fall asleep
    }
    const std::size_t expected = 20000 * 20001 / 2;
    REQUIRE(slot == std::vector<std::size_t>(3, expected));
    REQUIRE(total == 3 * 20000);
}

TEST_CASE("a threaded gradient is the per-share gradients summed in order, bit for bit, for even and uneven shares",
          "[train][threads]") {
    const auto d = data::synthetic_digits(200, 1);
    const Mlp net{2};
    for (const auto& [m, n] : {std::pair<std::size_t, std::size_t>{10, 2}, {10, 3}, {1, 2}, {23, 4}, {100, 2}, {3, 5}}) {
        INFO("batch " << m << ", " << n << " threads");
        const auto examples = some_examples(m, d.size());
        ThreadPool pool(n);
        train::ParallelEngine<Mlp, train::AutodiffEngine<Mlp>> parallel(pool);
        Gradients<Mlp> g;
        const double cost = parallel.gradient(net, d, examples, g);

        // the same shares, one after the other on this thread with the threads' engine (chunks of 5),
        // added in order k = 0, 1, …
        STATIC_REQUIRE(std::is_same_v<decltype(parallel)::engine_type, train::AutodiffEngine<Mlp, 5>>);
        train::AutodiffEngine<Mlp, 5> per_share;
        train::AutodiffEngine<Mlp> serial;
        Gradients<Mlp> sum, part;
        double cost_sum = 0;
        for (std::size_t k = 0; k < std::min(m, n); ++k) {
            const auto [first, last] = train::share(m, n, k);
            const auto mine = std::span<const std::size_t>(examples).subspan(first, last - first);
            cost_sum += per_share.gradient(net, d, mine, k == 0 ? sum : part);
            if (k > 0)
                for_each_parameter_pair<Mlp::composition>(sum.parameters(), part.parameters(), [](auto, auto& s, const auto& p) {
                    for (std::size_t i = 0; i < s.size(); ++i) s.data()[i] += p.data()[i];
                });
        }
        REQUIRE(same_gradients(g, sum));
        REQUIRE(cost == cost_sum);

        // and the serial gradient of the whole batch, to rounding (another order of the same sums)
        Gradients<Mlp> whole;
        const double whole_cost = serial.gradient(net, d, examples, whole);
        REQUIRE(max_relative_error(g, whole) <= 1e-12);  // also δ: the batch's last example's
        REQUIRE(cost == Approx(whole_cost).epsilon(1e-12));
    }
}

TEST_CASE("a threaded gradient of the reference engine and with correct counts", "[train][threads]") {
    const auto d = data::synthetic_digits(200, 4);
    const SoftmaxMlp net{5};
    const auto examples = some_examples(37, d.size());
    ThreadPool pool(3);
    train::ParallelEngine<SoftmaxMlp, train::ReferenceEngine<SoftmaxMlp>> parallel(pool);
    train::ReferenceEngine<SoftmaxMlp> serial;
    Gradients<SoftmaxMlp> g, whole;
    std::size_t correct = 0, serial_correct = 0;
    parallel.gradient(net, d, examples, g, &correct);
    serial.gradient(net, d, examples, whole, &serial_correct);
    REQUIRE(max_relative_error(g, whole) <= 1e-12);
    REQUIRE(correct == serial_correct);
    REQUIRE(serial_correct > 0);
}

TEST_CASE("one thread through the parallel engine is the serial engine, bit for bit", "[train][threads]") {
    const auto d = data::synthetic_digits(200, 1);
    const Mlp net{2};
    const auto examples = some_examples(23, d.size());
    ThreadPool pool(1);
    train::ParallelEngine<Mlp, train::AutodiffEngine<Mlp>> parallel(pool);
    train::AutodiffEngine<Mlp> serial;
    Gradients<Mlp> g, h;
    // the cost is summed per chunk (chunks of 5 here, of 10 serially): equal up to that grouping
    const double a = parallel.gradient(net, d, examples, g), b = serial.gradient(net, d, examples, h);
    REQUIRE_THAT(a, Catch::Matchers::WithinRel(b, 1e-12));
    REQUIRE(same_gradients(g, h));
    REQUIRE(max_relative_error(g, h) == 0.0);  // the δ too
}

TEST_CASE("training depends on the number of threads only: runs with N = 2 (and 3) are identical",
          "[train][threads][determinism]") {
    const auto d = data::synthetic_digits(400, 9);
    for (std::size_t batch : {10, 7, 1}) {
        INFO("batch " << batch);
        const Mlp a = trained<Mlp>(2, d, batch), b = trained<Mlp>(2, d, batch);
        REQUIRE(same_parameters(a, b));
        // the sums in another order: close to one thread's, not equal (else no thread shared the work)
        const Mlp one = trained<Mlp>(1, d, batch);
        if (batch > 1) REQUIRE_FALSE(same_parameters(a, one));
        for_each_parameter_pair<Mlp::composition>(a.parameters(), one.parameters(), [](auto, const auto& x, const auto& y) {
            REQUIRE(relative_error(x, y) <= 1e-9);
        });
    }
    const Mlp c = trained<Mlp>(3, d, 10), e = trained<Mlp>(3, d, 10);
    REQUIRE(same_parameters(c, e));
}

TEST_CASE("threads = 1 is the serial trainer, bit for bit", "[train][threads][determinism]") {
    const auto d = data::synthetic_digits(400, 9);
    Mlp a{7}, b{7};
    train::Trainer<Mlp> serial(a, {.epochs = 2, .batch = 10, .eta = 0.5, .seed = 3});  // the default: threads = 1
    train::Trainer<Mlp> one(b, {.epochs = 2, .batch = 10, .eta = 0.5, .seed = 3, .threads = 1});
    const auto sa = serial.run(d, d), sb = one.run(d, d);
    REQUIRE(same_parameters(a, b));
    REQUIRE(sa.back().training_cost == sb.back().training_cost);
    REQUIRE(sa.back().correct == sb.back().correct);
}

TEST_CASE("with dropout, runs with N = 2 are identical, and the trainer's generator moves on", "[train][threads][dropout]") {
    const auto d = data::synthetic_digits(300, 5);
    const auto run = [&](std::size_t threads) {
        DropoutMlp net{4};
        train::Trainer<DropoutMlp> trainer(net, {.epochs = 2, .batch = 10, .eta = 0.1, .seed = 6, .threads = threads});
        trainer.run(d, d);
        return std::pair{net, trainer.state().rng};
    };
    const auto [a, ra] = run(2);
    const auto [b, rb] = run(2);
    REQUIRE(same_parameters(a, b));
    REQUIRE(std::memcmp(ra.words, rb.words, sizeof ra.words) == 0);

    // the masks are drawn: another dropout stream gives other weights
    const auto examples = some_examples(10, d.size());
    ThreadPool pool(2);
    train::ParallelEngine<DropoutMlp, train::AutodiffEngine<DropoutMlp>> parallel(pool);
    const DropoutMlp net{4};
    Gradients<DropoutMlp> g1, g2, g3;
    Rng r1(1), r2(1), r3(2);
    {
        const expr::NoiseScope s(r1);
        parallel.gradient(net, d, examples, g1);
    }
    {
        const expr::NoiseScope s(r2);
        parallel.gradient(net, d, examples, g2);
    }
    {
        const expr::NoiseScope s(r3);
        parallel.gradient(net, d, examples, g3);
    }
    REQUIRE(same_gradients(g1, g2));
    REQUIRE_FALSE(same_gradients(g1, g3));
    Rng once(1);
    once();
    REQUIRE(std::memcmp(r1.state().words, once.state().words, sizeof once.state().words) == 0);  // one draw per step
    // without a scope no mask is drawn (all ones): the gradient is the serial one's to rounding
    Gradients<DropoutMlp> h, serial_h;
    parallel.gradient(net, d, examples, h);
    train::AutodiffEngine<DropoutMlp> serial;
    serial.gradient(net, d, examples, serial_h);
    REQUIRE(max_relative_error(h, serial_h) <= 1e-5);  // float
}

TEST_CASE("without noise the trainer's generator is not touched: N threads shuffle as one does", "[train][threads]") {
    const auto d = data::synthetic_digits(300, 5);
    Mlp a{1}, b{1};
    train::Trainer<Mlp> one(a, {.epochs = 1, .batch = 10, .eta = 0.5, .seed = 8});
    train::Trainer<Mlp> two(b, {.epochs = 1, .batch = 10, .eta = 0.5, .seed = 8, .threads = 2});
    one.epoch(d);
    two.epoch(d);
    const auto sa = one.state().rng, sb = two.state().rng;
    REQUIRE(std::memcmp(sa.words, sb.words, sizeof sa.words) == 0);
}

TEST_CASE("threaded evaluation counts exactly what one thread counts", "[train][threads][evaluate]") {
    const auto d = data::synthetic_digits(1003, 3);  // 100 chunks and 3 examples one at a time
    const SoftmaxMlp net{2};
    train::Evaluator<SoftmaxMlp> serial;
    const std::size_t expected = serial.count_correct(net, d);
    REQUIRE(expected > 0);
    REQUIRE(expected < d.size());
    for (std::size_t n : {1, 2, 3, 4}) {
        ThreadPool pool(n);
        train::ParallelEvaluator<SoftmaxMlp> parallel(pool);
        REQUIRE(parallel.count_correct(net, d) == expected);
        REQUIRE(parallel.count_correct(net, d.head(7)) == serial.count_correct(net, d.head(7)));  // fewer than a chunk
    }
    // the trainer's evaluation goes through it
    SoftmaxMlp copy = net;
    train::Trainer<SoftmaxMlp> trainer(copy, {.epochs = 1, .batch = 10, .eta = 0.1, .seed = 1, .threads = 2});
    const auto stats = trainer.run(d.head(20), d);
    REQUIRE(stats.back().correct == serial.count_correct(copy, d));
}

TEST_CASE("the trainer refuses 0 threads and more than ThreadPool::max_threads", "[train][threads]") {
    Mlp net{1};
    REQUIRE_THROWS_AS(train::Trainer<Mlp>(net, {.threads = 0}), std::invalid_argument);
    REQUIRE_THROWS_AS(train::Trainer<Mlp>(net, {.threads = ThreadPool::max_threads + 1}), std::invalid_argument);
    REQUIRE_NOTHROW(train::Trainer<Mlp>(net, {.threads = 3}));
}

// ---- the sliced update (optimizer.hpp's SlicedOptimizer, ParallelEngine::step) ----

TEST_CASE("Slice::of cuts a tensor into contiguous parts of whole 16-element blocks that cover it in order",
          "[train][threads][slice]") {
    for (std::size_t n : {0, 1, 10, 16, 17, 30, 300, 23520}) {
        for (std::size_t parts : {1, 2, 3, 7}) {
            INFO(n << " elements, " << parts << " parts");
            std::size_t next = 0;
            for (std::size_t k = 0; k < parts; ++k) {
                const auto [first, last] = train::Slice{k, parts}.of(n);
                REQUIRE(first == next);
                REQUIRE(first <= last);
                if (first < last) REQUIRE(first % 16 == 0);  // an empty slice may start at n
                if (last < n) REQUIRE(last % 16 == 0);
                next = last;
            }
            REQUIRE(next == n);
        }
    }
    REQUIRE(train::Slice{}.of(30) == std::pair<std::size_t, std::size_t>{0, 30});
    REQUIRE(train::Slice{0, 2}.of(30) == std::pair<std::size_t, std::size_t>{0, 16});
    REQUIRE(train::Slice{1, 2}.of(30) == std::pair<std::size_t, std::size_t>{16, 30});
}

namespace {
// Two steps of `opt` on net from the gradients of two batches: whole (step) in `whole`, and sliced
// into `parts` (begin_step, then the slices in reverse order) in `sliced`.
template <AnyModel M, class Opt>
void whole_and_sliced(const data::Dataset& d, Opt opt, std::size_t parts, M& whole, M& sliced, double lambda) {
    Opt a = opt, b = opt;
    train::AutodiffEngine<M> engine;
    Gradients<M> g;
    for (std::size_t step = 0; step < 2; ++step) {
        const auto examples = some_examples(10 + step, d.size());
        engine.gradient(whole, d, examples, g);
        const train::Step s{0.5, examples.size(), d.size(), lambda};
        a.step(whole, g, s);
        b.begin_step(sliced, s);
        for (std::size_t k = parts; k-- > 0;) b.step_slice(sliced, g, s, train::Slice{k, parts});
    }
}

template <AnyModel M>
void check_sliced_updates() {
    const auto d = data::synthetic_digits(100, 3);
    const auto check = [&](auto opt, double lambda) {
        for (std::size_t parts : {1, 2, 3, 5}) {
            INFO(train::optimizer_name(opt) << ", λ = " << lambda << ", " << parts << " slices");
            M whole{11}, sliced{11};
            whole_and_sliced(d, opt, parts, whole, sliced, lambda);
            REQUIRE(same_parameters(whole, sliced));
            REQUIRE_FALSE(same_parameters(whole, M{11}));  // the steps changed something
        }
    };
    check(train::Sgd{}, 0.0);
    check(train::Sgd{}, 5.0);
    train::Momentum momentum, nesterov;
    nesterov.nesterov = true;
    check(momentum, 0.0);
    check(nesterov, 2.0);
    check(train::Adam{}, 0.0);
    check(train::Adam{}, 1.0);
    check(train::AnyOptimizer(train::Adam{}), 0.0);
}
}  // namespace

TEST_CASE("a sliced update is the whole update, bit for bit, for every optimizer and any number of slices",
          "[train][threads][slice]") {
    SECTION("double (784-30-10)") { check_sliced_updates<Mlp>(); }
    // float: 16 lanes on AVX-512, so the 30-wide rows and the 10 biases use the scalar tails too
    SECTION("float, ReLU and softmax") {
        check_sliced_updates<Model<float, decltype(input<784> | dense<30> | relu | dense<10> | softmax), cost::LogLikelihood>>();
    }
}

TEST_CASE("ParallelEngine::step is the threaded gradient followed by the optimizer's step, bit for bit",
          "[train][threads][slice]") {
    const auto d = data::synthetic_digits(200, 5);
    for (const auto& [m, n] : {std::pair<std::size_t, std::size_t>{10, 2}, {10, 3}, {1, 2}, {3, 5}, {100, 2}}) {
        for (const bool adam : {false, true}) {
            INFO("batch " << m << ", " << n << " threads, " << (adam ? "adam" : "sgd"));
            const auto examples = some_examples(m, d.size());
            ThreadPool pool(n);
            train::ParallelEngine<Mlp, train::AutodiffEngine<Mlp>> parallel(pool);
            parallel.parallelism(train::Parallelism::examples);  // rows: test_split_rows22
            Mlp a{4}, b{4};
            train::AnyOptimizer oa = adam ? train::AnyOptimizer(train::Adam{}) : train::AnyOptimizer(train::Sgd{});
            train::AnyOptimizer ob = oa;
            Gradients<Mlp> ga, gb;
            for (int step = 0; step < 3; ++step) {
                const train::Step s{0.3, m, d.size(), 1.0};
                const double ca = parallel.step(a, d, examples, ga, oa, s);
                const double cb = parallel.gradient(b, d, examples, gb);
                ob.step(b, gb, s);
                REQUIRE(ca == cb);
                REQUIRE(same_gradient_values(ga, gb));
                REQUIRE(max_relative_error(ga, gb) == 0.0);  // the δ too
                REQUIRE(same_parameters(a, b));
            }
            REQUIRE_FALSE(same_parameters(a, Mlp{4}));
        }
    }
}

TEST_CASE("the trainer with threads and a stateful optimizer: runs with N = 2 are identical, and close to one thread's",
          "[train][threads][slice][determinism]") {
    const auto d = data::synthetic_digits(300, 6);
    const auto run = [&](std::size_t threads, train::AnyOptimizer opt) {
        Mlp net{7};
        train::Trainer<Mlp, train::AutodiffEngine<Mlp>, train::AnyOptimizer> trainer(
            net, {.epochs = 2, .batch = 10, .eta = 0.01, .seed = 3, .lambda = 1.0, .threads = threads}, opt);
        for (int e = 0; e < 2; ++e) trainer.epoch(d);
        return net;
    };
    train::Momentum nesterov;
    nesterov.nesterov = true;
    for (const train::AnyOptimizer& opt : {train::AnyOptimizer(train::Adam{}), train::AnyOptimizer(nesterov)}) {
        INFO(opt.name());
        const Mlp a = run(2, opt), b = run(2, opt), one = run(1, opt);
        REQUIRE(same_parameters(a, b));
        REQUIRE_FALSE(same_parameters(a, one));  // the sums were grouped per share
        for_each_parameter_pair<Mlp::composition>(a.parameters(), one.parameters(), [](auto, const auto& x, const auto& y) {
            REQUIRE(relative_error(x, y) <= 1e-9);
        });
        REQUIRE_FALSE(same_parameters(a, Mlp{7}));
    }
}
