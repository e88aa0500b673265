// The SIMD kernels against their scalar fallbacks, on shapes around the batch width
// (narrower, equal, not a multiple, several blocks).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <array>
#include <limits>

#include <catch2/catch.hpp>

#include "typegrad/expr/functions.hpp"
#include "typegrad/simd/batched.hpp"
#include "typegrad/simd/kernels.hpp"
#include "../support/random_values.hpp"

using namespace typegrad;
using simd::Mode;

namespace {

using testing::random_vector;
using testing::tolerance;

template <class T, std::size_t In, std::size_t Out>
void check_shape() {
    const auto W = random_vector<T>(In * Out, 1);
    const auto a = random_vector<T>(In, 2);
    const auto b = random_vector<T>(Out, 3);
    const auto d = random_vector<T>(Out, 4);
    const double scale_z = static_cast<double>(In), scale_y = static_cast<double>(Out);

    std::vector<T> z_v(Out), z_s(Out);
    simd::gemv_t_bias<In, Out, T, Mode::vector>(W.data(), a.data(), b.data(), z_v.data());
    simd::gemv_t_bias<In, Out, T, Mode::scalar>(W.data(), a.data(), b.data(), z_s.data());
    for (std::size_t j = 0; j < Out; ++j) REQUIRE(std::abs(z_v[j] - z_s[j]) <= tolerance<T> * scale_z);
    // and the scalar one is Wᵀa + b by definition
    for (std::size_t j = 0; j < Out; ++j) {
        double s = b[j];
        for (std::size_t i = 0; i < In; ++i) s += double(W[i * Out + j]) * a[i];
        REQUIRE(std::abs(z_s[j] - s) <= tolerance<T> * scale_z);
    }

    std::vector<T> y_v(In), y_s(In);
    simd::gemv<In, Out, T, Mode::vector>(W.data(), d.data(), y_v.data());
    simd::gemv<In, Out, T, Mode::scalar>(W.data(), d.data(), y_s.data());
    for (std::size_t i = 0; i < In; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < Out; ++j) s += double(W[i * Out + j]) * d[j];
        REQUIRE(std::abs(y_v[i] - s) <= tolerance<T> * scale_y);
        REQUIRE(std::abs(y_s[i] - s) <= tolerance<T> * scale_y);
    }

    for (bool accumulate : {false, true}) {
        std::vector<T> G_v = W, G_s = W;
        simd::ger<In, Out, T, Mode::vector>(a.data(), d.data(), G_v.data(), accumulate);
        simd::ger<In, Out, T, Mode::scalar>(a.data(), d.data(), G_s.data(), accumulate);
        for (std::size_t i = 0; i < In; ++i)
            for (std::size_t j = 0; j < Out; ++j) {
                const double expect = (accumulate ? double(W[i * Out + j]) : 0.0) + double(a[i]) * d[j];
                REQUIRE(std::abs(G_v[i * Out + j] - expect) <= tolerance<T> * 2);
                REQUIRE(std::abs(G_s[i * Out + j] - expect) <= tolerance<T> * 2);
            }
    }

    std::vector<T> x_v = W, x_s = W;
    simd::axpy_neg<In * Out, T, Mode::vector>(T(0.3), W.data(), x_v.data());
    simd::axpy_neg<In * Out, T, Mode::scalar>(T(0.3), W.data(), x_s.data());
    for (std::size_t k = 0; k < In * Out; ++k) REQUIRE(std::abs(x_v[k] - x_s[k]) <= tolerance<T>);
}

}  // namespace

TEMPLATE_TEST_CASE("gemv_t_bias, gemv, ger and axpy agree with their scalar fallbacks", "[simd]", float, double) {
    INFO("architecture " << simd::arch_name() << ", " << simd::width_v<TestType> << " lanes");
    check_shape<TestType, 1, 1>();
    check_shape<TestType, 3, 2>();
    check_shape<TestType, 7, 5>();
    check_shape<TestType, 5, 8>();
    check_shape<TestType, 9, 16>();
    check_shape<TestType, 13, 30>();
    check_shape<TestType, 31, 33>();
    check_shape<TestType, 784, 30>();
    check_shape<TestType, 30, 10>();
    check_shape<TestType, 100, 10>();
    check_shape<TestType, 17, 150>();  // more columns than one register block
}

