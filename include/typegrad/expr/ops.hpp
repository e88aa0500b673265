// The ops of the expression language. An op is a plain struct with
//   - shape<S...>:   the result shape of its operands' shapes (a static_assert in the user's
//                    words when they do not fit),
//   - its value rule: apply(v...) for elementwise ops, element(v...) summed for reductions,
//                    or compute<Args...>(out, in...) for the few that need a kernel,
//   - its local derivative rule: vjp<I, Self, G, Args...>, the expression of the contribution
//                    of ∂J/∂Self = G to the adjoint of operand I (a vector-Jacobian product);
//                    an op may declare an operand not differentiated through
//                    (`differentiable<I> = false`, e.g. the target of a cost),
//   - print(...):    how it is written in the derivations.
// The autodiff engine knows nothing else about an op (see the DifferentiableOp concept).
//
// One family for one example and for a batch: the batch is the leading extent of the shapes.
// Elementwise ops broadcast a trailing shape (a bias Shape<30> against a batch Shape<10, 30>),
// and the local rules sum the broadcast extent back (unbroadcast_t). Kernel ops treat every
// leading extent as rows: Wᵀ a on Shape<784> and Wᵀ A on Shape<10, 784> are the same op.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "typegrad/expr/functions.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/split.hpp"
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

// Elementwise operands have equal shapes, or one is a scalar, or one is a trailing part of the
// other (it is repeated along the leading extents: a bias added to every example of a batch).
template <class A, class B>
struct elementwise_shape {
    static constexpr bool fits = std::is_same_v<A, B> || is_scalar_shape_v<A> || is_scalar_shape_v<B> ||
                                 is_suffix_v<A, B> || is_suffix_v<B, A>;
    static_assert(fits,
                  "elementwise op (+, −, ⊙): the operands must have the same shape, or one must be a scalar or "
                  "the trailing extents of the other (see 'elementwise_shape<shape, shape>' below)");
    using type = std::conditional_t<(rank_v<A> >= rank_v<B>), A, B>;
};
template <class A, class B>
struct dot_shape {
    static_assert(std::is_same_v<A, B>, "dot(a, b): a and b must have the same shape (see 'dot_shape<shape, shape>' below)");
    using type = Shape<>;
};

template <class S>
inline constexpr std::size_t last_v = shape_traits<S>::extents[rank_v<S> - 1];
/// Rows of a shape seen as (rows, last extent): 1 for a vector, B for a batch of vectors.
template <class S>
inline constexpr std::size_t rows_v = size_v<S> / last_v<S>;

}  // namespace detail

struct SumOp;
template <class To>
struct SumToOp;
struct NegOp;
struct OuterOp;
struct MatVecOp;
struct SoftmaxGradOp;
template <ElementwiseFunction F>
struct DerivOp;

/// The adjoint contribution E, reduced to the shape of operand A: a scalar operand that was
/// broadcast receives the sum of E; an operand repeated along leading extents (a bias over a
/// batch) receives E summed over them.
template <class A, class E>
using unbroadcast_t = std::conditional_t<
    std::is_same_v<typename A::shape, typename E::shape>, E,
    std::conditional_t<is_scalar_shape_v<typename A::shape>, Node<SumOp, E>, Node<SumToOp<typename A::shape>, E>>>;

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

/// Hadamard product of equal shapes, or a scalar (or a trailing shape) times anything.
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

namespace detail {
// The one place a function that is not an ElementwiseFunction is reported.
template <class F>
struct check_function {
    static_assert(ElementwiseFunction<F>,
                  "map<F>: F must be an elementwise function: `name`, and `value(x)` and `derivative(x, y)` as "
                  "templates over the value type, callable on float, double and xsimd batches of them "
                  "(see docs/layers.md, 'A new activation')");
    static constexpr bool value = ElementwiseFunction<F>;
};
}  // namespace detail

