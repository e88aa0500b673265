// The convolution kernels on LeNet-5's two convolutions, im2col + matrix product (the engine's
// way, simd/conv.hpp) against direct loops, and LeNet-5's whole gradient. Names:
// BM_<workload>_<impl>, float, one example per iteration unless the name says otherwise.
//
// Workloads:
//   conv1  1 × 28 × 28 → 6 kernels 5 × 5, padding 2 (output 6 × 28 × 28)
//   conv2  6 × 14 × 14 → 16 kernels 5 × 5            (output 16 × 10 × 10)
//   <conv>Forward     z = W ⋆ x + b
//   <conv>WeightGrad  ∂J/∂W = δ ⋆ x      (overwriting, as for the first example of a batch)
//   <conv>InputGrad   ∂J/∂x = δ ⋆ flip(W) (full correlation; overwriting)
//   <conv>Im2col / <conv>Col2im   the copies alone (what im2col adds to the matrix products)
// Impls:
//   im2col       simd::conv2d_forward / conv2d_weight_gradient / conv2d_input_gradient
//   matmulOnly   the same matrix product on columns made beforehand (im2col's copy not timed)
//   direct       plain loops over compile-time bounds, the bounds test inside the innermost loop
//                (simd::conv2d_direct for the forward pass; the two backward ones written here
//                in the same style)
//   directRange  the same loops with the valid range of output columns hoisted out of the
//                innermost loop, which leaves it branch-free (GCC vectorises the forward and
//                input-gradient ones; the weight gradient's is a float sum GCC keeps in order)
// FLOP/s counts 2·Co·C·K·K·Ho·Wo per example for every product (padding included), the same
// number for all impls, so the counter compares times.
//
//   lenetGradExample_{ref,ad}        one example's gradient: the hand-written rules
//                                    (reference::backprop_into) / the autodiff engine
//   lenetGradBatch10_{ref,adExample,ad}  a chunk of 10: 10 calls of the reference / 10 calls of
//                                    autodiff::backprop_into / one autodiff::backprop_batch_into
// Inputs of the LeNet benchmarks are the first MNIST training images when TYPEGRAD_MNIST_DIR is
// set, else the built-in synthetic digits; the kernel benchmarks use uniform values in [−1, 1].
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_data.hpp"
#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/simd/conv.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/train/example.hpp"
#include "typegrad/util/random.hpp"

namespace {

using namespace typegrad;

// --- the direct backward products ------------------------------------------------------------

/// ∂J/∂W (+)= δ ⋆ x: dw[o][c][ky][kx] = Σ_{oy,ox} δ[o][oy][ox] · x[c][oy·S + ky − P][ox·S + kx − P].
template <class G, std::size_t Co, class T>
void weight_gradient_direct(const T* __restrict x, const T* __restrict delta, T* __restrict dw, bool accumulate) noexcept {
    constexpr std::size_t K = G::kernel, S = G::stride, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    for (std::size_t o = 0; o < Co; ++o)
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                for (std::size_t kx = 0; kx < K; ++kx) {
                    T s = 0;
                    for (std::size_t oy = 0; oy < Ho; ++oy) {
                        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * S + ky) - static_cast<std::ptrdiff_t>(P);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                        const T* in = x + (c * H + static_cast<std::size_t>(iy)) * W;
                        const T* d = delta + (o * Ho + oy) * Wo;
                        for (std::size_t ox = 0; ox < Wo; ++ox) {
                            const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * S + kx) - static_cast<std::ptrdiff_t>(P);
                            if (ix >= 0 && ix < static_cast<std::ptrdiff_t>(W)) s += d[ox] * in[ix];
                        }
                    }
                    T& out = dw[((o * G::channels + c) * K + ky) * K + kx];
                    out = accumulate ? out + s : s;
                }
}

