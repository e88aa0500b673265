// layer_norm, built in (issue 19, item 3): y = (x − μ)/√(σ² + ε) ⊙ γ + β over the features of
// each example, ε = 1e-5, σ² the biased variance (PyTorch's nn.LayerNorm(n)). Its expression is
// made of the per-example reductions (expr/reduce.hpp); its reference rule is the textbook
// backward (reference/layer_norm.hpp). Checked here:
//  - forward, autodiff's and the reference's, against a plain loop, for one example and a batch;
//  - the three-way check (autodiff vs reference vs central finite differences) in a chain with
//    GELU and inside a residual block;
//  - the batched gradient against the sum of the per-example ones;
//  - γ and β start at 1 and 0 under every init::Scheme (inside a block too) and are not decayed
//    by L2 with any optimizer;
//  - its name in checkpoints and derive;
//  - PyTorch (float64, torch.autograd, nn.LayerNorm + nn.GELU) on the same weights and inputs,
//    when a python3 with torch is found (else skipped with a message).
//
// Tolerances (double): forward against the plain loop ≤ 1e-14 relative (the same operations,
// maybe in another order); a batch's rows against its examples one at a time: equal bits (one
// loop per group); autodiff vs reference ≤ 1e-12 relative in the max norm per tensor (the same
// derivative, computed in another order); vs central differences with h = 1e-6 ≤ 1e-6 (truncation
// O(h²) ≈ 1e-12, rounding ≈ ε·J/h ≈ 1e-10, a little more through 1/σ ≤ 1/√ε); batched vs summed
// ≤ 1e-12; against PyTorch ≤ 1e-10 relative per tensor (issue 19's acceptance).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

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

using Alone = Model<double, decltype(input<7> | layer_norm)>;
using LnGelu = Model<double, decltype(input<8> | dense<6> | layer_norm | gelu | dense<3> | softmax), cost::LogLikelihood>;
using LnResidual = Model<double, decltype(input<6> | dense<6> | residual(layer_norm | dense<6> | tanh_) | dense<3> | sigmoid)>;

/// γ and β of every layer_norm of net (inside blocks too) away from 1 and 0, so that a swapped,
/// ignored or transposed one would show.
template <class M>
void perturb_norm(M& net, std::uint64_t seed) {
    Rng rng(seed);
    net.for_each_parameter([&](auto ref, auto& t) {
        if constexpr (decltype(ref)::name == std::string_view("γ"))
            for (auto& v : t) v = rng.uniform(0.5, 1.5);
        else if constexpr (decltype(ref)::name == std::string_view("β"))
            for (auto& v : t) v = rng.uniform(-0.5, 0.5);
    });
}

/// The plain formula, one example of n features.
std::vector<double> plain_layer_norm(const double* x, const double* gamma, const double* beta, std::size_t n) {
    double mu = 0;
    for (std::size_t i = 0; i < n; ++i) mu += x[i];
    mu /= double(n);
    double var = 0;
    for (std::size_t i = 0; i < n; ++i) var += (x[i] - mu) * (x[i] - mu);
    var /= double(n);
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i) y[i] = (x[i] - mu) / std::sqrt(var + 1e-5) * gamma[i] + beta[i];
    return y;
}

double max_relative(const double* a, const double* b, std::size_t n) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        num = std::max(num, std::abs(a[i] - b[i]));
        den = std::max({den, std::abs(a[i]), std::abs(b[i])});
    }
    return den == 0 ? num : num / den;
}

template <class M>
void random_signed_example(Rng& rng, typename M::input_type& x, typename M::output_type& y) {
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    y.fill(0);
    y[rng.below(M::output_width)] = 1;
}

template <class M>
void three_way(std::uint64_t seed) {
    M net{seed};
    perturb_norm(net, seed + 1);
    Rng rng(seed + 2);
    for (int example = 0; example < 4; ++example) {
        typename M::input_type x;
        typename M::output_type y;
        random_signed_example<M>(rng, x, y);
        INFO("example " << example);
        const auto r = gradcheck(net, x, y, {.step = 1e-6});
        CHECK(r.fd_entries == M::parameter_count);  // γ and β included
        CHECK(r.autodiff_vs_reference <= 1e-12);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
    }
}

/// Every γ of net is 1 and every β is 0; returns how many such tensors there are.
template <class M>
int norm_at_start(const M& net) {
    int tensors = 0;
    net.for_each_parameter([&](auto ref, const auto& t) {
        if constexpr (decltype(ref)::name == std::string_view("γ")) {
            ++tensors;
            for (double v : t) CHECK(v == 1.0);
        } else if constexpr (decltype(ref)::name == std::string_view("β")) {
            ++tensors;
            for (double v : t) CHECK(v == 0.0);
        }
    });
    return tensors;
}

}  // namespace

