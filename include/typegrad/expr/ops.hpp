// The ops of the expression language. An op is a plain struct with
//   - shape<S...>:   the result shape of its operands' shapes (a static_assert in the user's
//                    words when they do not fit),
//   - its value rule: apply(v...) for elementwise ops, element(v...) summed for reductions,
//                    or compute<...>(out, in...) for the few that need a kernel,
//   - its local derivative rule: vjp<I, Self, G, Args...>, the expression of the contribution
//                    of ∂J/∂Self = G to the adjoint of operand I (a vector-Jacobian product),
//   - print(...):    how it is written in the derivations.
// The autodiff engine knows nothing else about an op.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>

#include "typegrad/expr/node.hpp"
#include "typegrad/nn/functions.hpp"
#include "typegrad/simd/batched.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::expr {

/// Printed form of an expression, with the binding strength of its outermost operator so that
/// parentheses are written only where needed.
struct Text {
    std::string s;
    int precedence;  // 1: sum, 2: product, 3: atom
};
inline std::string grouped(const Text& t, int at_least) { return t.precedence >= at_least ? t.s : cat("(", t.s, ")"); }

namespace detail {
template <class... S>
inline constexpr bool dependent_false_v = false;

// Elementwise operands have equal shapes, or one of them is a scalar (broadcast).
template <class A, class B>
struct elementwise_shape {
    static_assert(std::is_same_v<A, B> || is_scalar_shape_v<A> || is_scalar_shape_v<B>,
                  "elementwise op (+, −, ⊙): the operands must have the same shape, or one must be a scalar "
                  "(see 'elementwise_shape<shape, shape>' below)");
    using type = std::conditional_t<is_scalar_shape_v<A>, B, A>;
};
template <class A, class B>
struct dot_shape {
    static_assert(std::is_same_v<A, B>, "dot(a, b): a and b must have the same shape (see 'dot_shape<shape, shape>' below)");
    using type = Shape<>;
};
}  // namespace detail

struct SumOp;
struct NegOp;
struct OuterOp;
struct MatVecOp;
template <ElementwiseFunction F>
struct DerivOp;

/// The adjoint contribution E, reduced to the shape of operand A: a scalar operand that was
/// broadcast against a vector receives the sum of E.
template <class A, class E>
using unbroadcast_t = std::conditional_t<is_scalar_shape_v<typename A::shape> && !is_scalar_shape_v<typename E::shape>,
                                         Node<SumOp, E>, E>;

// ---------------------------------------------------------------------------------------------
// Elementwise ops

struct AddOp {
    static constexpr bool elementwise = true;
    template <class A, class B>
    using shape = typename detail::elementwise_shape<A, B>::type;
    template <class V>
    static V apply(V a, V b) noexcept { return a + b; }
    template <std::size_t I, class Self, class G, class A, class B>
    using vjp = unbroadcast_t<std::conditional_t<I == 0, A, B>, G>;
    static Text print(const Text& a, const Text& b) { return {cat(grouped(a, 1), " + ", grouped(b, 1)), 1}; }
};

struct SubOp {
    static constexpr bool elementwise = true;
    template <class A, class B>
    using shape = typename detail::elementwise_shape<A, B>::type;
    template <class V>
    static V apply(V a, V b) noexcept { return a - b; }
    template <std::size_t I, class Self, class G, class A, class B>
    using vjp = std::conditional_t<I == 0, unbroadcast_t<A, G>, unbroadcast_t<B, Node<NegOp, G>>>;
    static Text print(const Text& a, const Text& b) { return {cat(grouped(a, 1), " − ", grouped(b, 2)), 1}; }
};

/// Hadamard product of equal shapes, or a scalar times anything.
struct MulOp {
    static constexpr bool elementwise = true;
    template <class A, class B>
    using shape = typename detail::elementwise_shape<A, B>::type;
    template <class V>
    static V apply(V a, V b) noexcept { return a * b; }
    template <std::size_t I, class Self, class G, class A, class B>
    using vjp = std::conditional_t<I == 0, unbroadcast_t<A, Node<MulOp, G, B>>, unbroadcast_t<B, Node<MulOp, G, A>>>;
    template <class SA, class SB>
    static Text print_shaped(const Text& a, const Text& b) {
        if constexpr (is_scalar_shape_v<SA> || is_scalar_shape_v<SB>) return {cat(grouped(a, 2), " ", grouped(b, 3)), 2};
        else return {cat(grouped(a, 3), " ⊙ ", grouped(b, 3)), 2};
    }
};

