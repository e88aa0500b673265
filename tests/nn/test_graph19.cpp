// Compositions beyond a chain (nn/graph.hpp): residual blocks, branches joined by concatenation
// and by sum, for vectors and images. For each: shapes and parameters from the types, the
// three-way gradient check (autodiff vs the hand-written reference rules of reference/graph.hpp
// vs central finite differences), and the batched gradient = the sum of the per-example ones.
//
// Tolerances (double): autodiff vs reference ≤ 1e-12 relative in the max norm per tensor (the
// same operations up to rounding: the reference walks its own rules, in its own order); vs
// central differences with h = 1e-6, ≤ 1e-6 relative (truncation O(h²) ≈ 1e-12, rounding
// ≈ ε·J/h ≈ 1e-10); batched vs summed ≤ 1e-12.
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/nn/graph.hpp"
#include "typegrad/reference/graph.hpp"
#include "typegrad/typegrad.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

// a block is a value: named once, used twice
constexpr auto block = dense<5> | tanh_ | dense<5>;
using ResidualMlp = Model<double, decltype(input<6> | dense<5> | tanh_ | residual(block) | tanh_ | residual(block) | dense<3> | sigmoid)>;
using Branches = Model<double, decltype(input<6> | concat(dense<4> | tanh_, dense<3> | sigmoid, dense<2>) | tanh_ |
                                        branch_sum(dense<4> | tanh_, dense<4>) | dense<3> | softmax),
                       cost::LogLikelihood>;
using ResidualCnn = Model<double, decltype(input<2, 6, 6> | conv2d<3, 3, 1, 1> | tanh_ | residual(conv2d<3, 3, 1, 1> | tanh_) |
                                           concat(conv2d<2, 3, 1, 1>, conv2d<1, 1> | sigmoid) | flatten | dense<3> | sigmoid)>;

template <class M>
void three_way(std::uint64_t seed) {
    M net{seed};
    Rng rng(seed + 1);
    for (int example = 0; example < 3; ++example) {
        typename M::input_type x;
        typename M::output_type y;
        for (auto& v : x) v = rng.uniform(-1.0, 1.0);
        y.fill(0);
        y[rng.below(M::output_width)] = 1;
        INFO("example " << example);
        const auto r = gradcheck(net, x, y, {.step = 1e-6});
        CHECK(r.autodiff_vs_reference <= 1e-12);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
        CHECK(r.fd_entries == M::parameter_count);
    }
}

template <class M, std::size_t B>
void batched_is_sum(std::uint64_t seed) {
    M net{seed};
    Rng rng(seed + 2);
    std::vector<double> X(B * M::input_width), Y(B * M::output_width);
    Gradients<M> sum, batched;
    reference::Workspace<M> ws;
    for (std::size_t b = 0; b < B; ++b) {
        typename M::input_type x;
        typename M::output_type y;
        for (auto& v : x) v = rng.uniform(-1.0, 1.0);
        y.fill(0);
        y[rng.below(M::output_width)] = 1;
        std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(b * M::input_width));
        std::copy(y.begin(), y.end(), Y.begin() + static_cast<std::ptrdiff_t>(b * M::output_width));
        reference::backprop_into(net, x, y, sum, ws, b == 0 ? Accumulate::no : Accumulate::yes);
    }
    autodiff::Workspace<M, B> aws;
    autodiff::backprop_batch_into(net, X.data(), Y.data(), batched, aws);
    test::check_close(sum, batched, 1e-12);
}

}  // namespace

TEST_CASE("combinators: shapes, parameters and names from the types", "[nn][graph]") {
    using S = ResidualMlp::composition;
    STATIC_REQUIRE(std::is_same_v<S::shape_at<3>, Shape<5>>);  // residual keeps the shape
    STATIC_REQUIRE(S::parameter_layers == 4);                   // dense, residual, residual, dense
    STATIC_REQUIRE(ResidualMlp::parameter_count == 6 * 5 + 5 + 2 * (2 * (5 * 5 + 5)) + 5 * 3 + 3);
    CHECK(layers_description<S>() ==
          "input<6> | dense<5> | tanh | residual(dense<5> | tanh | dense<5>) | tanh | residual(dense<5> | tanh | dense<5>) | "
          "dense<3> | σ");
    using B = Branches::composition;
    STATIC_REQUIRE(std::is_same_v<B::shape_at<1>, Shape<9>>);  // 4 + 3 + 2 features
    STATIC_REQUIRE(std::is_same_v<B::shape_at<3>, Shape<4>>);
    using C = ResidualCnn::composition;
    STATIC_REQUIRE(std::is_same_v<C::shape_at<3>, Shape<3, 6, 6>>);
    STATIC_REQUIRE(std::is_same_v<C::shape_at<4>, Shape<3, 6, 6>>);  // 2 + 1 channels
}

TEST_CASE("combinators: a block's layers start as they would on their own", "[nn][graph]") {
    // the residual's dense layers get the article's N(0, 1) (biases first, then weights), in order
    const ResidualMlp net{7};
    const auto& set = std::get<2>(net.parameters());
    bool nonzero = false;
    for (double w : set.at<0>()) nonzero |= w != 0;
    CHECK(nonzero);
    // with PyTorch's scheme the inner W and b of every inner dense layer are U(±1/√fan_in)
    const ResidualMlp torch_like{7, init::Scheme::pytorch};
    const auto& inner = std::get<2>(torch_like.parameters());
    for (double w : inner.at<2>()) CHECK(std::abs(w) <= 1 / std::sqrt(5.0));
    for (double b : inner.at<3>()) CHECK(std::abs(b) <= 1 / std::sqrt(5.0));
}

TEST_CASE("residual MLP: autodiff = reference = finite differences", "[nn][graph][gradient]") { three_way<ResidualMlp>(11); }
TEST_CASE("concatenated and summed branches: autodiff = reference = finite differences", "[nn][graph][gradient]") {
    three_way<Branches>(12);
}
TEST_CASE("residual CNN with concatenated channels: autodiff = reference = finite differences", "[nn][graph][gradient]") {
    three_way<ResidualCnn>(13);
}

TEST_CASE("combinators in a batch: the batched gradient is the sum of the per-example ones", "[nn][graph][batched]") {
    batched_is_sum<ResidualMlp, 4>(21);
    batched_is_sum<Branches, 3>(22);
    batched_is_sum<ResidualCnn, 2>(23);
}

TEST_CASE("combinators in derive: the residual sum and the concatenation are written out", "[nn][graph][print]") {
    const auto lines = autodiff::derivation<ResidualMlp>();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    INFO(all);
    CHECK_THAT(all, Catch::Contains("W₁.₀"));
    CHECK_THAT(all, Catch::Contains("W₁.₁"));
    const auto branch_lines = autodiff::derivation<Branches>();
    std::string b;
    for (const auto& l : branch_lines) b += l + "\n";
    INFO(b);
    CHECK_THAT(b, Catch::Contains("[") && Catch::Contains(";"));
}
