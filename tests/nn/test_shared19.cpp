// Shared and tied parameters (nn/shared.hpp, issue 19): one tensor used at two or three places,
// its gradient the sum of every use's. Three networks — a tied autoencoder (the decoder is the
// encoder's W transposed, with a bias of its own), one dense layer applied twice (same), and a
// W used three times (its layer, transposed, and again) — each checked three ways (autodiff vs
// the hand-written rules of reference/shared.hpp vs central finite differences), batched vs the
// per-example sum, against an untied twin whose two gradients must add up to the tied one, and
// against torch.autograd (tests/nn/shared19_pytorch.py).
//
// Tolerances (double, relative in the max norm per tensor; tests/support/model_checks.hpp says
// why): autodiff vs reference ≤ 1e-12; vs central differences with h = 1e-6, ≤ 1e-6; the batched
// gradient (the chunk program of 4 examples, ModelExpression<M, 4>) vs the per-example sum
// ≤ 1e-12; tied vs the sum of the untied twin's two gradients ≤ 1e-12 (the same products, added
// in another order); PyTorch (float64) ≤ 1e-10; the forward pass vs the formula ≤ 1e-14.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/nn/shared.hpp"
#include "typegrad/reference/shared.hpp"
#include "typegrad/typegrad.hpp"
#include "../support/model_checks.hpp"

using namespace typegrad;

namespace {

// a tied autoencoder 7 → 4 → 7: the decoder is y = W_enc h + c, the encoder's W transposed, its own c
constexpr auto enc = shared<"enc">(dense<4, 7>);
using TiedAutoencoder = Model<double, decltype(input<7> | enc | tanh_ | tied_transpose(enc) | sigmoid)>;
// one hidden layer applied twice (Keras: one layer object called twice)
constexpr auto hidden = shared<"h">(dense<5, 5>);
using Twice = Model<double, decltype(input<6> | dense<5> | tanh_ | hidden | tanh_ | same(hidden) | tanh_ | dense<3> | softmax),
                    cost::LogLikelihood>;
// W used three times: its own layer, transposed, and its layer again (b twice)
constexpr auto e = shared<"e">(linear<6, 4>);
using Thrice = Model<double, decltype(input<6> | e | tanh_ | tied_transpose(e) | tanh_ | same(e) | sigmoid)>;
// the tied autoencoder's untied twin: its decoder has a W of its own
using Untied = Model<double, decltype(input<7> | dense<4> | tanh_ | dense<7> | sigmoid)>;

using test::batched_is_sum;
using test::three_way;

}  // namespace

TEST_CASE("shared parameters: stored once, at the owner", "[nn][shared]") {
    using S = TiedAutoencoder::composition;
    STATIC_REQUIRE(std::is_same_v<S::shape_at<3>, Shape<7>>);                    // tied_transpose: back to n_in
    STATIC_REQUIRE(S::parameter_layers == 2);                                    // the owner, the decoder's bias
    STATIC_REQUIRE(TiedAutoencoder::parameter_count == 7 * 4 + 4 + 7);           // W once
    STATIC_REQUIRE(std::is_same_v<TiedAutoencoder::weights_type<0>, Tensor<double, Shape<7, 4>>>);
    STATIC_REQUIRE(Twice::parameter_count == 6 * 5 + 5 + 5 * 5 + 5 + 5 * 3 + 3);  // same(h) adds nothing
    STATIC_REQUIRE(Twice::layers == 3);
    STATIC_REQUIRE(Thrice::parameter_count == 6 * 4 + 4 + 6);
    CHECK(layers_description<S>() == "input<7> | shared<\"enc\">(dense<4>) | tanh | tied_transpose<\"enc\"> | σ");
    CHECK(layers_description<Twice::composition>() ==
          "input<6> | dense<5> | tanh | shared<\"h\">(dense<5>) | tanh | same<\"h\"> | tanh | dense<3> | softmax");
    // the owner starts as its layer would on its own (PyTorch's bound), the decoder's bias as
    // nn.Linear(4, 7)'s
    const TiedAutoencoder net{3};
    for (double w : net.weights<0>()) CHECK(std::abs(w) <= 1 / std::sqrt(7.0));
    for (double b : net.biases<1>()) CHECK(std::abs(b) <= 1 / std::sqrt(4.0));
}

TEST_CASE("shared parameters: the forward pass uses the owner's tensors", "[nn][shared]") {
    TiedAutoencoder net{5};
    Rng rng(6);
    TiedAutoencoder::input_type x;
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    // by hand: h = tanh(Wᵀx + b), y = σ(W h + c)
    const auto& W = net.weights<0>();
    std::vector<double> h(4), y(7);
    for (std::size_t j = 0; j < 4; ++j) {
        double s = net.biases<0>()[j];
        for (std::size_t i = 0; i < 7; ++i) s += W(i, j) * x[i];
        h[j] = std::tanh(s);
    }
    const auto out = net.forward(x);
    for (std::size_t i = 0; i < 7; ++i) {
        double s = net.biases<1>()[i];
        for (std::size_t j = 0; j < 4; ++j) s += W(i, j) * h[j];
        CHECK_THAT(out[i], Catch::Matchers::WithinRel(1 / (1 + std::exp(-s)), 1e-14));
    }
    // and changing the owner's W changes the decoder too
    net.weights<0>()(6, 3) += 0.5;
    const auto changed = net.forward(x);
    CHECK(std::abs(changed[6] - out[6]) > 1e-3);
}

