// Issue 22 (--threads 2 at the article's batch of 10): threads that split the rows of the first
// dense layer between them (train/parallel.hpp's Parallelism::rows, expr/split.hpp).
//
// Exact (==, bit for bit) where the claim is exact: two engines with the same N, the trainer's
// generator after a step with dropout (one thread's draws). Against the serial engine (W¹ᵀx summed
// per thread's rows, then the parts added: another order of the same sums): 1e-12 relative per
// tensor (max_relative_error, relative_error) in double, 1e-5 in float.
#include <cstring>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/dist/data_parallel.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/sgd.hpp"
#include "typegrad/util/thread_pool.hpp"

#include "../support/same_bits.hpp"

using namespace typegrad;

namespace {

using Mlp = Network<double, 784, 30, 10>;
using Deep = Model<double, decltype(input<784> | dense<64> | relu | dense<32> | tanh | dense<10> | softmax), cost::LogLikelihood>;
using DropoutMlp =
    Model<float, decltype(input<784> | dense<20> | relu | dropout<0.25> | dense<10> | softmax), cost::LogLikelihood>;
// the first layer's weight is a small part of the parameters: every thread would repeat the rest
using Narrow = Network<double, 784, 16, 400, 10>;

using test::same_parameters;
template <AnyModel M>
double parameters_error(const M& a, const M& b) {
    double e = 0;
    for_each_parameter_pair<typename M::composition>(a.parameters(), b.parameters(),
                                                     [&](auto, const auto& x, const auto& y) { e = std::max(e, relative_error(x, y)); });
    return e;
}

std::vector<std::size_t> some_examples(std::size_t m, std::size_t n, std::size_t from = 5) {
    std::vector<std::size_t> v(m);
    for (std::size_t k = 0; k < m; ++k) v[k] = (k * 37 + from) % n;
    return v;
}

// Three steps, on other examples each, of the rows-parallel engine (a) and of the serial engine
// then the optimizer (b), from the same parameters. A second rows-parallel engine (c), told that
// its g is unwritten since its last step (clearing only the rows that step flagged), must repeat
// a's bits; so must one that does not fuse SGD's step into the first layer's gradient (p), whose
// gradient is then the serial one to rounding (a's and c's first-layer gradient is not kept when
// they fuse: a batch of one chunk, SGD without L2).
template <AnyModel M>
void check_steps(const data::Dataset& d, std::size_t m, std::size_t threads, train::AnyOptimizer opt, double lambda) {
    ThreadPool pool(threads);
    train::ParallelEngine<M, train::AutodiffEngine<M>> rows(pool), again(pool), plain(pool);
    for (auto* e : {&rows, &again, &plain}) REQUIRE(e->parallelism(train::Parallelism::rows) == train::Parallelism::rows);
    plain.fuse(false);
    train::AutodiffEngine<M> serial;
    M a{4}, b{4}, c{4}, p{4};
    train::AnyOptimizer oa = opt, ob = opt, oc = opt, op = opt;
    Gradients<M> ga, gb, gc, gp;
    for (std::size_t step = 0; step < 3; ++step) {
        const auto examples = some_examples(m, d.size(), 5 + 11 * step);
        const train::Step s{0.3, m, d.size(), lambda};
        const double ca = rows.step(a, d, examples, ga, oa, s);
        const double cc = again.step(c, d, examples, gc, oc, s, nullptr, {}, true);
        const double cp = plain.step(p, d, examples, gp, op, s);
        const double cb = serial.gradient(b, d, examples, gb);
        ob.step(b, gb, s);
        CHECK(std::abs(ca - cb) <= 1e-12 * std::abs(cb));
        CHECK(ca == cc);
        CHECK(ca == cp);
        // every row of ∂J/∂W¹ is in the caller's g, whichever thread wrote it; the δ too
        CHECK(max_relative_error(gp, gb) <= 1e-12);
        CHECK(parameters_error(a, b) <= 1e-12);
        CHECK(same_parameters(a, c));
        CHECK(same_parameters(a, p));
    }
    CHECK_FALSE(same_parameters(a, M{4}));
}

}  // namespace

