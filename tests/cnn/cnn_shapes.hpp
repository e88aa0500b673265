// The CNN shapes of the three-way check (issue 10) and random examples, shared by the CNN tests.
#pragma once

#include "typegrad/typegrad.hpp"

namespace typegrad::test::cnn {

/// A 1-channel toy: one 3 × 3 convolution, ReLU, max pooling, a dense head.
inline constexpr auto toy = input<1, 6, 6> | conv2d<2, 3> | relu | max_pool<2> | flatten | dense<3> | sigmoid;
/// Odd sizes: a 7 × 5 image, a 2 × 2 kernel, tanh, average pooling (6 × 4 → 3 × 2).
inline constexpr auto odd = input<1, 7, 5> | conv2d<3, 2> | typegrad::tanh_ | avg_pool<2> | flatten | dense<4> | softmax;
/// Stride 2 with padding 1 over two channels: 9 × 9 → 5 × 5.
inline constexpr auto strided = input<2, 9, 9> | conv2d<4, 3, 2, 1> | relu | flatten | dense<3> | sigmoid;
/// Multi-channel, two convolutions: 3 × 8 × 8 → 4 × 8 × 8 → 4 × 4 × 4 → 5 × 2 × 2.
inline constexpr auto multi = input<3, 8, 8> | conv2d<4, 3, 1, 1> | relu | max_pool<2> | conv2d<5, 3> | sigmoid | flatten |
                              dense<10> | softmax;
/// LeNet-5 as in the issue (and `typegrad train --net lenet`).
inline constexpr auto lenet = input<1, 28, 28> | conv2d<6, 5, 1, 2> | relu | max_pool<2> | conv2d<16, 5> | relu |
                              max_pool<2> | flatten | dense<120> | relu | dense<84> | relu | dense<10> | softmax;

/// An input uniform in [−1, 1] (both sides of ReLU's kink) and a one-hot target.
template <class M>
void random_input(Rng& rng, typename M::input_type& x, typename M::output_type& y) {
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    y.fill(0);
    y[rng.below(M::output_width)] = 1;
}

}  // namespace typegrad::test::cnn
