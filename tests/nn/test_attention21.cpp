// Multi-head causal self-attention (issue 21, item 3): attention<H> on a sequence (T, D), built
// from ops of the expression language (expr/attention.hpp: the scores Q Kᵀ/√d per head, the causal
// mask, the row softmax, the heads' P V concatenated, the projections), so its backward pass is
// derived by the engine; the hand-written reference rule is the textbook's (reference/attention.hpp).
// Checked here:
//  - the causal mask: the output at position i does not depend on the inputs after i;
//  - the three-way check (autodiff vs reference vs central finite differences) in double, alone and
//    in a transformer-style block residual(layer_norm | attention<2>);
//  - the batched gradient against the sum of the per-example ones;
//  - PyTorch's nn.MultiheadAttention (batch_first, the causal mask, float64) with the same weights,
//    inside the same block, when a python3 with torch is found (else skipped, saying so).
//
// Tolerances (double): autodiff vs reference ≤ 1e-12 relative per tensor (the same derivative in
// another order); vs central differences with h = 1e-6 ≤ 1e-6; batched vs summed ≤ 1e-12; against
// PyTorch ≤ 1e-10 relative per tensor (issue 21's acceptance).
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/nn/graph.hpp"
#include "typegrad/reference/graph.hpp"
#include "typegrad/typegrad.hpp"
#include "../support/gradient_check.hpp"
#include "../support/model_checks.hpp"
#include "../support/pytorch.hpp"
#include "../support/torch_model_check.hpp"

using namespace typegrad;

namespace {

using Alone = Model<double, decltype(input<4, 6> | attention<2>)>;
using AttnBlock = Model<double, decltype(input<4, 6> | residual(layer_norm | attention<2>) | flatten | dense<3> | softmax),
                    cost::LogLikelihood>;


}  // namespace

TEST_CASE("attention<H>: shape, parameters, the causal mask", "[nn][attention]") {
    STATIC_REQUIRE(std::is_same_v<Alone::output_type::shape_type, xt::fixed_shape<4, 6>>);
    STATIC_REQUIRE(Alone::parameter_count == 6 * 18 + 18 + 6 * 6 + 6);
    CHECK(layers_description<AttnBlock::composition>() == "input<4, 6> | residual(layer_norm | attention<2>) | flatten | dense<3> | softmax");
    const Alone net{3, init::Scheme::pytorch};
    Rng rng(4);
    Alone::input_type x;
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    const Alone::output_type y = net.forward(x);
    // changing position 3 leaves the outputs at positions 0..2 as they were; position 3's moves
    Alone::input_type x2 = x;
    for (std::size_t k = 0; k < 6; ++k) x2(3, k) += 0.5;
    const Alone::output_type y2 = net.forward(x2);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t k = 0; k < 6; ++k) CHECK(y2(i, k) == y(i, k));
    double moved = 0;
    for (std::size_t k = 0; k < 6; ++k) moved += std::abs(y2(3, k) - y(3, k));
    CHECK(moved > 1e-3);
    // position 0 attends to itself only: its output is Woᵀ v₀ + bo
    const auto& W = net.parameter<0, "W">();
    const auto& b = net.parameter<0, "b">();
    const auto& Wo = net.parameter<0, "Wo">();
    const auto& bo = net.parameter<0, "bo">();
    for (std::size_t c = 0; c < 6; ++c) {
        double out = bo(c);
        for (std::size_t a = 0; a < 6; ++a) {
            double v = b(12 + a);
            for (std::size_t e = 0; e < 6; ++e) v += W(e, 12 + a) * x(0, e);
            out += Wo(a, c) * v;
        }
        CHECK(y(0, c) == Approx(out).epsilon(1e-13));
    }
}

