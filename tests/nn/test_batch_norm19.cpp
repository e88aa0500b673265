// batch_norm, built in (issue 19, item 3): PyTorch's BatchNorm1d on vectors and BatchNorm2d on
// images — batch statistics while training (a TrainingScope: the trainer's steps), the running
// mean and (unbiased) variance with momentum 0.1 otherwise. Checked here:
//  - forward in training against the reference's batch rule and a plain loop; in evaluation
//    against the reference's one-example rule;
//  - the three-way check in training on a batch of 8: autodiff (the whole batch as one program)
//    vs the hand-written layer-by-layer reference (reference/batch.hpp) vs central finite
//    differences of the batch's cost — for vectors and for images; and in evaluation, example by
//    example, with gradcheck (the running statistics included);
//  - (the trainer's cases are in test_batch_norm_train19.cpp: a translation unit each compiles
//    in about half the time of the two together;)
//  - PyTorch (float64, torch.autograd, training mode, a batch of 8) on a residual CNN with batch
//    norm: the cost, the outputs, every gradient, and the running statistics after the step; and
//    the outputs in evaluation mode. Skipped with a message without a python3 that imports torch.
//
// Tolerances (double): forward vs the plain loop and the reference ≤ 1e-13 relative; autodiff vs
// reference ≤ 1e-10 relative per tensor (the same derivative summed in another order, through
// 1/σ); vs central differences with h = 1e-6 ≤ 1e-6 (truncation O(h²), rounding ε·J/h ≈ 1e-10,
// amplified by 1/σ); running statistics ≤ 1e-13; against PyTorch ≤ 1e-10 (issue 19's acceptance).
// A bias right before batch norm has gradient 0 in exact arithmetic (the normalisation removes any
// per-channel constant): its computed values are rounding noise, compared with an absolute floor
// of 1e-14 (1e-8 against central differences, whose noise is ε·J/h) and checked to be ≤ 1e-14.
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
#include "typegrad/reference/batch.hpp"
#include "typegrad/reference/graph.hpp"
#include "typegrad/typegrad.hpp"
#include "batch_norm19.hpp"
#include "../support/gradient_check.hpp"
#include "../support/pytorch.hpp"

using namespace typegrad;
using test::B;
using test::perturb_norm;

namespace {

using BnVector = Model<double, decltype(input<6> | dense<5> | batch_norm | tanh_ | dense<3> | sigmoid)>;
using BnImage = Model<double, decltype(input<2, 5, 5> | conv2d<3, 3, 1, 1> | batch_norm | relu | flatten | dense<4> | softmax),
                      cost::LogLikelihood>;
using BnResidual =
    Model<double,
          decltype(input<2, 6, 6> | conv2d<4, 3, 1, 1> | batch_norm | relu |
                   residual(conv2d<4, 3, 1, 1> | batch_norm | relu | conv2d<4, 3, 1, 1> | batch_norm) | relu | flatten |
                   dense<3> | softmax),
          cost::LogLikelihood>;

double max_relative(const double* a, const double* b, std::size_t n) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        num = std::max(num, std::abs(a[i] - b[i]));
        den = std::max({den, std::abs(a[i]), std::abs(b[i])});
    }
    return den == 0 ? num : num / den;
}
/// max|a − b| ≤ rel · max(|a|, |b|) + abs: the absolute floor is for a gradient that is 0 in exact
/// arithmetic (the bias of a layer before batch norm, whose per-channel constant the
/// normalisation removes), whose computed values are rounding noise (~1e-17).
bool close(const double* a, const double* b, std::size_t n, double rel, double abs) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        num = std::max(num, std::abs(a[i] - b[i]));
        den = std::max({den, std::abs(a[i]), std::abs(b[i])});
    }
    return num <= rel * den + abs;
}
/// Reads n numbers from in and checks them against t as close() does.
template <class Tensor>
void check_against_floor(std::istream& in, const Tensor& t, double rel, double abs) {
    std::vector<double> theirs(t.size());
    for (auto& v : theirs) REQUIRE(in >> v);
    CHECK(close(t.data(), theirs.data(), t.size(), rel, abs));
}