TEST_CASE("rows parallelism is the default for small batches where the first layer's weight holds the parameters",
          "[train][threads]") {
    ThreadPool two(2), three(3);
    using Engine = train::ParallelEngine<Mlp, train::AutodiffEngine<Mlp>>;
    CHECK(Engine(two).parallelism(10) == train::Parallelism::rows);
    CHECK(Engine(two).parallelism(Engine::rows_below - 1) == train::Parallelism::rows);
    CHECK(Engine(two).parallelism(Engine::rows_below) == train::Parallelism::examples);
    CHECK(Engine(two).parallelism(100) == train::Parallelism::examples);
    CHECK(Engine(three).parallelism(10) == train::Parallelism::rows);
    // chosen: for every batch
    Engine chosen(two);
    CHECK(chosen.parallelism(train::Parallelism::rows) == train::Parallelism::rows);
    CHECK(chosen.parallelism(100) == train::Parallelism::rows);
    CHECK(chosen.parallelism(train::Parallelism::examples) == train::Parallelism::examples);
    CHECK(chosen.parallelism(10) == train::Parallelism::examples);
    // the CLI's engine: its inner engine runs the rows
    using Cli = dist::DataParallelEngine<Mlp, train::AutodiffEngine<Mlp>>;
    CHECK(train::ParallelEngine<Mlp, Cli>(two).parallelism(10) == train::Parallelism::rows);
    // 12544 of 23370 parameters in the first layer: examples, unless asked
    train::ParallelEngine<Narrow, train::AutodiffEngine<Narrow>> narrow(two);
    CHECK(narrow.can_split());
    CHECK(narrow.parallelism(10) == train::Parallelism::examples);
    CHECK(narrow.parallelism(train::Parallelism::rows) == train::Parallelism::rows);
    CHECK(narrow.parallelism(10) == train::Parallelism::rows);
    // one thread has nothing to split
    ThreadPool one(1);
    CHECK_FALSE(train::ParallelEngine<Mlp, train::AutodiffEngine<Mlp>>(one).can_split());
    // the hand-written engine has no split: examples, even when asked
    train::ParallelEngine<Mlp, train::ReferenceEngine<Mlp>> reference(two);
    CHECK_FALSE(reference.can_split());
    CHECK(reference.parallelism(train::Parallelism::rows) == train::Parallelism::examples);
    CHECK(reference.parallelism(10) == train::Parallelism::examples);
}

TEST_CASE("a rows-parallel step is the serial gradient and update to rounding, and the same bits every run",
          "[train][threads]") {
    const auto d = data::synthetic_digits(200, 5);
    train::Momentum nesterov;
    nesterov.nesterov = true;
    // batches of whole chunks (10, 100), a chunk and the rest one at a time (7, 25), one example;
    // 2, 3 and 4 threads
    for (const auto& [m, n] : {std::pair<std::size_t, std::size_t>{10, 2}, {7, 2}, {100, 2}, {1, 2}, {10, 3}, {25, 4}}) {
        INFO("batch " << m << ", " << n << " threads");
        {
            INFO("sgd");
            check_steps<Mlp>(d, m, n, train::Sgd{}, 0.0);
        }
        {
            INFO("sgd with L2");
            check_steps<Mlp>(d, m, n, train::Sgd{}, 1.0);
        }
        {
            INFO("adam");
            check_steps<Mlp>(d, m, n, train::Adam{}, 0.0);
        }
        {
            INFO("nesterov, three layers");
            check_steps<Deep>(d, m, n, nesterov, 0.5);
        }
        {
            INFO("a first layer that holds half of the parameters, when asked");
            check_steps<Narrow>(d, m, n, train::Sgd{}, 0.0);
        }
    }
}