struct NegOp {
    static constexpr bool elementwise = true;
    template <class A>
    using shape = A;
    template <class V>
    static V apply(V a) noexcept { return -a; }
    template <std::size_t I, class Self, class G, class A>
    using vjp = Node<NegOp, G>;
    static Text print(const Text& a) { return {cat("−", grouped(a, 3)), 2}; }
};

/// f(x) elementwise, f an ElementwiseFunction (fn::Sigmoid, fn::Tanh, … or a user's).
template <ElementwiseFunction F>
struct MapOp {
    static constexpr bool elementwise = true;
    template <class A>
    using shape = A;
    template <class V>
    static V apply(V x) noexcept { return F::value(x); }
    template <std::size_t I, class Self, class G, class A>
    using vjp = Node<MulOp, G, Node<DerivOp<F>, A, Self>>;
    static Text print(const Text& a) { return {cat(F::name, "(", a.s, ")"), 3}; }
};

/// f'(x) elementwise, given x and y = f(x): appears in derived expressions only.
template <ElementwiseFunction F>
struct DerivOp {
    static constexpr bool elementwise = true;
    template <class A, class B>
    using shape = A;
    template <class V>
    static V apply(V x, V y) noexcept { return F::derivative(x, y); }
    // no vjp: typegrad differentiates once (second derivatives are not derived)
    static Text print(const Text& x, const Text&) { return {cat(F::name, "'(", x.s, ")"), 3}; }
};

// ---------------------------------------------------------------------------------------------
// Reductions to a scalar: the value is the sum of element(...) over the operands' elements.

struct SumOp {
    static constexpr bool reduction = true;
    template <class A>
    using shape = Shape<>;
    template <class V>
    static V element(V a) noexcept { return a; }
    template <std::size_t I, class Self, class G, class A>
    using vjp = G;  // a scalar, broadcast to A's shape
    static Text print(const Text& a) { return {cat("Σ ", grouped(a, 3)), 2}; }
};

struct SquaredNormOp {
    static constexpr bool reduction = true;
    template <class A>
    using shape = Shape<>;
    template <class V>
    static V element(V a) noexcept { return a * a; }
    template <std::size_t I, class Self, class G, class A>
    using vjp = Node<MulOp, Node<MulOp, Const<2>, G>, A>;
    static Text print(const Text& a) { return {cat("‖", a.s, "‖²"), 3}; }
};

struct DotOp {
    static constexpr bool reduction = true;
    template <class A, class B>
    using shape = typename detail::dot_shape<A, B>::type;
    template <class V>
    static V element(V a, V b) noexcept { return a * b; }
    template <std::size_t I, class Self, class G, class A, class B>
    using vjp = Node<MulOp, G, std::conditional_t<I == 0, B, A>>;
    static Text print(const Text& a, const Text& b) { return {cat("⟨", a.s, ", ", b.s, "⟩"), 3}; }
};

// ---------------------------------------------------------------------------------------------
// Ops that run a kernel.

namespace detail {
template <class W, class A>
struct mat_t_vec_shape {
    static_assert(shape_traits<W>::rank == 2 && shape_traits<A>::rank == 1,
                  "matT_vec(W, a): W must be a matrix and a a vector");
};
template <std::size_t R, std::size_t C, std::size_t N>
struct mat_t_vec_shape<Shape<R, C>, Shape<N>> {
    static_assert(R == N,
                  "matT_vec(W, a): W (n_in x n_out) has n_in rows, which must equal a's width "
                  "(see 'mat_t_vec_shape<Shape<rows, cols>, Shape<width>>' below)");
    using type = Shape<C>;
};
}  // namespace detail

/// Wᵀ a for W (n_in, n_out), a (n_in): the pre-activation of a dense layer.
struct MatTVecOp {
    template <class W, class A>
    using shape = typename detail::mat_t_vec_shape<W, A>::type;
    template <class W, class A, class T>
    static void compute(T* out, const T* w, const T* a) noexcept {
        constexpr std::size_t in = W::shape::template get<0>(), out_n = W::shape::template get<1>();
        simd::gemv_t_bias<in, out_n>(w, a, static_cast<const T*>(nullptr), out);
    }
    template <std::size_t I, class Self, class G, class W, class A>
    using vjp = std::conditional_t<I == 0, Node<OuterOp, A, G>, Node<MatVecOp, W, G>>;
    static Text print(const Text& w, const Text& a) { return {cat(grouped(w, 3), "ᵀ ", grouped(a, 3)), 2}; }
};

