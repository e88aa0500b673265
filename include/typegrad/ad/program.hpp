// Compile-time reverse mode. For an expression type Root, Program<T, Root> holds one workspace
// (values and adjoints of every node, sized at compile time, allocated once) and runs
//   forward():  every node's value, operands first (topological order),
//   backward(): the reverse sweep, nodes in reverse order; for each operand k of node P it
//               evaluates P's local rule Op::vjp<k, P, Adjoint<P>, Args...> — an expression
//               type — into the operand's adjoint, assigning on the first write and adding on
//               the next (decided at compile time, see ad/graph.hpp).
// There is no tape and no run-time graph: the sweep is a sequence of inlined kernel calls fixed
// by the type. Leaves are bound to the caller's data by pointer (closure rule: the program
// never owns inputs, parameters or gradients). The engine's rewrite rules (ad/rewrite.hpp) are
// applied to Root first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/ad/graph.hpp"
#include "typegrad/ad/rewrite.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/simd/row.hpp"

namespace typegrad::ad {

template <class T>
concept Real = std::same_as<T, float> || std::same_as<T, double>;

/// Whether a gradient evaluation overwrites the parameters' gradients or adds to them (summing
/// over the examples of a batch).
enum class Accumulate : bool { no = false, yes = true };

/// What a program computes: values only (a forward pass, e.g. a prediction), or values and
/// gradients (J must then be a scalar).
enum class Sweep { forward, gradient };

namespace detail {

template <class T, std::size_t N>
struct alignas(64) Buffer {
    T data[N];
};
struct NoBuffer {};

// --- bound elementwise evaluators: load<V>(i) gives element i (V = T or an xsimd batch) ----
// at(start) gives the evaluator of the row that starts at element `start` of the result: an
// operand of fewer elements (a bias over a batch) restarts every `size` elements.

template <class T>
struct BoundScalar {
    T s;
    template <class V>
    V load(std::size_t) const noexcept {
        return V(s);
    }
    BoundScalar at(std::size_t) const noexcept { return *this; }
};
template <class T, std::size_t Size>
struct BoundPointer {
    const T* p;
    template <class V>
    V load(std::size_t i) const noexcept {
        return simd::load<V>(p + i);
    }
    BoundPointer at(std::size_t start) const noexcept { return {p + start % Size}; }
};
template <class Op, class... B>
struct BoundOp {
    std::tuple<B...> operands;
    template <class V>
    V load(std::size_t i) const noexcept {
        return std::apply([i](const B&... b) { return Op::apply(b.template load<V>(i)...); }, operands);
    }
    BoundOp at(std::size_t start) const noexcept {
        return std::apply([start](const B&... b) { return BoundOp{{b.at(start)...}}; }, operands);
    }
};

template <class Op, class... B>
BoundOp<Op, B...> make_bound_op(B... b) noexcept {
    return {{b...}};
}

/// dst[0, N) = e (assign) or dst[0, N) += e, vectorised: full batches, then narrower ones for
/// the rest (the bounds are constants, so no empty tail loop is emitted — GCC 12 wrongly warns
/// about those under -Waggressive-loop-optimizations).
template <std::size_t N, class T, class B>
void store_row(T* dst, const B& e, bool assign) noexcept {
    using V = simd::batch<T>;
    constexpr std::size_t S = simd::width_v<T>;
    constexpr std::size_t head = N / S * S;
    if constexpr (head > 0) {
        if (assign)
            for (std::size_t i = 0; i < head; i += S) e.template load<V>(i).store_unaligned(dst + i);
        else
            for (std::size_t i = 0; i < head; i += S)
                (V::load_unaligned(dst + i) + e.template load<V>(i)).store_unaligned(dst + i);
    }
    simd::for_each_chunk<T, N - head>([&]<class W, std::size_t Offset>() {
        constexpr std::size_t i = head + Offset;
        const W v = e.template load<W>(i);
        simd::store(assign ? v : simd::load<W>(dst + i) + v, dst + i);
    });
}

/// dst[0, N) = e or += e, in rows of Row elements (Row divides N; Row < N when an operand is
/// repeated along the leading extents).
template <std::size_t N, std::size_t Row, class T, class B>
void store_elementwise(T* dst, const B& e, bool assign) noexcept {
    if constexpr (Row >= N) {
        store_row<N>(dst, e, assign);
    } else {
        static_assert(N % Row == 0);
        for (std::size_t start = 0; start < N; start += Row) store_row<Row>(dst + start, e.at(start), assign);
    }
}

template <class E>
inline constexpr bool has_storage_v = expr::is_node_v<E>;

inline constexpr std::size_t unbounded = ~std::size_t{0};

}  // namespace detail

/// A leaf bound to data: its value, and for a parameter where its gradient goes.
template <class Leaf, class T>
struct Binding {
    using leaf = Leaf;
    const T* value;
    T* gradient;
};

/// bind(x, x_data) for an input; bind(W, W_data, dW) for a parameter (dW receives ∂J/∂W).
template <class T, class Tag, std::size_t... N>
Binding<expr::Input<Tag, N...>, T> bind(expr::Input<Tag, N...>, const T* value) noexcept {
    return {value, nullptr};
}
template <class T, class Tag, std::size_t... N>
Binding<expr::Param<Tag, N...>, T> bind(expr::Param<Tag, N...>, const T* value, T* gradient) noexcept {
    return {value, gradient};
}
/// A parameter bound without a gradient: read as data (a forward pass).
template <class T, class Tag, std::size_t... N>
Binding<expr::Param<Tag, N...>, T> bind(expr::Param<Tag, N...>, const T* value) noexcept {
    return {value, nullptr};
}
template <class Leaf, class C>
auto bind(Leaf leaf, const C& value) noexcept -> decltype(bind(leaf, value.data())) {
    return bind(leaf, value.data());
}
template <class Leaf, class C, class D>
auto bind(Leaf leaf, const C& value, D& gradient) noexcept -> decltype(bind(leaf, value.data(), gradient.data())) {
    return bind(leaf, value.data(), gradient.data());
}

template <Real T, expr::Expression Expr, Sweep Mode = Sweep::gradient>
class Program {
public:
    /// The expression after the engine's rewrite rules.
    using root = rewrite_t<Expr>;
    using graph = Graph<root>;
    using nodes = typename graph::nodes;
    static constexpr std::size_t size = graph::size;
    static constexpr bool differentiates = Mode == Sweep::gradient;

