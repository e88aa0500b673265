// Per-example reductions (issue 19, item 2): sum, mean and max over the last axis and over the
// height and width of an image's channels (expr/reduce.hpp), for one example and for a batch;
// and a LayerNorm written from them as a user would, whose batched gradient is the sum of the
// per-example ones (a LayerNorm written with the whole-tensor sum no longer compiles:
// tests/compile_fail/layer_whole_tensor_reduction.cpp).
//
// Tolerances (double): forward values against a plain loop ≤ 1e-14 relative (the same additions,
// maybe in another order); a batch against its examples one at a time: equal bits (the same loop
// per group); gradients against central differences with h = 1e-6 ≤ 1e-7 relative (J is linear or
// piecewise linear in the operand away from ties, so only rounding, ≈ ε·|J|/h ≈ 1e-9, remains);
// the LayerNorm network: autodiff vs reference ≤ 1e-12, vs finite differences ≤ 1e-6 (as
// tests/nn/test_custom_layer.cpp), batched vs per-example sum ≤ 1e-12.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <typegrad/train/engine.hpp>
#include <typegrad/train/evaluate.hpp>
#include <typegrad/typegrad.hpp>

#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

double max_relative(const std::vector<double>& a, const std::vector<double>& b) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        num = std::max(num, std::abs(a[i] - b[i]));
        den = std::max({den, std::abs(a[i]), std::abs(b[i])});
    }
    return den == 0 ? num : num / den;
}

// The expected result of reduction R over consecutive groups of `group` elements, broadcast back:
// a plain loop, group after group.
std::vector<double> plain(expr::Reduction r, const std::vector<double>& x, std::size_t group) {
    std::vector<double> out(x.size());
    for (std::size_t start = 0; start < x.size(); start += group) {
        const auto first = x.begin() + static_cast<std::ptrdiff_t>(start), last = first + static_cast<std::ptrdiff_t>(group);
        double v = r == expr::Reduction::max ? *std::max_element(first, last) : std::accumulate(first, last, 0.0);
        if (r == expr::Reduction::mean) v /= static_cast<double>(group);
        std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(start), group, v);
    }
    return out;
}

template <class S>
struct p_tag {};
struct r_tag {};

/// J = Σ r ⊙ op(p): forward values of op(p), ∂J/∂p, and J, for p and r of shape S.
template <class Op, class S>
struct Reduced {
    using P = expr::leaf_of_shape_t<expr::Role::parameter, p_tag<S>, S>;
    using R = expr::leaf_of_shape_t<expr::Role::input, r_tag, S>;
    using Y = expr::Node<Op, P>;
    using J = expr::Sum<expr::Hadamard<R, Y>>;
    static constexpr std::size_t n = size_v<S>;

    std::vector<double> y, grad;
    double j;
    Reduced(const double* p, const double* r) : y(n), grad(n) {
        ad::Program<double, J> prog;
        prog.bind_all(ad::bind(P{}, p, grad.data()), ad::bind(R{}, r));
        j = prog.forward();
        prog.backward();
        std::copy_n(prog.template value<Y>(), n, y.begin());
    }
};

/// One op: one example of shape Example, and a batch of Batch of them.
template <expr::Reduction Kind, expr::Axes A, class Example, std::size_t Batch>
void check_reduction(std::uint64_t seed) {
    using Op = expr::ReduceOp<Kind, A>;
    using BatchShape = prepend_t<Batch, Example>;
    constexpr std::size_t n = size_v<Example>, rank = rank_v<Example>;
    constexpr auto e = shape_traits<Example>::extents;
    constexpr std::size_t group = A == expr::Axes::last ? e[rank - 1] : e[rank - 2] * e[rank - 1];
    STATIC_REQUIRE(std::is_same_v<typename Reduced<Op, BatchShape>::Y::shape, BatchShape>);

    Rng rng(seed);
    std::vector<double> p(Batch * n), r(Batch * n);
    for (auto& v : p) v = rng.uniform(-2.0, 2.0);
    for (auto& v : r) v = rng.uniform(-1.0, 1.0);

    // the batch: forward against the plain loop, backward against central differences
    const Reduced<Op, BatchShape> batch(p.data(), r.data());
    CHECK(max_relative(batch.y, plain(Kind, p, group)) <= 1e-14);
    std::vector<double> fd(p.size());
    constexpr double h = 1e-6;
    for (std::size_t i = 0; i < p.size(); ++i) {
        std::vector<double> q = p;
        q[i] = p[i] + h;
        const double up = Reduced<Op, BatchShape>(q.data(), r.data()).j;
        q[i] = p[i] - h;
        const double down = Reduced<Op, BatchShape>(q.data(), r.data()).j;
        fd[i] = (up - down) / (2 * h);
    }
    CHECK(max_relative(batch.grad, fd) <= 1e-7);

    // each example alone: the same values and gradient, bit for bit; and its own checks
    for (std::size_t b = 0; b < Batch; ++b) {
        INFO("example " << b);
        const Reduced<Op, Example> one(p.data() + b * n, r.data() + b * n);
        const auto off = static_cast<std::ptrdiff_t>(b * n);
        CHECK(std::equal(one.y.begin(), one.y.end(), batch.y.begin() + off));
        CHECK(std::equal(one.grad.begin(), one.grad.end(), batch.grad.begin() + off));
        CHECK(max_relative(one.y, plain(Kind, std::vector<double>(p.begin() + off, p.begin() + off + n), group)) <= 1e-14);
        CHECK(max_relative(one.grad, std::vector<double>(fd.begin() + off, fd.begin() + off + n)) <= 1e-7);
    }
    // the batch is never reduced: a group never spans two examples
    STATIC_REQUIRE(n % group == 0);
}

}  // namespace