TEST_CASE("tied autoencoder: autodiff = reference = finite differences", "[nn][shared][gradient]") { three_way<TiedAutoencoder>(11); }
TEST_CASE("one layer applied twice: autodiff = reference = finite differences", "[nn][shared][gradient]") { three_way<Twice>(12); }
TEST_CASE("W used three times: autodiff = reference = finite differences", "[nn][shared][gradient]") { three_way<Thrice>(13); }

TEST_CASE("shared parameters in a batch: the chunk's gradient is the sum of the per-example ones", "[nn][shared][batched]") {
    batched_is_sum<TiedAutoencoder, 4>(21);
    batched_is_sum<Twice, 4>(22);
    batched_is_sum<Thrice, 4>(23);
}

TEST_CASE("tied gradient = encoder's + decoder's transposed, of the untied twin", "[nn][shared][gradient]") {
    TiedAutoencoder tied{31};
    Untied untied{32};
    untied.weights<0>() = tied.weights<0>();
    untied.biases<0>() = tied.biases<0>();
    untied.weights<1>() = xt::transpose(tied.weights<0>());
    untied.biases<1>() = tied.biases<1>();
    Rng rng(33);
    TiedAutoencoder::input_type x;
    TiedAutoencoder::output_type y;
    test::uniform_example<TiedAutoencoder>(rng, x, y);
    const auto g = autodiff::backprop(tied, x, y);
    const auto u = autodiff::backprop(untied, x, y);
    const Tensor<double, Shape<7, 4>> encoder = u.weights<0>(), decoder = xt::transpose(u.weights<1>());
    const Tensor<double, Shape<7, 4>> both = encoder + decoder;
    CHECK(relative_error(g.weights<0>(), both) <= 1e-12);
    CHECK(relative_error(g.biases<0>(), u.biases<0>()) <= 1e-12);
    CHECK(relative_error(g.biases<1>(), u.biases<1>()) <= 1e-12);
    // both uses count: the tied gradient is neither part alone
    CHECK(relative_error(g.weights<0>(), encoder) > 1e-3);
    CHECK(relative_error(g.weights<0>(), decoder) > 1e-3);
    // the reference agrees
    const auto r = reference::backprop(tied, x, y);
    CHECK(relative_error(r.weights<0>(), both) <= 1e-12);
}

TEST_CASE("shared parameters in derive: one W, two uses, one summed gradient", "[nn][shared][print]") {
    const auto lines = autodiff::derivation<TiedAutoencoder>();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    INFO(all);
    for (const char* line : {"z₀ = W₀ᵀ x + b₀", "z₁ = W₀ a₀ + b₁", "δ₀ = (W₀ᵀ δ₁) ⊙ tanh'(z₀)", "∂J/∂b₁ = δ₁",
                             "∂J/∂W₀ = x δ₀ᵀ + δ₁ a₀ᵀ"})
        CHECK(std::find(lines.begin(), lines.end(), line) != lines.end());
    // a layer applied twice: the second use is z₁′, and ∂J/∂W₁ sums both uses
    const auto twice = autodiff::derivation<Twice>();
    std::string t;
    for (const auto& l : twice) t += l + "\n";
    INFO(t);
    for (const char* line : {"z₁ = W₁ᵀ a₀ + b₁", "z₁′ = W₁ᵀ a₁ + b₁", "a₁′ = tanh(z₁′)", "z₂ = W₂ᵀ a₁′ + b₂",
                             "∂J/∂W₁ = a₀ δ₁ᵀ + a₁ ((W₂ δ₂) ⊙ tanh'(z₁′))ᵀ", "∂J/∂b₁ = δ₁ + (W₂ δ₂) ⊙ tanh'(z₁′)"})
        CHECK(std::find(twice.begin(), twice.end(), line) != twice.end());
}

// ≤ 1e-10 relative (cost, and every gradient tensor in the max norm) against torch.autograd in
// float64 (issue 19's acceptance): PyTorch ties by using the one nn.Parameter twice,
// F.linear(h, enc.weight.t(), c), and sums the gradients the same way.
TEST_CASE("shared and tied weights: the same cost and gradients as PyTorch", "[nn][shared][pytorch]") {
    const auto script = std::filesystem::path(__FILE__).parent_path() / "shared19_pytorch.py";
    test::agrees_with_pytorch<TiedAutoencoder, 4>(script, "tied_autoencoder", 41);
    test::agrees_with_pytorch<Twice, 4>(script, "twice", 42);
    test::agrees_with_pytorch<Thrice, 4>(script, "thrice", 43);
}