// derive names attention's intermediates (named_node) and prints its backward pass in the
// textbook's form: δO, δP, δS through the row softmax, δ[Q K V] from both products, then δ of the
// block's input — one line each, in the order of the reverse sweep.
TEST_CASE("attention<H>: derive prints the textbook recurrences with named intermediates", "[nn][attention][derive]") {
    const std::vector<std::string> lines = autodiff::derivation<AttnBlock>();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    INFO(all);
    const auto at = [&](const std::string& line) {
        for (std::size_t i = 0; i < lines.size(); ++i)
            if (lines[i] == line) return i;
        return lines.size();
    };
    // forward: the projections, the masked scores, their row softmax, the heads' mix, the output
    const std::vector<std::string> forward{"QKV₀.₁ = W₀.₁ᵀ z₀.₀ + b₀.₁", "S₀.₁ = causal(Q Kᵀ/√d [QKV₀.₁])",
                                           "P₀.₁ = softmax(S₀.₁)", "O₀.₁ = P₀.₁ V [QKV₀.₁]", "z₀.₁ = Wo₀.₁ᵀ O₀.₁ + bo₀.₁"};
    // backward, from the block's output down to its normalised input
    const std::vector<std::string> backward{
        "δ₀.₁ = δ₀",
        "δO₀.₁ = Wo₀.₁ δ₀.₁",
        "δP₀.₁ = δO₀.₁ Vᵀ [QKV₀.₁]",
        "δS₀.₁ = P₀.₁ ⊙ (δP₀.₁ − ⟨δP₀.₁, P₀.₁⟩)",
        "δQKV₀.₁ = [causal(δS₀.₁) K, causal(δS₀.₁)ᵀ Q, 0]/√d [QKV₀.₁] + [0, 0, P₀.₁ᵀ δO₀.₁]",
        "δ₀.₀ = W₀.₁ δQKV₀.₁"};
    for (const auto* block : {&forward, &backward}) {
        std::size_t previous = 0;
        for (const auto& line : *block) {
            const std::size_t i = at(line);
            INFO(line);
            REQUIRE(i < lines.size());
            CHECK(i >= previous);
            previous = i;
        }
    }
    CHECK(at("∂J/∂Wo₀.₁ = O₀.₁ δ₀.₁ᵀ") < lines.size());
    CHECK(at("∂J/∂W₀.₁ = z₀.₀ δQKV₀.₁ᵀ") < lines.size());
    CHECK(at("∂J/∂b₀.₁ = Σᵦ δQKV₀.₁") < lines.size());
    // attention on its own (not in a block): the same names with the layer's subscript
    std::string alone;
    for (const auto& l : autodiff::derivation<Alone>()) alone += l + "\n";
    CHECK_THAT(alone, Catch::Contains("δS₀ = P₀ ⊙ (δP₀ − ⟨δP₀, P₀⟩)\n") && Catch::Contains("∂J/∂W₀ = x δQKV₀ᵀ\n"));
}

TEST_CASE("attention<H>: autodiff = reference = finite differences", "[nn][attention][gradient]") {
    SECTION("alone, an output that is the sequence (quadratic cost)") { test::three_way<Alone>(11, test::signed_example<Alone>, {}, {init::Scheme::pytorch, 4}); }
    SECTION("in a block: residual(layer_norm | attention<2>), then a classifier") {
        test::three_way<AttnBlock>(12, test::signed_example<AttnBlock>, {}, {init::Scheme::pytorch, 4});
    }
}

TEST_CASE("attention<H> in a batch: the batched gradient is the sum of the per-example ones", "[nn][attention][batched]") {
    test::batched_is_sum<AttnBlock, 3>(21);
    test::batched_is_sum<Alone, 2>(22);
}

// ≤ 1e-10 relative per tensor against torch.autograd in float64, for one example and a batch of 3.
TEST_CASE("attention<H>: the same outputs, cost and gradients as nn.MultiheadAttention", "[nn][attention][pytorch]") {
    constexpr std::size_t B = 3;
    AttnBlock m{51, init::Scheme::pytorch};
    Rng rng(53);
    std::vector<AttnBlock::input_type> xs(B);
    std::vector<AttnBlock::output_type> ys(B);
    for (std::size_t b = 0; b < B; ++b) test::signed_example<AttnBlock>(rng, xs[b], ys[b]);
    test::check_model_against_torch<B>(m, xs, ys,
                                       std::filesystem::path(__FILE__).parent_path() / "attention21_pytorch.py", 1e-10);
}