TEST_CASE("per-example reductions over the last axis: forward, backward, one example and a batch", "[expr][reduce19]") {
    using expr::Axes;
    using expr::Reduction;
    check_reduction<Reduction::sum, Axes::last, Shape<7>, 4>(1);
    check_reduction<Reduction::mean, Axes::last, Shape<7>, 4>(2);
    check_reduction<Reduction::max, Axes::last, Shape<7>, 4>(3);
    // an image's last axis: each row of each channel
    check_reduction<Reduction::mean, Axes::last, Shape<2, 3, 5>, 3>(4);
    check_reduction<Reduction::max, Axes::last, Shape<2, 3, 5>, 3>(5);
}

TEST_CASE("per-example reductions over an image's height and width, per channel", "[expr][reduce19]") {
    using expr::Axes;
    using expr::Reduction;
    check_reduction<Reduction::sum, Axes::hw, Shape<3, 4, 5>, 2>(6);
    check_reduction<Reduction::mean, Axes::hw, Shape<3, 4, 5>, 2>(7);
    check_reduction<Reduction::max, Axes::hw, Shape<3, 4, 5>, 2>(8);
}

TEST_CASE("per-example reductions: builders, printed names, broadcasting back", "[expr][reduce19][print]") {
    using namespace typegrad::expr;
    using X = Input<struct x_, 4, 6>;
    constexpr X x;
    STATIC_REQUIRE(std::is_same_v<decltype(x - mean_last(x)), Sub<X, MeanLast<X>>>);
    STATIC_REQUIRE(std::is_same_v<decltype(x - mean_last(x))::shape, Shape<4, 6>>);
    STATIC_REQUIRE(std::is_same_v<decltype(sum_last(x)), SumLast<X>>);
    STATIC_REQUIRE(std::is_same_v<decltype(max_last(x)), MaxLast<X>>);
    using I = Input<struct image_, 2, 3, 4, 4>;
    constexpr I image;
    STATIC_REQUIRE(std::is_same_v<decltype(sum_hw(image)), SumHW<I>>);
    STATIC_REQUIRE(std::is_same_v<decltype(mean_hw(image)), MeanHW<I>>);
    STATIC_REQUIRE(std::is_same_v<decltype(max_hw(image))::shape, Shape<2, 3, 4, 4>>);

    const Text a{"a", 3}, g{"g", 3};
    CHECK(MeanOver<Axes::last>::print(a).s == "mean₋₁(a)");
    CHECK(SumOver<Axes::last>::print(a).s == "sum₋₁(a)");
    CHECK(MaxOver<Axes::hw>::print(a).s == "max_hw(a)");
    CHECK(ReduceMaxGradOp<Axes::last>::print(a, g).s == "route₋₁(g; a)");
}

TEST_CASE("the per-example rule: what a whole-tensor reduction may still do", "[expr][reduce19]") {
    using namespace typegrad::expr;
    constexpr Input<struct xr_, 4, 6> x;
    constexpr Input<struct yr_, 4, 6> y;
    constexpr Param<struct wr_, 6> w;
    // a cost: reductions of the input end in the scalar J, through scalar ops only
    constexpr auto cost = half * squared_norm(x * w - y) + constant<3> * dot(x, y) - sum(log(sigmoid(x * w)));
    STATIC_REQUIRE(ad::Graph<std::remove_cv_t<decltype(cost)>>::batch_crossing == ad::detail::none);
    // a reduction of a parameter only (no batch extent) broadcast back: a weight norm
    constexpr auto weight_norm = sum(x * (w * map<fn::Sigmoid>(squared_norm(w))));
    STATIC_REQUIRE(ad::Graph<std::remove_cv_t<decltype(weight_norm)>>::batch_crossing == ad::detail::none);
    // per-example reductions broadcast back, then reduced by the cost
    constexpr auto normalised = squared_norm((x - mean_last(x)) * w - max_last(y));
    STATIC_REQUIRE(ad::Graph<std::remove_cv_t<decltype(normalised)>>::batch_crossing == ad::detail::none);
    // (x − sum(x) · ⅙ is refused: tests/compile_fail/layer_whole_tensor_reduction.cpp)
}

