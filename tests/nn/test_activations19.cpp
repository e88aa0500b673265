// Issue 19, item 3: GELU (exact, erf), SiLU and leaky ReLU as activations.
//  - their value and derivative rules (expr/functions.hpp) against the textbook formulas with
//    std::erf / std::erfc / std::exp, in float and double, on scalars and on SIMD batches, at
//    sampled points including 0, the kink, large |x| and |x| near 1e300;
//  - the three-way check on a network using all three: autodiff vs the hand-written reference
//    (whose f and f' for these are written independently, reference::textbook) vs central finite
//    differences, in double;
//  - the batched gradient = Σ of the per-example gradients;
//  - export: the PyTorch architecture, and the ONNX graph run by a small interpreter of its nodes
//    (the end-to-end check with onnx.checker is cli.export_to_onnx);
//  - PyTorch (float64, torch.autograd, nn.GELU(), nn.SiLU(), nn.LeakyReLU()) on the same weights
//    and input, ≤ 1e-10, when a python3 with torch is found (else skipped with a message).
#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/io/export.hpp"
#include "typegrad/io/onnx.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/nn/layers.hpp"
#include "../support/gradient_check.hpp"
#include "../support/pytorch.hpp"

using namespace typegrad;

namespace {

// ---- the rules against the formulas -------------------------------------------------------

// The textbook, in long double where the C library has it: Φ(x) = ½ erfc(−x/√2) (which is
// ½(1 + erf(x/√2)) without its cancellation for x ≪ 0), φ(x) = e^(−x²/2)/√(2π), σ(x) = 1/(1 + e^−x).
long double Phi(long double x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); }
long double phi(long double x) { return std::exp(-0.5L * x * x) / std::sqrt(2 * std::numbers::pi_v<long double>); }
long double sigma(long double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

struct Expected {
    long double value, derivative;
};
Expected expected(fn::Gelu, long double x) { return {x * Phi(x), Phi(x) + x * phi(x)}; }
Expected expected(fn::Silu, long double x) { return {x * sigma(x), sigma(x) * (1 + x * (1 - sigma(x)))}; }
Expected expected(fn::LeakyRelu, long double x) { return {x > 0 ? x : 0.01L * x, x > 0 ? 1.0L : 0.01L}; }

// Points: 0, both sides of 0, the ordinary range, where exp and erfc underflow, and huge |x|.
const std::vector<double> points = {0.0,   -0.0,  1e-30, -1e-30, 1e-8,  -1e-8, 0.1,    -0.1,  0.5,    -0.5,   1.0,
                                    -1.0,  1.5,   -1.5,  2.0,    -2.0,  3.3,   -3.3,   5.0,   -5.0,   7.5,    -7.5,
                                    10.0,  -10.0, 20.0,  -20.0,  37.5,  -37.5, 50.0,   -50.0, 100.0,  -100.0, 800.0,
                                    -800.0, 1e10, -1e10, 1e30,   -1e30, 1e300, -1e300, 0.6744897501960817};

// |got − want| ≤ rel·|want| + abs·ε_T·max(1, |x|): rel bounds the rule's own rounding, abs the
// absolute error of Φ or σ near 1 times x (x·Φ(x) is only as exact as Φ is, absolutely).
template <class T>
bool near(T got, long double want, long double x, double rel) {
    if (!std::isfinite(static_cast<long double>(got))) return false;
    const long double eps = std::numeric_limits<T>::epsilon();
    const long double tol = rel * std::abs(want) + 4 * eps * std::max(1.0L, std::abs(x));
    return std::abs(static_cast<long double>(got) - want) <= tol;
}

template <class F, class T>
void check_rules(double rel) {
    using B = xsimd::batch<T>;
    std::vector<T> xs;
    for (double p : points)
        if (std::abs(p) < static_cast<double>(std::numeric_limits<T>::max())) xs.push_back(static_cast<T>(p));
    while (xs.size() % B::size) xs.push_back(T(0.25));
    std::vector<T> batch_value(xs.size()), batch_derivative(xs.size());
    for (std::size_t i = 0; i < xs.size(); i += B::size) {
        const B x = B::load_unaligned(xs.data() + i);
        const B y = F::value(x);
        y.store_unaligned(batch_value.data() + i);
        F::derivative(x, y).store_unaligned(batch_derivative.data() + i);
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const T x = xs[i];
        const T y = F::value(x);
        const T d = F::derivative(x, y);
        const Expected e = expected(F{}, x);
        INFO(F::name << " in " << (sizeof(T) == 8 ? "double" : "float") << " at x = " << static_cast<double>(x) << ": scalar "
                     << static_cast<double>(y) << ", " << static_cast<double>(d) << "; SIMD " << static_cast<double>(batch_value[i])
                     << ", " << static_cast<double>(batch_derivative[i]) << "; expected " << static_cast<double>(e.value) << ", "
                     << static_cast<double>(e.derivative));
        CHECK(near(y, e.value, x, rel));
        CHECK(near(d, e.derivative, x, rel));
        CHECK(near(batch_value[i], e.value, x, rel));
        CHECK(near(batch_derivative[i], e.derivative, x, rel));
    }
}

}  // namespace