TEST_CASE("layer_norm: shape, parameters, names", "[nn][layer_norm]") {
    using S = LnGelu::composition;
    STATIC_REQUIRE(Layer<LayerNorm>);
    STATIC_REQUIRE(S::parameter_layers == 3);  // dense, layer_norm, dense
    STATIC_REQUIRE(std::is_same_v<S::shape_at<2>, Shape<6>>);
    STATIC_REQUIRE(LnGelu::parameter_count == 8 * 6 + 6 + 6 + 6 + 6 * 3 + 3);
    STATIC_REQUIRE(LnResidual::parameter_count == 6 * 6 + 6 + (6 + 6 + 6 * 6 + 6) + 6 * 3 + 3);
    CHECK(layers_description<S>() == "input<8> | dense<6> | layer_norm | gelu | dense<3> | softmax");
    CHECK(layers_description<LnResidual::composition>() ==
          "input<6> | dense<6> | residual(layer_norm | dense<6> | tanh) | dense<3> | σ");
    const LnGelu net{1};
    for (double g : net.parameter<1, "γ">()) CHECK(g == 1.0);
    for (double b : net.parameter<1, "β">()) CHECK(b == 0.0);

    // derive: the statistics are per-example reductions, the parameters γ₁ and β₁
    const auto lines = autodiff::derivation<LnGelu>();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    INFO(all);
    CHECK_THAT(all, Catch::Contains("mean₋₁(") && Catch::Contains("rsqrtε(") && Catch::Contains("γ₁") &&
                        Catch::Contains("∂J/∂γ₁ =") && Catch::Contains("∂J/∂β₁ ="));
    // the statistics by name (named_node): forward c, σ², r, x̂; backward δx̂ → δr → δσ² → δc
    for (const char* line : {"c₁ = z₀ − mean₋₁(z₀)\n", "σ²₁ = mean₋₁(c₁ ⊙ c₁)\n", "r₁ = rsqrtε(σ²₁)\n", "x̂₁ = c₁ ⊙ r₁\n",
                             "δr₁ = δx̂₁ ⊙ c₁\n", "δσ²₁ = δr₁ ⊙ rsqrtε'(σ²₁)\n",
                             "δc₁ = mean₋₁(δσ²₁) ⊙ c₁ + mean₋₁(δσ²₁) ⊙ c₁ + δx̂₁ ⊙ r₁\n", "∂J/∂γ₁ = ((W₂ δ₂) ⊙ gelu'(a₀)) ⊙ x̂₁\n"}) {
        INFO(line);
        CHECK_THAT(all, Catch::Contains(line));
    }
    CHECK(all.find("δx̂₁ = ") < all.find("δr₁ = "));
    CHECK(all.find("δσ²₁ = ") < all.find("δc₁ = "));
}

TEST_CASE("layer_norm: forward against the plain formula, one example and a batch", "[nn][layer_norm]") {
    Alone net{2};
    perturb_norm(net, 3);
    const auto& p = std::get<0>(net.parameters());
    const double* gamma = p.get<"γ">().data();
    const double* beta = p.get<"β">().data();
    Rng rng(4);
    constexpr std::size_t B = 4;
    std::vector<double> X(B * 7);
    for (std::size_t b = 0; b < B; ++b) {
        Alone::input_type x;
        for (auto& v : x) v = rng.uniform(-3.0, 3.0);
        if (b == 3) x.fill(0.75);  // a constant example: σ² = 0, y = β
        std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(b * 7));
        const auto expected = plain_layer_norm(x.data(), gamma, beta, 7);
        const auto y = net.forward(x);
        INFO("example " << b);
        CHECK(max_relative(y.data(), expected.data(), 7) <= 1e-14);
        Alone::output_type r;
        reference::rule<LayerNorm>::forward<Shape<7>>(p, x.data(), r.data());
        CHECK(max_relative(r.data(), expected.data(), 7) <= 1e-14);
        if (b == 3) CHECK(max_relative(y.data(), beta, 7) <= 1e-14);
    }
    // the batched forward sweep gives the same bits, row by row
    std::vector<double> Y(B * 7, 0.0);
    autodiff::Workspace<Alone, B> ws;
    Gradients<Alone> g;
    autodiff::backprop_batch_into(net, X.data(), Y.data(), g, ws);
    const double* rows = ws.program.template value<typename autodiff::ModelExpression<Alone, B>::output>();
    for (std::size_t b = 0; b < B; ++b) {
        Alone::input_type x;
        std::copy_n(X.begin() + static_cast<std::ptrdiff_t>(b * 7), 7, x.begin());
        const auto y = net.forward(x);
        INFO("example " << b);
        CHECK(std::equal(y.begin(), y.end(), rows + b * 7));
    }
}

TEST_CASE("layer_norm: autodiff = reference = finite differences", "[nn][layer_norm][gradient]") {
    SECTION("in a chain with GELU") { three_way<LnGelu>(11); }
    SECTION("inside a residual block") { three_way<LnResidual>(12); }
    SECTION("alone after the input (no ∂J/∂x needed)") { three_way<Model<double, decltype(input<5> | layer_norm | sigmoid)>>(13); }
}