// --- a LayerNorm written by a user from the documented ops ------------------------------------

namespace user {

/// 1/√(v + ε), ε = 1e-5 (PyTorch's LayerNorm default), and its derivative −y³/2.
struct InvSqrtEps {
    static constexpr std::string_view name = "rsqrt";
    template <class V>
    static V value(V v) noexcept {
        using std::sqrt;
        return V(1) / sqrt(v + V(1e-5));
    }
    template <class V>
    static V derivative(V, V y) noexcept {
        return V(-0.5) * y * y * y;
    }
};

/// y = γ ⊙ (x − μ) / √(σ² + ε) + β over the last axis of each example: μ = mean₋₁(x),
/// σ² = mean₋₁((x − μ)²). Written once for one example and for a batch.
struct LayerNorm {
    static constexpr std::string_view name = "layernorm";
    static constexpr std::string_view symbol = "a";
    template <class In>
    using output_shape = In;
    template <class In>
    using parameters = params<param<"γ", In, init::Constant<1, 1>>, param<"β", In, init::Constant<0, 1>>>;
    template <class X>
    using centred = expr::Sub<X, expr::MeanLast<X>>;
    template <class X, class Gamma, class Beta>
    using expression = expr::Add<
        expr::Hadamard<Gamma, expr::Hadamard<centred<X>, expr::Map<InvSqrtEps, expr::MeanLast<expr::Hadamard<centred<X>, centred<X>>>>>>,
        Beta>;
};
inline constexpr LayerNorm layer_norm{};

}  // namespace user

/// The reference: the textbook LayerNorm backward, with n̂ = (x − μ) r, r = 1/√(σ² + ε):
/// ∂J/∂β = g, ∂J/∂γ = g ⊙ n̂, ∂J/∂x = r (ĝ − mean(ĝ) − n̂ mean(ĝ ⊙ n̂)) with ĝ = g ⊙ γ.
template <>
struct typegrad::reference::rule<user::LayerNorm> {
    template <class In, class T>
    static void normalise(const T* x, T* nhat, T& r) noexcept {
        constexpr std::size_t n = size_v<In>;
        T mu = 0;
        for (std::size_t i = 0; i < n; ++i) mu += x[i];
        mu /= T(n);
        T var = 0;
        for (std::size_t i = 0; i < n; ++i) var += (x[i] - mu) * (x[i] - mu);
        var /= T(n);
        r = T(1) / std::sqrt(var + T(1e-5));
        for (std::size_t i = 0; i < n; ++i) nhat[i] = (x[i] - mu) * r;
    }
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) noexcept {
        static_assert(rank_v<In> == 1, "this test's reference LayerNorm takes vectors");
        constexpr std::size_t n = size_v<In>;
        T nhat[n], r;
        normalise<In>(x, nhat, r);
        for (std::size_t i = 0; i < n; ++i) y[i] = p.template get<"γ">().data()[i] * nhat[i] + p.template get<"β">().data()[i];
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T*, const T* gy, T* gx, G& g, Accumulate acc) noexcept {
        constexpr std::size_t n = size_v<In>;
        T nhat[n], r;
        normalise<In>(x, nhat, r);
        T* dgamma = g.template get<"γ">().data();
        T* dbeta = g.template get<"β">().data();
        const T* gamma = p.template get<"γ">().data();
        for (std::size_t i = 0; i < n; ++i) {
            dgamma[i] = acc == Accumulate::yes ? dgamma[i] + gy[i] * nhat[i] : gy[i] * nhat[i];
            dbeta[i] = acc == Accumulate::yes ? dbeta[i] + gy[i] : gy[i];
        }
        if (!gx) return;
        T m1 = 0, m2 = 0;
        for (std::size_t i = 0; i < n; ++i) {
            m1 += gy[i] * gamma[i];
            m2 += gy[i] * gamma[i] * nhat[i];
        }
        m1 /= T(n);
        m2 /= T(n);
        for (std::size_t i = 0; i < n; ++i) gx[i] = r * (gy[i] * gamma[i] - m1 - nhat[i] * m2);
    }
};