/// f(x) elementwise, f an ElementwiseFunction (fn::Sigmoid, fn::Tanh, … or a user's).
template <class F>
struct MapOp {
    static_assert(detail::check_function<F>::value);  // (checked, with the message, in check_function)
    static constexpr bool elementwise = true;
    using function = F;
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
// Ops that run a kernel. Those that appear at the top of a local rule are "accumulating":
// compute(out, in..., accumulate) assigns or adds, so that adjoints are never zeroed first.

namespace detail {
template <class W, class A>
struct mat_t_vec_shape {
    static constexpr bool fits = false;
    static_assert(rank_v<W> == 2 && rank_v<A> >= 1,
                  "matT_vec(W, a): W must be a matrix (n_in x n_out) and a a vector or a batch of vectors");
};
template <std::size_t R, std::size_t C, std::size_t... N>
    requires(sizeof...(N) >= 1)
struct mat_t_vec_shape<Shape<R, C>, Shape<N...>> {
    static constexpr std::size_t width = shape_traits<Shape<N...>>::extents[sizeof...(N) - 1];
    static_assert(R == width,
                  "matT_vec(W, a): W (n_in x n_out) has n_in rows, which must equal a's width "
                  "(see 'mat_t_vec_shape<Shape<rows, cols>, Shape<…, width>>' below)");
    template <std::size_t... M>
    static auto replace_last(std::index_sequence<M...>) -> Shape<shape_traits<Shape<N...>>::extents[M]..., C>;
    using type = decltype(replace_last(std::make_index_sequence<sizeof...(N) - 1>{}));
};
template <class S, std::size_t Last>
struct with_last;
template <std::size_t... N, std::size_t Last>
struct with_last<Shape<N...>, Last> {
    template <std::size_t... M>
    static auto replace_last(std::index_sequence<M...>) -> Shape<shape_traits<Shape<N...>>::extents[M]..., Last>;
    using type = decltype(replace_last(std::make_index_sequence<sizeof...(N) - 1>{}));
};
}  // namespace detail

/// Wᵀ a for W (n_in, n_out) and a (n_in) — or for every row of a batch A (…, n_in): the
/// pre-activation of a dense layer.
struct MatTVecOp {
    template <class W, class A>
    using shape = typename detail::mat_t_vec_shape<W, A>::type;
    template <class W, class A, class T>
    static void compute(T* out, const T* w, const T* a) noexcept {
        constexpr std::size_t in = W::shape::template get<0>(), out_n = W::shape::template get<1>();
        constexpr std::size_t rows = detail::rows_v<typename A::shape>;
        // a first layer split by rows between threads (split.hpp): this thread's part, exchanged
        if (InputSplit<T>* s = detail::split_of_product<rows, out_n>(w, a)) return detail::split_product<rows, in, out_n>(*s, w, a, out);
        if constexpr (rows == 1) simd::gemv_t_bias<in, out_n>(w, a, static_cast<const T*>(nullptr), out);
        else simd::gemm_xw<rows, in, out_n>(a, w, static_cast<const T*>(nullptr), out);
    }
    template <std::size_t I, class Self, class G, class W, class A>
    using vjp = std::conditional_t<I == 0, Node<OuterOp, A, G>, Node<MatVecOp, W, G>>;
    static Text print(const Text& w, const Text& a) { return {cat(grouped(w, 3), "ᵀ ", grouped(a, 3)), 2}; }
};

/// W g for every row g of G (derived expressions only): the adjoint Wᴸ δᴸ arriving at aᴸ⁻¹.
struct MatVecOp {
    static constexpr bool accumulating_kernel = true;
    template <class W, class G>
    using shape = typename detail::with_last<G, W::template get<0>()>::type;
    template <class W, class G, class T>
    static void compute(T* out, const T* w, const T* g, bool accumulate) noexcept {
        constexpr std::size_t in = W::shape::template get<0>(), out_n = W::shape::template get<1>();
        constexpr std::size_t rows = detail::rows_v<typename G::shape>;
        if constexpr (rows == 1) simd::gemv<in, out_n>(w, g, out, accumulate);
        else simd::gemm_dwt<rows, in, out_n>(g, w, out, accumulate);
    }
    static Text print(const Text& w, const Text& g) { return {cat(grouped(w, 3), " ", grouped(g, 3)), 2}; }
};

/// Σ over rows of a gᵀ (derived expressions only): ∂J/∂W = aᴸ⁻¹ δᴸᵀ, summed over a batch.
struct OuterOp {
    static constexpr bool accumulating_kernel = true;
    template <class A, class G>
    using shape = Shape<detail::last_v<A>, detail::last_v<G>>;
    template <class A, class G, class T>
    static void compute(T* out, const T* a, const T* g, bool accumulate) noexcept {
        constexpr std::size_t in = detail::last_v<typename A::shape>, out_n = detail::last_v<typename G::shape>;
        constexpr std::size_t rows = detail::rows_v<typename A::shape>;
        // a first layer split by rows between threads (split.hpp): this thread's rows only
        if (InputSplit<T>* s = detail::split_of_gradient(a, out)) {
            if constexpr (rows <= max_fused_rows)  // (its callers fuse chunks of at most that many examples)
                if (s->apply_to != nullptr)        // SGD's step fused in (split.hpp)
                    return simd::gemm_xtd_apply_rows<rows, in, out_n>(a, g, s->apply_to, s->first, s->last, s->rate, s->flags);
            return simd::gemm_xtd_rows<rows, in, out_n>(a, g, s->gradient, s->first, s->last, accumulate);
        }
        if constexpr (rows == 1) simd::ger<in, out_n>(a, g, out, accumulate);
        else simd::gemm_xtd<rows, in, out_n>(a, g, out, accumulate);
    }
    static Text print(const Text& a, const Text& g) { return {cat(grouped(a, 3), " ", grouped(g, 3), "ᵀ"), 2}; }
};

/// Σ over the leading extents of G, down to the trailing shape To (derived expressions only):
/// the gradient of a bias repeated over a batch, summed example by example in order.
template <class To>
struct SumToOp {
    static constexpr bool accumulating_kernel = true;
    template <class G>
    using shape = To;
    template <class G, class T>
    static void compute(T* out, const T* g, bool accumulate) noexcept {
        constexpr std::size_t n = size_v<To>;
        simd::sum_rows<size_v<typename G::shape> / n, n>(g, out, accumulate);
    }
    static Text print(const Text& g) { return {cat("Σᵦ ", grouped(g, 3)), 2}; }
};

/// softmax over the last extent: softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ (with the maximum subtracted, for
/// range), for one vector or every row of a batch.
struct SoftmaxOp {
    template <class A>
    using shape = A;
    template <class A, class T>
    static void compute(T* out, const T* z) noexcept {
        constexpr std::size_t n = detail::last_v<typename A::shape>, rows = detail::rows_v<typename A::shape>;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* zr = z + r * n;
            T* o = out + r * n;
            const T m = *std::max_element(zr, zr + n);
            T s = 0;
            for (std::size_t i = 0; i < n; ++i) s += (o[i] = std::exp(zr[i] - m));
            for (std::size_t i = 0; i < n; ++i) o[i] /= s;
        }
    }
    // ∂J/∂z = y ⊙ (g − ⟨g, y⟩) with y = softmax(z), row by row
    template <std::size_t I, class Self, class G, class A>
    using vjp = Node<SoftmaxGradOp, Self, G>;
    static Text print(const Text& a) { return {cat("softmax(", a.s, ")"), 3}; }
};

