// Tokens (issue 21, item 2, the embeddings): embedding<V, D> maps T token ids to rows of a learned
// table E (V, D), and positional adds a learned vector per position (P (T, D)). The gradient of E
// goes into the rows the ids used only. Checked here:
//  - shapes, parameters, and the output rows are E's rows (plus P's);
//  - the three-way check (autodiff vs the hand-written reference vs central finite differences) in
//    double, with repeated ids (a row used twice sums two gradients) and unused rows (gradient 0);
//  - an id that is not a row number in [0, V) selects nothing (a row of 0, no gradient);
//  - the batched gradient against the sum of the per-example ones;
//  - PyTorch (nn.Embedding, a position table, nn.Linear on (B, T, D), GELU, nn.LayerNorm, float64)
//    on the same weights and ids, when a python3 with torch is found (else skipped, saying so).
//
// Tolerances (double): autodiff vs reference ≤ 1e-12 relative per tensor; vs central differences
// with h = 1e-6 ≤ 1e-6; batched vs summed ≤ 1e-12; against PyTorch ≤ 1e-10 relative per tensor.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/typegrad.hpp"
#include "../support/gradient_check.hpp"
#include "../support/model_checks.hpp"
#include "../support/pytorch.hpp"
#include "../support/torch_model_check.hpp"

using namespace typegrad;

namespace {

using TokNet = Model<double,
                     decltype(input<6> | embedding<10, 4> | positional | dense<5> | gelu | layer_norm | flatten | dense<3> |
                              softmax),
                     cost::LogLikelihood>;

/// Ids in [0, 10) with ids[1] = ids[4] (a row used twice) and rows 8 and 9 never used; a one-hot target.
void token_example(Rng& rng, TokNet::input_type& x, TokNet::output_type& y) {
    for (auto& v : x) v = static_cast<double>(rng.below(8));
    x[4] = x[1];
    y.fill(0);
    y[rng.below(3)] = 1;
}

}  // namespace

TEST_CASE("embedding and positional: shapes, parameters, the rows they pick", "[nn][embedding]") {
    using S = TokNet::composition;
    STATIC_REQUIRE(std::is_same_v<S::shape_at<1>, Shape<6, 4>>);  // embedding<10, 4> on 6 ids
    STATIC_REQUIRE(std::is_same_v<S::shape_at<2>, Shape<6, 4>>);  // positional keeps it
    STATIC_REQUIRE(TokNet::parameter_count == 10 * 4 + 6 * 4 + 4 * 5 + 5 + 5 + 5 + 30 * 3 + 3);
    CHECK(layers_description<S>() ==
          "input<6> | embedding<10, 4> | positional | dense<5> | gelu | layer_norm | flatten | dense<3> | softmax");

    // derive: the gather and its scatter-add
    std::string all;
    for (const auto& l : autodiff::derivation<TokNet>()) all += l + "\n";
    INFO(all);
    CHECK_THAT(all, Catch::Contains("a₀ = E₀[x] + P₁\n") && Catch::Contains("∂J/∂E₀ = scatter_x(") &&
                        Catch::Contains("∂J/∂P₁ = "));

    using Alone = Model<double, decltype(input<3> | embedding<5, 2> | positional)>;
    const Alone net{7};
    const auto& E = net.parameter<0, "E">();
    const auto& P = net.parameter<1, "P">();
    Alone::input_type ids = {4.0, 0.0, 4.0};
    const auto y = net.forward(ids);
    for (std::size_t t = 0; t < 3; ++t)
        for (std::size_t k = 0; k < 2; ++k) CHECK(y(t, k) == E(static_cast<std::size_t>(ids[t]), k) + P(t, k));
    // not a row number: a row of zeros (plus P)
    for (double bad : {-1.0, 5.0, 1.5, std::nan("")}) {
        ids = {bad, 1.0, 2.0};
        const auto z = net.forward(ids);
        INFO("id " << bad);
        CHECK(z(0, 0) == P(0, 0));
        CHECK(z(0, 1) == P(0, 1));
        CHECK(z(1, 0) == E(1, 0) + P(1, 0));
    }
}

TEST_CASE("embedding: autodiff = reference = finite differences; only the rows used get a gradient", "[nn][embedding][gradient]") {
    TokNet net{11, init::Scheme::pytorch};
    Rng rng(12);
    for (int example = 0; example < 4; ++example) {
        TokNet::input_type x;
        TokNet::output_type y;
        token_example(rng, x, y);
        INFO("example " << example);
        const auto r = gradcheck(net, x, y, {.step = 1e-6});
        CHECK(r.reference);
        CHECK(r.fd_entries == TokNet::parameter_count);
        CHECK(r.autodiff_vs_reference <= 1e-12);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
        // rows 8 and 9 are never used: exactly 0
        const auto g = autodiff::backprop(net, x, y);
        const auto& dE = std::get<0>(g.parameters()).template get<"E">();
        for (std::size_t r8 : {8u, 9u})
            for (std::size_t k = 0; k < 4; ++k) CHECK(dE(r8, k) == 0.0);
    }
}

TEST_CASE("embedding: a batch of token sequences, the batched gradient is the sum of the per-example ones", "[nn][embedding][batched]") {
    test::batched_is_sum<TokNet, 4>(21, test::NoPreparation{}, token_example);
}

// ≤ 1e-10 relative per tensor against torch.autograd in float64, for one example and a batch of 3.
TEST_CASE("embedding and positional: the same outputs, cost and gradients as PyTorch", "[nn][embedding][pytorch]") {
    constexpr std::size_t B = 3;
    TokNet m{51, init::Scheme::pytorch};
    Rng rng(53);
    std::vector<TokNet::input_type> xs(B);
    std::vector<TokNet::output_type> ys(B);
    for (std::size_t b = 0; b < B; ++b) token_example(rng, xs[b], ys[b]);
    test::check_model_against_torch<B>(m, xs, ys,
                                       std::filesystem::path(__FILE__).parent_path() / "embedding21_pytorch.py", 1e-10);
}