namespace {
using Net = Model<double, decltype(input<8> | dense<6> | user::layer_norm | tanh | dense<3> | sigmoid)>;

Net layer_norm_net() {
    Net net{11};
    Rng rng(12);  // γ and β away from 1 and 0, so that a swapped or ignored one would show
    for (auto& v : net.parameter<1, "γ">()) v = rng.uniform(0.5, 1.5);
    for (auto& v : net.parameter<1, "β">()) v = rng.uniform(-0.5, 0.5);
    return net;
}

data::Dataset random_dataset(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    data::Dataset d;
    d.rows = 2;
    d.cols = 4;
    for (std::size_t i = 0; i < n * 8; ++i) d.pixels.push_back(static_cast<std::uint8_t>(rng.below(256)));
    for (std::size_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::uint8_t>(rng.below(3)));
    return d;
}
}  // namespace

TEST_CASE("a LayerNorm from per-example reductions: autodiff = reference = finite differences", "[expr][reduce19][gradient]") {
    STATIC_REQUIRE(Layer<user::LayerNorm>);
    Net net = layer_norm_net();
    Rng rng(13);
    Net::input_type x;
    Net::output_type y;
    for (int example = 0; example < 4; ++example) {
        test::random_example<Net>(rng, x, y);
        const auto r = gradcheck(net, x, y, {.step = 1e-6});
        INFO("example " << example << ", " << r.fd_entries << " finite differences");
        CHECK(r.fd_entries == Net::parameter_count);  // γ and β included
        CHECK(r.autodiff_vs_reference <= 1e-12);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
        CHECK(relative_error(autodiff::backprop(net, x, y).parameter<1, "γ">(), Vector<double, 6>{}) > 0);
    }
}

TEST_CASE("a LayerNorm from per-example reductions: the batched gradient is the sum of the per-example ones",
          "[expr][reduce19][batched]") {
    const Net net = layer_norm_net();
    const auto d = random_dataset(12, 14);
    std::vector<std::size_t> examples(d.size());
    std::iota(examples.begin(), examples.end(), std::size_t{0});

    // the trainer's engine: chunks of 5 as (5, …) tensors, the last 2 examples one at a time
    auto engine = std::make_unique<train::AutodiffEngine<Net, 5>>();
    Gradients<Net> batched, sum, reference_sum;
    const double j_batched = engine->gradient(net, d, examples, batched);

    autodiff::Workspace<Net> ws;
    reference::Workspace<Net> rws;
    Net::input_type x;
    Net::output_type y;
    double j_sum = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        train::load_example<Net>(d, i, x, y);
        const auto acc = i == 0 ? Accumulate::no : Accumulate::yes;
        j_sum += autodiff::backprop_into(net, x, y, sum, ws, acc);
        reference::backprop_into(net, x, y, reference_sum, rws, acc);
    }
    CHECK(std::abs(j_batched - j_sum) <= 1e-12 * std::abs(j_sum));
    test::check_close(sum, batched, 1e-12);
    test::check_close(reference_sum, batched, 1e-12);

    // forward: each example alone gives the rows of the batched forward sweep, and the evaluator
    // (chunks of 5) counts what forward predicts
    constexpr std::size_t B = 5;
    std::vector<double> X(B * 8), Y(B * 3);
    for (std::size_t b = 0; b < B; ++b) train::load_example<Net>(d, b, X.data() + b * 8, Y.data() + b * 3);
    autodiff::Workspace<Net, B> bws;
    Gradients<Net> g;
    autodiff::backprop_batch_into(net, X.data(), Y.data(), g, bws);
    const double* rows = bws.program.template value<typename autodiff::ModelExpression<Net, B>::output>();
    std::size_t forward_correct = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        train::load_example<Net>(d, i, x, y);
        const auto a = net.forward(x);
        forward_correct += train::predicted_class<3>(a.data()) == d.labels[i];
        if (i < B) {
            INFO("example " << i);
            CHECK(std::equal(a.begin(), a.end(), rows + i * 3));
        }
    }
    auto evaluator = std::make_unique<train::Evaluator<Net, 5>>();
    CHECK(evaluator->count_correct(net, d) == forward_correct);
}

TEST_CASE("a LayerNorm from per-example reductions in derive", "[expr][reduce19][print]") {
    const auto lines = autodiff::derivation<Net>();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    INFO(all);
    REQUIRE(lines.size() >= 2);
    CHECK(lines.at(1).find("mean₋₁(") != std::string::npos);
}