TEST_CASE("an InputSplit in scope: the first layer's kernels do its rows only, into its gradient", "[train][threads]") {
    // rows [100, 300), the other part's product 0: the engine then computes the network of the inputs with
    // every pixel outside those rows 0, and writes only those rows of ∂J/∂W¹ — into the split's
    // gradient, not the g it was given
    const auto d = data::synthetic_digits(40, 3);
    auto cut = d;
    for (std::size_t i = 0; i < cut.size(); ++i)
        for (std::size_t p = 0; p < 784; ++p)
            if (p < 100 || p >= 300) cut.pixels[i * 784 + p] = 0;
    const auto examples = some_examples(17, d.size());  // a chunk and 7 alone
    const Mlp net{2};
    train::AutodiffEngine<Mlp> engine, serial;
    Gradients<Mlp> bound, expected;
    // part 0 of two, whose other part is all zeros (no other thread: the barrier waits for none)
    std::vector<double> dw(784 * 30, -7.0), exchange(4 * 10 * 30, 0.0);
    double* buffers[4] = {exchange.data(), exchange.data() + 300, exchange.data() + 600, exchange.data() + 900};
    expr::InputSplit<double> split;
    split.input = engine.X.data();
    split.weight = net.weights<0>().data();
    split.bound_gradient = bound.weights<0>().data();
    split.gradient = dw.data();
    split.first = 100;
    split.last = 300;
    split.parts = 2;
    split.exchange = buffers;
    split.capacity = 10 * 30;
    split.wait = [](void*) noexcept {};
    bound.weights<0>().fill(5.0);
    double cost;
    {
        const expr::InputSplitScope<double> scope(split);
        cost = engine.gradient(net, d, examples, bound);
    }
    const double want = serial.gradient(net, cut, examples, expected);
    CHECK(std::abs(cost - want) <= 1e-12 * std::abs(want));
    CHECK(split.round == 8);  // one exchange for the chunk of 10, one for each of the 7 examples after it
    for (std::size_t r = 0; r < 784; ++r)
        for (std::size_t j = 0; j < 30; ++j) {
            const double v = dw[r * 30 + j];
            if (r < 100 || r >= 300) REQUIRE(v == -7.0);  // not this part's: untouched
            else REQUIRE(std::abs(v - expected.weights<0>()(r, j)) <= 1e-12 * (1 + std::abs(expected.weights<0>()(r, j))));
        }
    CHECK(bound.weights<0>()(150, 3) == 5.0);  // the g the engine was given: its ∂J/∂W¹ untouched
    CHECK(relative_error(bound.biases<0>(), expected.biases<0>()) <= 1e-12);
    CHECK(relative_error(bound.weights<1>(), expected.weights<1>()) <= 1e-12);
}

TEST_CASE("rows parallelism with dropout draws one thread's masks", "[train][threads][dropout]") {
    const auto d = data::synthetic_digits(200, 5);
    const auto examples = some_examples(10, d.size());
    ThreadPool pool(2);
    train::ParallelEngine<DropoutMlp, train::AutodiffEngine<DropoutMlp>> rows(pool);
    REQUIRE(rows.parallelism(10) == train::Parallelism::rows);
    rows.fuse(false);  // the gradient of W¹ kept, to compare
    train::AutodiffEngine<DropoutMlp> serial;
    DropoutMlp a{4}, b{4};
    train::Sgd oa, ob;
    Gradients<DropoutMlp> ga, gb;
    Rng ra(9), rb(9);
    for (int step = 0; step < 3; ++step) {
        const train::Step s{0.1, 10, d.size(), 0.0};
        {
            const expr::NoiseScope scope(ra);
            rows.step(a, d, examples, ga, oa, s);
        }
        {
            const expr::NoiseScope scope(rb);
            serial.gradient(b, d, examples, gb);
            ob.step(b, gb, s);
        }
        // the same draws: the generators agree exactly, the gradients to float rounding
        CHECK(std::memcmp(ra.state().words, rb.state().words, sizeof ra.state().words) == 0);
        CHECK(max_relative_error(ga, gb) <= 1e-5);
        CHECK(parameters_error(a, b) <= 1e-5);
    }
    // and the masks were drawn: without a scope (all ones) the gradient is another
    Gradients<DropoutMlp> h;
    serial.gradient(b, d, examples, h);
    CHECK(max_relative_error(h, gb) > 1e-3);
}

TEST_CASE("the trainer with two threads splits the rows: runs are identical and close to one thread's", "[train][threads]") {
    const auto d = data::synthetic_digits(300, 6);
    const auto run = [&](std::size_t threads, std::size_t batch) {
        Mlp net{7};
        train::Trainer<Mlp> trainer(net, {.epochs = 2, .batch = batch, .eta = 0.5, .seed = 3, .threads = threads});
        for (int e = 0; e < 2; ++e) trainer.epoch(d);
        return net;
    };
    for (const std::size_t batch : {10, 100}) {  // rows, then examples (the default's choices)
        INFO("batch " << batch);
        const Mlp a = run(2, batch), b = run(2, batch), one = run(1, batch);
        CHECK(same_parameters(a, b));
        CHECK(parameters_error(a, one) <= 1e-9);  // 60 (or 6) steps apart in the last bits
        CHECK_FALSE(same_parameters(a, Mlp{7}));
    }
}
