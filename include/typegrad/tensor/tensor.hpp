// Fixed shapes and fixed-shape tensors: every extent in typegrad is a compile-time constant.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include <xtensor/xfixed.hpp>
#include <xtensor/xshape.hpp>

namespace typegrad {

/// A compile-time shape, row-major: Shape<> is a scalar, Shape<784> a vector, Shape<1, 28, 28>
/// an image of 1 channel (channels × height × width).
template <std::size_t... N>
using Shape = xt::fixed_shape<N...>;

template <class S>
struct shape_traits;
template <std::size_t... N>
struct shape_traits<xt::fixed_shape<N...>> {
    static constexpr std::size_t rank = sizeof...(N);
    static constexpr std::size_t size = (std::size_t{1} * ... * N);
    static constexpr std::array<std::size_t, sizeof...(N)> extents{N...};
};
/// Number of elements of shape S.
template <class S>
inline constexpr std::size_t size_v = shape_traits<S>::size;
template <class S>
inline constexpr std::size_t rank_v = shape_traits<S>::rank;
template <class S>
inline constexpr bool is_scalar_shape_v = shape_traits<S>::rank == 0;

/// Shape<B, N...> from B and Shape<N...>: a batch of B tensors of shape S.
template <std::size_t B, class S>
struct prepend;
template <std::size_t B, std::size_t... N>
struct prepend<B, Shape<N...>> {
    using type = Shape<B, N...>;
};
template <std::size_t B, class S>
using prepend_t = typename prepend<B, S>::type;

/// Whether shape A is a trailing part of shape B (numpy's broadcasting without extents of 1):
/// a Shape<30> is a suffix of Shape<10, 30>, so a bias of 30 adds to each of 10 rows.
template <class A, class B>
inline constexpr bool is_suffix_v = [] {
    constexpr auto a = shape_traits<A>::extents;
    constexpr auto b = shape_traits<B>::extents;
    if constexpr (a.size() > b.size()) return false;
    else {
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a[a.size() - 1 - i] != b[b.size() - 1 - i]) return false;
        return true;
    }
}();

/// "1×28×28" (a scalar is "scalar").
template <class S>
std::string shape_text() {
    constexpr auto e = shape_traits<S>::extents;
    if constexpr (e.size() == 0) return "scalar";
    else {
        std::string s;
        for (std::size_t i = 0; i < e.size(); ++i) {
            if (i) s += "×";
            s += std::to_string(e[i]);
        }
        return s;
    }
}

/// A tensor of fixed shape S, stored inline (keep large ones off the stack).
template <class T, class S>
using Tensor = xt::xtensor_fixed<T, S>;

/// A column vector of N elements, stored inline.
template <class T, std::size_t N>
using Vector = xt::xtensor_fixed<T, xt::xshape<N>>;

/// A row-major R x C matrix, stored inline. Weights use the article's orientation
/// (n_in, n_out), so z = Wᵀ a + b.
template <class T, std::size_t R, std::size_t C>
using Matrix = xt::xtensor_fixed<T, xt::xshape<R, C>>;

}  // namespace typegrad