// The relative tolerances: a few ulps of the type for the rules' own rounding, except for gelu
// in double, whose SIMD path is only as exact as xsimd 8.1's erfc: measured against erfcl,
// within 5e-15 relative for arguments below 2.2 (Φ(x) for x > −3.1), 4e-12 in [2.2, 6) and
// 4e-11 in [6, 10) (the absolute term covers the tail beyond, where Φ < 1e-23). std::erfc, on
// the scalar path, is within 6e-16.
TEST_CASE("gelu, silu and leaky_relu: value and derivative = the formulas, float and double, scalar and SIMD", "[nn][activation]") {
    check_rules<fn::Gelu, double>(5e-11);
    check_rules<fn::Gelu, float>(1e-6);
    check_rules<fn::Silu, double>(1e-14);
    check_rules<fn::Silu, float>(1e-6);
    check_rules<fn::LeakyRelu, double>(0);
    check_rules<fn::LeakyRelu, float>(0);
}

TEST_CASE("the conventions at the edges: PyTorch's at 0, nothing undefined for huge |x|", "[nn][activation]") {
    // leaky ReLU: slope 0.01 below and *at* 0 (PyTorch: x > 0 ? 1 : negative_slope)
    CHECK(fn::LeakyRelu::derivative(0.0, 0.0) == 0.01);
    CHECK(fn::LeakyRelu::derivative(-0.0, 0.0) == 0.01);
    CHECK(fn::LeakyRelu::value(-3.0) == -0.03);
    CHECK(fn::LeakyRelu::derivative(1e-300, 1e-300) == 1.0);
    // GELU: Φ(0) = ½, φ(0)·0 = 0; SiLU: σ(0) = ½
    CHECK(fn::Gelu::value(0.0) == 0.0);
    CHECK(fn::Gelu::derivative(0.0, 0.0) == 0.5);
    CHECK(fn::Silu::derivative(0.0, 0.0) == 0.5);
    // far below 0 the value is a true tiny number, not the 0 that ½(1 + erf) cancels to
    CHECK_THAT(fn::Gelu::value(-10.0), Catch::Matchers::WithinRel(static_cast<double>(-10 * Phi(-10)), 1e-13));
    // huge |x|: finite, and the limits x, 0 and 1, 0 (the sigmoid's exp_domain, gelu's erfc_domain)
    for (const double big : {1e300, std::numeric_limits<double>::max()}) {
        CHECK(fn::Gelu::value(big) == big);
        CHECK(fn::Gelu::value(-big) == 0.0);
        CHECK(fn::Gelu::derivative(big, big) == 1.0);
        CHECK(fn::Gelu::derivative(-big, 0.0) == 0.0);
        CHECK(fn::Silu::value(big) == big);
        CHECK(fn::Silu::value(-big) == 0.0);
        CHECK(fn::Silu::derivative(big, big) == 1.0);
        CHECK(fn::Silu::derivative(-big, 0.0) == 0.0);
        const xsimd::batch<double> b(-big);
        CHECK(xsimd::hadd(xsimd::abs(fn::Gelu::value(b))) == 0.0);
        CHECK(xsimd::hadd(xsimd::abs(fn::Gelu::derivative(b, b))) == 0.0);
        CHECK(xsimd::hadd(xsimd::abs(fn::Silu::derivative(b, b))) == 0.0);
    }
    // the reference's own formulas agree with the rules the engine uses
    for (const double x : points) {
        INFO("x = " << x);
        CHECK(near(reference::textbook<fn::Gelu>::derivative(x), expected(fn::Gelu{}, x).derivative, x, 1e-14));
        CHECK(near(reference::textbook<fn::Silu>::derivative(x), expected(fn::Silu{}, x).derivative, x, 1e-14));
        CHECK(near(reference::textbook<fn::LeakyRelu>::derivative(x), expected(fn::LeakyRelu{}, x).derivative, x, 0));
    }
}