/// ∂J/∂x (+)= the full correlation of δ with the flipped kernel, as a scatter:
/// dx[c][oy·S + ky − P][ox·S + kx − P] += W[o][c][ky][kx] · δ[o][oy][ox].
template <class G, std::size_t Co, class T>
void input_gradient_direct(const T* __restrict w, const T* __restrict delta, T* __restrict dx, bool accumulate) noexcept {
    constexpr std::size_t K = G::kernel, S = G::stride, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    if (!accumulate) std::fill_n(dx, G::in_size, T(0));
    for (std::size_t o = 0; o < Co; ++o)
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                for (std::size_t kx = 0; kx < K; ++kx) {
                    const T wk = w[((o * G::channels + c) * K + ky) * K + kx];
                    for (std::size_t oy = 0; oy < Ho; ++oy) {
                        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * S + ky) - static_cast<std::ptrdiff_t>(P);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                        T* in = dx + (c * H + static_cast<std::size_t>(iy)) * W;
                        const T* d = delta + (o * Ho + oy) * Wo;
                        for (std::size_t ox = 0; ox < Wo; ++ox) {
                            const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * S + kx) - static_cast<std::ptrdiff_t>(P);
                            if (ix >= 0 && ix < static_cast<std::ptrdiff_t>(W)) in[ix] += wk * d[ox];
                        }
                    }
                }
}

// --- the same with the valid output columns [lo, hi) hoisted (stride 1 only) -------------------

/// The output columns ox with 0 ≤ ox + kx − P < W, for stride 1.
template <class G>
constexpr std::size_t lo_of(std::size_t kx) noexcept {
    return std::min(G::out_width, kx < G::padding ? G::padding - kx : std::size_t{0});
}
template <class G>
constexpr std::size_t hi_of(std::size_t kx) noexcept {
    return std::max(lo_of<G>(kx), std::min(G::out_width, G::width + G::padding - kx));
}

template <class G, std::size_t Co, class T>
void forward_direct_range(const T* __restrict w, const T* __restrict x, const T* __restrict b, T* __restrict z) noexcept {
    static_assert(G::stride == 1);
    constexpr std::size_t K = G::kernel, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    for (std::size_t o = 0; o < Co; ++o) {
        T* zo = z + o * Ho * Wo;
        std::fill_n(zo, Ho * Wo, b[o]);
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                for (std::size_t kx = 0; kx < K; ++kx) {
                    const T wk = w[((o * G::channels + c) * K + ky) * K + kx];
                    const std::size_t lo = lo_of<G>(kx), hi = hi_of<G>(kx);
                    for (std::size_t oy = 0; oy < Ho; ++oy) {
                        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy + ky) - static_cast<std::ptrdiff_t>(P);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                        const T* in = x + (c * H + static_cast<std::size_t>(iy)) * W + kx - P;  // in[ox] = x[c][iy][ox + kx − P]
                        T* out = zo + oy * Wo;
                        for (std::size_t ox = lo; ox < hi; ++ox) out[ox] += wk * in[ox];
                    }
                }
    }
}

template <class G, std::size_t Co, class T>
void weight_gradient_direct_range(const T* __restrict x, const T* __restrict delta, T* __restrict dw, bool accumulate) noexcept {
    static_assert(G::stride == 1);
    constexpr std::size_t K = G::kernel, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    for (std::size_t o = 0; o < Co; ++o)
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                for (std::size_t kx = 0; kx < K; ++kx) {
                    const std::size_t lo = lo_of<G>(kx), hi = hi_of<G>(kx);
                    T s = 0;
                    for (std::size_t oy = 0; oy < Ho; ++oy) {
                        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy + ky) - static_cast<std::ptrdiff_t>(P);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                        const T* in = x + (c * H + static_cast<std::size_t>(iy)) * W + kx - P;
                        const T* d = delta + (o * Ho + oy) * Wo;
                        for (std::size_t ox = lo; ox < hi; ++ox) s += d[ox] * in[ox];
                    }
                    T& out = dw[((o * G::channels + c) * K + ky) * K + kx];
                    out = accumulate ? out + s : s;
                }
}