/// W g (derived expressions only): the adjoint Wᴸ δᴸ arriving at aᴸ⁻¹.
struct MatVecOp {
    static constexpr bool accumulating_kernel = true;
    template <class W, class G>
    using shape = Shape<W::template get<0>()>;
    template <class W, class G, class T>
    static void compute(T* out, const T* w, const T* g, bool accumulate) noexcept {
        simd::gemv<W::shape::template get<0>(), W::shape::template get<1>()>(w, g, out, accumulate);
    }
    static Text print(const Text& w, const Text& g) { return {cat(grouped(w, 3), " ", grouped(g, 3)), 2}; }
};

/// a gᵀ (derived expressions only): ∂J/∂W = aᴸ⁻¹ δᴸᵀ.
struct OuterOp {
    static constexpr bool accumulating_kernel = true;
    template <class A, class G>
    using shape = Shape<A::template get<0>(), G::template get<0>()>;
    template <class A, class G, class T>
    static void compute(T* out, const T* a, const T* g, bool accumulate) noexcept {
        simd::ger<A::shape::template get<0>(), G::shape::template get<0>()>(a, g, out, accumulate);
    }
    static Text print(const Text& a, const Text& g) { return {cat(grouped(a, 3), " ", grouped(g, 3), "ᵀ"), 2}; }
};

// ---------------------------------------------------------------------------------------------
// The batched forms: a mini-batch X of B examples is a (B, n) node, one example per row (the
// article's n x B matrix of columns, stored column by column).

struct BatchOuterOp;
struct BatchMatVecOp;
struct SumRowsOp;

namespace detail {
template <class W, class X>
struct mat_t_mat_shape {
    static_assert(shape_traits<W>::rank == 2 && shape_traits<X>::rank == 2,
                  "matT_mat(W, X): W must be a matrix and X a batch (B, n_in)");
};
template <std::size_t R, std::size_t C, std::size_t B, std::size_t N>
struct mat_t_mat_shape<Shape<R, C>, Shape<B, N>> {
    static_assert(R == N,
                  "matT_mat(W, X): W (n_in x n_out) has n_in rows, which must equal the width of X's examples "
                  "(see 'mat_t_mat_shape<Shape<rows, cols>, Shape<batch, width>>' below)");
    using type = Shape<B, C>;
};
template <class A, class V>
struct add_rows_shape {
    static_assert(shape_traits<A>::rank == 2 && shape_traits<V>::rank == 1, "add_rows(A, b): A must be a batch and b a vector");
};
template <std::size_t B, std::size_t N, std::size_t M>
struct add_rows_shape<Shape<B, N>, Shape<M>> {
    static_assert(N == M, "add_rows(A, b): b must be as wide as A's rows (see 'add_rows_shape<…>' below)");
    using type = Shape<B, N>;
};
template <class S>
inline constexpr std::size_t rows_v = S::template get<0>();
template <class S>
inline constexpr std::size_t cols_v = S::template get<1>();
}  // namespace detail

/// Wᵀ xᵦ for every example of a batch X (B, n_in): the batch's pre-activations, (B, n_out).
struct MatTMatOp {
    template <class W, class X>
    using shape = typename detail::mat_t_mat_shape<W, X>::type;
    template <class W, class X, class T>
    static void compute(T* out, const T* w, const T* x) noexcept {
        using WS = typename W::shape;
        simd::gemm_xw<detail::rows_v<typename X::shape>, detail::rows_v<WS>, detail::cols_v<WS>>(
            x, w, static_cast<const T*>(nullptr), out);
    }
    template <std::size_t I, class Self, class G, class W, class X>
    using vjp = std::conditional_t<I == 0, Node<BatchOuterOp, X, G>, Node<BatchMatVecOp, W, G>>;
    static Text print(const Text& w, const Text& x) { return {cat(grouped(w, 3), "ᵀ ", grouped(x, 3)), 2}; }
};