TEST_CASE("the layers: names, shapes, and one object for the layer and the function", "[nn][activation]") {
    constexpr auto net = input<6> | dense<5> | gelu | dense<4> | silu | dense<3> | leaky_relu;
    CHECK(layers_description<std::remove_const_t<decltype(net)>>() ==
          "input<6> | dense<5> | gelu | dense<4> | silu | dense<3> | leaky_relu");
    STATIC_REQUIRE(std::is_same_v<decltype(gelu), const Gelu>);
    STATIC_REQUIRE(std::is_same_v<decltype(silu), const Silu>);
    STATIC_REQUIRE(std::is_same_v<decltype(leaky_relu), const LeakyRelu>);
    STATIC_REQUIRE(std::is_same_v<Silu, Activation<fn::Silu>>);
}

// ---- gradients ------------------------------------------------------------------------------

namespace {

// One network with the three: gelu and silu hidden, leaky ReLU before the output (its z are of
// both signs with these weights), a quadratic cost.
using Net = Model<double, decltype(input<7> | dense<6> | gelu | dense<5> | silu | dense<4> | leaky_relu | dense<3> | sigmoid)>;

// autodiff vs reference: both compute the same sums in the same order but f and f' by different
// formulas (Φ by erfc vs by 1 + erf), a difference of a few ulps per element.
constexpr double ad_vs_reference = 1e-12;
// finite differences: h = 1e-6, truncation O(h²) ≈ 1e-12, rounding ε·J/h ≈ 1e-10, so a correct
// gradient is within 1e-8 + 1e-6·|g| (tests/reference/test_backprop_fd.cpp).
constexpr double fd_h = 1e-6, fd_abs = 1e-8, fd_rel = 1e-6;
// batched vs per-example: the same operations in the same order (test_ad_batched).
constexpr double batched_vs_sum = 1e-12;

// An example with inputs in [−1, 1] (of both signs) and a one-hot target.
void signed_example(Rng& rng, Net::input_type& x, Net::output_type& y) {
    test::random_example<Net>(rng, x, y);
    for (auto& v : x) v = 2 * v - 1;
}

template <class M>
void scale_up(M& m) {  // weights ×3, so that z spans both sides of the activations' bends
    m.for_each_parameter([](auto, auto& t) {
        for (auto& v : t) v *= 3;
    });
}

}  // namespace

TEST_CASE("gelu, silu, leaky_relu network: autodiff = reference = finite differences", "[nn][activation][gradient]") {
    Net m{19};
    scale_up(m);
    Rng rng(1919);
    for (int example = 0; example < 3; ++example) {
        INFO("example " << example);
        Net::input_type x;
        Net::output_type y;
        signed_example(rng, x, y);
        const auto ad = autodiff::backprop(m, x, y);
        const auto ref = reference::backprop(m, x, y);
        test::check_close(ad, ref, ad_vs_reference);
        REQUIRE(relative_error(ad.template biases<0>(), Vector<double, 6>{}) > 0);

        std::size_t checked = 0, failed = 0;
        for_each_parameter(m, ref, [&](auto r, auto& p, const auto& dp) {
            for (std::size_t k = 0; k < p.size(); ++k) {
                const double fd = test::central_difference(m, p.data()[k], x, y, fd_h);
                ++checked;
                if (!(std::abs(fd - dp.data()[k]) <= fd_abs + fd_rel * std::abs(dp.data()[k]))) {
                    ++failed;
                    UNSCOPED_INFO(decltype(r)::description() << "[" << k << "]: finite difference " << fd << ", reference "
                                                             << dp.data()[k]);
                }
            }
        });
        CHECK(checked == 7 * 6 + 6 + 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3);
        CHECK(failed == 0);
    }
}

