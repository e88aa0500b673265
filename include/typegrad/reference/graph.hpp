// The hand-written reference rules of the combinators of nn/graph.hpp, as a textbook writes
// backpropagation through a graph: a chain's δ walks back through its layers' own rules; where
// the input forks into a residual connection or into branches, δ at the fork is the sum of its
// consumers' δs; a concatenation hands each branch its slice of δ.
//
//   residual    y = x + f(x)            ∂J/∂x = δ + f′ᵀδ                 (f's rules give f′ᵀδ)
//   branch_sum  y = Σₖ fₖ(x)            ∂J/∂x = Σₖ fₖ′ᵀδ
//   concat      y = [f₁(x); f₂(x); …]   ∂J/∂x = Σₖ fₖ′ᵀ δₖ,  δₖ the slice of δ that is fₖ's
//
// Each inner layer's rule sees its own parameters through InnerSet (the combinator's parameters
// First … First + n − 1, by their names), so the rules of dense, conv2d, activations … serve
// inside a block unchanged. The buffers are allocated per call: the reference is the check, not
// the fast path.
#pragma once

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <utility>
#include <vector>

#include "typegrad/expr/join.hpp"
#include "typegrad/nn/graph.hpp"
#include "typegrad/reference/rule.hpp"

namespace typegrad::reference {

namespace detail {

/// Tensors First … First + n − 1 of a combinator's ParameterSet, seen as one inner layer's set.
template <class Set, std::size_t First, class List>
class InnerSet;
template <class Set, std::size_t First, class... P>
class InnerSet<Set, First, params<P...>> {
public:
    explicit InnerSet(Set& set) noexcept : set_(set) {}
    template <fixed_string Name>
    static constexpr bool has = typegrad::detail::param_index<Name, params<P...>>::value < sizeof...(P);
    template <fixed_string Name>
    auto& get() const noexcept {
        static_assert(has<Name>, "parameter<Name>: this layer has no parameter of that name");
        return set_.template at<First + typegrad::detail::param_index<Name, params<P...>>::value>();
    }
    template <std::size_t I>
    auto& at() const noexcept {
        return set_.template at<First + I>();
    }

private:
    Set& set_;
};

/// One chain of inner layers (a tuple of typegrad::detail::inner_layer), run by their rules.
template <class Inner>
struct ChainRules;
template <class... I>
struct ChainRules<std::tuple<I...>> {
    static constexpr std::size_t n = sizeof...(I);
    template <std::size_t K>
    using at = std::tuple_element_t<K, std::tuple<I...>>;
    using output_shape = typename at<n - 1>::output_shape;

