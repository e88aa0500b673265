// One example of a dataset as the network's tensors: its inputs (bytes b as b / 255, or floats)
// converted to the element type T, and its target (a label as a one-hot vector, or the target
// values as they are).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "typegrad/data/dataset.hpp"
#include "typegrad/nn/model.hpp"

namespace typegrad::train {

namespace detail {
// GCC 12 vectorises the conversion below only at -O3 (the "very cheap" cost model of -O2 refuses
// the byte-to-float widening): at -O2 the 784 divisions of an image cost 570 ns, vectorised 47 ns
// (measured, AVX-512). The attribute asks for the -O3 cost model for this loop alone.
#if defined(__GNUC__) && !defined(__clang__)
#define TYPEGRAD_VECTORIZE_LOOP __attribute__((optimize("vect-cost-model=dynamic")))
#else
#define TYPEGRAD_VECTORIZE_LOOP
#endif
/// x[k] = data::unit_pixel(p[k]) (b / 255.0f, converted to T), k < n. With FMA the quotient is
/// b · (1/255) corrected once (q + fma(−q, 255, b) · (1/255)): for every byte the correctly
/// rounded b / 255.0f, which test_batching checks for all 256, in a third of a division's time
/// (vdivps: one per 3.5 cycles on Zen 3, 6 % of a 784-30-10 epoch).
template <class T>
TYPEGRAD_VECTORIZE_LOOP void unit_pixels(const std::uint8_t* __restrict p, T* __restrict x, std::size_t n) noexcept {
#if defined(__FMA__)
    constexpr float r = 1.0f / 255.0f;
    for (std::size_t k = 0; k < n; ++k) {
        const float b = static_cast<float>(p[k]), q = b * r;
        x[k] = static_cast<T>(std::fma(std::fma(-q, 255.0f, b), r, q));
    }
#else
    for (std::size_t k = 0; k < n; ++k) x[k] = static_cast<T>(static_cast<float>(p[k]) / 255.0f);
#endif
}
#undef TYPEGRAD_VECTORIZE_LOOP

/// Asks for the cache line holding p (into every level). An asm statement on x86 rather than
/// __builtin_prefetch: GCC 12 counts the builtin as free of side effects, finds a function made of
/// prefetches alone to be const, and deletes its calls — prefetch_example below compiled to
/// nothing at -O1 and above (no prefetch instruction was left in the CLI or the benchmarks).
inline void prefetch_line(const void* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
}
/// prefetch_line for every cache line of [p, p + bytes), bytes > 0.
inline void prefetch_bytes(const void* p, std::size_t bytes) noexcept {
    const auto first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63};
    const auto last = reinterpret_cast<std::uintptr_t>(p) + bytes - 1;
    for (std::uintptr_t line = first; line <= last; line += 64) prefetch_line(reinterpret_cast<const void*>(line));
}
}  // namespace detail

/// Copies example i of d to x[0, input_width) (bytes b converted to T as the float b / 255, floats
/// converted to T) and its target to y[0, output_width): a label as a one-hot vector, target
/// values as they are. d fits M (data::check_fits). With [first, last): only those inputs of an
/// image or of float features (a thread's rows of a split first layer, expr/split.hpp).
template <AnyModel M>
void load_example(const data::Dataset& d, std::size_t i, typename M::value_type* x, typename M::value_type* y,
                  std::size_t first = 0, std::size_t last = M::input_width) noexcept {
    using T = typename M::value_type;
    if (d.is_text()) {  // the window's tokens, and a one-hot row per position: the next token
        const std::size_t v = M::output_width / M::input_width;
        for (std::size_t k = 0; k < M::output_width; ++k) y[k] = T(0);
        for (std::size_t t = 0; t < M::input_width; ++t) {
            x[t] = static_cast<T>(d.token(i, t));
            y[t * v + d.token(i, t + 1)] = T(1);
        }
        return;
    }
    if (d.float_inputs()) {
        const float* f = d.features.data() + i * M::input_width;
        for (std::size_t k = first; k < last; ++k) x[k] = static_cast<T>(f[k]);
    } else {
        detail::unit_pixels<T>(d.pixels.data() + i * M::input_width + first, x + first, last - first);
    }
    if (!d.labels.empty()) {
        for (std::size_t k = 0; k < M::output_width; ++k) y[k] = T(0);
        y[d.labels[i]] = T(1);
    } else {
        const float* t = d.targets.data() + i * M::output_width;
        for (std::size_t k = 0; k < M::output_width; ++k) y[k] = static_cast<T>(t[k]);
    }
}
template <AnyModel M>
void load_example(const data::Dataset& d, std::size_t i, typename M::input_type& x, typename M::output_type& y) noexcept {
    load_example<M>(d, i, x.data(), y.data());
}

/// Asks the memory system for image i of d ahead of use: the shuffled order reads images from
/// all over the training set (47 MB of bytes for MNIST), and waiting for each one from DRAM
/// costs more than its gradient (measured with perf).
/// With [first, last): only those inputs of an image or of float features (load_example's).
template <AnyModel M>
void prefetch_example(const data::Dataset& d, std::size_t i, std::size_t first = 0, std::size_t last = M::input_width) noexcept {
    if (d.is_text()) {
        detail::prefetch_bytes(d.tokens->data() + d.starts[i], (d.window + 1) * sizeof(*d.tokens->data()));
    } else if (d.float_inputs()) {
        detail::prefetch_bytes(d.features.data() + i * M::input_width + first, (last - first) * sizeof(float));
    } else {
        detail::prefetch_bytes(d.pixels.data() + i * M::input_width + first, last - first);
    }
}

/// Index of the largest output (the predicted class).
template <class V>
std::size_t argmax(const V& v) noexcept {
    std::size_t best = 0;
    for (std::size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = i;
    return best;
}

/// The predicted class of the N outputs at o: the index of the first largest.
template <std::size_t N, class T>
std::size_t predicted_class(const T* o) noexcept {
    std::size_t best = 0;
    for (std::size_t k = 1; k < N; ++k)
        if (o[k] > o[best]) best = k;
    return best;
}

/// How many of the predictions of the N outputs at o are right for example i of d: whether they
/// predict its class (0 or 1; always 0 for a regression), or, for a text window, at how many of
/// its positions the most likely token is the next one (d.positions() predictions of N / T
/// outputs each).
template <std::size_t N, class T>
std::size_t predicts(const data::Dataset& d, std::size_t i, const T* o) noexcept {
    if (d.is_text()) {
        const std::size_t positions = d.window, v = N / positions;
        std::size_t right = 0;
        for (std::size_t t = 0; t < positions; ++t) {
            const T* row = o + t * v;
            std::size_t best = 0;
            for (std::size_t k = 1; k < v; ++k)
                if (row[k] > row[best]) best = k;
            right += best == d.token(i, t + 1);
        }
        return right;
    }
    return d.task == data::Task::classification && predicted_class<N>(o) == d.label(i);
}

}  // namespace typegrad::train
