// autodiff::backprop: the gradient of a network derived by the reverse sweep of its cost's
// expression type (nn/expression.hpp), with nothing written by hand for the network. δᴸ is the
// adjoint the sweep finds at the output node of parameter layer L (zᴸ for a dense layer).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typegrad/ad/print.hpp"
#include "typegrad/ad/program.hpp"
#include "typegrad/nn/expression.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::autodiff {

template <class M, std::size_t Batch = 1>
using ModelExpression = typegrad::ModelExpression<M, Batch>;

/// The reverse-mode program of model M's cost (of one example, or of a batch of Batch), with
/// its workspace (allocated once, here).
template <AnyModel M, std::size_t Batch = 1>
struct Workspace {
    using model_expression = ModelExpression<M, Batch>;
    ad::Program<typename M::value_type, typename model_expression::cost> program;
};

namespace detail {

// Binds x, y, every parameter and its gradient, runs both sweeps, copies δᴸ (of the last example).
template <AnyModel M, std::size_t Batch>
typename M::value_type run(const M& m, const typename M::value_type* x, const typename M::value_type* y,
                           Gradients<M>& g, Workspace<M, Batch>& ws, Accumulate acc) noexcept {
    using E = ModelExpression<M, Batch>;
    auto& p = ws.program;
    p.bind_all(ad::bind(typename E::x{}, x), ad::bind(typename E::y{}, y));
    for_each_parameter(m, g, [&](auto ref, const auto& value, auto& gradient) {
        using R = decltype(ref);
        p.bind_all(ad::bind(typename E::template parameter<R::position, R::index>{}, value.data(), gradient.data()));
    });
    const auto j = p.forward();
    p.backward(acc);
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        // δᴸ = ∂J/∂zᴸ, the adjoint at the layer's output node (for a batch: its last example)
        ((std::copy_n(p.template adjoint<typename E::template z<L>>() + (Batch - 1) * g.template delta<L>().size(),
                      g.template delta<L>().size(), g.template delta<L>().data())),
         ...);
    }(std::make_index_sequence<M::layers>{});
    return j;
}

}  // namespace detail

/// The gradient of model m's cost on (x, y), derived by reverse mode from the cost's
/// expression type, into g (overwriting the parameters' gradients, or adding to them with
/// Accumulate::yes); returns J. No allocation.
template <AnyModel M>
typename M::value_type backprop_into(const M& m, const typename M::input_type& x, const typename M::output_type& y,
                                     Gradients<M>& g, Workspace<M>& ws, Accumulate acc = Accumulate::no) noexcept {
    return detail::run(m, x.data(), y.data(), g, ws, acc);
}

/// The gradient of the summed cost of B examples at once: the batch as one (B, …) tensor. X holds
/// the B inputs one after another (B × input_width values: the article's input_width × B matrix,
/// column by column), Y the B targets likewise. g receives the sums over the batch (overwritten,
/// or added to with Accumulate::yes) — the same numbers as B calls of backprop_into with
/// Accumulate, bit for bit — and δᴸ of the last example. Returns Σᵦ Jᵦ.
template <AnyModel M, std::size_t B>
typename M::value_type backprop_batch_into(const M& m, const typename M::value_type* X, const typename M::value_type* Y,
                                           Gradients<M>& g, Workspace<M, B>& ws, Accumulate acc = Accumulate::no) noexcept {
    return detail::run(m, X, Y, g, ws, acc);
}

/// Names this entry point in checked_example's messages.
struct backprop_call {};

/// autodiff::backprop(net, x, y): the same Gradients type as reference::backprop, derived.
template <AnyModel M, class X, class Y>
[[nodiscard]] Gradients<M> backprop(const M& m, const X& x, const Y& y) {
    return checked_backprop<backprop_call, M>(x, y, [&](auto& g) {  // instantiated only when (x, y) fit
        Workspace<M> ws;
        backprop_into(m, x, y, g, ws);
    });
}