template <class M>
struct Batch {
    std::vector<double> X = std::vector<double>(B * M::input_width), Y = std::vector<double>(B * M::output_width, 0.0);
    explicit Batch(std::uint64_t seed) {
        Rng rng(seed);
        for (auto& v : X) v = rng.uniform(-1.0, 1.0);
        for (std::size_t b = 0; b < B; ++b) Y[b * M::output_width + rng.below(M::output_width)] = 1;
    }
};

/// The batch's summed cost in training mode, by the engine's forward sweep over the whole batch.
template <class M>
double training_cost(const M& net, const Batch<M>& d) {
    Rng rng(1);
    const expr::TrainingScope training(rng);
    autodiff::Workspace<M, B> ws;
    Gradients<M> g;
    return autodiff::backprop_batch_into(net, d.X.data(), d.Y.data(), g, ws);
}

template <class M>
void three_way_training(std::uint64_t seed) {
    M net{seed, init::Scheme::pytorch};
    perturb_norm(net, seed + 1);
    const Batch<M> d(seed + 2);
    Gradients<M> ad, ref;
    double j_ad = 0, j_ref = 0;
    {
        Rng rng(3);
        const expr::TrainingScope training(rng);
        autodiff::Workspace<M, B> ws;
        j_ad = autodiff::backprop_batch_into(net, d.X.data(), d.Y.data(), ad, ws);
    }
    reference::BatchWorkspace<M> rws;
    j_ref = reference::backprop_batch_into(net, d.X.data(), d.Y.data(), B, ref, rws, /*training=*/true);
    CHECK_THAT(j_ad, Catch::Matchers::WithinRel(j_ref, 1e-12));
    std::size_t checked = 0, statistics = 0;
    for_each_parameter(net, ad, [&](auto r, auto& p, const auto& dp) {
        using R = decltype(r);
        INFO("∂J/∂ " << R::description());
        const auto& dr = std::get<R::position>(ref.parameters()).template at<R::index>();
        if constexpr (param_role_v<typename R::descriptor> == ParamRole::statistic) {
            // no gradient reaches a running statistic while training
            for (double v : dp) CHECK(v == 0.0);
            ++statistics;
            return;
        } else {
            CHECK(close(dp.data(), dr.data(), dp.size(), 1e-10, 1e-14));
            // central differences of the batch's cost, every element
            std::vector<double> fd(p.size());
            for (std::size_t i = 0; i < p.size(); ++i) {
                const double saved = p.data()[i];
                p.data()[i] = saved + 1e-6;
                const double up = training_cost(net, d);
                p.data()[i] = saved - 1e-6;
                const double down = training_cost(net, d);
                p.data()[i] = saved;
                fd[i] = (up - down) / 2e-6;
            }
            CHECK(close(dp.data(), fd.data(), dp.size(), 1e-6, 1e-8));
            CHECK(close(dr.data(), fd.data(), dp.size(), 1e-6, 1e-8));
            if constexpr (R::position == 0 && R::name == "b")  // the bias before batch norm: no gradient
                for (double v : dp) CHECK(std::abs(v) <= 1e-14);
            ++checked;
        }
    });
    CHECK(statistics == 2);
    CHECK(checked == 6);  // W, b, γ, β, W, b
}

}  // namespace

