// The small GPT of bench_gpt.cpp and gpt_train.cpp (issue 21, item 6), and its data: the model
// type, the token text and the windows as a data::Dataset. scripts/gpt_pytorch.py builds the same.
//
//   T = 32 tokens, vocabulary V = 65, width D = 64:
//   input<T> | embedding<V, D> | positional | block | block | layer_norm | dense<V> | softmax
//   block = residual(layer_norm | attention<4>) | residual(layer_norm | dense<4D> | gelu | dense<D>)
//   cost::LogLikelihood: the next-token cross-entropy summed over the T positions.
//
// The text: token n+1 = (token n + 1 + (r >> 16) % 3) mod V, r from the LCG
// r ← 1103515245 r + 12345 (mod 2³¹), r₀ = 1, token 0 = 0 (a step is one of 3: ln 3 = 1.10 nats a
// token if they were random; a model can go below by learning the generator's pattern);
// window k is tokens [32k, 32k + 33): the first T are the input (token ids stored as floats), the
// last T the targets, one-hot (T × V floats).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/nn/graph.hpp"
#include "typegrad/typegrad.hpp"

namespace typegrad::bench::gpt {

inline constexpr std::size_t T = 32, V = 65, D = 64;
inline constexpr std::size_t B = 16;    // windows a mini-batch
inline constexpr std::size_t N = 1024;  // windows an epoch

inline constexpr auto block =
    residual(layer_norm | attention<4>) | residual(layer_norm | dense<4 * D> | gelu | dense<D>);
using Gpt = Model<float,
                  decltype(input<T> | embedding<V, D> | positional | block | block | layer_norm | dense<V> | softmax),
                  cost::LogLikelihood>;

/// The token stream (N·T + 1 tokens) described above.
inline std::vector<std::size_t> text() {
    std::vector<std::size_t> tokens(N * T + 1);
    std::uint32_t r = 1;
    std::size_t t = 0;
    for (auto& token : tokens) {
        token = t;
        r = (1103515245u * r + 12345u) & 0x7fffffffu;
        t = (t + 1 + (r >> 16) % 3) % V;
    }
    return tokens;
}

/// The N windows.
inline const data::Dataset& windows() {
    static const data::Dataset d = [] {
        const std::vector<std::size_t> tokens = text();
        data::Dataset s;
        s.rows = 1;
        s.cols = T;
        s.features.resize(N * T);
        s.targets.assign(N * T * V, 0.0f);
        s.target_width = T * V;
        for (std::size_t k = 0; k < N; ++k)
            for (std::size_t t = 0; t < T; ++t) {
                s.features[k * T + t] = static_cast<float>(tokens[k * T + t]);
                s.targets[(k * T + t) * V + tokens[k * T + t + 1]] = 1.0f;
            }
        return s;
    }();
    return d;
}

}  // namespace typegrad::bench::gpt
