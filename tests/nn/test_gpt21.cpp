// A small GPT-style model as a type (issue 21, items 2–4 as C++ types): token and position
// embeddings, one transformer block — residual(layer_norm | attention<2>) then
// residual(layer_norm | dense<4D> | gelu | dense<D>) — a final layer_norm, and an output layer of
// Vocab logits at every position with softmax and log-likelihood over the next tokens (the target
// of position t is the token at t + 1, one-hot). Checked here, on the whole model:
//  - the three-way check (autodiff vs the hand-written references of every layer vs central finite
//    differences) in double;
//  - the batched gradient against the sum of the per-example ones;
//  - PyTorch (nn.Embedding, positions, nn.MultiheadAttention with the causal mask, nn.LayerNorm,
//    GELU, nn.Linear at every position, log_softmax over the vocabulary, float64) on the same
//    weights and tokens, when a python3 with torch is found (else skipped, saying so).
//
// Tolerances (double), as the other tests of issue 21: autodiff vs reference ≤ 1e-12 relative per
// tensor, vs central differences (h = 1e-6) ≤ 1e-6, batched vs summed ≤ 1e-12, PyTorch ≤ 1e-10.
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

constexpr std::size_t T = 6, V = 10, D = 8;
using Gpt = Model<double,
                  decltype(input<T> | embedding<V, D> | positional | residual(layer_norm | attention<2>) |
                           residual(layer_norm | dense<4 * D> | gelu | dense<D>) | layer_norm | dense<V> | softmax),
                  cost::LogLikelihood>;

/// A window of T + 1 tokens: the first T are the input, the last T the one-hot targets.
void next_tokens(Rng& rng, Gpt::input_type& x, Gpt::output_type& y) {
    std::size_t window[T + 1];
    for (auto& t : window) t = rng.below(V);
    y.fill(0);
    for (std::size_t t = 0; t < T; ++t) {
        x[t] = static_cast<double>(window[t]);
        y(t, window[t + 1]) = 1;
    }
}

}  // namespace

TEST_CASE("a small GPT as a type: shapes and parameters", "[nn][gpt]") {
    STATIC_REQUIRE(std::is_same_v<Gpt::output_type::shape_type, xt::fixed_shape<T, V>>);  // logits at every position
    STATIC_REQUIRE(Gpt::parameter_count == V * D + T * D + (2 * D + D * 3 * D + 3 * D + D * D + D) +
                                               (2 * D + D * 4 * D + 4 * D + 4 * D * D + D) + 2 * D + D * V + V);
    CHECK(layers_description<Gpt::composition>() ==
          "input<6> | embedding<10, 8> | positional | residual(layer_norm | attention<2>) | "
          "residual(layer_norm | dense<32> | gelu | dense<8>) | layer_norm | dense<10> | softmax");
    // the softmax is over the vocabulary at each position: every row sums to 1
    const Gpt net{1, init::Scheme::pytorch};
    Rng rng(2);
    Gpt::input_type x;
    Gpt::output_type y;
    next_tokens(rng, x, y);
    const Gpt::output_type a = net.forward(x);
    for (std::size_t t = 0; t < T; ++t) {
        double s = 0;
        for (std::size_t v = 0; v < V; ++v) s += a(t, v);
        CHECK(s == Approx(1.0).epsilon(1e-14));
    }
}

TEST_CASE("a small GPT: autodiff = reference = finite differences", "[nn][gpt][gradient]") {
    test::three_way<Gpt>(11, next_tokens, {}, {init::Scheme::pytorch, 4});
}

TEST_CASE("a small GPT in a batch: the batched gradient is the sum of the per-example ones", "[nn][gpt][batched]") {
    test::batched_is_sum<Gpt, 3>(21, test::NoPreparation{}, next_tokens);
}

// ≤ 1e-10 relative per tensor against torch.autograd in float64, for one window and a batch of 3.
TEST_CASE("a small GPT: the same outputs, cost and gradients as PyTorch", "[nn][gpt][pytorch]") {
    constexpr std::size_t B = 3;
    Gpt m{51, init::Scheme::pytorch};
    Rng rng(53);
    std::vector<Gpt::input_type> xs(B);
    std::vector<Gpt::output_type> ys(B);
    for (std::size_t b = 0; b < B; ++b) next_tokens(rng, xs[b], ys[b]);
    test::check_model_against_torch<B>(m, xs, ys, std::filesystem::path(__FILE__).parent_path() / "gpt21_pytorch.py",
                                       1e-10);
}