    static_assert(!differentiates || expr::is_scalar_shape_v<typename root::shape>,
                  "autodiff: the expression to differentiate (the cost J) must be a scalar; "
                  "wrap a vector in sum(...) or squared_norm(...)");

private:
    template <class N>
    static constexpr bool adjoint_stored = differentiates && detail::has_storage_v<N> &&
                                           graph::needs_adjoint[graph::template index_of<N>];
    template <class N>
    using value_buffer = std::conditional_t<detail::has_storage_v<N>, detail::Buffer<T, expr::size_v<typename N::shape>>,
                                            detail::NoBuffer>;
    template <class N>
    using adjoint_buffer =
        std::conditional_t<adjoint_stored<N>, detail::Buffer<T, expr::size_v<typename N::shape>>, detail::NoBuffer>;
    template <class... Ns>
    static auto workspace_of(type_list<Ns...>) -> std::tuple<value_buffer<Ns>..., adjoint_buffer<Ns>...>;
    using workspace_type = decltype(workspace_of(nodes{}));

public:
    /// Allocates the workspace, once.
    Program() : ws_(std::make_unique<workspace_type>()) {}

    /// Binds leaves to data (see bind()); leaves keep their binding until bound again.
    template <class... B>
    void bind_all(const B&... b) noexcept {
        (bind_one(b), ...);
    }

    /// Evaluates every node; returns the first element of the root (J for a cost).
    T forward() noexcept {
        forward_all(std::make_index_sequence<size>{});
        return value_ptr<root>()[0];
    }

    /// The reverse sweep: every parameter's gradient (overwritten, or added to with
    /// Accumulate::yes) and every intermediate adjoint. Requires forward() first.
    void backward(Accumulate acc = Accumulate::no) noexcept {
        static_assert(differentiates, "backward(): this program was made for the forward sweep only (Sweep::forward)");
        if constexpr (graph::needs_adjoint[size - 1]) {
            adjoint_ptr<root>()[0] = T(1);  // ∂J/∂J
            backward_all(std::make_index_sequence<size>{}, acc);
        }
    }

