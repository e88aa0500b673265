// Per-example reductions: the sum, mean or maximum of each group of elements of one example,
// broadcast back over the group, so the result has the operand's shape and `x - mean_last(x)`
// is an elementwise op. Two kinds of group:
//   last  the last axis: each row of a vector (N), of a matrix, of a batch (B, N)…;
//   hw    the height and width of each channel of an image (C, H, W) or of a batch (B, C, H, W).
// Both reduce trailing extents only, so the leading batch extent is never reduced: the same op
// gives, for each example of a batch, what it gives for that example alone (bit for bit: one
// loop per group, in order). The whole-tensor reductions of ops.hpp (sum, squared_norm, dot)
// are for costs; one broadcast back over a tensor that depends on the input is refused where the
// graph is formed (ad/graph.hpp, 'reduction_is_per_example'), naming the op to use instead.
//
// Local rules (g = ∂J/∂y, y the broadcast result, sums over x's group):
//   y = sum(x)   ∂J/∂x = sum(g)           (the same op applied to g)
//   y = mean(x)  ∂J/∂x = mean(g)
//   y = max(x)   ∂J/∂x = route(g; x): sum(g) to the group's maximum (the first one on ties), 0 elsewhere
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::expr {

/// What a per-example reduction computes over each group.
enum class Reduction { sum, mean, max };
/// Which elements form a group: the last axis, or the height and width of an image's channel.
enum class Axes { last, hw };

namespace detail {

/// The groups of shape S: `size` consecutive elements each, `count` of them. The shape check
/// (one static_assert in the user's words) is here; the result shape is S either way.
template <Axes A, class S>
struct reduction_groups {
    static constexpr std::size_t rank = rank_v<S>;
    static_assert(A != Axes::last || rank >= 1,
                  "sum_last / mean_last / max_last: the operand must have at least one axis (a scalar has nothing to "
                  "reduce)");
    static_assert(A != Axes::hw || rank >= 3,
                  "sum_hw / mean_hw / max_hw: the operand must be an image (C, H, W) or a batch of them; for a vector "
                  "use sum_last / mean_last / max_last");
    static constexpr std::size_t size = [] {
        if constexpr (A == Axes::last && rank >= 1) return shape_traits<S>::extents[rank - 1];
        else if constexpr (A == Axes::hw && rank >= 3)
            return shape_traits<S>::extents[rank - 2] * shape_traits<S>::extents[rank - 1];
        else return size_v<S>;
    }();
    static constexpr std::size_t count = size == 0 ? 0 : size_v<S> / size;
    using type = S;
};

inline constexpr std::string_view reduction_name(Reduction r) noexcept {
    return r == Reduction::sum ? "sum" : r == Reduction::mean ? "mean" : "max";
}
inline constexpr std::string_view axes_suffix(Axes a) noexcept { return a == Axes::last ? "₋₁" : "_hw"; }

}  // namespace detail

template <Axes A>
struct ReduceMaxGradOp;

/// The sum, mean or maximum of every group (Axes) of the operand, broadcast back over the group.
/// Also the local rule of the sum and the mean (hence accumulating: compute(out, x, accumulate)).
template <Reduction R, Axes A>
struct ReduceOp {
    static constexpr bool accumulating_kernel = true;
    static constexpr Reduction reduction_kind = R;
    static constexpr Axes axes = A;
    template <class S>
    using shape = typename detail::reduction_groups<A, S>::type;
    template <class X, class T>
    static void compute(T* out, const T* x, bool accumulate = false) noexcept {
        using G = detail::reduction_groups<A, typename X::shape>;
        for (std::size_t r = 0; r < G::count; ++r) {
            const T* p = x + r * G::size;
            T* o = out + r * G::size;
            T s = p[0];
            for (std::size_t i = 1; i < G::size; ++i) {
                if constexpr (R == Reduction::max) s = p[i] > s ? p[i] : s;
                else s += p[i];
            }
            if constexpr (R == Reduction::mean) s /= static_cast<T>(G::size);
            for (std::size_t i = 0; i < G::size; ++i) o[i] = accumulate ? o[i] + s : s;
        }
    }
    template <std::size_t I, class Self, class G, class X>
    using vjp = std::conditional_t<R == Reduction::max, Node<ReduceMaxGradOp<A>, X, G>, Node<ReduceOp, G>>;
    static Text print(const Text& x) { return {cat(detail::reduction_name(R), detail::axes_suffix(A), "(", x.s, ")"), 3}; }
};

/// route(g; x): each group's sum of g sent to the group's maximum of x, the first one in order
/// when several are equal (derived expressions only: the local rule of max).
template <Axes A>
struct ReduceMaxGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class X, class G>
    using shape = X;
    template <class X, class G, class T>
    static void compute(T* out, const T* x, const T* g, bool accumulate) noexcept {
        using Groups = detail::reduction_groups<A, typename X::shape>;
        constexpr std::size_t n = Groups::size;
        for (std::size_t r = 0; r < Groups::count; ++r) {
            const T* p = x + r * n;
            const T* q = g + r * n;
            T* o = out + r * n;
            std::size_t arg = 0;
            T s = q[0];
            for (std::size_t i = 1; i < n; ++i) {
                if (p[i] > p[arg]) arg = i;
                s += q[i];
            }
            for (std::size_t i = 0; i < n; ++i) {
                const T v = i == arg ? s : T(0);
                o[i] = accumulate ? o[i] + v : v;
            }
        }
    }
    static Text print(const Text& x, const Text& g) { return {cat("route", detail::axes_suffix(A), "(", g.s, "; ", x.s, ")"), 3}; }
};

template <Axes A>
using SumOver = ReduceOp<Reduction::sum, A>;
template <Axes A>
using MeanOver = ReduceOp<Reduction::mean, A>;
template <Axes A>
using MaxOver = ReduceOp<Reduction::max, A>;

/// The builder of a per-example reduction: sum_last(x) is Node<ReduceOp<sum, last>, X>.
template <Reduction R, Axes A>
struct ReduceFn {
    template <Expression X>
    constexpr Node<ReduceOp<R, A>, X> operator()(X) const noexcept { return {}; }
};
/// The sum, mean or maximum over the last axis of each example, broadcast back: for x (N) or a
/// batch (B, N), sum_last(x) has x's shape and holds, in each row, that row's sum.
inline constexpr ReduceFn<Reduction::sum, Axes::last> sum_last{};
inline constexpr ReduceFn<Reduction::mean, Axes::last> mean_last{};
inline constexpr ReduceFn<Reduction::max, Axes::last> max_last{};
/// The same over the height and width of each channel of an image (C, H, W), or of every image
/// of a batch (B, C, H, W).
inline constexpr ReduceFn<Reduction::sum, Axes::hw> sum_hw{};
inline constexpr ReduceFn<Reduction::mean, Axes::hw> mean_hw{};
inline constexpr ReduceFn<Reduction::max, Axes::hw> max_hw{};

/// The same as types, for a layer's `expression` alias: MeanLast<X>.
template <class X> using SumLast = Node<SumOver<Axes::last>, X>;
template <class X> using MeanLast = Node<MeanOver<Axes::last>, X>;
template <class X> using MaxLast = Node<MaxOver<Axes::last>, X>;
template <class X> using SumHW = Node<SumOver<Axes::hw>, X>;
template <class X> using MeanHW = Node<MeanOver<Axes::hw>, X>;
template <class X> using MaxHW = Node<MaxOver<Axes::hw>, X>;

}  // namespace typegrad::expr
