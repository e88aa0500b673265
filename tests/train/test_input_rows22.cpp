// Issue 22, item 1: "the update of only the rows a batch touched". The first dense layer's
// weight gradient Σᵦ xᵦ δᵦᵀ is exactly 0 on the rows whose input is 0 in every example of the
// batch; AutodiffEngine lists the others (InputRows), the trainer hands them to the optimizer,
// and Sgd updates only them. Everything here is compared bit for bit with the dense update.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/dist/data_parallel.hpp"
#include "typegrad/train/sgd.hpp"

using namespace typegrad;

namespace {

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// The dense step and the listed rows' step on the same x, with g exactly 0 (of either sign) on the
// rows not flagged: the results must be the same bits.
template <class T>
void check_rows(std::size_t rows, std::size_t cols, double p_flag, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<std::uint8_t> flags(rows);
    for (auto& f : flags) f = rng.uniform() < p_flag ? static_cast<std::uint8_t>(1 + rng.below(255)) : 0;
    std::vector<T> g(rows * cols), x(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            g[r * cols + c] = flags[r] ? static_cast<T>(rng.uniform() - 0.5) : (rng.below(2) ? T(0) : -T(0));
            x[r * cols + c] = static_cast<T>(rng.uniform() + 0.25);
        }
    std::vector<T> dense = x, listed = x;
    const T c = static_cast<T>(0.37);
    simd::axpy_neg_n(c, g.data(), dense.data(), rows * cols);
    simd::axpy_neg_rows(c, g.data(), listed.data(), flags.data(), rows, cols);
    INFO(rows << " x " << cols << ", flagged with p = " << p_flag);
    CHECK(same_bits(dense, listed));
    // and a row not flagged is not written at all: its values stay those of x
    for (std::size_t r = 0; r < rows; ++r)
        if (!flags[r])
            for (std::size_t k = 0; k < cols; ++k) REQUIRE(listed[r * cols + k] == x[r * cols + k]);
}

// Synthetic digits as sparse as MNIST's (their noise zeroed), and with a border of zeros.
data::Dataset sparse_digits(std::size_t n, std::uint64_t seed) {
    auto d = data::synthetic_digits(n, seed);
    for (std::size_t e = 0; e < d.size(); ++e)
        for (std::size_t i = 0; i < 784; ++i) {
            auto& p = d.pixels[e * 784 + i];
            if (p < 96 || i / 28 < 3 || i / 28 >= 25 || (e % 3 == 0 && i % 28 < 5)) p = 0;
        }
    return d;
}

// The autodiff engine without its list of rows: the trainer then makes the dense step.
template <AnyModel M>
struct WithoutRows {
    train::AutodiffEngine<M> inner;
    typename M::value_type gradient(const M& net, const data::Dataset& d, std::span<const std::size_t> examples,
                                    Gradients<M>& g) noexcept {
        return inner.gradient(net, d, examples, g);
    }
};

template <AnyModel M>
std::vector<typename M::value_type> parameters_of(const M& net) {
    std::vector<typename M::value_type> v;
    net.for_each_parameter([&](auto, const auto& t) { v.insert(v.end(), t.begin(), t.end()); });
    return v;
}

// Trains two copies of M, with the engine's rows and without; whether they end the same, bit for
// bit, after having trained.
template <AnyModel M>
bool trains_as_dense(const data::Dataset& d, const train::Options& options) {
    M a{7}, b{7};
    train::Trainer<M, train::AutodiffEngine<M>> listed(a, options);
    train::Trainer<M, WithoutRows<M>> dense(b, options);
    listed.run(d, d);
    dense.run(d, d);
    return same_bits(parameters_of(a), parameters_of(b)) && parameters_of(a) != parameters_of(M{7});
}

}  // namespace

TEST_CASE("axpy_neg_rows: the listed rows' SGD step is the dense step's, bit for bit", "[train][simd]") {
    for (const double p : {0.0, 0.05, 0.5, 0.9, 1.0}) {
        check_rows<float>(784, 30, p, 1);
        check_rows<float>(784, 100, p, 2);
        check_rows<float>(13, 7, p, 3);    // 91 values: a scalar tail after the last batch
        check_rows<float>(130, 3, p, 4);   // runs over more than one 64-row word
        check_rows<float>(64, 1, p, 5);
        check_rows<double>(784, 30, p, 6);
        check_rows<double>(29, 5, p, 7);
    }
    // more rows than the stack list holds: every row, still the dense step
    check_rows<float>(5000, 2, 0.3, 8);
}

