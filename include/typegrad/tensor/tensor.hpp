// Fixed-shape tensor aliases: every width in typegrad is a compile-time constant.
#pragma once

#include <cstddef>

#include <xtensor/xfixed.hpp>

namespace typegrad {

/// A column vector of N elements, stored inline.
template <class T, std::size_t N>
using Vector = xt::xtensor_fixed<T, xt::xshape<N>>;

/// A row-major R x C matrix, stored inline. Weights use the article's orientation
/// (n_in, n_out), so z = Wᵀ a + b.
template <class T, std::size_t R, std::size_t C>
using Matrix = xt::xtensor_fixed<T, xt::xshape<R, C>>;

/// Number of elements of a fixed shape, as a constant.
template <class Shape>
struct shape_size;
template <std::size_t... N>
struct shape_size<xt::fixed_shape<N...>> {
    static constexpr std::size_t value = (std::size_t{1} * ... * N);
};
template <class Shape>
inline constexpr std::size_t shape_size_v = shape_size<Shape>::value;

}  // namespace typegrad