    /// The value of a node (after forward()).
    template <class N>
    const T* value() const noexcept {
        static_assert(graph::template contains<N>, "value<N>(): N is not a node of this expression");
        return const_cast<Program*>(this)->template value_ptr<N>();
    }
    /// The adjoint ∂J/∂N of a node (after backward()).
    template <class N>
    const T* adjoint() const noexcept {
        static_assert(graph::template contains<N>, "adjoint<N>(): N is not a node of this expression");
        static_assert(adjoint_stored<N> || expr::is_leaf_v<N>, "adjoint<N>(): N has no adjoint (nothing it depends on is differentiated)");
        return const_cast<Program*>(this)->template adjoint_ptr<N>();
    }

private:
    template <std::size_t I>
    using node_at = typename graph::template node_at<I>;

    template <class L>
    void bind_one(const Binding<L, T>& b) noexcept {
        static_assert(graph::template contains<L>, "bind(): this leaf does not occur in the expression");
        constexpr std::size_t i = graph::template index_of<L>;
        leaf_values_[i] = b.value;
        leaf_gradients_[i] = b.gradient;
    }

    template <class N>
    T* value_ptr() noexcept {
        constexpr std::size_t i = graph::template index_of<N>;
        if constexpr (expr::is_leaf_v<N>) return const_cast<T*>(leaf_values_[i]);
        else return std::get<i>(*ws_).data;
    }
    template <class N>
    T* adjoint_ptr() noexcept {
        constexpr std::size_t i = graph::template index_of<N>;
        if constexpr (expr::is_leaf_v<N>) return leaf_gradients_[i];
        else return std::get<size + i>(*ws_).data;
    }

    // --- evaluation of (derived) expressions ----------------------------------------------

    // The length of the rows an elementwise expression is evaluated in: the size of its
    // smallest non-scalar operand (a bias repeated over a batch), unbounded for a scalar.
    template <class E>
    static constexpr std::size_t row_length() {
        using S = typename E::shape;
        if constexpr (expr::is_scalar_shape_v<S>) return detail::unbounded;
        else if constexpr (expr::is_node_v<E> && !graph::template contains<E>) {
            if constexpr (expr::ReductionOp<typename E::op>) return detail::unbounded;
            else
                return []<class Op, class... A>(expr::Node<Op, A...>*) {
                    return std::min({detail::unbounded, row_length<A>()...});
                }(static_cast<E*>(nullptr));
        } else return expr::size_v<S>;
    }

    template <class E>
    auto bound() noexcept {
        using S = typename E::shape;
        if constexpr (expr::is_const_v<E>) {
            return detail::BoundScalar<T>{T(E::num) / T(E::den)};
        } else if constexpr (expr::is_adjoint_v<E>) {
            if constexpr (expr::is_scalar_shape_v<S>) return detail::BoundScalar<T>{adjoint_ptr<typename E::node>()[0]};
            else return detail::BoundPointer<T, expr::size_v<S>>{adjoint_ptr<typename E::node>()};
        } else if constexpr (graph::template contains<E>) {  // a node's stored value, or a leaf
            if constexpr (expr::is_scalar_shape_v<S>) return detail::BoundScalar<T>{value_ptr<E>()[0]};
            else return detail::BoundPointer<T, expr::size_v<S>>{value_ptr<E>()};
        } else {
            return bound_new(static_cast<E*>(nullptr));
        }
    }
    // a node that is not in the forward graph: computed here from its operands
    template <class Op, class... A>
    auto bound_new(expr::Node<Op, A...>*) noexcept {
        using S = typename expr::Node<Op, A...>::shape;
        if constexpr (expr::ReductionOp<Op>) {
            return detail::BoundScalar<T>{reduce<Op, A...>()};
        } else {
            static_assert(expr::ElementwiseOp<Op>,
                          "autodiff: a local derivative rule put a kernel op inside an elementwise expression; "
                          "rules must name stored values for kernel operands");
            auto b = make_bound_op<Op, A...>();
            if constexpr (expr::is_scalar_shape_v<S>) return detail::BoundScalar<T>{b.template load<T>(0)};
            else return b;
        }
    }
    template <class Op, class... A>
    auto make_bound_op() noexcept {
        return detail::make_bound_op<Op>(this->template bound<A>()...);
    }
    template <class Op, class A0, class... A>
    T reduce() noexcept {
        static_assert(((std::is_same_v<typename A::shape, typename A0::shape> || expr::is_scalar_shape_v<typename A::shape>) && ...),
                      "autodiff: the operands of a reduction must have one shape");
        constexpr std::size_t n = expr::size_v<typename A0::shape>;
        auto b0 = bound<A0>();
        auto bs = std::make_tuple(this->template bound<A>()...);
        T s = 0;
        for (std::size_t i = 0; i < n; ++i)
            s += std::apply([&](const auto&... b) { return Op::element(b0.template load<T>(i), b.template load<T>(i)...); }, bs);
        return s;
    }