/// J of model m on (x, y) by the engine's forward sweep (stable for the fused costs).
template <AnyModel M>
double cost(const M& m, const typename M::input_type& x, const typename M::output_type& y) {
    using E = ModelExpression<M, 1>;
    ad::Program<typename M::value_type, typename E::cost, ad::Sweep::forward> p;
    p.bind_all(ad::bind(typename E::x{}, x.data()), ad::bind(typename E::y{}, y.data()));
    bind_parameters<E>(p, m);
    return double(p.forward());
}

namespace detail {
// (Helpers rather than nested generic lambdas: GCC 12 crashes on those, "internal compiler
// error in lookup_template_class_1".)
template <class D, class N>
void adjoint_line(std::vector<std::string>& lines) {
    // (a node the reverse sweep gives no adjoint, one that leads to no parameter, gets no line)
    if constexpr (D::template has_adjoint_name<N> && D::graph::needs_adjoint[D::graph::template index_of<N>])
        lines.push_back(cat(D::template name_of<N>::adjoint_name(), " = ", D::template print<typename D::template adjoint_t<N>>().s));
}
// δ of an inner layer of the block at parameter layer L (nn/graph.hpp), a Named<node, inner_name>
template <std::size_t L, class Named>
inline constexpr bool inside_block_v = false;
template <std::size_t L, class Node, std::size_t Sub>
inline constexpr bool inside_block_v<L, Named<Node, typegrad::detail::inner_name<L, Sub, true>>> = true;
// … or a node named inside the layer at parameter layer L, or inside one of its inner layers
// (named_node: attention's δO, δP, δS, δQKV)
template <std::size_t L, class Node, std::size_t Sub, class N>
inline constexpr bool inside_block_v<L, Named<Node, typegrad::detail::intermediate_name<L, Sub, N>>> = true;
template <class D, std::size_t L, class... Ns>
void inner_adjoint_lines(std::vector<std::string>& lines, ad::type_list<Ns...>) {
    // from the block's output down, as the δs of the layers are written
    std::vector<std::string> inner;
    ((inside_block_v<L, Ns> ? adjoint_line<D, typename Ns::node>(inner) : void()), ...);
    lines.insert(lines.end(), inner.rbegin(), inner.rend());
}
template <class M, class E, class D, std::size_t L>
void delta_line(std::vector<std::string>& lines) {
    adjoint_line<D, typename E::template z<L>>(lines);
    inner_adjoint_lines<D, L>(lines, typename E::names{});
}
template <class M, class E, class D, std::size_t K, std::size_t... I>
void parameter_lines(std::vector<std::string>& lines, std::index_sequence<I...>) {
    constexpr std::size_t count = sizeof...(I);
    ((lines.push_back(cat("∂J/∂", E::template parameter<K, count - 1 - I>::tag::name(), " = ",
                          D::template print<typename D::template adjoint_t<typename E::template parameter<K, count - 1 - I>>>().s))),
     ...);
}
}  // namespace detail

/// The recurrences the engine derives from model M's type, one per line: the forward
/// definitions, then δᴸ from the output layer down, then the gradient of every parameter (the
/// last declared first: ∂J/∂bᴸ before ∂J/∂Wᴸ).
template <AnyModel M>
std::vector<std::string> derivation() {
    using E = ModelExpression<M>;
    using D = ad::Derivation<typename E::cost, typename E::names>;
    using S = typename M::composition;
    std::vector<std::string> lines;
    [&]<class... Ns>(ad::type_list<Ns...>) {
        ((lines.push_back(cat(Ns::name::name(), " = ", D::template definition<typename Ns::node>().s))), ...);
    }(typename E::names{});
    lines.push_back(cat("J = ", D::template print<typename D::Root>().s));
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        constexpr std::size_t n = sizeof...(L);
        (detail::delta_line<M, E, D, n - 1 - L>(lines), ...);
        (detail::parameter_lines<M, E, D, S::parameter_positions[n - 1 - L]>(
             lines, std::make_index_sequence<std::tuple_element_t<S::parameter_positions[n - 1 - L],
                                                                  typename M::parameters_type>::size>{}),
         ...);
    }(std::make_index_sequence<M::layers>{});
    return lines;
}

}  // namespace typegrad::autodiff
