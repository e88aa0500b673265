// Inverted dropout: identity outside training, a mask from the trainer's generator inside, and
// its gradient checked three ways with the mask held fixed (the same generator state for the
// autodiff gradient, the reference and every finite difference).
//
// Tolerances (double): autodiff vs reference ≤ 1e-11; central differences with h = 1e-6 ≤ 1e-6
// (as the other gradient tests; the mask is piecewise constant, so it adds no error).
#include <algorithm>

#include <catch2/catch.hpp>

#include "typegrad/typegrad.hpp"
#include "cnn_shapes.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {
using WithDropout = Model<double, decltype(input<6> | dense<5> | relu | dropout<0.5> | dense<3> | sigmoid)>;
using WithoutDropout = Model<double, decltype(input<6> | dense<5> | relu | dense<3> | sigmoid)>;
using ConvDropout = Model<double, decltype(input<1, 6, 6> | conv2d<3, 3> | relu | dropout<0.25> | max_pool<2> | flatten |
                                          dense<4> | softmax),
                          cost::LogLikelihood>;

using test::cnn::random_input;

// The three-way check with the mask drawn from Rng(mask_seed) in every evaluation.
template <class M>
void three_way_with_mask(std::uint64_t seed, std::uint64_t mask_seed) {
    M net{seed};
    Rng data(seed + 1);
    typename M::input_type x;
    typename M::output_type y;
    random_input<M>(data, x, y);
    const auto under_mask = [&](auto&& f) {
        Rng masks(mask_seed);
        const expr::NoiseScope scope(masks);
        return f();
    };
    const auto ad = under_mask([&] { return autodiff::backprop(net, x, y); });
    const auto ref = under_mask([&] { return reference::backprop(net, x, y); });
    test::check_close(ad, ref, 1e-11);
    // finite differences, every parameter, each cost under the same mask
    double worst = 0;
    for_each_parameter_pair<typename M::composition>(net.parameters(), ad.parameters(), [&](auto, auto& p, const auto& g) {
        double diff = 0, scale = 0;
        for (std::size_t k = 0; k < p.size(); ++k) {
            const double saved = p.data()[k];
            p.data()[k] = saved + 1e-6;
            const double up = under_mask([&] { return autodiff::cost(net, x, y); });
            p.data()[k] = saved - 1e-6;
            const double down = under_mask([&] { return autodiff::cost(net, x, y); });
            p.data()[k] = saved;
            const double fd = (up - down) / 2e-6;
            diff = std::max(diff, std::abs(fd - double(g.data()[k])));
            scale = std::max({scale, std::abs(fd), std::abs(double(g.data()[k]))});
        }
        if (scale > 0) worst = std::max(worst, diff / scale);
    });
    CHECK(worst <= 1e-6);
}
}  // namespace

TEST_CASE("dropout outside training is the identity", "[dropout]") {
    const WithDropout a{3};
    const WithoutDropout b{3};  // the same draws: dropout has no parameters
    Rng rng(4);
    WithDropout::input_type x;
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    CHECK((a.forward(x) == b.forward(x)));
    CHECK(layers_description<WithDropout::composition>() == "input<6> | dense<5> | relu | dropout<0.5> | dense<3> | σ");
}

TEST_CASE("dropout masks: the rate of zeros, the 1/(1 − p) scale, reproducible from the seed", "[dropout]") {
    std::vector<float> m(20000), again(20000);
    {
        Rng rng(5);
        const expr::NoiseScope scope(rng);
        expr::draw_dropout_mask<0.3>(m.data(), m.size());
    }
    {
        Rng rng(5);
        const expr::NoiseScope scope(rng);
        expr::draw_dropout_mask<0.3>(again.data(), again.size());
    }
    CHECK(m == again);
    const auto zeros = std::count(m.begin(), m.end(), 0.0f);
    CHECK(std::abs(double(zeros) / double(m.size()) - 0.3) < 0.015);  // 5 standard deviations: sqrt(.21/20000) ≈ .0032
    CHECK(std::all_of(m.begin(), m.end(), [](float v) { return v == 0.0f || v == 1.0f / 0.7f; }));
    expr::draw_dropout_mask<0.3>(m.data(), m.size());  // no scope: ones
    CHECK(std::all_of(m.begin(), m.end(), [](float v) { return v == 1.0f; }));
}

TEST_CASE("dropout three-way check with a fixed mask: autodiff = reference = finite differences", "[dropout][gradient]") {
    three_way_with_mask<WithDropout>(6, 60);
    three_way_with_mask<WithDropout>(7, 70);
    three_way_with_mask<ConvDropout>(8, 80);
}

TEST_CASE("dropout in a batch draws the per-example masks in example order", "[dropout][batched]") {
    using M = ConvDropout;
    constexpr std::size_t B = 4;
    M net{9};
    Rng rng(10);
    std::vector<double> X(B * M::input_width), Y(B * M::output_width);
    Gradients<M> sum, batched;
    reference::Workspace<M> ws;
    {
        Rng masks(11);
        const expr::NoiseScope scope(masks);
        for (std::size_t b = 0; b < B; ++b) {
            M::input_type x;
            M::output_type y;
            random_input<M>(rng, x, y);
            std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(b * M::input_width));
            std::copy(y.begin(), y.end(), Y.begin() + static_cast<std::ptrdiff_t>(b * M::output_width));
            reference::backprop_into(net, x, y, sum, ws, b == 0 ? Accumulate::no : Accumulate::yes);
        }
    }
    Rng masks(11);
    const expr::NoiseScope scope(masks);
    autodiff::Workspace<M, B> aws;
    autodiff::backprop_batch_into(net, X.data(), Y.data(), batched, aws);
    test::check_close(sum, batched, 1e-11);
}

TEST_CASE("training with dropout is reproducible and resumes bit for bit", "[dropout][train]") {
    using M = Model<float, decltype(input<784> | dense<30> | relu | dropout<0.2> | dense<10> | softmax), cost::LogLikelihood>;
    const auto d = data::synthetic_split(600, 200, 12);
    const train::Options o{.epochs = 2, .batch = 10, .eta = 0.1, .seed = 13};
    M a{14}, b{14}, c{14};
    train::Trainer<M>(a, o).run(d.train, d.test);
    train::Trainer<M>(b, o).run(d.train, d.test);
    CHECK(io::checkpoint_payload(a) == io::checkpoint_payload(b));
    // one epoch, its state carried over, then the second
    train::TrainerState state;
    {
        train::Trainer<M> first(c, {.epochs = 1, .batch = 10, .eta = 0.1, .seed = 13});
        first.run(d.train, d.test);
        state = first.state();
    }
    train::Trainer<M> second(c, o);
    second.restore(state);
    second.run(d.train, d.test);
    CHECK(io::checkpoint_payload(a) == io::checkpoint_payload(c));
    // and the masks are really drawn: without dropout the weights differ
    using Plain = Model<float, decltype(input<784> | dense<30> | relu | dense<10> | softmax), cost::LogLikelihood>;
    Plain p{14};
    train::Trainer<Plain>(p, o).run(d.train, d.test);
    CHECK(relative_error(p.weights<0>(), a.weights<0>()) > 0);
}