TEST_CASE("gelu, silu, leaky_relu network: batched gradient = Σ per-example gradients", "[nn][activation][batched]") {
    constexpr std::size_t B = 9;
    Net m{20};
    scale_up(m);
    Rng rng(2020);
    std::vector<Net::input_type> xs(B);
    std::vector<Net::output_type> ys(B);
    std::vector<double> X(B * Net::input_width), Y(B * Net::output_width);
    Gradients<Net> sum;
    autodiff::Workspace<Net> one;
    for (std::size_t b = 0; b < B; ++b) {
        signed_example(rng, xs[b], ys[b]);
        autodiff::backprop_into(m, xs[b], ys[b], sum, one, b == 0 ? Accumulate::no : Accumulate::yes);
        std::copy_n(xs[b].data(), Net::input_width, X.data() + b * Net::input_width);
        std::copy_n(ys[b].data(), Net::output_width, Y.data() + b * Net::output_width);
    }
    Gradients<Net> batched;
    autodiff::Workspace<Net, B> ws;
    autodiff::backprop_batch_into(m, X.data(), Y.data(), batched, ws);
    test::check_close(sum, batched, batched_vs_sum);
}

// ---- PyTorch ----------------------------------------------------------------------------------

using test::run_command;
using test::torch_python;
using test::write_f64;

