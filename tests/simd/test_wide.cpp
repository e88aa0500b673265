// Wide dense layers (issue 18, defect 4): simd::for_each_chunk took one template recursion level
// per SIMD chunk, so a layer wider than ~7200 floats failed to compile ("template instantiation
// depth exceeds maximum of 900"). A network with a dense layer of 8192 must compile and compute,
// forward and backward, what plain loops compute; and the chunks are the ones the recursion made:
// whole batches from the start, then the widest narrower batches, in order.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/simd/row.hpp"
#include "typegrad/util/random.hpp"

using namespace typegrad;

namespace {

using Chunks = std::vector<std::pair<std::size_t, std::size_t>>;  // (lanes, offset) in call order

template <class T, std::size_t N>
Chunks chunks() {
    Chunks v;
    simd::for_each_chunk<T, N>([&]<class V, std::size_t Offset>() { v.emplace_back(simd::lanes_v<V>, Offset); });
    return v;
}

/// What the recursive definition gives: the widest batch that fits what is left, again and again.
template <class T, std::size_t N, std::size_t Offset = 0>
void expected_chunks(Chunks& v) {
    if constexpr (Offset < N) {
        using V = typename simd::detail::widest_batch<T, N - Offset>::type;
        v.emplace_back(simd::lanes_v<V>, Offset);
        expected_chunks<T, N, Offset + simd::lanes_v<V>>(v);
    }
}

/// The same for a row too wide to recurse over: full batches, then the narrow tail.
template <class T, std::size_t N>
Chunks expected_wide() {
    constexpr std::size_t S = xsimd::batch<T>::size, bulk = N / S * S;
    Chunks v;
    for (std::size_t at = 0; at < bulk; at += S) v.emplace_back(S, at);
    Chunks tail;
    expected_chunks<T, N - bulk>(tail);
    for (const auto& [lanes, at] : tail) v.emplace_back(lanes, bulk + at);
    return v;
}

template <class T, std::size_t N>
void check_chunks() {
    Chunks want;
    expected_chunks<T, N>(want);
    CHECK(chunks<T, N>() == want);
}

/// |a - b| within `relative` of `scale` (the sum of the magnitudes that were added up).
bool close(double a, double b, double scale, double relative = 1e-5) { return std::abs(a - b) <= relative * scale + 1e-30; }

}  // namespace

TEST_CASE("for_each_chunk: whole batches, then the widest narrower ones, in order", "[simd][wide]") {
    check_chunks<float, 1>();
    check_chunks<float, 7>();
    check_chunks<float, 30>();
    check_chunks<float, 100>();
    check_chunks<double, 3>();
    check_chunks<double, 30>();
    check_chunks<double, 101>();
    CHECK(chunks<float, 8192 + 7>() == expected_wide<float, 8192 + 7>());
    CHECK(chunks<double, 8192 + 3>() == expected_wide<double, 8192 + 3>());
}

TEST_CASE("a dense layer of width 8192 compiles and computes what plain loops do, forward and backward",
          "[simd][wide]") {
    constexpr std::size_t n0 = 16, n1 = 8192, n2 = 10;
    using Wide = Model<float, decltype(input<n0> | dense<n1> | sigmoid | dense<n2>)>;
    const Wide net{7};
    Rng rng(3);
    Vector<float, n0> x;
    for (auto& v : x) v = static_cast<float>(rng.uniform(-1, 1));
    Vector<float, n2> y;
    y.fill(0.0f);
    y[4] = 1.0f;

    // The reference, in double, from the network's float parameters: W is fan_in × fan_out, row by row.
    const float* W0 = net.weights<0>().data();
    const float* b0 = net.biases<0>().data();
    const float* W1 = net.weights<1>().data();
    const float* b1 = net.biases<1>().data();
    std::vector<double> z1(n1), a1(n1), s1(n1), z2(n2), s2(n2), delta2(n2), delta1(n1), back(n1), scale_back(n1);
    for (std::size_t j = 0; j < n1; ++j) {
        z1[j] = b0[j];
        s1[j] = std::abs(b0[j]);
        for (std::size_t i = 0; i < n0; ++i) {
            z1[j] += double{x[i]} * W0[i * n1 + j];
            s1[j] += std::abs(double{x[i]} * W0[i * n1 + j]);
        }
        a1[j] = 1.0 / (1.0 + std::exp(-z1[j]));
    }
    for (std::size_t k = 0; k < n2; ++k) {
        z2[k] = b1[k];
        s2[k] = std::abs(b1[k]);
        for (std::size_t j = 0; j < n1; ++j) {
            z2[k] += a1[j] * W1[j * n2 + k];
            s2[k] += std::abs(a1[j] * W1[j * n2 + k]);
        }
        delta2[k] = z2[k] - y[k];  // the quadratic cost after a linear output
    }
    for (std::size_t j = 0; j < n1; ++j) {
        for (std::size_t k = 0; k < n2; ++k) {
            back[j] += W1[j * n2 + k] * delta2[k];
            scale_back[j] += std::abs(W1[j * n2 + k] * delta2[k]);
        }
        delta1[j] = back[j] * a1[j] * (1.0 - a1[j]);
    }

    const auto out = net.forward(x);
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < n2; ++k) wrong += !close(out[k], z2[k], s2[k]);
    CHECK(wrong == 0);

    const auto g = autodiff::backprop(net, x, y);
    const float* gW0 = g.weights<0>().data();
    const float* gb0 = g.biases<0>().data();
    const float* gW1 = g.weights<1>().data();
    const float* gb1 = g.biases<1>().data();
    const double d2_scale = [&] {
        double s = 0;
        for (std::size_t k = 0; k < n2; ++k) s += s2[k] + std::abs(y[k]);
        return s;
    }();
    for (std::size_t k = 0; k < n2; ++k) wrong += !close(gb1[k], delta2[k], d2_scale);
    for (std::size_t j = 0; j < n1; ++j)
        for (std::size_t k = 0; k < n2; ++k) wrong += !close(gW1[j * n2 + k], a1[j] * delta2[k], a1[j] * d2_scale);
    for (std::size_t j = 0; j < n1; ++j) {
        // δ¹ = (W¹ δ²) ⊙ σ'(z¹); its error comes from δ² (scaled by the weights) and from the sum
        const double scale = scale_back[j] + std::abs(back[j]) + 1e-3 * d2_scale;
        wrong += !close(gb0[j], delta1[j], scale * 0.25);
        for (std::size_t i = 0; i < n0; ++i)
            wrong += !close(gW0[i * n1 + j], double{x[i]} * delta1[j], std::abs(double{x[i]}) * scale * 0.25);
    }
    CHECK(wrong == 0);
}