TEST_CASE("batch_norm: shape, parameters, roles, names", "[nn][batch_norm]") {
    STATIC_REQUIRE(Layer<BatchNorm>);
    using S = BnImage::composition;
    STATIC_REQUIRE(std::is_same_v<S::shape_at<2>, Shape<3, 5, 5>>);
    STATIC_REQUIRE(BnImage::parameter_count == (3 * 2 * 9 + 3) + 4 * 3 + (75 * 4 + 4));
    STATIC_REQUIRE(train::couples_examples_v<BnImage>);
    STATIC_REQUIRE(train::couples_examples_v<BnResidual>);
    STATIC_REQUIRE(!train::couples_examples_v<Model<double, decltype(input<4> | dense<3> | layer_norm | sigmoid)>>);
    using P = layer_traits<BatchNorm>::parameters<Shape<3, 5, 5>>;
    STATIC_REQUIRE(P::size == 4);
    CHECK(layers_description<S>() == "input<2, 5, 5> | conv2d<3, 3, 1, 1> | batch_norm | relu | flatten | dense<4> | softmax");
    const BnImage net{1};
    for (double v : net.parameter<1, "γ">()) CHECK(v == 1.0);
    for (double v : net.parameter<1, "β">()) CHECK(v == 0.0);
    for (double v : net.parameter<1, "running_mean">()) CHECK(v == 0.0);
    for (double v : net.parameter<1, "running_var">()) CHECK(v == 1.0);
    const auto lines = autodiff::derivation<BnVector>();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    INFO(all);
    CHECK_THAT(all, Catch::Contains("meanᵦ(") && Catch::Contains("while training, else") && Catch::Contains("∂J/∂γ₁ ="));
}

TEST_CASE("batch_norm: forward, training and evaluation", "[nn][batch_norm]") {
    BnImage net{2, init::Scheme::pytorch};
    perturb_norm(net, 3);
    const Batch<BnImage> d(4);
    using S = BnImage::composition;
    // the conv layer's outputs, example by example, are batch_norm's input
    std::vector<double> conv(B * 75), train_ref(B * 75), plain(B * 75);
    for (std::size_t b = 0; b < B; ++b)
        reference::rule<S::layer_at<0>>::forward<S::shape_at<0>>(std::get<0>(net.parameters()), d.X.data() + b * 50,
                                                                   conv.data() + b * 75);
    const auto& p = std::get<1>(net.parameters());
    reference::rule<BatchNorm>::forward_batch<Shape<3, 5, 5>>(p, conv.data(), train_ref.data(), B);
    for (std::size_t c = 0; c < 3; ++c) {  // the plain formula, per channel over 8 × 25 values
        double mean = 0, var = 0;
        for (std::size_t b = 0; b < B; ++b)
            for (std::size_t i = 0; i < 25; ++i) mean += conv[b * 75 + c * 25 + i];
        mean /= 200;
        for (std::size_t b = 0; b < B; ++b)
            for (std::size_t i = 0; i < 25; ++i) var += std::pow(conv[b * 75 + c * 25 + i] - mean, 2);
        var /= 200;
        for (std::size_t b = 0; b < B; ++b)
            for (std::size_t i = 0; i < 25; ++i)
                plain[b * 75 + c * 25 + i] =
                    p.get<"γ">()[c] * (conv[b * 75 + c * 25 + i] - mean) / std::sqrt(var + 1e-5) + p.get<"β">()[c];
    }
    CHECK(max_relative(train_ref.data(), plain.data(), plain.size()) <= 1e-13);
    // the engine, training: the batch-norm layer's output node for the whole batch
    Rng rng(5);
    {
        const expr::TrainingScope training(rng);
        autodiff::Workspace<BnImage, B> ws;
        Gradients<BnImage> g;
        autodiff::backprop_batch_into(net, d.X.data(), d.Y.data(), g, ws);
        const double* out = ws.program.value<autodiff::ModelExpression<BnImage, B>::output_of_layer<1>>();
        CHECK(max_relative(out, plain.data(), plain.size()) <= 1e-13);
    }
    // evaluation: the running statistics, each example on its own, as the reference's rule
    for (std::size_t b = 0; b < B; ++b) {
        BnImage::input_type x;
        std::copy_n(d.X.data() + b * 50, 50, x.data());
        Tensor<double, Shape<3, 5, 5>> eval_ref;
        reference::rule<BatchNorm>::forward<Shape<3, 5, 5>>(p, conv.data() + b * 75, eval_ref.data());
        autodiff::Workspace<BnImage> ws;
        Gradients<BnImage> g;
        BnImage::output_type y;
        y.fill(0);
        autodiff::backprop_into(net, x, y, g, ws);
        const double* out = ws.program.value<autodiff::ModelExpression<BnImage, 1>::output_of_layer<1>>();
        CHECK(max_relative(out, eval_ref.data(), 75) <= 1e-13);
    }
}

