// Issue 22: SGD's step fused into the first dense layer's weight gradient (Options::fuse,
// expr/split.hpp's InputSplit with apply_to; simd::gemm_xtd_apply_rows), one thread or the rows of
// two (train/parallel.hpp). Split from test_split_rows22.cpp so that neither translation unit
// takes a minute and a half to compile.
//
// Exact (==, bit for bit) throughout: the fused kernel against the gradient then the step, and
// whole trainings with and without the fusion.
#include <cstdint>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/data/dataset.hpp"
#include "typegrad/dist/data_parallel.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/sgd.hpp"

#include "../support/same_bits.hpp"

using namespace typegrad;

namespace {

using Mlp = Network<double, 784, 30, 10>;
using Deep = Model<double, decltype(input<784> | dense<64> | relu | dense<32> | tanh | dense<10> | softmax), cost::LogLikelihood>;
using test::same_parameters;

}  // namespace

TEST_CASE("gemm_xtd_apply_rows is gemm_xtd_rows then axpy_neg_n, bit for bit", "[train][simd]") {
    const auto check = []<class T, std::size_t In, std::size_t Out>(double density, std::uint64_t seed) {
        constexpr std::size_t B = 10;
        Rng rng(seed);
        std::vector<T> X(B * In), D(B * Out), W(In * Out), G(In * Out, T(0));
        for (auto& x : X) x = rng.uniform() < density ? static_cast<T>(rng.uniform() - 0.3) : T(0);
        for (auto& v : D) v = static_cast<T>(rng.uniform() - 0.5);
        for (auto& w : W) w = static_cast<T>(rng.uniform() - 0.5);
        std::vector<std::uint8_t> flags(In, 0);
        for (std::size_t b = 0; b < B; ++b) simd::flag_nonzero(flags.data(), X.data() + b * In, In);
        const T rate = static_cast<T>(0.37);
        std::vector<T> two = W, fused = W, part = W;
        simd::gemm_xtd_rows<B, In, Out>(X.data(), D.data(), G.data(), 0, In, false);
        simd::axpy_neg_n(rate, G.data(), two.data(), two.size());
        simd::gemm_xtd_apply_rows<B, In, Out>(X.data(), D.data(), fused.data(), 0, In, rate, flags.data());
        CHECK(std::memcmp(two.data(), fused.data(), two.size() * sizeof(T)) == 0);
        // a part of the rows: those rows as the whole, the others untouched
        simd::gemm_xtd_apply_rows<B, In, Out>(X.data(), D.data(), part.data(), In / 3, In / 2, rate, nullptr);
        for (std::size_t i = 0; i < In; ++i)
            for (std::size_t j = 0; j < Out; ++j) {
                const T want = i >= In / 3 && i < In / 2 ? two[i * Out + j] : W[i * Out + j];
                if (std::memcmp(&part[i * Out + j], &want, sizeof(T)) != 0) FAIL("row " << i << ", column " << j);
            }
    };
    for (const double density : {0.0, 0.2, 1.0}) {
        INFO("density " << density);
        check.template operator()<float, 784, 30>(density, 1);
        check.template operator()<float, 784, 100>(density, 2);
        check.template operator()<float, 13, 7>(density, 3);  // rows that are not whole SIMD batches
        check.template operator()<double, 784, 30>(density, 4);
        check.template operator()<double, 29, 5>(density, 5);
    }
}

TEST_CASE("the fused SGD step trains the same parameters, bit for bit", "[train][threads]") {
    // 305 examples: 30 batches of 10 (fused) and one of 5 (not: the gradient written again whole)
    const auto d = data::synthetic_digits(305, 6);
    const auto run = [&]<class M, class Engine = train::AutodiffEngine<M>>(M* out, train::Options o) {
        M net{3};
        train::Trainer<M, Engine> trainer(net, o);
        trainer.run(d, d);
        *out = net;
    };
    const train::Options base{.epochs = 2, .batch = 10, .eta = 0.5, .seed = 4};
    const auto compare = [&]<class M, class Engine = train::AutodiffEngine<M>>(const char* what, train::Options o) {
        INFO(what << ", " << o.threads << " thread(s)");
        M fused{0}, plain{0};
        o.fuse = true;
        run.template operator()<M, Engine>(&fused, o);
        o.fuse = false;
        run.template operator()<M, Engine>(&plain, o);
        CHECK(same_parameters(fused, plain));
        CHECK_FALSE(same_parameters(fused, M{3}));
    };
    for (const std::size_t threads : {1, 2}) {
        train::Options o = base;
        o.threads = threads;
        compare.template operator()<Network<float, 784, 30, 10>>("784-30-10, float", o);
        compare.template operator()<Network<float, 784, 100, 10>>("784-100-10, float", o);
        compare.template operator()<Mlp>("784-30-10, double", o);
        compare.template operator()<Deep>("three layers, double", o);
        compare.template operator()<Mlp, dist::DataParallelEngine<Mlp, train::AutodiffEngine<Mlp>>>("the CLI's engine", o);
    }
    // the fused step is only taken where it is SGD's: with L2 (and other optimizers) it is not
    train::Options l2 = base;
    l2.lambda = 1.0;
    compare.template operator()<Mlp>("L2", l2);
}

TEST_CASE("the trainer fuses the step for SGD without L2 on batches of one chunk only", "[train]") {
    // after a fused step the engine lists no rows (its gradient of W¹ was not written)
    using M = Network<float, 784, 30, 10>;
    const auto d = data::synthetic_digits(300, 7);
    const auto fused = [&](train::Options o, train::AnyOptimizer opt = train::Sgd{}) {
        M net{1};
        train::Trainer<M, train::AutodiffEngine<M>, train::AnyOptimizer> trainer(net, o, opt);
        trainer.epoch(d);
        return !trainer.engine().input_rows().known();
    };
    const train::Options o{.epochs = 1, .batch = 10, .eta = 0.5, .seed = 2};
    CHECK(fused(o));
    train::Options off = o, l2 = o, twenty = o, seven = o;
    off.fuse = false;
    l2.lambda = 1.0;
    twenty.batch = 20;  // two chunks: the second would see the first's update
    seven.batch = 6;    // 300 = 50 · 6: every batch one example at a time
    CHECK_FALSE(fused(off));
    CHECK_FALSE(fused(l2));
    CHECK_FALSE(fused(twenty));
    CHECK_FALSE(fused(seven));
    CHECK_FALSE(fused(o, train::Adam{}));
    CHECK_FALSE(fused(o, train::Momentum{}));
    // a chunk of more than expr::max_fused_rows examples: not fused (and it compiles)
    M net{1};
    train::Trainer<M, train::AutodiffEngine<M, 100>> wide(net, {.epochs = 1, .batch = 100, .eta = 0.5, .seed = 2});
    wide.epoch(d);
    CHECK(wide.engine().input_rows().known());
}