template <class G, std::size_t Co, class T>
void input_gradient_direct_range(const T* __restrict w, const T* __restrict delta, T* __restrict dx, bool accumulate) noexcept {
    static_assert(G::stride == 1);
    constexpr std::size_t K = G::kernel, P = G::padding, H = G::height, W = G::width;
    constexpr std::size_t Ho = G::out_height, Wo = G::out_width;
    if (!accumulate) std::fill_n(dx, G::in_size, T(0));
    for (std::size_t o = 0; o < Co; ++o)
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t ky = 0; ky < K; ++ky)
                for (std::size_t kx = 0; kx < K; ++kx) {
                    const T wk = w[((o * G::channels + c) * K + ky) * K + kx];
                    const std::size_t lo = lo_of<G>(kx), hi = hi_of<G>(kx);
                    for (std::size_t oy = 0; oy < Ho; ++oy) {
                        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy + ky) - static_cast<std::ptrdiff_t>(P);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                        T* in = dx + (c * H + static_cast<std::size_t>(iy)) * W + kx - P;
                        const T* d = delta + (o * Ho + oy) * Wo;
                        for (std::size_t ox = lo; ox < hi; ++ox) in[ox] += wk * d[ox];
                    }
                }
}

// --- operands -----------------------------------------------------------------------------------

template <class C>
void fill_random(C& c, std::uint64_t seed) {
    Rng rng(seed);
    for (auto& v : c) v = static_cast<float>(rng.uniform(-1, 1));
}

template <class G, std::size_t Co>
struct Operands {
    std::vector<float> w = std::vector<float>(Co * G::patch), x = std::vector<float>(G::in_size),
                       b = std::vector<float>(Co), delta = std::vector<float>(Co * G::positions),
                       z = std::vector<float>(Co * G::positions), dw = std::vector<float>(Co * G::patch),
                       dx = std::vector<float>(G::in_size), cols = std::vector<float>(G::patch * G::positions);
    Operands() {
        fill_random(w, 1);
        fill_random(x, 2);
        fill_random(b, 3);
        fill_random(delta, 4);
        simd::im2col<G>(x.data(), cols.data());
    }
};

template <class G, std::size_t Co>
constexpr double conv_flops = 2.0 * Co * G::channels * G::kernel * G::kernel * G::positions;

template <class G, std::size_t Co>
void set_flops(benchmark::State& state) {
    state.counters["FLOP/s"] = benchmark::Counter(conv_flops<G, Co>, benchmark::Counter::kIsIterationInvariantRate);
}

enum class Impl { im2col, matmul_only, direct, direct_range };

template <class G, std::size_t Co, Impl I>
void forward(benchmark::State& state) {
    Operands<G, Co> o;
    for (auto _ : state) {
        if constexpr (I == Impl::im2col) simd::conv2d_forward<G, Co>(o.w.data(), o.x.data(), o.b.data(), o.z.data());
        else if constexpr (I == Impl::matmul_only)
            simd::matmul_nn<Co, G::patch, G::positions>(o.w.data(), o.cols.data(), o.b.data(), o.z.data());
        else if constexpr (I == Impl::direct) simd::conv2d_direct<G, Co>(o.w.data(), o.x.data(), o.b.data(), o.z.data());
        else forward_direct_range<G, Co>(o.w.data(), o.x.data(), o.b.data(), o.z.data());
        benchmark::DoNotOptimize(o.z.data());
        benchmark::ClobberMemory();
    }
    set_flops<G, Co>(state);
}

template <class G, std::size_t Co, Impl I>
void weight_grad(benchmark::State& state) {
    Operands<G, Co> o;
    for (auto _ : state) {
        if constexpr (I == Impl::im2col) simd::conv2d_weight_gradient<G, Co>(o.x.data(), o.delta.data(), o.dw.data(), false);
        else if constexpr (I == Impl::matmul_only)
            simd::matmul_nt<Co, G::positions, G::patch>(o.delta.data(), o.cols.data(), o.dw.data(), false);
        else if constexpr (I == Impl::direct) weight_gradient_direct<G, Co>(o.x.data(), o.delta.data(), o.dw.data(), false);
        else weight_gradient_direct_range<G, Co>(o.x.data(), o.delta.data(), o.dw.data(), false);
        benchmark::DoNotOptimize(o.dw.data());
        benchmark::ClobberMemory();
    }
    set_flops<G, Co>(state);
}

