// A model's cost, outputs and gradients against PyTorch's, for one example and for a batch: the
// test writes the examples and parameters as float64 files, a script of its own rebuilds the model
// in torch and prints what torch.autograd computes (see pytorch.hpp).
#pragma once

#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "typegrad/typegrad.hpp"
#include "pytorch.hpp"

namespace typegrad::test {

/// Runs `python script DIR N` — DIR holding x.f64 (N examples), y.f64 (their targets) and p0.f64,
/// p1.f64, … (m's parameters in its parameter order) — which prints PyTorch's summed cost, the
/// outputs of the N examples, then the gradient of every parameter, one tensor per line. CHECKs
/// typegrad's against them, ≤ tol relative per tensor (max norm): in one SECTION for xs[0] alone,
/// in another for all of xs as one batch (the autodiff engine's batched path, B = xs.size()).
/// Skipped, with a warning that says so, when no python3 imports torch and numpy.
template <std::size_t B, class M>
void check_model_against_torch(const M& m, const std::vector<typename M::input_type>& xs,
                               const std::vector<typename M::output_type>& ys, const std::filesystem::path& script,
                               double tol) {
    const std::string python = torch_python();
    if (python.empty()) {
        WARN("no python3 that imports torch and numpy (Debian: python3-torch): skipping the PyTorch comparison");
        return;
    }
    REQUIRE(xs.size() == B);
    REQUIRE(ys.size() == B);
    std::vector<double> X, Y;
    for (std::size_t b = 0; b < B; ++b) {
        X.insert(X.end(), xs[b].begin(), xs[b].end());
        Y.insert(Y.end(), ys[b].begin(), ys[b].end());
    }
    const auto ask_torch = [&](std::size_t batch) {
        const auto dir = std::filesystem::temp_directory_path() /
                         ("typegrad_torch_" + script.stem().string() + "_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        write_f64(dir / "x.f64", X.data(), batch * M::input_width);
        write_f64(dir / "y.f64", Y.data(), batch * M::output_width);
        int k = 0;
        m.for_each_parameter([&](auto, const auto& t) { write_f64(dir / ("p" + std::to_string(k++) + ".f64"), t); });
        std::string out = run_command(python + " " + script.string() + " " + dir.string() + " " + std::to_string(batch));
        std::filesystem::remove_all(dir);
        return out;
    };
    SECTION("one example") {
        std::istringstream torch_out(ask_torch(1));
        double torch_cost = 0;
        REQUIRE(torch_out >> torch_cost);
        CHECK_THAT(autodiff::cost(m, xs[0], ys[0]), Catch::Matchers::WithinRel(torch_cost, tol));
        check_against(torch_out, m.forward(xs[0]), tol);
        const auto g = autodiff::backprop(m, xs[0], ys[0]);
        for_each_parameter(m, g, [&](auto r, auto&, const auto& dp) {
            INFO("∂J/∂ " << decltype(r)::description());
            check_against(torch_out, dp, tol);
        });
    }
    SECTION("a batch: the summed cost and gradient") {
        std::istringstream torch_out(ask_torch(B));
        double torch_cost = 0;
        REQUIRE(torch_out >> torch_cost);
        Gradients<M> g;
        autodiff::Workspace<M, B> ws;
        const double j = autodiff::backprop_batch_into(m, X.data(), Y.data(), g, ws);
        CHECK_THAT(j, Catch::Matchers::WithinRel(torch_cost, tol));
        std::vector<double> outputs;
        for (const auto& x : xs) {
            const auto a = m.forward(x);
            outputs.insert(outputs.end(), a.begin(), a.end());
        }
        check_against(torch_out, outputs, tol);
        for_each_parameter(m, g, [&](auto r, auto&, const auto& dp) {
            INFO("∂J/∂ " << decltype(r)::description());
            check_against(torch_out, dp, tol);
        });
    }
}

}  // namespace typegrad::test