namespace {
// Sparse inputs as the vector kernels see them: zeros in runs and alone, rows past one listing
// segment (512), the last rows (read through a padded copy) non-zero, and a NaN input, which
// must not be skipped.
template <class T, std::size_t In, std::size_t Out>
void check_sparse() {
    const auto W = random_vector<T>(In * Out, 5);
    const auto d = random_vector<T>(Out, 6);
    auto a = random_vector<T>(In, 7);
    for (std::size_t i = 0; i < In; ++i)
        if ((i / 5) % 4 != 1 && i % 7 != 3 && i + 2 < In) a[i] = T(0);
    std::vector<T> z_v(Out), z_s(Out);
    simd::gemv_t_bias<In, Out, T, Mode::vector>(W.data(), a.data(), nullptr, z_v.data());
    simd::gemv_t_bias<In, Out, T, Mode::scalar>(W.data(), a.data(), nullptr, z_s.data());
    for (std::size_t j = 0; j < Out; ++j) REQUIRE(std::abs(z_v[j] - z_s[j]) <= tolerance<T> * double(In));
    std::vector<T> G_v = W, G_s = W;
    simd::ger<In, Out, T, Mode::vector>(a.data(), d.data(), G_v.data(), true);
    simd::ger<In, Out, T, Mode::scalar>(a.data(), d.data(), G_s.data(), true);
    for (std::size_t k = 0; k < In * Out; ++k)
        REQUIRE(std::abs(G_v[k] - G_s[k]) <= tolerance<T> * 2);  // one FMA, or a rounded product and a sum
    a[In / 2] = std::numeric_limits<T>::quiet_NaN();
    simd::gemv_t_bias<In, Out, T, Mode::vector>(W.data(), a.data(), nullptr, z_v.data());
    simd::ger<In, Out, T, Mode::vector>(a.data(), d.data(), G_v.data(), true);
    for (std::size_t j = 0; j < Out; ++j) REQUIRE(std::isnan(z_v[j]));
    for (std::size_t j = 0; j < Out; ++j) REQUIRE(std::isnan(G_v[(In / 2) * Out + j]));
}
}  // namespace

TEMPLATE_TEST_CASE("sparse inputs: the listed rows give the scalar kernels' sums, a NaN input is kept", "[simd]", float,
                   double) {
    check_sparse<TestType, 784, 30>();
    check_sparse<TestType, 784, 100>();
    check_sparse<TestType, 1100, 10>();
    check_sparse<TestType, 37, 17>();
}

// The list of non-zero inputs the sparse kernels walk (AVX-512: compress; AVX2: a mask and a
// table of positions; otherwise a scalar loop) against its definition: every k < n with
// a[k] != 0 (a NaN counts, −0 does not), plus base, in increasing order — for every length up to
// 40 (whole vectors and tails), densities from empty to full, and base offsets.
TEMPLATE_TEST_CASE("nonzero_rows lists exactly the non-zero inputs, in order", "[simd][sparse]", float, double) {
    using T = TestType;
    Rng rng(17);
    std::uint32_t idx[512 + 16];
    std::vector<std::uint32_t> expected;
    for (std::size_t n = 0; n <= 40; ++n)
        for (const double density : {0.0, 0.1, 0.5, 0.9, 1.0})
            for (const std::uint32_t base : {0u, 8u, 13u, 4096u}) {
                std::vector<T> a(n);
                for (auto& v : a) {
                    const double u = rng.uniform(0.0, 1.0);
                    v = u < density ? static_cast<T>(rng.uniform(-1.0, 1.0)) : (u < (1 + density) / 2 ? T(0) : T(-0.0));
                    if (v != T(0) && rng.uniform(0.0, 1.0) < 0.05) v = std::numeric_limits<T>::quiet_NaN();
                    if (v != T(0) && rng.uniform(0.0, 1.0) < 0.05) v = std::numeric_limits<T>::denorm_min();
                }
                expected.clear();
                for (std::size_t k = 0; k < n; ++k)
                    if (!(a[k] == T(0))) expected.push_back(base + static_cast<std::uint32_t>(k));
                const std::size_t count = simd::detail::nonzero_rows(a.data(), n, base, idx);
                INFO("n " << n << ", density " << density << ", base " << base);
                REQUIRE(count == expected.size());
                CHECK(std::vector<std::uint32_t>(idx, idx + count) == expected);
            }
    // a whole segment, as the kernels call it: 512 values
    std::vector<T> a(512, T(0));
    for (std::size_t k = 0; k < 512; k += 3) a[k] = T(k + 1);
    REQUIRE(simd::detail::nonzero_rows(a.data(), 512, 0, idx) == 171);
    for (std::size_t c = 0; c < 171; ++c) CHECK(idx[c] == 3 * c);
}