    template <class E>
    const T* address() noexcept {
        if constexpr (expr::is_adjoint_v<E>) return adjoint_ptr<typename E::node>();
        else {
            static_assert(graph::template contains<E>,
                          "autodiff: a kernel operand must be a stored value or adjoint (a local rule may apply a kernel "
                          "op only to nodes of the forward graph or adjoints; SumToOp of an elementwise expression is "
                          "the one exception, evaluated row by row)");
            return value_ptr<E>();
        }
    }

    template <class Op, class... A>
    void kernel_into(expr::Node<Op, A...>*, T* dst, bool assign) noexcept {
        Op::template compute<A...>(dst, address<A>()..., !assign);
    }

    // dst = Σ over the leading extents of an expression of G's shape, row after row in order
    // (the gradient of a parameter repeated over a batch, e.g. a slope that multiplies every
    // example): the same additions in the same order as one example at a time.
    template <class To, class A>
    void sum_rows_into(expr::Node<expr::SumToOp<To>, A>*, T* dst, bool assign) noexcept {
        constexpr std::size_t n = expr::size_v<To>, rows = expr::size_v<typename A::shape> / n;
        constexpr std::size_t row = std::min(n, row_length<A>());
        const auto e = bound<A>();
        for (std::size_t r = 0; r < rows; ++r) detail::store_elementwise<n, row>(dst, e.at(r * n), assign && r == 0);
    }
    template <class E>
    static constexpr bool sums_an_expression = [] {
        if constexpr (expr::is_node_v<E>) {
            return []<class Op, class... A>(expr::Node<Op, A...>*) {
                if constexpr (sizeof...(A) == 1 && requires { typename Op::template shape<typename A::shape...>; })
                    return std::is_same_v<Op, expr::SumToOp<typename Op::template shape<typename A::shape...>>> &&
                           (!graph::template contains<A> && ...) && (!expr::is_adjoint_v<A> && ...);
                else return false;
            }(static_cast<E*>(nullptr));
        } else return false;
    }();

    // dst (of N elements) = E or += E
    template <std::size_t N, class E>
    void evaluate_into(T* dst, bool assign) noexcept {
        if constexpr (sums_an_expression<E>) {
            sum_rows_into(static_cast<E*>(nullptr), dst, assign);
        } else if constexpr (expr::is_node_v<E> && !graph::template contains<E>) {
            using Op = typename E::op;
            if constexpr (expr::AccumulatingKernelOp<Op>) {
                kernel_into(static_cast<E*>(nullptr), dst, assign);
            } else {
                detail::store_elementwise<N, row_length<E>()>(dst, bound<E>(), assign);
            }
        } else {
            detail::store_elementwise<N, row_length<E>()>(dst, bound<E>(), assign);
        }
    }

    // --- the sweeps ---------------------------------------------------------------------

    // The sweeps are folds over index sequences; each step is chosen by overload resolution on
    // the node's type (a Node, or a leaf/constant with nothing to do).
    template <std::size_t... I>
    void forward_all(std::index_sequence<I...>) noexcept {
        (compute_node<I>(), ...);
    }
    template <std::size_t... I>
    void backward_all(std::index_sequence<I...>, Accumulate acc) noexcept {
        (reverse_node<size - 1 - I>(acc), ...);
    }
    template <std::size_t I>
    void compute_node() noexcept {
        compute_op(static_cast<node_at<I>*>(nullptr));
    }
    void compute_op(const void*) noexcept {}  // leaves and constants: nothing to compute
    template <class Op, class... A>
    void compute_op(expr::Node<Op, A...>*) noexcept {
        using N = expr::Node<Op, A...>;
        T* out = value_ptr<N>();
        if constexpr (expr::ElementwiseOp<Op>) {
            if constexpr (requires { typename Op::function; } && sizeof...(A) == 1)
                map_kernel<typename Op::function, A...>(out);  // the same vectorised kernel as the reference
            else
                detail::store_elementwise<expr::size_v<typename N::shape>, std::min({detail::unbounded, row_length<A>()...})>(
                    out, make_bound_op<Op, A...>(), true);
        } else if constexpr (expr::ReductionOp<Op>) {
            out[0] = reduce<Op, A...>();
        } else {
            Op::template compute<A...>(out, address<A>()...);
        }
    }
    // Row by row along the last extent, so that an element gets the same bits whether it is
    // computed for one example or in a batch (a vectorised exp and the scalar one of a row's
    // tail differ in the last place).
    template <class F, class A>
    void map_kernel(T* out) noexcept {
        using S = typename A::shape;
        const T* in = address<A>();
        if constexpr (expr::rank_v<S> <= 1) {
            simd::map<F, expr::size_v<S>>(in, out);
        } else {
            constexpr std::size_t cols = expr::detail::last_v<S>, rows = expr::size_v<S> / cols;
            for (std::size_t r = 0; r < rows; ++r) simd::map<F, cols>(in + r * cols, out + r * cols);
        }
    }