TEST_CASE("batch_norm in training: autodiff = reference = finite differences on a batch of 8",
          "[nn][batch_norm][gradient]") {
    SECTION("vectors (BatchNorm1d)") { three_way_training<BnVector>(11); }
    SECTION("images (BatchNorm2d)") { three_way_training<BnImage>(12); }
}

TEST_CASE("batch_norm in evaluation: autodiff = reference = finite differences, running statistics included",
          "[nn][batch_norm][gradient]") {
    BnImage net{21, init::Scheme::pytorch};
    perturb_norm(net, 22);
    Rng rng(23);
    for (int example = 0; example < 3; ++example) {
        BnImage::input_type x;
        BnImage::output_type y;
        test::random_example<BnImage>(rng, x, y);
        const auto r = gradcheck(net, x, y, {.step = 1e-6});
        CHECK(r.fd_entries == BnImage::parameter_count);
        CHECK(r.autodiff_vs_reference <= 1e-12);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
    }
}

TEST_CASE("a residual CNN with batch norm: the same cost, gradients and running statistics as PyTorch",
          "[nn][batch_norm][pytorch]") {
    const std::string python = test::torch_python();
    if (python.empty()) {
        WARN("no python3 that imports torch and numpy (Debian: python3-torch): skipping the PyTorch comparison");
        return;
    }
    BnResidual net{61, init::Scheme::pytorch};
    perturb_norm(net, 62);
    const Batch<BnResidual> d(63);
    const auto dir = std::filesystem::temp_directory_path() / ("typegrad_batch_norm19_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    test::write_f64(dir / "x.f64", d.X.data(), d.X.size());
    test::write_f64(dir / "y.f64", d.Y.data(), d.Y.size());
    int k = 0;
    net.for_each_parameter([&](auto, const auto& t) { test::write_f64(dir / ("p" + std::to_string(k++) + ".f64"), t); });
    const std::string script = (std::filesystem::path(__FILE__).parent_path() / "batch_norm19_pytorch.py").string();
    std::istringstream torch_out(test::run_command(python + " " + script + " " + dir.string() + " " + std::to_string(B)));
    std::filesystem::remove_all(dir);

    // training: one forward and backward pass, then the running statistics' update
    Gradients<BnResidual> g;
    double j = 0;
    std::vector<double> out(B * 3);
    BnResidual updated = net;
    {
        Rng rng(64);
        const expr::TrainingScope training(rng);
        autodiff::Workspace<BnResidual, B> ws;
        j = autodiff::backprop_batch_into(net, d.X.data(), d.Y.data(), g, ws);
        const double* o = ws.program.value<autodiff::ModelExpression<BnResidual, B>::output>();
        std::copy_n(o, out.size(), out.data());
        update_running_statistics(updated, ws.program);
    }
    double torch_cost = 0;
    REQUIRE(torch_out >> torch_cost);
    CHECK_THAT(j, Catch::Matchers::WithinRel(torch_cost, 1e-10));
    test::check_against(torch_out, out, 1e-10);
    std::size_t statistics = 0;
    for_each_parameter(net, g, [&](auto r, auto&, const auto& dp) {
        using R = decltype(r);
        if constexpr (param_role_v<typename R::descriptor> != ParamRole::statistic) {
            INFO("∂J/∂ " << R::description());
            check_against_floor(torch_out, dp, 1e-10, 1e-14);
        }
    });
    // the running statistics after the step, then the outputs in evaluation mode
    updated.for_each_parameter([&](auto r, const auto& t) {
        using R = decltype(r);
        if constexpr (param_role_v<typename R::descriptor> == ParamRole::statistic) {
            INFO(R::description());
            test::check_against(torch_out, t, 1e-10);
            ++statistics;
        }
    });
    CHECK(statistics == 6);
    for (std::size_t b = 0; b < B; ++b) {
        BnResidual::input_type x;
        std::copy_n(d.X.data() + b * BnResidual::input_width, BnResidual::input_width, x.data());
        INFO("evaluation, example " << b);
        test::check_against(torch_out, updated.forward(x), 1e-10);
    }
}