/// y ⊙ (g − ⟨g, y⟩) row by row (derived expressions only): softmax's local rule.
struct SoftmaxGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class Y, class G>
    using shape = Y;
    template <class Y, class G, class T>
    static void compute(T* out, const T* y, const T* g, bool accumulate) noexcept {
        constexpr std::size_t n = detail::last_v<typename Y::shape>, rows = detail::rows_v<typename Y::shape>;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* yr = y + r * n;
            const T* gr = g + r * n;
            T* o = out + r * n;
            T dot = 0;
            for (std::size_t i = 0; i < n; ++i) dot += gr[i] * yr[i];
            for (std::size_t i = 0; i < n; ++i) o[i] = accumulate ? o[i] + yr[i] * (gr[i] - dot) : yr[i] * (gr[i] - dot);
        }
    }
    static Text print(const Text& y, const Text& g) { return {cat(grouped(y, 3), " ⊙ (", g.s, " − ⟨", g.s, ", ", y.s, "⟩)"), 2}; }
};

// ---------------------------------------------------------------------------------------------
// Costs fused with the output layer they follow (ad/rewrite.hpp puts them in place of the
// textbook formulas): the same J, computed from the pre-activation z so that it is finite for
// any finite z, and the textbook local rule ∂J/∂z = a − y. Operands: z, the target y, and the
// output a = f(z) the rule reads (forward value only: not differentiated through).