    template <std::size_t I>
    void reverse_node(Accumulate acc) noexcept {
        if constexpr (graph::needs_adjoint[I]) reverse(static_cast<node_at<I>*>(nullptr), acc);
    }
    void reverse(const void*, Accumulate) noexcept {}  // leaves: their adjoints are complete
    template <class Op, class... A>
    void reverse(expr::Node<Op, A...>* node, Accumulate acc) noexcept {
        constexpr std::size_t i = graph::template index_of<expr::Node<Op, A...>>;
        static_assert(expr::DifferentiableOp<Op, A...>,
                      "autodiff: this op is not a DifferentiableOp: it has no local derivative rule (vjp<I, …>) for an "
                      "operand it differentiates (see docs/design.md, 'How an op declares its local rule')");
        propagate_all<i, Op, A...>(node, acc, std::index_sequence_for<A...>{});
    }
    template <std::size_t I, class Op, class... A, std::size_t... K>
    void propagate_all(expr::Node<Op, A...>* node, Accumulate acc, std::index_sequence<K...>) noexcept {
        (propagate<I, K, Op, A...>(node, acc), ...);
    }
    template <std::size_t I, std::size_t K, class Op, class... A>
    void propagate(expr::Node<Op, A...>*, Accumulate acc) noexcept {
        using N = expr::Node<Op, A...>;
        using C = std::tuple_element_t<K, std::tuple<A...>>;
        if constexpr (graph::differentiable[I][K] && graph::needs_adjoint[graph::template index_of<C>]) {
            using contribution = typename Op::template vjp<K, N, expr::Adjoint<N>, A...>;
            constexpr bool first = graph::first_write[I][K];
            const bool assign = first && !(expr::is_parameter_v<C> && acc == Accumulate::yes);
            evaluate_into<expr::size_v<typename C::shape>, contribution>(adjoint_ptr<C>(), assign);
        }
    }

    std::unique_ptr<workspace_type> ws_;
    const T* leaf_values_[size] = {};
    T* leaf_gradients_[size] = {};
};

namespace detail {
template <class Leaf, class... Bound>
inline constexpr bool is_bound_v = (std::is_same_v<Leaf, Bound> || ...);

// The one place an unbound leaf is reported: names it ('leaf_is_bound<Leaf<…, tag, …>, …>').
template <class Leaf, bool Bound>
struct leaf_is_bound {
    static_assert(Bound,
                  "ad::gradient(J, bindings...): a leaf of J is not bound; bind every input and parameter "
                  "(see 'leaf_is_bound<leaf, false>' below)");
    static constexpr bool value = Bound;
};
template <class G, class... Bound>
constexpr bool all_leaves_bound() {
    return []<class... Ns>(type_list<Ns...>) {
        return (leaf_is_bound<Ns, !expr::is_leaf_v<Ns> || is_bound_v<Ns, Bound...>>::value && ...);
    }(typename G::nodes{});
}
}  // namespace detail

/// J and its gradient in one call: binds the leaves (every leaf of J must be bound), runs
/// forward and backward, writes every parameter's gradient into its binding. Allocates a
/// workspace; reuse a Program to avoid that.
template <Real T, expr::Expression Root, class... Leaves>
T gradient(Root, const Binding<Leaves, T>&... bindings) {
    using P = Program<T, Root>;
    constexpr bool complete = detail::all_leaves_bound<typename P::graph, Leaves...>();
    if constexpr (!complete) {
        return T(0);
    } else {
        P p;
        p.bind_all(bindings...);
        const T j = p.forward();
        p.backward();
        return j;
    }
}

}  // namespace typegrad::ad
