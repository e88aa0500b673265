// The three-way check on convolutional networks: the autodiff gradient (derived by the reverse
// mode from the local rules of conv2d, pooling and flatten), the hand-written textbook rules
// (reference/spatial.hpp) and central finite differences, in double.
//
// Tolerances: autodiff vs reference ≤ 1e-11 relative in the max norm per tensor (the same
// mathematics summed in different orders: im2col products against index loops); against
// central differences with h = 1e-6, ≤ 1e-6 (truncation O(h²), rounding ≈ ε·J/h ≈ 1e-10; max
// pooling and ReLU have kinks, which random inputs do not hit within h).
#include <catch2/catch.hpp>

#include "cnn_shapes.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;
namespace cnn = typegrad::test::cnn;

namespace {

using test::cnn::random_input;

template <class M>
void three_way(std::uint64_t seed, std::size_t samples = 0) {
    auto net = std::make_unique<M>(seed);
    Rng rng(seed + 100);
    auto x = std::make_unique<typename M::input_type>();
    typename M::output_type y;
    for (int example = 0; example < 3; ++example) {
        random_input<M>(rng, *x, y);
        INFO("example " << example);
        const auto r = gradcheck(*net, *x, y, {.step = 1e-6, .samples_per_tensor = samples});
        CHECK(r.autodiff_vs_reference <= 1e-11);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
        CHECK(r.fd_entries > 0);
        if (samples == 0) CHECK(r.fd_entries == M::parameter_count);
        // the gradient is not trivially zero: the check compares something
        const auto g = autodiff::backprop(*net, *x, y);
        CHECK(relative_error(g.template weights<0>(), std::remove_cvref_t<decltype(g.template weights<0>())>{}) > 0);
    }
}

}  // namespace

TEST_CASE("CNN three-way check: a 1-channel toy (conv 3×3, ReLU, max pool, dense)", "[cnn][gradient]") {
    three_way<Model<double, decltype(cnn::toy)>>(1);
}
TEST_CASE("CNN three-way check: odd sizes (7×5 image, 2×2 kernel, tanh, avg pool, softmax)", "[cnn][gradient]") {
    three_way<Model<double, decltype(cnn::odd), cost::LogLikelihood>>(2);
}
TEST_CASE("CNN three-way check: stride 2 with padding 1, two input channels, cross-entropy", "[cnn][gradient]") {
    three_way<Model<double, decltype(cnn::strided), cost::CrossEntropy>>(3);
}
TEST_CASE("CNN three-way check: multi-channel, two convolutions", "[cnn][gradient]") {
    three_way<Model<double, decltype(cnn::multi), cost::LogLikelihood>>(4);
}
TEST_CASE("CNN three-way check: LeNet-5 (finite differences on 12 entries of each tensor)", "[cnn][gradient]") {
    three_way<Model<double, decltype(cnn::lenet), cost::LogLikelihood>>(5, 12);
}

TEST_CASE("CNN batched: a chunk of examples gives the per-example sum", "[cnn][batched]") {
    using M = Model<double, decltype(cnn::multi), cost::LogLikelihood>;
    constexpr std::size_t B = 5;
    M net{6};
    Rng rng(7);
    std::vector<double> X(B * M::input_width), Y(B * M::output_width);
    Gradients<M> sum, batched;
    reference::Workspace<M> ws;
    for (std::size_t b = 0; b < B; ++b) {
        M::input_type x;
        M::output_type y;
        random_input<M>(rng, x, y);
        std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(b * M::input_width));
        std::copy(y.begin(), y.end(), Y.begin() + static_cast<std::ptrdiff_t>(b * M::output_width));
        reference::backprop_into(net, x, y, sum, ws, b == 0 ? Accumulate::no : Accumulate::yes);
    }
    autodiff::Workspace<M, B> aws;
    autodiff::backprop_batch_into(net, X.data(), Y.data(), batched, aws);
    test::check_close(sum, batched, 1e-11);
}
