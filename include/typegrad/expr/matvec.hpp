// W a as a node of the forward graph: the tied, transposed use of a dense layer's weights
// (nn/shared.hpp: a decoder y = W_enc h + c that reads the encoder's W (n_in, n_out) rather than
// a copy of its transpose). Wᵀ a (MatTVecOp) is the dense layer's node; W a appears in ops.hpp
// only as a derived expression (MatVecOp, the adjoint W δ), which has no local rule of its own.
//
//   MatVecValueOp     y = W a  for W (n, m), a (…, m) → (…, n)   (every row of a batch)
//                     ∂J/∂W = Σ_rows ḡ aᵀ (OuterOp(G, a)),  ∂J/∂a = Wᵀ ḡ (MatTVecGradOp)
//   MatTVecGradOp     Wᵀ g, assigned or added (derived expressions only)
#pragma once

#include <array>
#include <cstddef>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/simd/batched.hpp"
#include "typegrad/simd/kernels.hpp"

namespace typegrad::expr {

namespace detail {
template <class W, class A>
struct mat_vec_shape {
    static constexpr bool fits = false;
    static_assert(rank_v<W> == 2 && rank_v<A> >= 1,
                  "mat_vec(W, a): W must be a matrix (n x m) and a a vector or a batch of vectors");
    using type = A;
};
template <std::size_t R, std::size_t C, std::size_t... N>
    requires(sizeof...(N) >= 1)
struct mat_vec_shape<Shape<R, C>, Shape<N...>> {
    static_assert(C == shape_traits<Shape<N...>>::extents[sizeof...(N) - 1],
                  "mat_vec(W, a): W (n x m) has m columns, which must equal a's width "
                  "(see 'mat_vec_shape<Shape<rows, cols>, Shape<…, width>>' below)");
    using type = typename with_last<Shape<N...>, R>::type;
};
}  // namespace detail

/// Wᵀ g for every row g of G, assigned or added (derived expressions only): the adjoint of a in
/// y = W a.
struct MatTVecGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class W, class G>
    using shape = typename detail::with_last<G, W::template get<1>()>::type;
    template <class W, class G, class T>
    static void compute(T* out, const T* w, const T* g, bool accumulate) noexcept {
        constexpr std::size_t n = W::shape::template get<0>(), m = W::shape::template get<1>();
        constexpr std::size_t rows = detail::rows_v<typename G::shape>;
        for (std::size_t r = 0; r < rows; ++r) {
            if (!accumulate) {
                simd::gemv_t_bias<n, m>(w, g + r * n, static_cast<const T*>(nullptr), out + r * m);
            } else {
                // the kernel's operands are __restrict: the product first, then the sum
                alignas(64) std::array<T, m> product;
                simd::gemv_t_bias<n, m>(w, g + r * n, static_cast<const T*>(nullptr), product.data());
                for (std::size_t j = 0; j < m; ++j) out[r * m + j] += product[j];
            }
        }
    }
    static Text print(const Text& w, const Text& g) { return {cat(grouped(w, 3), "ᵀ ", grouped(g, 3)), 2}; }
};

/// y = W a for W (n, m) and a (m) — or every row of a batch A (…, m).
struct MatVecValueOp {
    template <class W, class A>
    using shape = typename detail::mat_vec_shape<W, A>::type;
    template <class W, class A, class T>
    static void compute(T* out, const T* w, const T* a) noexcept {
        constexpr std::size_t n = W::shape::template get<0>(), m = W::shape::template get<1>();
        constexpr std::size_t rows = detail::rows_v<typename A::shape>;
        if constexpr (rows == 1) simd::gemv<n, m>(w, a, out, false);
        else simd::gemm_dwt<rows, n, m>(a, w, out, false);
    }
    template <std::size_t I, class Self, class G, class W, class A>
    using vjp = std::conditional_t<I == 0, Node<OuterOp, G, A>, Node<MatTVecGradOp, W, G>>;
    static Text print(const Text& w, const Text& a) { return {cat(grouped(w, 3), " ", grouped(a, 3)), 2}; }
};

}  // namespace typegrad::expr