TEST_CASE("layer_norm in a batch: the batched gradient is the sum of the per-example ones", "[nn][layer_norm][batched]") {
    test::batched_is_sum<LnGelu, 4>(21, [](auto& net) { perturb_norm(net, 22); });
    test::batched_is_sum<LnResidual, 3>(22, [](auto& net) { perturb_norm(net, 23); });
}

TEST_CASE("layer_norm: γ and β start at 1 and 0 under every --init scheme", "[nn][layer_norm][init]") {
    using init::Scheme;
    for (Scheme s : {Scheme::automatic, Scheme::article, Scheme::pytorch, Scheme::network2, Scheme::glorot, Scheme::he}) {
        INFO("scheme " << init::scheme_name(s));
        CHECK(norm_at_start(LnGelu{31, s}) == 2);
        CHECK(norm_at_start(LnResidual{32, s}) == 2);  // inside the residual block too
    }
    // the dense layers around it are drawn by the scheme (PyTorch's bound), as without layer_norm
    const LnGelu torch_like{33, Scheme::pytorch};
    for (double w : torch_like.weights<2>()) CHECK(std::abs(w) <= 1 / std::sqrt(6.0));
}

TEST_CASE("layer_norm: L2 decays the weights W, never γ and β", "[nn][layer_norm][train]") {
    // one step with a zero gradient and λ > 0: only the decay moves anything
    const auto check = [](auto optimizer) {
        LnResidual net{41};
        perturb_norm(net, 42);
        const LnResidual before = net;
        Gradients<LnResidual> zero;
        zero.for_each_parameter([](auto, auto& t) { t.fill(0.0); });
        optimizer.step(net, zero, train::Step{.eta = 0.1, .batch = 1, .training_examples = 10, .lambda = 5.0});
        int moved_w = 0;
        for_each_parameter(net, zero, [&](auto ref, const auto& t, const auto&) {
            constexpr std::string_view name = decltype(ref)::name;
            const auto& old = std::get<decltype(ref)::position>(before.parameters()).template at<decltype(ref)::index>();
            INFO(train::optimizer_name(optimizer) << ": " << decltype(ref)::description());
            if constexpr (name == "W") moved_w += !(t == old);
            else CHECK((t == old));  // γ, β and the biases keep their values
        });
        CHECK(moved_w == 3);  // the two dense layers' and the residual's inner one
    };
    check(train::Sgd{});
    check(train::Momentum{});
    check(train::Adam{});
}

TEST_CASE("layer_norm trains, and γ, β go through checkpoints", "[nn][layer_norm][train][io]") {
    using M = Model<float, decltype(input<784> | dense<30> | layer_norm | gelu | dense<10> | softmax), cost::LogLikelihood>;
    const auto data = data::synthetic_split(1000, 300, 7);
    M net{8};
    train::Trainer<M> trainer(net, {.epochs = 1, .batch = 10, .eta = 0.1, .seed = 9});
    const auto history = trainer.run(data.train, data.test);
    CHECK(history.back().accuracy > 0.5);  // ten classes: chance is 0.1
    bool moved = false;
    for (float g : net.parameter<1, "γ">()) moved |= g != 1.0f;
    CHECK(moved);

    const auto file = std::filesystem::temp_directory_path() / ("typegrad_layer_norm19_" + std::to_string(::getpid()) + ".tgck");
    io::save_checkpoint(file, net, trainer.state());
    M loaded{1};
    io::load_checkpoint(file, loaded);
    CHECK(io::checkpoint_payload(loaded) == io::checkpoint_payload(net));
    CHECK((loaded.parameter<1, "γ">() == net.parameter<1, "γ">()));
    CHECK((loaded.parameter<1, "β">() == net.parameter<1, "β">()));
    const auto header = io::read_checkpoint_file(file).header;
    CHECK(header.layers == "input<784> | dense<30> | layer_norm | gelu | dense<10> | softmax");
    CHECK(header.parameter_sizes == std::vector<std::uint64_t>{784 * 30, 30, 30, 30, 30 * 10, 10});
    std::filesystem::remove(file);
}

// ≤ 1e-10 relative per tensor (max norm) against torch.autograd in float64 (issue 19's acceptance:
// "LayerNorm + GELU"), for one example and for a batch of 5.
TEST_CASE("layer_norm + gelu: the same outputs, cost and gradients as PyTorch", "[nn][layer_norm][pytorch]") {
    constexpr std::size_t B = 5;
    LnGelu m{51, init::Scheme::pytorch};
    perturb_norm(m, 52);
    Rng rng(53);
    std::vector<LnGelu::input_type> xs(B);
    std::vector<LnGelu::output_type> ys(B);
    for (std::size_t b = 0; b < B; ++b) {
        random_signed_example<LnGelu>(rng, xs[b], ys[b]);
        for (auto& v : xs[b]) v *= 2;
    }
    test::check_model_against_torch<B>(m, xs, ys,
                                       std::filesystem::path(__FILE__).parent_path() / "layer_norm19_pytorch.py", 1e-10);
}