    /// outs[k]: the output of inner layer k for input x.
    template <class T, class P>
    static void forward(const P& p, const T* x, std::vector<std::vector<T>>& outs) {
        outs.resize(n);
        [&]<std::size_t... K>(std::index_sequence<K...>) { (forward_one<K>(p, x, outs), ...); }(std::make_index_sequence<n>{});
    }
    /// From gy at the chain's output: every inner layer's parameter gradients, and ∂J/∂x into gx
    /// (assigned) unless gx is null.
    template <class T, class P, class G>
    static void backward(const P& p, const T* x, const std::vector<std::vector<T>>& outs, const T* gy, T* gx, G& g,
                         Accumulate acc) {
        std::vector<T> above(gy, gy + size_v<output_shape>), below;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (backward_one<n - 1 - K>(p, x, outs, above, below, gx, g, acc), ...);
        }(std::make_index_sequence<n>{});
    }

private:
    template <std::size_t K, class T, class P>
    static void forward_one(const P& p, const T* x, std::vector<std::vector<T>>& outs) {
        using L = at<K>;
        outs[K].assign(size_v<typename L::output_shape>, T(0));
        const InnerSet<const P, L::first, typename L::parameters> q(p);
        rule<typename L::layer>::template forward<typename L::input_shape>(q, K == 0 ? x : outs[K - 1].data(), outs[K].data());
    }
    template <std::size_t K, class T, class P, class G>
    static void backward_one(const P& p, const T* x, const std::vector<std::vector<T>>& outs, std::vector<T>& above,
                             std::vector<T>& below, T* gx, G& g, Accumulate acc) {
        using L = at<K>;
        const InnerSet<const P, L::first, typename L::parameters> q(p);
        InnerSet<G, L::first, typename L::parameters> h(g);
        T* gin = gx;
        if constexpr (K > 0) {
            below.assign(size_v<typename L::input_shape>, T(0));
            gin = below.data();
        }
        rule<typename L::layer>::template backward<typename L::input_shape>(q, K == 0 ? x : outs[K - 1].data(), outs[K].data(),
                                                                            above.data(), gin, h, acc);
        if constexpr (K > 0) std::swap(above, below);
    }
};

template <class Spans>
struct BranchRules;
template <class... Span>
struct BranchRules<std::tuple<Span...>> {
    using rules = std::tuple<ChainRules<typename Span::type>...>;
    static constexpr std::size_t count = sizeof...(Span);
    /// The extent of the joined axis (rank − From) of the concatenated output.
    template <std::size_t From>
    static constexpr std::size_t joined = (std::size_t{0} + ... + expr::detail::axis_split<typename Span::output_shape, From>::extent);
};

/// Every branch's inner outputs for input x (outs[k]: branch k's, as ChainRules::forward).
template <class Spans, class T, class P>
void branches_run(const P& p, const T* x, std::vector<std::vector<std::vector<T>>>& outs) {
    using B = BranchRules<Spans>;
    outs.resize(B::count);
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (std::tuple_element_t<K, typename B::rules>::forward(p, x, outs[K]), ...);
    }(std::make_index_sequence<B::count>{});
}

/// y = Σ over branches of their outputs, or their concatenation along axis From (per example).
template <class In, class Spans, std::size_t From, bool Concatenate, class T, class P>
void branches_forward(const P& p, const T* x, T* y, std::vector<std::vector<std::vector<T>>>& outs) {
    using B = BranchRules<Spans>;
    branches_run<Spans>(p, x, outs);
    if constexpr (!Concatenate) {
        using Out = typename std::tuple_element_t<0, typename B::rules>::output_shape;
        std::fill_n(y, size_v<Out>, T(0));
        for (const auto& o : outs)
            for (std::size_t i = 0; i < size_v<Out>; ++i) y[i] += o.back()[i];
    } else {
        // along axis rank − From: per leading index, each branch's block in turn
        std::size_t offset = 0;
        constexpr std::size_t joined = B::template joined<From>;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (([&] {
                 using Split = expr::detail::axis_split<typename std::tuple_element_t<K, typename B::rules>::output_shape, From>;
                 const T* src = outs[K].back().data();
                 for (std::size_t o = 0; o < Split::outer; ++o)
                     std::copy_n(src + o * Split::extent * Split::inner, Split::extent * Split::inner,
                                 y + (o * joined + offset) * Split::inner);
                 offset += Split::extent;
             }()),
             ...);
        }(std::make_index_sequence<B::count>{});
    }
}

/// The branches' backward steps from gy at the join; ∂J/∂x of each branch added into gx (which
/// the caller has set), unless gx is null.
template <class In, class Spans, std::size_t From, bool Concatenate, class T, class P, class G>
void branches_backward(const P& p, const T* x, const std::vector<std::vector<std::vector<T>>>& outs, const T* gy, T* gx, G& g,
                       Accumulate acc) {
    using B = BranchRules<Spans>;
    constexpr std::size_t joined = B::template joined<From>;
    std::size_t offset = 0;
    std::vector<T> slice, gin(gx ? size_v<In> : 0);
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (([&] {
             using R = std::tuple_element_t<K, typename B::rules>;
             using Split = expr::detail::axis_split<typename R::output_shape, From>;
             const T* g_here = gy;
             if constexpr (Concatenate) {
                 slice.assign(size_v<typename R::output_shape>, T(0));
                 for (std::size_t o = 0; o < Split::outer; ++o)
                     std::copy_n(gy + (o * joined + offset) * Split::inner, Split::extent * Split::inner,
                                 slice.data() + o * Split::extent * Split::inner);
                 g_here = slice.data();
                 offset += Split::extent;
             }
             R::backward(p, x, outs[K], g_here, gx ? gin.data() : nullptr, g, acc);
             if (gx)
                 for (std::size_t i = 0; i < size_v<In>; ++i) gx[i] += gin[i];
         }()),
         ...);
    }(std::make_index_sequence<B::count>{});
}