template <class G, std::size_t Co, Impl I>
void input_grad(benchmark::State& state) {
    Operands<G, Co> o;
    for (auto _ : state) {
        if constexpr (I == Impl::im2col) simd::conv2d_input_gradient<G, Co>(o.w.data(), o.delta.data(), o.dx.data(), false);
        else if constexpr (I == Impl::matmul_only)
            simd::matmul_tn<G::patch, Co, G::positions>(o.w.data(), o.delta.data(), o.cols.data());
        else if constexpr (I == Impl::direct) input_gradient_direct<G, Co>(o.w.data(), o.delta.data(), o.dx.data(), false);
        else input_gradient_direct_range<G, Co>(o.w.data(), o.delta.data(), o.dx.data(), false);
        benchmark::DoNotOptimize(o.dx.data());
        benchmark::DoNotOptimize(o.cols.data());
        benchmark::ClobberMemory();
    }
    set_flops<G, Co>(state);
}

template <class G, std::size_t Co>
void im2col_only(benchmark::State& state) {
    Operands<G, Co> o;
    for (auto _ : state) {
        simd::im2col<G>(o.x.data(), o.cols.data());
        benchmark::DoNotOptimize(o.cols.data());
        benchmark::ClobberMemory();
    }
    state.counters["bytes/s"] = benchmark::Counter(4.0 * G::patch * G::positions, benchmark::Counter::kIsIterationInvariantRate);
}

template <class G, std::size_t Co>
void col2im_only(benchmark::State& state) {
    Operands<G, Co> o;
    for (auto _ : state) {
        simd::col2im<G>(o.cols.data(), o.dx.data(), false);
        benchmark::DoNotOptimize(o.dx.data());
        benchmark::ClobberMemory();
    }
    state.counters["bytes/s"] = benchmark::Counter(4.0 * G::patch * G::positions, benchmark::Counter::kIsIterationInvariantRate);
}

// --- the impls agree (checked once before the benchmarks run) -----------------------------------

