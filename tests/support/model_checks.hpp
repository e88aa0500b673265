// Test support: the checks every new kind of network of issue 19 goes through, for a model type M
// in double — the three-way gradient check (autodiff vs reference vs central differences), the
// batched gradient vs the per-example sum, and the batched cost and gradient vs torch.autograd
// (a script of the test's, run as tests/support/pytorch.hpp describes). Inputs are U(−1, 1),
// targets one-hot.
//
// Tolerances (relative in the max norm per tensor): autodiff vs reference ≤ 1e-12 (the same
// operations up to rounding, in another order); vs central differences with h = 1e-6, ≤ 1e-6
// (truncation O(h²) ≈ 1e-12, rounding ≈ ε·J/h ≈ 1e-10); batched vs summed ≤ 1e-12; PyTorch
// (float64) ≤ 1e-10.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "typegrad/typegrad.hpp"
#include "gradient_check.hpp"
#include "pytorch.hpp"

namespace typegrad::test {

/// x ~ U(−1, 1), y one-hot.
template <class M>
void uniform_example(Rng& rng, typename M::input_type& x, typename M::output_type& y) {
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    y.fill(0);
    y[rng.below(M::output_width)] = 1;
}

/// What runs on a model after its construction in the checks below (e.g. moving a
/// normalisation's γ and β off 1 and 0): nothing by default.
struct NoPreparation {
    template <class M>
    void operator()(M&) const noexcept {}
};
/// How a check draws its examples: make(rng, x, y), uniform_example by default.
template <class M>
using ExampleMaker = void (*)(Rng&, typename M::input_type&, typename M::output_type&);

/// x ~ U(−1, 1); y one-hot for a log-likelihood cost, else ~ U(−1, 1) (a regression's targets).
template <class M>
void signed_example(Rng& rng, typename M::input_type& x, typename M::output_type& y) {
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    if constexpr (std::is_same_v<typename M::cost_type, cost::LogLikelihood>) {
        y.fill(0);
        y[rng.below(M::output_width)] = 1;
    } else {
        for (auto& v : y) v = rng.uniform(-1.0, 1.0);
    }
}

/// How the three-way check builds its model and how many examples it draws.
struct ThreeWayOptions {
    init::Scheme scheme = init::Scheme::automatic;
    int examples = 3;
};

/// The three-way check: net = M{seed, options.scheme}, then prepare(net); on options.examples
/// examples that make draws (from Rng(seed + 1)), every layer has its reference rule and every
/// parameter is differenced. Tolerances (double): autodiff vs reference ≤ 1e-12 relative per
/// tensor (the same derivative in another order); each vs central differences with h = 1e-6
/// ≤ 1e-6 (truncation O(h²), rounding ≈ ε·J/h).
template <class M, class Prepare = NoPreparation>
void three_way(std::uint64_t seed, ExampleMaker<M> make = &uniform_example<M>, Prepare prepare = {},
               ThreeWayOptions options = {}) {
    M net{seed, options.scheme};
    prepare(net);
    Rng rng(seed + 1);
    for (int example = 0; example < options.examples; ++example) {
        typename M::input_type x;
        typename M::output_type y;
        make(rng, x, y);
        INFO("example " << example);
        const auto r = gradcheck(net, x, y, {.step = 1e-6});
        CHECK(r.reference);
        CHECK(r.autodiff_vs_reference <= 1e-12);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
        CHECK(r.fd_entries == M::parameter_count);
    }
}

/// The gradient of a chunk of B examples (the batched program, ModelExpression<M, B>) = the sum
/// of the reference's per-example gradients (and of the engine's own, one example at a time).
template <class M, std::size_t B, class Prepare = NoPreparation>
void batched_is_sum(std::uint64_t seed, Prepare prepare = {}, ExampleMaker<M> make = &uniform_example<M>) {
    M net{seed};
    prepare(net);
    Rng rng(seed + 2);
    std::vector<double> X(B * M::input_width), Y(B * M::output_width);
    Gradients<M> sum, batched, one_by_one;
    reference::Workspace<M> ws;
    autodiff::Workspace<M, 1> one;
    for (std::size_t b = 0; b < B; ++b) {
        typename M::input_type x;
        typename M::output_type y;
        make(rng, x, y);
        std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(b * M::input_width));
        std::copy(y.begin(), y.end(), Y.begin() + static_cast<std::ptrdiff_t>(b * M::output_width));
        const auto acc = b == 0 ? Accumulate::no : Accumulate::yes;
        reference::backprop_into(net, x, y, sum, ws, acc);
        autodiff::backprop_into(net, x, y, one_by_one, one, acc);
    }
    autodiff::Workspace<M, B> aws;
    autodiff::backprop_batch_into(net, X.data(), Y.data(), batched, aws);
    check_close(sum, batched, 1e-12);
    check_close(one_by_one, batched, 1e-12);
}


/// The summed cost and gradient of a batch of B examples, by the batched engine, against
/// torch.autograd in float64 on the same weights (PyTorch's initialisation) and inputs: `script`
/// MODEL DIR B prints the cost, then every gradient flattened, one tensor per line, in typegrad's
/// parameter order. Skipped, saying so, without a python3 that imports torch.
template <class M, std::size_t B>
void agrees_with_pytorch(const std::filesystem::path& script, const char* model, std::uint64_t seed) {
    const std::string python = torch_python();
    if (python.empty()) {
        WARN("no python3 that imports torch and numpy (Debian: python3-torch): skipping the PyTorch comparison");
        return;
    }
    M net{seed, init::Scheme::pytorch};
    Rng rng(seed + 3);
    std::vector<double> X(B * M::input_width), Y(B * M::output_width, 0.0);
    for (auto& v : X) v = rng.uniform(-1.0, 1.0);
    for (std::size_t b = 0; b < B; ++b) Y[b * M::output_width + rng.below(M::output_width)] = 1;
    const auto dir = std::filesystem::temp_directory_path() /
                     ("typegrad_" + script.stem().string() + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    write_f64(dir / "x.f64", X.data(), X.size());
    write_f64(dir / "y.f64", Y.data(), Y.size());
    int k = 0;
    net.for_each_parameter([&](auto, const auto& t) { write_f64(dir / ("p" + std::to_string(k++) + ".f64"), t); });
    std::istringstream torch_out(
        run_command(python + " " + script.string() + " " + model + " " + dir.string() + " " + std::to_string(B)));
    std::filesystem::remove_all(dir);

    Gradients<M> g;
    autodiff::Workspace<M, B> ws;
    const double cost = autodiff::backprop_batch_into(net, X.data(), Y.data(), g, ws);
    double torch_cost = 0;
    REQUIRE(torch_out >> torch_cost);
    CHECK_THAT(cost, Catch::Matchers::WithinRel(torch_cost, 1e-10));
    for_each_parameter(net, g, [&](auto r, auto&, const auto& dp) {
        INFO(model << ": ∂J/∂ " << decltype(r)::description());
        check_against(torch_out, dp, 1e-10);
    });
}

}  // namespace typegrad::test