/// J = −Σ y ⊙ ln softmax(z), row by row: −Σᵢ yᵢ (zᵢ − m − ln Σⱼ e^(zⱼ − m)), m = maxⱼ zⱼ.
struct SoftmaxLogLikelihoodOp {
    template <class Z, class Y, class A>
    using shape = Shape<>;
    template <std::size_t I>
    static constexpr bool differentiable = I == 0;
    template <class Z, class Y, class A, class T>
    static void compute(T* out, const T* z, const T* y, const T*) noexcept {
        constexpr std::size_t n = detail::last_v<typename Z::shape>, rows = detail::rows_v<typename Z::shape>;
        T j = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* zr = z + r * n;
            const T* yr = y + r * n;
            const T m = *std::max_element(zr, zr + n);
            T s = 0;
            for (std::size_t i = 0; i < n; ++i) s += std::exp(zr[i] - m);
            const T lse = m + std::log(s);
            for (std::size_t i = 0; i < n; ++i)
                if (yr[i] != T(0)) j -= yr[i] * (zr[i] - lse);
        }
        out[0] = j;
    }
    template <std::size_t I, class Self, class G, class Z, class Y, class A>
    using vjp = Node<MulOp, G, Node<SubOp, A, Y>>;
    static Text print(const Text&, const Text& y, const Text& a) { return {cat("−Σ ", grouped(y, 3), " ⊙ ln ", grouped(a, 3)), 2}; }
};

/// J = −Σ [y ⊙ ln σ(z) + (1 − y) ⊙ ln(1 − σ(z))], computed as Σ [max(z, 0) − z y + ln(1 + e^−|z|)].
struct SigmoidCrossEntropyOp {
    template <class Z, class Y, class A>
    using shape = Shape<>;
    template <std::size_t I>
    static constexpr bool differentiable = I == 0;
    template <class Z, class Y, class A, class T>
    static void compute(T* out, const T* z, const T* y, const T*) noexcept {
        constexpr std::size_t n = size_v<typename Z::shape>;
        T j = 0;
        for (std::size_t i = 0; i < n; ++i)
            j += std::max(z[i], T(0)) - z[i] * y[i] + std::log1p(std::exp(-std::abs(z[i])));
        out[0] = j;
    }
    template <std::size_t I, class Self, class G, class Z, class Y, class A>
    using vjp = Node<MulOp, G, Node<SubOp, A, Y>>;
    static Text print(const Text&, const Text& y, const Text& a) {
        return {cat("−Σ [", grouped(y, 3), " ⊙ ln ", grouped(a, 3), " + (1 − ", y.s, ") ⊙ ln(1 − ", a.s, ")]"), 2};
    }
};

// ---------------------------------------------------------------------------------------------

template <class Op>
concept ElementwiseOp = Op::elementwise;
/// A kernel that derived expressions use at their top level: compute(out, operands..., accumulate).
template <class Op>
concept AccumulatingKernelOp = Op::accumulating_kernel;
template <class Op>
concept ReductionOp = Op::reduction;

/// Whether the engine propagates adjoints through operand I of Op (all operands, unless the op
/// says otherwise).
template <class Op, std::size_t I>
inline constexpr bool differentiates_operand_v = [] {
    if constexpr (requires { Op::template differentiable<I>; }) return Op::template differentiable<I>;
    else return true;
}();

/// The contract of an op the engine can differentiate through: a result shape for its operands'
/// shapes, and for each operand it differentiates a local derivative rule vjp<I, Self, G,
/// Args...> that names an expression of the operand's shape. The engine checks it where an op
/// enters a gradient (ad/program.hpp), with this concept's name in the message.
namespace detail {
template <class Op, class Operands, class... Args>
inline constexpr bool has_local_rules_v = false;
template <class Op, std::size_t... I, class... Args>
inline constexpr bool has_local_rules_v<Op, std::index_sequence<I...>, Args...> =
    ((!differentiates_operand_v<Op, I> ||
      requires { typename Op::template vjp<I, Node<Op, Args...>, Adjoint<Node<Op, Args...>>, Args...>; }) &&
     ...);
}  // namespace detail

template <class Op, class... Args>
concept DifferentiableOp = requires { typename Op::template shape<typename Args::shape...>; } &&
                           detail::has_local_rules_v<Op, std::index_sequence_for<Args...>, Args...>;

}  // namespace typegrad::expr