double max_relative(const std::vector<float>& a, const std::vector<float>& b) {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::abs(double(a[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

template <class G, std::size_t Co>
bool check(const char* name) {
    Operands<G, Co> o;
    std::vector<float> z1(o.z.size()), z2(o.z.size()), z3(o.z.size()), w1(o.dw.size()), w2(o.dw.size()),
        w3(o.dw.size()), x1(o.dx.size()), x2(o.dx.size()), x3(o.dx.size());
    simd::conv2d_forward<G, Co>(o.w.data(), o.x.data(), o.b.data(), z1.data());
    simd::conv2d_direct<G, Co>(o.w.data(), o.x.data(), o.b.data(), z2.data());
    forward_direct_range<G, Co>(o.w.data(), o.x.data(), o.b.data(), z3.data());
    simd::conv2d_weight_gradient<G, Co>(o.x.data(), o.delta.data(), w1.data(), false);
    weight_gradient_direct<G, Co>(o.x.data(), o.delta.data(), w2.data(), false);
    weight_gradient_direct_range<G, Co>(o.x.data(), o.delta.data(), w3.data(), false);
    simd::conv2d_input_gradient<G, Co>(o.w.data(), o.delta.data(), x1.data(), false);
    input_gradient_direct<G, Co>(o.w.data(), o.delta.data(), x2.data(), false);
    input_gradient_direct_range<G, Co>(o.w.data(), o.delta.data(), x3.data(), false);
    const double worst = std::max({max_relative(z1, z2), max_relative(z1, z3), max_relative(w1, w2), max_relative(w1, w3),
                                   max_relative(x1, x2), max_relative(x1, x3)});
    std::cout << name << ": im2col vs direct, largest relative difference " << worst << "\n";
    return worst < 1e-5;
}

// --- LeNet-5's gradient ---------------------------------------------------------------------------

inline constexpr auto lenet = input<1, 28, 28> | conv2d<6, 5, 1, 2> | relu | max_pool<2> | conv2d<16, 5> | relu |
                              max_pool<2> | flatten | dense<120> | relu | dense<84> | relu | dense<10> | softmax;
using LeNet = Model<float, decltype(lenet), cost::LogLikelihood>;

using bench::data_name;
const data::Split& dataset() { return bench::dataset<1000, 100>(); }

template <class M>
struct Batch {
    static constexpr std::size_t size = 10;
    std::vector<typename M::input_type> x = std::vector<typename M::input_type>(size);
    std::vector<typename M::output_type> y = std::vector<typename M::output_type>(size);
    std::vector<typename M::value_type> X = std::vector<typename M::value_type>(size * M::input_width);
    std::vector<typename M::value_type> Y = std::vector<typename M::value_type>(size * M::output_width);
    Batch() {
        for (std::size_t b = 0; b < size; ++b) {
            train::load_example<M>(dataset().train, b, x[b], y[b]);
            std::copy(x[b].begin(), x[b].end(), X.begin() + static_cast<std::ptrdiff_t>(b * M::input_width));
            std::copy(y[b].begin(), y[b].end(), Y.begin() + static_cast<std::ptrdiff_t>(b * M::output_width));
        }
    }
};

void set_examples(benchmark::State& state, double n) {
    state.counters["examples/s"] = benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
}

template <class M>
void lenet_example_ref(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    auto g = std::make_unique<Gradients<M>>();
    auto ws = std::make_unique<reference::Workspace<M>>();
    for (auto _ : state) {
        reference::backprop_into(*net, batch.x[0], batch.y[0], *g, *ws);
        benchmark::DoNotOptimize(g->template weights<0>().data());
        benchmark::ClobberMemory();
    }
    set_examples(state, 1);
}
template <class M>
void lenet_example_ad(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    auto g = std::make_unique<Gradients<M>>();
    auto ws = std::make_unique<autodiff::Workspace<M>>();
    for (auto _ : state) {
        autodiff::backprop_into(*net, batch.x[0], batch.y[0], *g, *ws);
        benchmark::DoNotOptimize(g->template weights<0>().data());
        benchmark::ClobberMemory();
    }
    set_examples(state, 1);
}
template <class M>
void lenet_batch_ref(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    auto g = std::make_unique<Gradients<M>>();
    auto ws = std::make_unique<reference::Workspace<M>>();
    for (auto _ : state) {
        for (std::size_t b = 0; b < batch.size; ++b)
            reference::backprop_into(*net, batch.x[b], batch.y[b], *g, *ws, b ? Accumulate::yes : Accumulate::no);
        benchmark::DoNotOptimize(g->template weights<0>().data());
        benchmark::ClobberMemory();
    }
    set_examples(state, double(batch.size));
}
template <class M>
void lenet_batch_ad_example(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    auto g = std::make_unique<Gradients<M>>();
    auto ws = std::make_unique<autodiff::Workspace<M>>();
    for (auto _ : state) {
        for (std::size_t b = 0; b < batch.size; ++b)
            autodiff::backprop_into(*net, batch.x[b], batch.y[b], *g, *ws, b ? Accumulate::yes : Accumulate::no);
        benchmark::DoNotOptimize(g->template weights<0>().data());
        benchmark::ClobberMemory();
    }
    set_examples(state, double(batch.size));
}
template <class M>
void lenet_batch_ad(benchmark::State& state) {
    const auto net = std::make_unique<M>(1);
    Batch<M> batch;
    auto g = std::make_unique<Gradients<M>>();
    auto ws = std::make_unique<autodiff::Workspace<M, Batch<M>::size>>();
    for (auto _ : state) {
        autodiff::backprop_batch_into(*net, batch.X.data(), batch.Y.data(), *g, *ws);
        benchmark::DoNotOptimize(g->template weights<0>().data());
        benchmark::ClobberMemory();
    }
    set_examples(state, double(batch.size));
}

// --- registration ---------------------------------------------------------------------------------

using Conv1 = simd::Window<1, 28, 28, 5, 1, 2>;
using Conv2 = simd::Window<6, 14, 14, 5, 1, 0>;

template <class G, std::size_t Co>
void register_conv(const std::string& conv) {
    using benchmark::RegisterBenchmark;
    const auto name = [&](const char* workload, const char* impl) { return "BM_" + conv + workload + "_" + impl; };
    RegisterBenchmark(name("Forward", "im2col").c_str(), forward<G, Co, Impl::im2col>);
    RegisterBenchmark(name("Forward", "matmulOnly").c_str(), forward<G, Co, Impl::matmul_only>);
    RegisterBenchmark(name("Forward", "direct").c_str(), forward<G, Co, Impl::direct>);
    RegisterBenchmark(name("Forward", "directRange").c_str(), forward<G, Co, Impl::direct_range>);
    RegisterBenchmark(name("WeightGrad", "im2col").c_str(), weight_grad<G, Co, Impl::im2col>);
    RegisterBenchmark(name("WeightGrad", "matmulOnly").c_str(), weight_grad<G, Co, Impl::matmul_only>);
    RegisterBenchmark(name("WeightGrad", "direct").c_str(), weight_grad<G, Co, Impl::direct>);
    RegisterBenchmark(name("WeightGrad", "directRange").c_str(), weight_grad<G, Co, Impl::direct_range>);
    RegisterBenchmark(name("InputGrad", "im2col").c_str(), input_grad<G, Co, Impl::im2col>);
    RegisterBenchmark(name("InputGrad", "matmulOnly").c_str(), input_grad<G, Co, Impl::matmul_only>);
    RegisterBenchmark(name("InputGrad", "direct").c_str(), input_grad<G, Co, Impl::direct>);
    RegisterBenchmark(name("InputGrad", "directRange").c_str(), input_grad<G, Co, Impl::direct_range>);
    RegisterBenchmark(name("Im2col", "copy").c_str(), im2col_only<G, Co>);
    RegisterBenchmark(name("Col2im", "scatter").c_str(), col2im_only<G, Co>);
}

void register_lenet() {
    using benchmark::RegisterBenchmark;
    RegisterBenchmark("BM_lenetGradExample_ref", lenet_example_ref<LeNet>);
    RegisterBenchmark("BM_lenetGradExample_ad", lenet_example_ad<LeNet>);
    RegisterBenchmark("BM_lenetGradBatch10_ref", lenet_batch_ref<LeNet>);
    RegisterBenchmark("BM_lenetGradBatch10_adExample", lenet_batch_ad_example<LeNet>);
    RegisterBenchmark("BM_lenetGradBatch10_ad", lenet_batch_ad<LeNet>);
}

}  // namespace

int main(int argc, char** argv) {
    dataset();
    std::cout << "typegrad convolutions: SIMD architecture " << simd::arch_name() << ", " << simd::width_v<float>
              << " floats per batch; float; LeNet-5 data: " << data_name << "\n"
              << "conv1 = 1x28x28 -> 6 kernels 5x5 pad 2 (" << conv_flops<Conv1, 6> << " FLOP/example), "
              << "conv2 = 6x14x14 -> 16 kernels 5x5 (" << conv_flops<Conv2, 16> << " FLOP/example)\n";
    const bool ok = check<Conv1, 6>("conv1") & check<Conv2, 16>("conv2");
    if (!ok) {
        std::cerr << "bench_conv: the implementations disagree; not benchmarking\n";
        return 1;
    }
    register_conv<Conv1, 6>("conv1");
    register_conv<Conv2, 16>("conv2");
    register_lenet();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
