// Rows of a table picked by indices: the embedding of tokens. For ids (…) holding row numbers
// (integers stored in the element type, exact below 2²⁴ in float) and a table E (V, D):
//
//   GatherRowsOp      y[…] = E[ids[…]]                  (…, D)
//                     ∂J/∂E = Σ over positions p of the row ∂J/∂y[p] added into row ids[p]
//                     (ScatterRowsOp: only the rows used are written; the rest stay 0);
//                     ids are data, not differentiated (an input leaf).
//   ScatterRowsOp     the scatter-add, assigned or added (derived expressions only)
//
// An id that is not a row number in [0, V) (a negative, fractional or too large value) selects
// no row: its output row is 0 and its gradient is dropped. Data readers check ids before they
// get here; this keeps a bad value from reading or writing outside the table.
#pragma once

#include <cstddef>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::expr {

namespace detail {
template <class Ids, std::size_t D>
struct with_row;
template <std::size_t... N, std::size_t D>
struct with_row<Shape<N...>, D> {
    using type = Shape<N..., D>;
};
/// The row number that v holds, or V when it is none.
template <std::size_t V, class T>
constexpr std::size_t row_of(T v) noexcept {
    if (!(v >= T(0)) || !(v < static_cast<T>(V))) return V;
    const auto r = static_cast<std::size_t>(v);
    return static_cast<T>(r) == v ? r : V;
}
}  // namespace detail

/// The scatter-add of rows of g into a table of E's shape (V, D): row p of g goes to row ids[p].
struct ScatterRowsOp {
    static constexpr bool accumulating_kernel = true;
    template <class Ids, class G, class E>
    using shape = E;
    template <class Ids, class G, class E, class T>
    static void compute(T* out, const T* ids, const T* g, const T* /*e*/, bool accumulate) noexcept {
        constexpr std::size_t V = E::shape::template get<0>(), D = E::shape::template get<1>();
        constexpr std::size_t n = size_v<typename Ids::shape>;
        if (!accumulate)
            for (std::size_t i = 0; i < V * D; ++i) out[i] = T(0);
        for (std::size_t p = 0; p < n; ++p) {
            const std::size_t r = detail::row_of<V>(ids[p]);
            if (r == V) continue;
            for (std::size_t k = 0; k < D; ++k) out[r * D + k] += g[p * D + k];
        }
    }
    static Text print(const Text& ids, const Text& g, const Text&) { return {cat("scatter_", ids.s, "(", g.s, ")"), 3}; }
};

/// E[ids]: row ids[p] of the table E (V, D) at every position p of ids.
struct GatherRowsOp {
    template <class Ids, class E>
    using shape = typename detail::with_row<Ids, E::template get<1>()>::type;
    /// the ids are data: only the table is differentiated
    template <std::size_t I>
    static constexpr bool differentiable = I == 1;
    template <class Ids, class E, class T>
    static void compute(T* out, const T* ids, const T* e) noexcept {
        constexpr std::size_t V = E::shape::template get<0>(), D = E::shape::template get<1>();
        constexpr std::size_t n = size_v<typename Ids::shape>;
        for (std::size_t p = 0; p < n; ++p) {
            const std::size_t r = detail::row_of<V>(ids[p]);
            for (std::size_t k = 0; k < D; ++k) out[p * D + k] = r == V ? T(0) : e[r * D + k];
        }
    }
    template <std::size_t I, class Self, class G, class Ids, class E>
    using vjp = Node<ScatterRowsOp, Ids, G, E>;
    static Text print(const Text& ids, const Text& e) { return {cat(e.s, "[", ids.s, "]"), 3}; }
};

}  // namespace typegrad::expr
