// Issue 22, item 3: the convolution kernels retuned for AVX2 (6 × 2 register blocks, the columns
// past the last whole batch as one more batch, im2col/col2im rows of compile-time length, the
// branch-free max-pool backward, the vectorised channel sum, gemv's one reduction per row and
// gemm_dwt's row blocks) against plain index loops, on shapes around the batch width: fewer
// columns than a batch, a multiple, not a multiple (LeNet's 100 positions), padded and strided
// windows. Tolerance: the kernels sum in other orders (FMA, lanes), so they agree to a few ulps
// per term — relative 1e-5 (float) / 1e-13 (double) of the sum of magnitudes; where the same
// arithmetic is promised (gemm_dwt against gemv, im2col, the max-pool's routing), bit for bit.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/simd/batched.hpp"
#include "typegrad/simd/conv.hpp"
#include "typegrad/simd/kernels.hpp"
#include "../support/random_values.hpp"

using namespace typegrad;

namespace {

using testing::random_vector;
using testing::tolerance;

// |got − want| ≤ tol · (Σ|terms| + 1), element by element
template <class T>
void check_close(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& magnitude) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(std::abs(static_cast<double>(got[i]) - want[i]) <= tolerance<T> * (magnitude[i] + 1.0));
    }
}

// C (M × N) = A·B (+ bias) or C += A·B, for A (M × K), B (K × N): matmul_nn; and Aᵀ·B for
// A stored (K × M): matmul_tn; and A·Bᵀ for B stored (N × K): matmul_nt.
template <class T, std::size_t M, std::size_t K, std::size_t N>
void check_products() {
    const auto A = random_vector<T>(M * K, 1), B = random_vector<T>(K * N, 2), bias = random_vector<T>(M, 3);
    const auto C0 = random_vector<T>(M * N, 4), At = random_vector<T>(K * M, 5), Bt = random_vector<T>(N * K, 6);
    for (const bool accumulate : {false, true}) {
        INFO("M " << M << " K " << K << " N " << N << (accumulate ? ", accumulating" : ""));
        std::vector<double> nn(M * N), tn(M * N), nt(M * N), mag_nn(M * N), mag_tn(M * N), mag_nt(M * N);
        for (std::size_t m = 0; m < M; ++m)
            for (std::size_t n = 0; n < N; ++n) {
                const double start = accumulate ? double(C0[m * N + n]) : 0.0;
                double s = accumulate ? start : double(bias[m]), t = start, u = start;
                double ms = std::abs(s), mt = std::abs(t), mu = std::abs(u);
                for (std::size_t k = 0; k < K; ++k) {
                    s += double(A[m * K + k]) * double(B[k * N + n]);
                    t += double(At[k * M + m]) * double(B[k * N + n]);
                    u += double(A[m * K + k]) * double(Bt[n * K + k]);
                    ms += std::abs(double(A[m * K + k]) * double(B[k * N + n]));
                    mt += std::abs(double(At[k * M + m]) * double(B[k * N + n]));
                    mu += std::abs(double(A[m * K + k]) * double(Bt[n * K + k]));
                }
                nn[m * N + n] = s, tn[m * N + n] = t, nt[m * N + n] = u;
                mag_nn[m * N + n] = ms, mag_tn[m * N + n] = mt, mag_nt[m * N + n] = mu;
            }
        std::vector<T> c = C0;
        simd::matmul_nn<M, K, N>(A.data(), B.data(), accumulate ? nullptr : bias.data(), c.data(), accumulate);
        check_close(c, nn, mag_nn);
        c = C0;
        simd::matmul_tn<M, K, N>(At.data(), B.data(), c.data(), accumulate);
        check_close(c, tn, mag_tn);
        c = C0;
        simd::matmul_nt<M, K, N>(A.data(), Bt.data(), c.data(), accumulate);
        check_close(c, nt, mag_nt);
    }
}

