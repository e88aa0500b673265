// Joining branches of a graph: concatenation along one axis, counted from the end so that one op
// serves one example and a batch alike (From = 1: the features of a vector, (…, n); From = 3: the
// channels of an image, (…, C, H, W)). Its local rule hands each operand its slice of the
// adjoint, a kernel op of derived expressions only. (A residual connection and a sum of branches
// need no op of their own: they are AddOp of two nodes, and the engine sums the adjoints of a
// node used twice.)
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/tensor/tensor.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::expr {

namespace detail {

/// Extents of S before, at and after axis rank − From.
template <class S, std::size_t From>
struct axis_split {
    static constexpr auto e = shape_traits<S>::extents;
    static constexpr std::size_t rank = e.size();
    static_assert(rank >= From, "concatenation: the operands have fewer axes than the axis joined (see 'axis_split<shape, axis from the end>' below)");
    static constexpr std::size_t axis = rank - From;
    static constexpr std::size_t outer = [] {
        std::size_t n = 1;
        for (std::size_t i = 0; i < axis; ++i) n *= e[i];
        return n;
    }();
    static constexpr std::size_t extent = e[axis];
    static constexpr std::size_t inner = [] {
        std::size_t n = 1;
        for (std::size_t i = axis + 1; i < rank; ++i) n *= e[i];
        return n;
    }();
};

template <class A, class B, std::size_t From>
struct concat_shape {
    static constexpr auto a = shape_traits<A>::extents;
    static constexpr auto b = shape_traits<B>::extents;
    static constexpr bool fits = [] {
        if (a.size() != b.size() || a.size() < From) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (i != a.size() - From && a[i] != b[i]) return false;
        return true;
    }();
    static_assert(fits,
                  "concatenation: the branches must have the same shape but for the axis joined (the features of "
                  "a vector, the channels of an image) (see 'concat_shape<shape, shape, axis from the end>' below)");
    template <std::size_t... I>
    static auto make(std::index_sequence<I...>)
        -> Shape<(I == a.size() - From ? a[I] + b[I] : a[I])...>;
    using type = decltype(make(std::make_index_sequence<a.size()>{}));
};

/// The shape of S with the joined axis of extent Length.
template <class S, std::size_t From, std::size_t Length>
struct sliced_shape {
    static constexpr auto e = shape_traits<S>::extents;
    template <std::size_t... I>
    static auto make(std::index_sequence<I...>) -> Shape<(I == e.size() - From ? Length : e[I])...>;
    using type = decltype(make(std::make_index_sequence<e.size()>{}));
};

}  // namespace detail

template <std::size_t From, std::size_t Offset, std::size_t Length>
struct SliceOp;

/// [a, b] along axis rank − From: a's extent first, then b's, for every leading index.
template <std::size_t From>
struct ConcatOp {
    template <class A, class B>
    using shape = typename detail::concat_shape<A, B, From>::type;
    template <class A, class B, class T>
    static void compute(T* out, const T* a, const T* b) noexcept {
        using SA = detail::axis_split<typename A::shape, From>;
        using SB = detail::axis_split<typename B::shape, From>;
        constexpr std::size_t na = SA::extent * SA::inner, nb = SB::extent * SB::inner;
        for (std::size_t o = 0; o < SA::outer; ++o) {
            std::copy_n(a + o * na, na, out + o * (na + nb));
            std::copy_n(b + o * nb, nb, out + o * (na + nb) + na);
        }
    }
    template <std::size_t I, class Self, class G, class A, class B>
    using vjp = Node<SliceOp<From, I == 0 ? 0 : detail::axis_split<typename A::shape, From>::extent,
                                    detail::axis_split<typename std::conditional_t<I == 0, A, B>::shape, From>::extent>,
                     G>;
    static Text print(const Text& a, const Text& b) { return {cat("[", a.s, "; ", b.s, "]"), 3}; }
};

/// Elements Offset … Offset + Length − 1 of axis rank − From (derived expressions only: the part
/// of a concatenation's adjoint that belongs to one branch).
template <std::size_t From, std::size_t Offset, std::size_t Length>
struct SliceOp {
    static constexpr bool accumulating_kernel = true;
    template <class G>
    using shape = typename detail::sliced_shape<G, From, Length>::type;
    template <class G, class T>
    static void compute(T* out, const T* g, bool accumulate) noexcept {
        using SG = detail::axis_split<typename G::shape, From>;
        constexpr std::size_t row = SG::extent * SG::inner, n = Length * SG::inner, skip = Offset * SG::inner;
        for (std::size_t o = 0; o < SG::outer; ++o) {
            const T* src = g + o * row + skip;
            T* dst = out + o * n;
            if (accumulate)
                for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
            else
                std::copy_n(src, n, dst);
        }
    }
    static Text print(const Text& g) {
        return {cat(grouped(g, 3), "[", Offset, "…", Offset + Length - 1, "]"), 3};
    }
};

}  // namespace typegrad::expr