template <class C, class In>
using parts_of = typename typegrad::detail::combinator_graph<C, In>::parts;

}  // namespace detail

/// A block has a rule when each of its inner layers has one.
template <class C, class In>
    requires is_combinator<C>::value
struct has_rule<C, In> {
    static constexpr bool value = []<class... I>(std::tuple<I...>*) {
        return (has_rule<typename I::layer, typename I::input_shape>::value && ...);
    }(static_cast<typename detail::parts_of<C, In>::inner*>(nullptr));
};

/// Residual: y = x + f(x);  ∂J/∂x = δ + f′ᵀδ.
template <class Body>
struct rule<Residual<Body>> {
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) {
        using R = detail::ChainRules<typename std::tuple_element_t<0, typename detail::parts_of<Residual<Body>, In>::spans>::type>;
        std::vector<std::vector<T>> outs;
        R::forward(p, x, outs);
        for (std::size_t i = 0; i < size_v<In>; ++i) y[i] = x[i] + outs.back()[i];
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T*, const T* gy, T* gx, G& g, Accumulate acc) {
        using R = detail::ChainRules<typename std::tuple_element_t<0, typename detail::parts_of<Residual<Body>, In>::spans>::type>;
        std::vector<std::vector<T>> outs;
        R::forward(p, x, outs);
        std::vector<T> through(gx ? size_v<In> : 0);
        R::backward(p, x, outs, gy, gx ? through.data() : nullptr, g, acc);
        if (gx)
            for (std::size_t i = 0; i < size_v<In>; ++i) gx[i] = gy[i] + through[i];  // δ at the fork: both consumers'
    }
};

namespace detail {
/// The rule of branches on one input, joined by sum or by concatenation along axis From.
template <class C, std::size_t From, bool Concatenate>
struct BranchesRule {
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) {
        std::vector<std::vector<std::vector<T>>> outs;
        branches_forward<In, typename parts_of<C, In>::spans, From, Concatenate>(p, x, y, outs);
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T*, const T* gy, T* gx, G& g, Accumulate acc) {
        using Spans = typename parts_of<C, In>::spans;
        std::vector<std::vector<std::vector<T>>> outs;
        branches_run<Spans>(p, x, outs);  // the inner outputs the branches' rules need
        if (gx) std::fill_n(gx, size_v<In>, T(0));
        branches_backward<In, Spans, From, Concatenate>(p, x, outs, gy, gx, g, acc);
    }
};
}  // namespace detail

/// Branches added: y = Σₖ fₖ(x);  ∂J/∂x = Σₖ fₖ′ᵀδ.
template <class... B>
struct rule<BranchSum<B...>> : detail::BranchesRule<BranchSum<B...>, 1, false> {};

/// Branches concatenated: y = [f₁(x); f₂(x); …];  ∂J/∂x = Σₖ fₖ′ᵀδₖ. (The axis is the same for
/// every input shape of one kind of branches: 1 for vectors, 3 for images; BranchesRule takes it
/// per input shape through the combinator.)
template <class... B>
struct rule<Concat<B...>> {
    template <class In>
    using of = detail::BranchesRule<Concat<B...>, typegrad::detail::combinator_graph<Concat<B...>, In>::axis, true>;
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) {
        of<In>::template forward<In>(p, x, y);
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T* y, const T* gy, T* gx, G& g, Accumulate acc) {
        of<In>::template backward<In>(p, x, y, gy, gx, g, acc);
    }
};

}  // namespace typegrad::reference