template <class T, class G>
void check_im2col() {
    const auto x = random_vector<T>(G::in_size, 7);
    std::vector<T> cols(G::patch * G::positions, T(-9));
    simd::im2col<G>(x.data(), cols.data());
    const auto at = [&](std::size_t c, std::ptrdiff_t iy, std::ptrdiff_t ix) {
        if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(G::height) || ix >= std::ptrdiff_t(G::width)) return T(0);
        return x[(c * G::height + std::size_t(iy)) * G::width + std::size_t(ix)];
    };
    std::size_t wrong = 0;
    for (std::size_t c = 0; c < G::channels; ++c)
        for (std::size_t ky = 0; ky < G::kernel; ++ky)
            for (std::size_t kx = 0; kx < G::kernel; ++kx)
                for (std::size_t oy = 0; oy < G::out_height; ++oy)
                    for (std::size_t ox = 0; ox < G::out_width; ++ox) {
                        const std::ptrdiff_t iy = std::ptrdiff_t(oy * G::stride + ky) - std::ptrdiff_t(G::padding);
                        const std::ptrdiff_t ix = std::ptrdiff_t(ox * G::stride + kx) - std::ptrdiff_t(G::padding);
                        const T got = cols[((c * G::kernel + ky) * G::kernel + kx) * G::positions + oy * G::out_width + ox];
                        wrong += got != at(c, iy, ix);  // a copy: exact
                    }
    CHECK(wrong == 0);

    // col2im is im2col's adjoint: ⟨im2col(x), g⟩ = ⟨x, col2im(g)⟩, and col2im accumulates
    const auto g = random_vector<T>(G::patch * G::positions, 8);
    std::vector<T> dx(G::in_size, T(5));
    simd::col2im<G>(g.data(), dx.data(), false);
    double lhs = 0, rhs = 0, mag = 0;
    for (std::size_t i = 0; i < g.size(); ++i) lhs += double(cols[i]) * double(g[i]), mag += std::abs(double(cols[i]) * double(g[i]));
    for (std::size_t i = 0; i < x.size(); ++i) rhs += double(x[i]) * double(dx[i]);
    CHECK(std::abs(lhs - rhs) <= tolerance<T> * (mag + 1.0));
    std::vector<T> twice = dx;
    simd::col2im<G>(g.data(), twice.data(), true);
    for (std::size_t i = 0; i < dx.size(); ++i) CHECK(double(twice[i]) == Approx(2.0 * double(dx[i])).margin(1e-5));
}

}  // namespace

TEMPLATE_TEST_CASE("convolution products agree with index loops, overwriting and accumulating", "[simd][conv]", float,
                   double) {
    check_products<TestType, 16, 150, 100>();  // LeNet's conv2: 100 positions, 12 whole batches + 4
    check_products<TestType, 6, 25, 784>();    // conv1
    check_products<TestType, 150, 16, 100>();  // conv2's input gradient (Wᵀδ)
    check_products<TestType, 150, 100, 16>();  // conv2's weight gradient (cols δᵀ)
    check_products<TestType, 5, 7, 3>();       // fewer columns than a batch
    check_products<TestType, 7, 3, 13>();      // one batch and a few columns (float on AVX2)
    check_products<TestType, 1, 9, 21>();
}

TEMPLATE_TEST_CASE("im2col copies exactly and col2im is its adjoint", "[simd][conv]", float, double) {
    check_im2col<TestType, simd::Window<1, 28, 28, 5, 1, 2>>();  // LeNet's conv1, padded
    check_im2col<TestType, simd::Window<6, 14, 14, 5, 1, 0>>();  // conv2
    check_im2col<TestType, simd::Window<2, 7, 5, 3, 2, 1>>();    // strided, padded, not square
    check_im2col<TestType, simd::Window<3, 6, 6, 3, 1, 3>>();    // padding as large as the kernel
}

// 2 × 2 max-pool backward of a C × H × W image against the rule written out: ties in the first
// windows, the rest random. W = 28 (LeNet's conv1, 14 windows a row) takes the vectorised loop
// over whole batches of windows and its remainder; W = 8 only the remainder.
template <class T, std::size_t C, std::size_t H, std::size_t W>
void check_max_pool2_backward() {
    constexpr std::size_t K = 2, Ho = H / K, Wo = W / K;
    auto x = random_vector<T>(C * H * W, 9);
    // ties: windows whose maximum appears twice or four times
    for (std::size_t i : {std::size_t{1}, std::size_t{W}}) x[i] = x[0] = T(2);
    for (std::size_t k : {0, 1}) x[(2 * W + 2) + k] = x[(2 * W + 2) + W + k] = T(3);
    x[4 * W + 5] = x[5 * W + 4] = T(4);  // the 2nd and 3rd element of a window
    std::vector<T> y(C * Ho * Wo);
    simd::max_pool_forward<C, H, W, K>(x.data(), y.data());
    const auto g = random_vector<T>(y.size(), 10);
    std::vector<T> want(x.size(), T(0));
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t oy = 0; oy < Ho; ++oy)
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const std::size_t o = (c * Ho + oy) * Wo + ox;
                bool done = false;
                for (std::size_t ky = 0; ky < K && !done; ++ky)
                    for (std::size_t kx = 0; kx < K && !done; ++kx) {
                        const std::size_t i = (c * H + oy * K + ky) * W + ox * K + kx;
                        if (x[i] == y[o]) want[i] = g[o], done = true;
                    }
            }
    std::vector<T> dx(x.size(), T(7));
    simd::max_pool_backward<C, H, W, K>(x.data(), y.data(), g.data(), dx.data(), false);
    CHECK(dx == want);
    std::vector<T> acc(x.size(), T(1));
    simd::max_pool_backward<C, H, W, K>(x.data(), y.data(), g.data(), acc.data(), true);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(acc[i] == T(1) + want[i]);
}

