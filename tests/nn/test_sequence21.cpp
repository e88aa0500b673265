// Activations of rank 2 (issue 21, item 1): a sequence (T, D). A dense layer applies at every
// position to the last axis (PyTorch's Linear), W (D, Out) shared by the positions; layer_norm
// normalises every position over its D features with γ, β (D) shared (nn.LayerNorm(D));
// activations and residual blocks act elementwise as on a vector; flatten turns (T, D) into T·D.
// The batch stays the leading extent: (B, T, D). Checked here:
//  - shapes and parameter counts;
//  - the forward pass against a plain loop over the positions;
//  - the three-way check (autodiff vs the hand-written reference, whose dense and layer_norm
//    rules loop over the positions, vs central finite differences) in double, for a classifier
//    on sequences and for a network whose output is itself a sequence (T, 2);
//  - the batched gradient against the sum of the per-example ones;
//  - PyTorch (float64, torch.autograd) on the same weights and inputs, when a python3 with torch is
//    found (else skipped with a message).
//
// Tolerances (double), as test_layer_norm19's: forward against the plain loop ≤ 1e-13 relative;
// autodiff vs reference ≤ 1e-12 relative in the max norm per tensor (the same derivative in
// another order); vs central differences with h = 1e-6 ≤ 1e-6 (truncation O(h²), rounding
// ≈ ε·J/h); batched vs summed ≤ 1e-12; against PyTorch ≤ 1e-10 relative per tensor.
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

// 5 positions of 4 features -> 6 per position -> a residual block per position -> 3 classes
using SeqNet = Model<double,
                     decltype(input<5, 4> | dense<6> | gelu | residual(layer_norm | dense<6> | tanh_) | layer_norm |
                              flatten | dense<3> | softmax),
                     cost::LogLikelihood>;
// the output is a sequence too: 2 values per position, the quadratic cost over all of them
using SeqOut = Model<double, decltype(input<4, 3> | dense<5> | relu | dense<2>)>;

template <class M>
void perturb_norm(M& net, std::uint64_t seed) {
    Rng rng(seed);
    net.for_each_parameter([&](auto ref, auto& t) {
        if constexpr (decltype(ref)::name == std::string_view("γ"))
            for (auto& v : t) v = rng.uniform(0.5, 1.5);
        else if constexpr (decltype(ref)::name == std::string_view("β"))
            for (auto& v : t) v = rng.uniform(-0.5, 0.5);
        else if constexpr (decltype(ref)::name == std::string_view("b"))
            for (auto& v : t) v = rng.uniform(-0.3, 0.3);  // biases away from 0: a swapped one would show
    });
}


double max_relative(const double* a, const double* b, std::size_t n) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        num = std::max(num, std::abs(a[i] - b[i]));
        den = std::max({den, std::abs(a[i]), std::abs(b[i])});
    }
    return den == 0 ? num : num / den;
}

}  // namespace

TEST_CASE("a sequence (T, D): dense and layer_norm at every position, their shapes and parameters", "[nn][sequence]") {
    using S = SeqNet::composition;
    // shape_at<K>: the input of layer K
    STATIC_REQUIRE(std::is_same_v<S::shape_at<0>, Shape<5, 4>>);
    STATIC_REQUIRE(std::is_same_v<S::shape_at<1>, Shape<5, 6>>);  // dense<6> on (5, 4)
    STATIC_REQUIRE(std::is_same_v<S::shape_at<3>, Shape<5, 6>>);  // the residual block keeps it
    STATIC_REQUIRE(std::is_same_v<S::shape_at<5>, Shape<30>>);    // flatten
    // W (4, 6) and b (6) once, not per position; γ, β (6) per layer_norm
    STATIC_REQUIRE(SeqNet::parameter_count == 4 * 6 + 6 + (6 + 6 + 6 * 6 + 6) + 6 + 6 + 30 * 3 + 3);
    STATIC_REQUIRE(std::is_same_v<SeqOut::output_type::shape_type, xt::fixed_shape<4, 2>>);
    CHECK(layers_description<S>() ==
          "input<5, 4> | dense<6> | gelu | residual(layer_norm | dense<6> | tanh) | layer_norm | flatten | dense<3> | "
          "softmax");
}

TEST_CASE("a sequence: the forward pass is the layers applied position by position", "[nn][sequence]") {
    SeqOut net{3, init::Scheme::pytorch};
    perturb_norm(net, 4);
    Rng rng(5);
    SeqOut::input_type x;
    for (auto& v : x) v = rng.uniform(-2.0, 2.0);
    const auto& W0 = net.weights<0>();
    const auto& b0 = net.biases<0>();
    const auto& W2 = net.weights<1>();
    const auto& b2 = net.biases<1>();
    std::vector<double> expected;
    for (std::size_t t = 0; t < 4; ++t) {
        double h[5];
        for (std::size_t j = 0; j < 5; ++j) {
            double z = b0(j);
            for (std::size_t i = 0; i < 3; ++i) z += W0(i, j) * x(t, i);
            h[j] = std::max(z, 0.0);
        }
        for (std::size_t k = 0; k < 2; ++k) {
            double z = b2(k);
            for (std::size_t j = 0; j < 5; ++j) z += W2(j, k) * h[j];
            expected.push_back(z);
        }
    }
    const auto y = net.forward(x);
    CHECK(max_relative(y.data(), expected.data(), 8) <= 1e-13);
    // the reference's rules, position by position too
    reference::Workspace<SeqOut> ws;
    reference::detail::forward_layers(net, x.data(), ws);
    CHECK(max_relative(ws.buffers->values.template value<SeqOut::composition::depth - 1>().data(), expected.data(), 8) <=
          1e-13);
}

TEST_CASE("a sequence: autodiff = reference = finite differences", "[nn][sequence][gradient]") {
    SECTION("a classifier of sequences (dense, gelu, a residual block with layer_norm, flatten)") {
        test::three_way<SeqNet>(11, test::signed_example<SeqNet>, [](auto& net) { perturb_norm(net, 12); },
                                {init::Scheme::pytorch, 4});
    }
    SECTION("an output that is a sequence (T, 2), quadratic cost") {
        test::three_way<SeqOut>(12, test::signed_example<SeqOut>, [](auto& net) { perturb_norm(net, 13); },
                                {init::Scheme::pytorch, 4});
    }
}

TEST_CASE("a batch of sequences (B, T, D): the batched gradient is the sum of the per-example ones", "[nn][sequence][batched]") {
    test::batched_is_sum<SeqNet, 4>(21, [](auto& net) { perturb_norm(net, 22); });
    test::batched_is_sum<SeqOut, 3>(23, [](auto& net) { perturb_norm(net, 24); });
}

// ≤ 1e-10 relative per tensor against torch.autograd in float64, for one example and a batch of 3.
TEST_CASE("a sequence network: the same outputs, cost and gradients as PyTorch", "[nn][sequence][pytorch]") {
    constexpr std::size_t B = 3;
    SeqNet m{51, init::Scheme::pytorch};
    perturb_norm(m, 52);
    Rng rng(53);
    std::vector<SeqNet::input_type> xs(B);
    std::vector<SeqNet::output_type> ys(B);
    for (std::size_t b = 0; b < B; ++b) test::signed_example<SeqNet>(rng, xs[b], ys[b]);
    test::check_model_against_torch<B>(m, xs, ys,
                                       std::filesystem::path(__FILE__).parent_path() / "sequence21_pytorch.py", 1e-10);
}