TEST_CASE("AutodiffEngine lists the inputs non-zero in some example of the batch", "[train]") {
    using M = Network<float, 784, 30, 10>;
    static_assert(has_input_row_weight_v<M>);
    const auto d = sparse_digits(40, 11);
    M net{3};
    train::AutodiffEngine<M> engine;
    Gradients<M> g;
    const std::vector<std::size_t> examples{0, 5, 7, 9, 12, 13, 20, 21, 22, 30, 31, 32, 39};  // a chunk of 10, 3 alone
    engine.gradient(net, d, examples, g);
    const InputRows rows = engine.input_rows();
    REQUIRE(rows.known());
    REQUIRE(rows.n == 784);
    std::size_t listed = 0;
    for (std::size_t i = 0; i < 784; ++i) {
        bool any = false;
        for (const std::size_t e : examples) any = any || d.pixels[e * 784 + i] != 0;
        REQUIRE((rows.flags[i] != 0) == any);
        listed += any;
        if (!any)
            for (std::size_t j = 0; j < 30; ++j) REQUIRE(g.weights<0>()(i, j) == 0.0f);
    }
    CHECK(listed > 0);
    UNSCOPED_INFO(listed << " of 784 inputs listed");
    CHECK(listed <= 784 - 6 * 28);  // the border, and more: rows to skip
    // one example through operator(): no list
    M::input_type x;
    M::output_type y;
    train::load_example<M>(d, 0, x, y);
    engine(net, x, y, g, Accumulate::no);
    CHECK_FALSE(engine.input_rows().known());
    // a dense first layer on a vector input has the list; a model whose first layer is not dense has not
    static_assert(!has_input_row_weight_v<Model<float, std::remove_const_t<decltype(input<16> | relu | dense<4>)>>>);
}

TEST_CASE("axpy_neg_rows and add_rows on a slice touch the slice only, as the dense loops do", "[train][simd]") {
    Rng rng(21);
    constexpr std::size_t rows = 200, cols = 30, n = rows * cols;
    std::vector<std::uint8_t> flags(rows);
    for (auto& f : flags) f = rng.uniform() < 0.4;
    std::vector<float> g(n), y(n), x(n);
    for (std::size_t i = 0; i < n; ++i) {
        g[i] = flags[i / cols] ? static_cast<float>(rng.uniform() - 0.5) : 0.0f;
        y[i] = flags[i / cols] ? static_cast<float>(rng.uniform()) : 0.0f;
        x[i] = static_cast<float>(rng.uniform() + 0.5);
    }
    for (const std::size_t parts : {1, 2, 3, 7}) {
        std::vector<float> dense = x, listed = x, summed = x, added = x;
        for (std::size_t k = 0; k < parts; ++k) {
            const auto [first, last] = train::Slice{k, parts}.of(n);
            simd::axpy_neg_n(0.3f, g.data() + first, dense.data() + first, last - first);
            simd::axpy_neg_rows(0.3f, g.data(), listed.data(), flags.data(), rows, cols, first, last);
            for (std::size_t i = first; i < last; ++i) summed[i] += y[i];
            simd::add_rows(added.data(), y.data(), flags.data(), rows, cols, first, last);
        }
        INFO(parts << " slices");
        CHECK(same_bits(dense, listed));
        CHECK(same_bits(summed, added));
    }
}