TEMPLATE_TEST_CASE("max-pool backward routes to the first maximum of each window, ties included", "[simd][conv]", float,
                   double) {
    using T = TestType;
    check_max_pool2_backward<T, 3, 6, 8>();
    check_max_pool2_backward<T, 2, 6, 28>();
    check_max_pool2_backward<T, 1, 6, 38>();  // 19 windows: two batches of 8 floats and a rest

    // a window whose maximum is NaN (no element equals it) routes to its fourth element
    {
        constexpr std::size_t W = 28;
        auto x = random_vector<T>(2 * W, 16);
        const auto g = random_vector<T>(W / 2, 17);
        std::vector<T> y(W / 2), dx(2 * W, T(7));
        simd::max_pool_forward<1, 2, W, 2>(x.data(), y.data());
        y[3] = std::numeric_limits<T>::quiet_NaN();
        simd::max_pool_backward<1, 2, W, 2>(x.data(), y.data(), g.data(), dx.data(), false);
        CHECK(dx[6] == T(0));
        CHECK(dx[7] == T(0));
        CHECK(dx[W + 6] == T(0));
        CHECK(dx[W + 7] == g[3]);
    }

    // 3 × 3 windows take the general path: the same rule
    constexpr std::size_t K3 = 3, H3 = 6, W3 = 9;
    auto x3 = random_vector<T>(H3 * W3, 11);
    x3[1] = x3[W3 + 2] = T(5);  // a tie inside the first window: the first in row-major order
    std::vector<T> y3((H3 / K3) * (W3 / K3)), g3 = random_vector<T>(y3.size(), 12), dx3(x3.size(), T(7));
    simd::max_pool_forward<1, H3, W3, K3>(x3.data(), y3.data());
    simd::max_pool_backward<1, H3, W3, K3>(x3.data(), y3.data(), g3.data(), dx3.data(), false);
    CHECK(dx3[1] == g3[0]);
    CHECK(dx3[W3 + 2] == T(0));
    std::size_t nonzero = 0;
    for (T v : dx3) nonzero += v != T(0);
    CHECK(nonzero == y3.size());
}

TEMPLATE_TEST_CASE("sum_row, gemv and gemm_dwt: one reduction per row, the same bits per example", "[simd][conv]", float,
                   double) {
    using T = TestType;
    const auto p = random_vector<T>(784, 13);
    double s = 0, m = 0;
    for (T v : p) s += double(v), m += std::abs(double(v));
    CHECK(std::abs(double(simd::sum_row<784>(p.data())) - s) <= tolerance<T> * (m + 1));
    CHECK(std::abs(double(simd::sum_row<3>(p.data())) - (double(p[0]) + double(p[1]) + double(p[2]))) <= 1e-6);

    constexpr std::size_t B = 10, In = 402, Out = 30;  // 402: rows left after blocks of 4; 30 = 3 × 8 + 4 + 2
    const auto W = random_vector<T>(In * Out, 14), D = random_vector<T>(B * Out, 15);
    std::vector<T> batched(B * In), one(B * In);
    simd::gemm_dwt<B, In, Out>(D.data(), W.data(), batched.data(), false);
    for (std::size_t b = 0; b < B; ++b) simd::gemv<In, Out>(W.data(), D.data() + b * Out, one.data() + b * In);
    CHECK(batched == one);
    std::vector<double> want(B * In), mag(B * In);
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t i = 0; i < In; ++i)
            for (std::size_t j = 0; j < Out; ++j) {
                want[b * In + i] += double(W[i * Out + j]) * double(D[b * Out + j]);
                mag[b * In + i] += std::abs(double(W[i * Out + j]) * double(D[b * Out + j]));
            }
    check_close(batched, want, mag);
}
