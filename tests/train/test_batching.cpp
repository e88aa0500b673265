// Mini-batches, pinned by an oracle: one epoch of the trainer against the update computed
// independently here — each batch's gradient as the sum of per-example reference gradients,
// W ← W − η/m Σ ∂J/∂W with the true m of each batch — on a set whose size is not a multiple
// of the batch, for every engine and chunk width. An example dropped, counted twice or moved to
// another batch, or a last batch scaled by the nominal m, changes some entry by far more than
// the tolerance (1e-12 relative per tensor, double: only the order of two roundings differs).
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/train/sgd.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

using M = Model<double, decltype(input<12> | dense<7> | tanh | dense<4> | softmax), cost::LogLikelihood>;

data::Dataset small_set(std::size_t n, std::uint64_t seed) {
    data::Dataset d;
    d.rows = 3;
    d.cols = 4;
    Rng rng(seed);
    for (std::size_t i = 0; i < n * 12; ++i) d.pixels.push_back(static_cast<float>(rng.uniform()));
    for (std::size_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::uint8_t>(rng.below(4)));
    return d;
}

/// One epoch in `order`, batches of m (the last one smaller), computed without the trainer.
M oracle_epoch(const M& start, const data::Dataset& d, const std::vector<std::size_t>& order, std::size_t m, double eta) {
    M net = start;
    for (std::size_t first = 0; first < order.size(); first += m) {
        const std::size_t count = std::min(m, order.size() - first);
        std::vector<std::vector<double>> sum;  // per parameter tensor, Σ over the batch
        for (std::size_t k = first; k < first + count; ++k) {
            M::input_type x;
            M::output_type y;
            train::load_example<M>(d, order[k], x, y);
            const auto g = reference::backprop(net, x, y);
            std::size_t t = 0;
            g.for_each_parameter([&](auto, const auto& dp) {
                if (sum.size() <= t) sum.emplace_back(dp.size(), 0.0);
                for (std::size_t i = 0; i < dp.size(); ++i) sum[t][i] += dp.data()[i];
                ++t;
            });
        }
        std::size_t t = 0;
        net.for_each_parameter([&](auto, auto& p) {
            for (std::size_t i = 0; i < p.size(); ++i) p.data()[i] -= eta / static_cast<double>(count) * sum[t][i];
            ++t;
        });
    }
    return net;
}

double max_relative_error_of(const M& a, const M& b) {
    double e = 0;
    for_each_parameter_pair<M::composition>(a.parameters(), b.parameters(),
                                           [&](auto, const auto& x, const auto& y) { e = std::max(e, relative_error(x, y)); });
    return e;
}

template <class Engine>
void check_epoch(std::size_t n, std::size_t m) {
    INFO(n << " examples in batches of " << m);
    const auto d = small_set(n, 11);
    const M start{12};
    M net = start;
    train::Trainer<M, Engine> trainer(net, {.epochs = 1, .batch = m, .eta = 0.5, .seed = 13});
    // the order the trainer will draw, from its generator's state (public API)
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng rng;
    rng.set_state(trainer.state().rng);
    rng.shuffle(order.begin(), order.end());
    trainer.epoch(d);
    const M expected = oracle_epoch(start, d, order, m, 0.5);
    test::check_close(net, expected, 1e-12);
    // and the epoch moved the parameters
    CHECK(max_relative_error_of(net, start) > 1e-3);
}


}  // namespace

TEMPLATE_TEST_CASE("one epoch = the oracle's update, for every engine and chunk width", "[train][batching]",
                   train::AutodiffEngine<M>, (train::AutodiffEngine<M, 4>), (train::AutodiffEngine<M, 1>),
                   train::ReferenceEngine<M>) {
    check_epoch<TestType>(23, 10);  // 10 + 10 + 3
    check_epoch<TestType>(23, 7);   // 7 + 7 + 7 + 2
    check_epoch<TestType>(23, 23);  // one batch
    check_epoch<TestType>(23, 1);   // the article's online learning
    check_epoch<TestType>(9, 4);    // chunks of 10 never fill
}

TEST_CASE("any batch size through the chunked engine gives the per-example numbers, bit for bit", "[train][batching]") {
    using F = Model<float, decltype(input<784> | dense<30> | sigmoid | dense<10> | sigmoid)>;
    const auto d = data::synthetic_digits(500, 3);
    for (std::size_t m : {1, 7, 10, 32, 100}) {
        INFO("batch " << m);
        F a{4}, b{4};
        train::Trainer<F, train::AutodiffEngine<F>> chunked(a, {.epochs = 1, .batch = m, .eta = 3.0, .seed = 5});
        train::Trainer<F, train::AutodiffEngine<F, 1>> single(b, {.epochs = 1, .batch = m, .eta = 3.0, .seed = 5});
        chunked.epoch(d);
        single.epoch(d);
        CHECK(io::checkpoint_payload(a) == io::checkpoint_payload(b));
    }
}

TEST_CASE("a step on examples the caller chooses", "[train][step]") {
    const auto d = small_set(20, 21);
    const M start{22};
    M net = start;
    train::Trainer<M> trainer(net, {.epochs = 1, .batch = 10, .eta = 0.5, .seed = 23});
    const std::vector<std::size_t> chosen = {3, 17, 3, 8};  // repeats allowed: a weighted batch
    trainer.step(d, chosen);
    test::check_close(net, oracle_epoch(start, d, chosen, chosen.size(), 0.5), 1e-12);

    const M before = net;
    CHECK_THROWS_AS(trainer.step(d, std::vector<std::size_t>{}), std::invalid_argument);
    CHECK_THROWS_AS(trainer.step(d, std::vector<std::size_t>{1, 20}), std::out_of_range);
    test::check_close(net, before, 0.0);  // a refused step changes nothing
    // and a fresh trainer can step before any epoch
    M other = start;
    train::Trainer<M, train::ReferenceEngine<M>> fresh(other, {.epochs = 1, .batch = 10, .eta = 0.5, .seed = 23});
    fresh.step(d, chosen);
    test::check_close(other, oracle_epoch(start, d, chosen, chosen.size(), 0.5), 1e-12);
}

TEST_CASE("load_example converts bytes to unit_pixel exactly (a vectorised loop)", "[train][data]") {
    data::Dataset d;
    d.rows = 16;
    d.cols = 16;
    for (std::size_t b = 0; b < 256; ++b) d.pixels.push_back(static_cast<std::uint8_t>(b));
    d.labels = {3};
    using P = Model<double, decltype(input<256> | dense<4> | softmax), cost::LogLikelihood>;
    P::input_type x;
    P::output_type y;
    train::load_example<P>(d, 0, x, y);
    for (std::size_t b = 0; b < 256; ++b) CHECK(x[b] == static_cast<double>(data::unit_pixel(static_cast<std::uint8_t>(b))));
    CHECK(y[3] == 1.0);
    CHECK(y[0] + y[1] + y[2] == 0.0);
    // in float, every byte: the correctly rounded b / 255.0f (the vectorised loop rounds as the
    // scalar division)
    using F = Model<float, decltype(input<256> | dense<4> | softmax), cost::LogLikelihood>;
    F::input_type xf;
    F::output_type yf;
    train::load_example<F>(d, 0, xf, yf);
    for (std::size_t b = 0; b < 256; ++b) {
        volatile float byte = static_cast<float>(b);  // divided at run time, not folded
        CHECK(xf[b] == byte / 255.0f);
        CHECK(xf[b] == data::unit_pixel(static_cast<std::uint8_t>(b)));
    }
}