// ≤ 1e-10 relative per tensor (max norm) against torch.autograd in float64 (issue 19's acceptance).
TEST_CASE("gelu, silu, leaky_relu network: the same cost and gradients as PyTorch", "[nn][activation][pytorch]") {
    const std::string python = torch_python();
    if (python.empty()) {
        WARN("no python3 that imports torch and numpy (Debian: python3-torch): skipping the PyTorch comparison");
        return;
    }
    Net m{21};
    scale_up(m);
    Rng rng(2121);
    Net::input_type x;
    Net::output_type y;
    signed_example(rng, x, y);
    const auto dir = std::filesystem::temp_directory_path() / ("typegrad_activations19_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    write_f64(dir / "x.f64", x);
    write_f64(dir / "y.f64", y);
    int k = 0;
    m.for_each_parameter([&](auto, const auto& t) { write_f64(dir / ("p" + std::to_string(k++) + ".f64"), t); });
    const std::string script = (std::filesystem::path(__FILE__).parent_path() / "activations19_pytorch.py").string();
    std::istringstream torch_out(run_command(python + " " + script + " " + dir.string()));
    std::filesystem::remove_all(dir);

    double torch_cost = 0;
    REQUIRE(torch_out >> torch_cost);
    CHECK_THAT(autodiff::cost(m, x, y), Catch::Matchers::WithinRel(torch_cost, 1e-10));
    const auto g = autodiff::backprop(m, x, y);
    for_each_parameter(m, g, [&](auto r, auto&, const auto& dp) {
        INFO("∂J/∂ " << decltype(r)::description());
        test::check_against(torch_out, dp, 1e-10);
    });
}

// ---- export --------------------------------------------------------------------------------

namespace {

// The graph's tensors of one example, by name: an initializer's values, or a node's output.
using Values = std::map<std::string, std::vector<double>>;

std::vector<double> doubles(const io::NpyArray& a) {
    REQUIRE(a.dtype == "<f8");
    std::vector<double> v(a.data.size() / sizeof(double));
    std::memcpy(v.data(), a.data.data(), a.data.size());
    return v;
}

// Elementwise a ∘ b, one of them possibly a scalar (ONNX's broadcasting of the constants).
template <class Op>
std::vector<double> broadcast(const std::vector<double>& a, const std::vector<double>& b, Op op) {
    std::vector<double> out(std::max(a.size(), b.size()));
    REQUIRE((a.size() == b.size() || a.size() == 1 || b.size() == 1));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = op(a[a.size() == 1 ? 0 : i], b[b.size() == 1 ? 0 : i]);
    return out;
}

// Runs the graph on one example (a vector network: Gemm and the elementwise ops of these
// activations), as ONNX defines each op.
std::vector<double> run_onnx(const io::OnnxGraph& g, const std::vector<double>& x, std::optional<double> alpha = std::nullopt) {
    Values v;
    for (const auto& a : g.initializers) v[a.name] = doubles(a);
    v[io::onnx_input] = x;
    for (const auto& n : g.nodes) {
        INFO("node " << n.name << " (" << n.op_type << ")");
        const auto in = [&](std::size_t i) -> const std::vector<double>& {
            REQUIRE(v.count(n.inputs.at(i)) == 1);
            return v[n.inputs[i]];
        };
        std::vector<double> out;
        if (n.op_type == "Gemm") {
            const auto &a = in(0), &w = in(1), &b = in(2);
            REQUIRE(n.attributes.size() == 1);
            REQUIRE(n.attributes[0].ints == std::vector<std::int64_t>{0});  // transB = 0: W is (n_in, n_out)
            out = b;
            for (std::size_t i = 0; i < a.size(); ++i)
                for (std::size_t j = 0; j < b.size(); ++j) out[j] += a[i] * w[i * b.size() + j];
        } else if (n.op_type == "Sigmoid") {
            for (double z : in(0)) out.push_back(1 / (1 + std::exp(-z)));
        } else if (n.op_type == "Erf") {
            for (double z : in(0)) out.push_back(std::erf(z));
        } else if (n.op_type == "LeakyRelu") {
            REQUIRE(n.attributes.size() == 1);
            REQUIRE(n.attributes[0].name == "alpha");
            REQUIRE(n.attributes[0].real.has_value());
            CHECK(*n.attributes[0].real == 0.01f);
            for (double z : in(0)) out.push_back(z >= 0 ? z : alpha.value_or(*n.attributes[0].real) * z);
        } else if (n.op_type == "Softmax") {
            double top = *std::max_element(in(0).begin(), in(0).end()), sum = 0;
            for (double z : in(0)) sum += std::exp(z - top);
            for (double z : in(0)) out.push_back(std::exp(z - top) / sum);
        } else if (n.op_type == "Add") {
            out = broadcast(in(0), in(1), std::plus<>{});
        } else if (n.op_type == "Mul") {
            out = broadcast(in(0), in(1), std::multiplies<>{});
        } else if (n.op_type == "Div") {
            out = broadcast(in(0), in(1), std::divides<>{});
        } else {
            FAIL("op " << n.op_type << " is not implemented here");
        }
        REQUIRE(v.count(n.output) == 0);  // every tensor is named once
        v[n.output] = out;
    }
    return v.at(io::onnx_output);
}

}  // namespace

TEST_CASE("gelu, silu, leaky_relu: exported to PyTorch's nn.GELU, nn.SiLU, nn.LeakyReLU(0.01)", "[nn][activation][export]") {
    using M = Model<double, decltype(input<4> | dense<3> | gelu | dense<3> | silu | dense<2> | leaky_relu)>;
    CHECK(io::architecture_json<M>() ==
          "{\"input\": [4], \"cost\": \"quadratic\", \"layers\": [{\"type\": \"Linear\", \"in_features\": 4, \"out_features\": 3}, "
          "{\"type\": \"GELU\"}, {\"type\": \"Linear\", \"in_features\": 3, \"out_features\": 3}, {\"type\": \"SiLU\"}, "
          "{\"type\": \"Linear\", \"in_features\": 3, \"out_features\": 2}, {\"type\": \"LeakyReLU\", \"negative_slope\": 0.01}]}");
}

TEST_CASE("gelu, silu, leaky_relu: the ONNX graph computes the network's output", "[nn][activation][export][onnx]") {
    using M = Model<double, decltype(input<7> | dense<6> | gelu | dense<5> | silu | dense<4> | leaky_relu | dense<3> | softmax),
                    cost::LogLikelihood>;
    M m{22};
    scale_up(m);
    const io::OnnxGraph g = io::onnx_graph(m);
    std::vector<std::string> ops;
    for (const auto& n : g.nodes) ops.push_back(n.op_type);
    CHECK(ops == std::vector<std::string>{"Gemm", "Div", "Erf", "Add", "Mul", "Mul", "Gemm", "Sigmoid", "Mul", "Gemm", "LeakyRelu",
                                          "Gemm", "Softmax"});
    CHECK(g.nodes.back().output == io::onnx_output);
    Rng rng(2222);
    for (int example = 0; example < 5; ++example) {
        M::input_type x;
        for (auto& v : x) v = 4 * rng.uniform() - 2;
        const auto ours = m.forward(x);
        // ONNX's alpha is a FLOAT attribute: 0.01f = 0.00999999977648, 2e-9 from the double
        // network's slope, which moves these outputs by up to 1e-9 relative
        const std::vector<double> theirs = run_onnx(g, std::vector<double>(x.begin(), x.end()));
        REQUIRE(theirs.size() == ours.size());
        for (std::size_t i = 0; i < ours.size(); ++i) CHECK_THAT(theirs[i], Catch::Matchers::WithinRel(ours[i], 1e-8));
        // the rest is exact: with LeakyRelu's alpha read as the double 0.01
        const std::vector<double> exact_alpha = run_onnx(g, std::vector<double>(x.begin(), x.end()), 0.01);
        for (std::size_t i = 0; i < ours.size(); ++i) CHECK_THAT(exact_alpha[i], Catch::Matchers::WithinRel(ours[i], 1e-12));
    }
}