TEMPLATE_TEST_CASE("vectorised elementwise functions agree with the scalar rules", "[simd]", float, double) {
    using T = TestType;
    constexpr std::size_t n = 67;
    std::vector<T> x(n), y_v(n), y_s(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<T>(-12.0 + 24.0 * double(i) / double(n - 1));
    const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-15;
    auto check = [&]<class F>(F) {
        simd::map<F, n, T, Mode::vector>(x.data(), y_v.data());
        simd::map<F, n, T, Mode::scalar>(x.data(), y_s.data());
        for (std::size_t i = 0; i < n; ++i)
            REQUIRE(std::abs(y_v[i] - y_s[i]) <= tol * std::max<double>(1.0, std::abs(y_s[i])));
    };
    check(expr::fn::Sigmoid{});
    check(expr::fn::Tanh{});
    check(expr::fn::Relu{});
    check(expr::fn::Identity{});
    // the rules themselves
    REQUIRE(expr::fn::Sigmoid::value(0.0) == 0.5);
    REQUIRE(expr::fn::Sigmoid::derivative(0.0, 0.5) == 0.25);
    REQUIRE(expr::fn::Relu::derivative(-1.0, 0.0) == 0.0);
    REQUIRE(expr::fn::Relu::derivative(2.0, 2.0) == 1.0);
    REQUIRE(expr::fn::Tanh::derivative(0.3, std::tanh(0.3)) == Approx(1 - std::tanh(0.3) * std::tanh(0.3)));
}

TEMPLATE_TEST_CASE("the sigmoid of huge inputs: 0 and 1, vectorised and scalar, without undefined behaviour", "[simd]", float,
                   double) {
    // xsimd's exp converts x·log2(e) to an integer; for |x| near the type's maximum that is UB
    // (found by fuzz_resume; run under UBSan by scripts/sanitize.sh). The argument is limited.
    using T = TestType;
    constexpr std::size_t n = 37;
    std::array<T, n> x{}, v{}, s{};
    for (std::size_t i = 0; i < n; ++i)
        x[i] = (i % 2 ? T(1) : T(-1)) * std::numeric_limits<T>::max() / T(1 << (i % 8));
    simd::map<expr::fn::Sigmoid, n, T, simd::Mode::vector>(x.data(), v.data());
    simd::map<expr::fn::Sigmoid, n, T, simd::Mode::scalar>(x.data(), s.data());
    for (std::size_t i = 0; i < n; ++i) {
        CHECK(v[i] == (i % 2 ? T(1) : T(0)));
        CHECK(s[i] == v[i]);
    }
    // and just inside and outside the limits the value is what the unlimited exp gives
    for (T z : {T(80), T(88), T(103), T(700), T(709)}) {
        CHECK(expr::fn::Sigmoid::value(-z) == T(1) / (T(1) + std::exp(z)));
        CHECK(expr::fn::Sigmoid::value(z) == T(1) / (T(1) + std::exp(-z)));
    }
}

// The batched weight gradient G (+)= Xᵀ D against ger example after example, compared with
// memcmp: the same operations per element, so the same bits, signs of zeros included (D has
// negative values, so 0·d is −0 in places). Sparse and dense inputs, a part of the rows, batches
// of 1, 10 and 64 examples (a bit mask each; 65 falls back to ger on segments), rows narrower
// than, within and wider than the 8 to 16 SIMD batches held in registers (which shapes take which
// path depends on the ISA's width: each is checked either way).
TEMPLATE_TEST_CASE("gemm_xtd_rows is ger example after example, bit for bit", "[simd]", float, double) {
    using T = TestType;
    const auto check = []<std::size_t B, std::size_t In, std::size_t Out>(double density, std::uint64_t seed) {
        std::vector<T> X = random_vector<T>(B * In, seed), D = random_vector<T>(B * Out, seed + 1),
                       G0 = random_vector<T>(In * Out, seed + 2);
        const std::vector<T> keep = random_vector<T>(B * In, seed + 3);  // which inputs are non-zero
        for (std::size_t k = 0; k < X.size(); ++k)
            if (static_cast<double>(keep[k]) * 0.5 + 0.5 >= density) X[k] = T(0);
        const std::size_t lo = In / 3, hi = In - In / 4;
        for (const bool accumulate : {false, true}) {
            INFO("B " << B << ", In " << In << ", Out " << Out << ", density " << density << ", accumulate " << accumulate);
            std::vector<T> want = G0, got = G0, part = G0;
            for (std::size_t b = 0; b < B; ++b)
                simd::ger<In, Out, T, Mode::vector>(X.data() + b * In, D.data() + b * Out, want.data(), accumulate || b > 0);
            simd::gemm_xtd_rows<B, In, Out>(X.data(), D.data(), got.data(), 0, In, accumulate);
            CHECK(std::memcmp(want.data(), got.data(), want.size() * sizeof(T)) == 0);
            simd::gemm_xtd_rows<B, In, Out>(X.data(), D.data(), part.data(), lo, hi, accumulate);
            for (std::size_t i = 0; i < In; ++i) {
                const T* expect = (i >= lo && i < hi ? want.data() : G0.data()) + i * Out;
                if (std::memcmp(part.data() + i * Out, expect, Out * sizeof(T)) != 0) FAIL("rows [" << lo << ", " << hi << "): row " << i);
            }
        }
    };
    for (const double density : {0.0, 0.2, 1.0}) {
        check.template operator()<10, 784, 30>(density, 11);
        check.template operator()<10, 200, 100>(density, 21);
        check.template operator()<10, 13, 7>(density, 31);
        check.template operator()<1, 70, 64>(density, 41);
        check.template operator()<64, 130, 128>(density, 51);
        check.template operator()<65, 70, 64>(density, 61);
        check.template operator()<10, 40, 256>(density, 81);
        check.template operator()<3, 17, 130>(density, 71);
    }
}
