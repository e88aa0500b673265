// Compositions beyond a chain (nn/graph.hpp): residual blocks, branches joined by concatenation
// and by sum, for vectors and images. For each: shapes and parameters from the types, the
// three-way gradient check (autodiff vs the hand-written reference rules of reference/graph.hpp
// vs central finite differences), and the batched gradient = the sum of the per-example ones.
//
// Tolerances (double, tests/support/model_checks.hpp says why): autodiff vs reference ≤ 1e-12
// relative in the max norm per tensor; vs central differences with h = 1e-6, ≤ 1e-6; batched
// vs summed ≤ 1e-12; PyTorch (float64) ≤ 1e-10.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "typegrad/nn/graph.hpp"
#include "typegrad/reference/graph.hpp"
#include "typegrad/typegrad.hpp"
#include "../support/model_checks.hpp"

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

using test::batched_is_sum;
using test::three_way;

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

TEST_CASE("combinators in derive: the blocks' recurrences in textbook form", "[nn][graph][print]") {
    // the residual block: its inner layers named z₁.₀, a₁.₀, z₁.₁; δ at the fork is the sum of
    // the block's path and the skip connection
    const auto lines = autodiff::derivation<ResidualMlp>();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    INFO(all);
    for (const char* line : {"z₁ = a₀ + z₁.₁", "z₁.₀ = W₁.₀ᵀ a₀ + b₁.₀", "a₁.₀ = tanh(z₁.₀)", "z₁.₁ = W₁.₁ᵀ a₁.₀ + b₁.₁",
                             "δ₁ = (W₂.₀ δ₂.₀ + δ₂) ⊙ tanh'(z₁)", "δ₁.₁ = δ₁", "δ₁.₀ = (W₁.₁ δ₁.₁) ⊙ tanh'(z₁.₀)",
                             "δ₀ = (W₁.₀ δ₁.₀ + δ₁) ⊙ tanh'(z₀)", "∂J/∂W₁.₀ = a₀ δ₁.₀ᵀ", "∂J/∂b₁.₁ = δ₁.₁"})
        CHECK(std::find(lines.begin(), lines.end(), line) != lines.end());
    // branches: the concatenation, each branch's slice of δ, and δ at the fork of a sum
    const auto branch_lines = autodiff::derivation<Branches>();
    std::string b;
    for (const auto& l : branch_lines) b += l + "\n";
    INFO(b);
    for (const char* line : {"z₀ = [[a₀.₀; a₀.₁]; z₀.₂]", "z₁ = a₁.₀ + z₁.₁", "δ₀ = (W₁.₀ δ₁.₀ + W₁.₁ δ₁.₁) ⊙ tanh'(z₀)",
                             "δ₀.₂ = δ₀[7…8]", "δ₀.₀ = δ₀[0…6][0…3] ⊙ tanh'(z₀.₀)"})
        CHECK(std::find(branch_lines.begin(), branch_lines.end(), line) != branch_lines.end());
}

// ≤ 1e-10 relative (cost, and every gradient tensor in the max norm) against torch.autograd in
// float64 (issue 19's acceptance): a residual MLP, concatenated and summed branches, and a
// residual CNN with a channel concatenation on a batch of 8.
TEST_CASE("residual blocks and branches: the same cost and gradients as PyTorch", "[nn][graph][pytorch]") {
    const auto script = std::filesystem::path(__FILE__).parent_path() / "graph19_pytorch.py";
    test::agrees_with_pytorch<ResidualMlp, 4>(script, "residual_mlp", 31);
    test::agrees_with_pytorch<Branches, 4>(script, "branches", 32);
    test::agrees_with_pytorch<ResidualCnn, 8>(script, "residual_cnn", 33);
}