TEST_CASE("gradient_again clears only the rows the last gradient flagged, and gives gradient()'s values", "[train]") {
    using M = Network<float, 784, 30, 10>;
    const auto d = sparse_digits(60, 13);
    M net{5};
    const auto same_values = [](const Gradients<M>& a, const Gradients<M>& b) {
        bool same = true;
        for_each_parameter_pair<M::composition>(a.parameters(), b.parameters(), [&](auto, const auto& x, const auto& y) {
            for (std::size_t i = 0; i < x.size(); ++i) same &= x.data()[i] == y.data()[i];
        });
        return same;
    };
    const std::vector<std::size_t> a{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, b{30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41};
    train::AutodiffEngine<M> engine, fresh;
    Gradients<M> g, h, other;
    const float ca = engine.gradient(net, d, a, g);
    const float cb = engine.gradient_again(net, d, b, g);  // rows of a that b does not touch are cleared
    CHECK(ca != cb);
    CHECK(fresh.gradient(net, d, b, h) == cb);
    CHECK(same_values(g, h));
    // another g than the last call's: gradient(), whatever g held
    other.weights<0>().fill(7.0f);
    CHECK(engine.gradient_again(net, d, a, other) == ca);
    CHECK(fresh.gradient(net, d, a, h) == ca);
    CHECK(same_values(other, h));
    // and through the data-parallel engine of one process
    dist::DataParallelEngine<M, train::AutodiffEngine<M>> parallel;
    parallel.gradient(net, d, a, g);
    parallel.gradient_again(net, d, b, g);
    CHECK(same_values(g, [&] {
        Gradients<M> r;
        fresh.gradient(net, d, b, r);
        return r;
    }()));
}

TEST_CASE("flag_nonzero marks non-zero values, NaN included, and keeps what was marked", "[train][simd]") {
    std::vector<std::uint8_t> flags{0, 0, 0, 0, 1};
    const std::vector<float> x{0.0f, -0.0f, 2.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f};
    simd::flag_nonzero(flags.data(), x.data(), x.size());
    CHECK(flags == std::vector<std::uint8_t>{0, 0, 1, 1, 1});
}

TEST_CASE("training with the listed rows gives the dense update's parameters, bit for bit", "[train]") {
    const auto d = sparse_digits(300, 5);
    SECTION("float, the article's network") {
        CHECK(trains_as_dense<Network<float, 784, 30, 10>>(d, {.epochs = 2, .batch = 10, .eta = 3.0, .seed = 1}));
    }
    SECTION("double, batch 7 (a chunk is 10: every batch one example at a time)") {
        CHECK(trains_as_dense<Network<double, 784, 16, 10>>(d, {.epochs = 1, .batch = 7, .eta = 1.0, .seed = 2}));
    }
    SECTION("threads that share the examples: the shares' rows joined, added and updated slice by slice") {
        constexpr auto examples = train::Parallelism::examples;
        CHECK(trains_as_dense<Network<float, 784, 30, 10>>(
            d, {.epochs = 2, .batch = 10, .eta = 3.0, .seed = 3, .threads = 2, .parallelism = examples}));
        CHECK(trains_as_dense<Network<float, 784, 100, 10>>(
            d, {.epochs = 1, .batch = 100, .eta = 3.0, .seed = 3, .threads = 2, .parallelism = examples}));
        CHECK(trains_as_dense<Network<double, 784, 16, 10>>(
            d, {.epochs = 1, .batch = 3, .eta = 1.0, .seed = 5, .threads = 3, .parallelism = examples}));
    }
    SECTION("through the data-parallel engine of one process (the CLI's)") {
        using M = Network<float, 784, 30, 10>;
        using Engine = dist::DataParallelEngine<M, train::AutodiffEngine<M>>;
        M a{9}, b{9}, c{9};
        // (without the fused step, which lists no rows: its own test is in test_split_rows22)
        train::Trainer<M, Engine> listed(a, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 4, .fuse = false});
        train::Trainer<M, WithoutRows<M>> dense(b, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 4});
        train::Trainer<M, Engine> fused(c, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 4});
        listed.run(d, d);
        dense.run(d, d);
        fused.run(d, d);
        CHECK(listed.engine().input_rows().known());
        CHECK(same_bits(parameters_of(a), parameters_of(b)));
        CHECK(same_bits(parameters_of(c), parameters_of(b)));
    }
}

TEST_CASE("Sgd uses the listed rows without L2 only", "[train]") {
    using M = Network<float, 784, 30, 10>;
    M net{1};
    Gradients<M> g;
    g.weights<0>().fill(0.5f);  // a gradient on every row, and a list that names none
    g.biases<0>().fill(0.25f);
    const std::vector<std::uint8_t> none(784, 0);
    const InputRows rows{none.data(), none.size()};
    SECTION("without L2 the rows not listed are not updated (their gradient is taken to be 0)") {
        const M before = net;
        train::Sgd{}.step(net, g, train::Step{.eta = 1.0, .batch = 1, .training_examples = 10, .input_rows = rows});
        CHECK(bool(net.weights<0>() == before.weights<0>()));
        CHECK(bool(net.biases<0>() != before.biases<0>()));
    }
    SECTION("with L2 every weight shrinks: the dense step") {
        M dense = net;
        train::Sgd{}.step(net, g, train::Step{.eta = 1.0, .batch = 1, .training_examples = 10, .lambda = 0.5, .input_rows = rows});
        train::Sgd{}.step(dense, g, train::Step{.eta = 1.0, .batch = 1, .training_examples = 10, .lambda = 0.5});
        CHECK(parameters_of(net) == parameters_of(dense));
    }
}