/// Σᵦ xᵦ gᵦᵀ (derived expressions only): the weight gradient summed over a batch.
struct BatchOuterOp {
    static constexpr bool accumulating_kernel = true;
    template <class X, class G>
    using shape = Shape<detail::cols_v<X>, detail::cols_v<G>>;
    template <class X, class G, class T>
    static void compute(T* out, const T* x, const T* g, bool accumulate) noexcept {
        using XS = typename X::shape;
        simd::gemm_xtd<detail::rows_v<XS>, detail::cols_v<XS>, detail::cols_v<typename G::shape>>(x, g, out, accumulate);
    }
    static Text print(const Text& x, const Text& g) { return {cat(grouped(x, 3), " ", grouped(g, 3), "ᵀ"), 2}; }
};

/// W gᵦ for every example (derived expressions only).
struct BatchMatVecOp {
    static constexpr bool accumulating_kernel = true;
    template <class W, class G>
    using shape = Shape<detail::rows_v<G>, detail::rows_v<W>>;
    template <class W, class G, class T>
    static void compute(T* out, const T* w, const T* g, bool accumulate) noexcept {
        using WS = typename W::shape;
        simd::gemm_dwt<detail::rows_v<typename G::shape>, detail::rows_v<WS>, detail::cols_v<WS>>(g, w, out, accumulate);
    }
    static Text print(const Text& w, const Text& g) { return {cat(grouped(w, 3), " ", grouped(g, 3)), 2}; }
};

/// A + b with the vector b added to every row of the batch A.
struct AddRowsOp {
    template <class A, class V>
    using shape = typename detail::add_rows_shape<A, V>::type;
    template <class A, class V, class T>
    static void compute(T* out, const T* a, const T* b) noexcept {
        using S = typename A::shape;
        simd::add_rows<detail::rows_v<S>, detail::cols_v<S>>(a, b, out);
    }
    template <std::size_t I, class Self, class G, class A, class V>
    using vjp = std::conditional_t<I == 0, G, Node<SumRowsOp, G>>;
    static Text print(const Text& a, const Text& b) { return {cat(grouped(a, 1), " + ", grouped(b, 1)), 1}; }
};

/// Σᵦ gᵦ (derived expressions only): the bias gradient summed over a batch.
struct SumRowsOp {
    static constexpr bool accumulating_kernel = true;
    template <class G>
    using shape = Shape<detail::cols_v<G>>;
    template <class G, class T>
    static void compute(T* out, const T* g, bool accumulate) noexcept {
        using S = typename G::shape;
        simd::sum_rows<detail::rows_v<S>, detail::cols_v<S>>(g, out, accumulate);
    }
    static Text print(const Text& g) { return {cat("Σᵦ ", grouped(g, 3)), 2}; }
};

/// softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ (computed with the maximum subtracted, for range).
struct SoftmaxOp {
    template <class A>
    using shape = A;
    template <class A, class T>
    static void compute(T* out, const T* z) noexcept {
        constexpr std::size_t n = size_v<typename A::shape>;
        const T m = *std::max_element(z, z + n);
        T s = 0;
        for (std::size_t i = 0; i < n; ++i) s += (out[i] = std::exp(z[i] - m));
        for (std::size_t i = 0; i < n; ++i) out[i] /= s;
    }
    // ∂J/∂z = y ⊙ (g − ⟨g, y⟩) with y = softmax(z)
    template <std::size_t I, class Self, class G, class A>
    using vjp = Node<MulOp, Self, Node<SubOp, G, Node<DotOp, G, Self>>>;
    static Text print(const Text& a) { return {cat("softmax(", a.s, ")"), 3}; }
};

// ---------------------------------------------------------------------------------------------

template <class Op>
concept ElementwiseOp = Op::elementwise;
/// A kernel that derived expressions use at their top level: compute(out, operands..., accumulate).
template <class Op>
concept AccumulatingKernelOp = Op::accumulating_kernel;
template <class Op>
concept ReductionOp = Op::reduction;

/// The named concept of an op that the engine can differentiate through: for each operand it
/// has a local derivative rule vjp<I, Self, G, Args...> that names an expression.
template <class Op, class... Args>
concept DifferentiableOp = requires {
    typename Op::template shape<typename Args::shape...>;
    []<std::size_t... I>(std::index_sequence<I...>)
        requires(requires { typename Op::template vjp<I, Node<Op, Args...>, Adjoint<Node<Op, Args...>>, Args...>; } && ...)
    {}(std::index_sequence_for<Args...>{});
};

}  // namespace typegrad::expr
