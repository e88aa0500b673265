// A model's cost as an expression type, and autodiff::backprop: the gradient of a network
// derived by the reverse sweep of that expression, with nothing written by hand for the
// network. δᴸ is the adjoint the sweep finds at layer L's pre-activation node zᴸ.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "typegrad/ad/graph.hpp"
#include "typegrad/ad/print.hpp"
#include "typegrad/ad/program.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::autodiff {

/// Subscript digits for printed names: subscript(12) == "₁₂".
inline std::string subscript(std::size_t n) {
    static constexpr const char* digits[] = {"₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"};
    std::string s;
    do {
        s.insert(0, digits[n % 10]);
        n /= 10;
    } while (n > 0);
    return s;
}

/// Tags of a model's leaves: the input x, the target y, and each layer's Wᴸ and bᴸ.
struct input_tag {
    static std::string name() { return "x"; }
};
struct target_tag {
    static std::string name() { return "y"; }
};
template <std::size_t L>
struct weights_tag {
    static std::string name() { return cat("W", subscript(L)); }
};
template <std::size_t L>
struct biases_tag {
    static std::string name() { return cat("b", subscript(L)); }
};

/// A name given to an intermediate node of a model's expression (zᴸ, aᴸ) and, optionally, to
/// its adjoint (δᴸ for zᴸ).
template <class Node, class Name>
struct Named {
    using node = Node;
    using name = Name;
};
template <std::size_t L>
struct z_name {
    static std::string name() { return cat("z", subscript(L)); }
    static std::string adjoint_name() { return cat("δ", subscript(L)); }
};
template <std::size_t L>
struct a_name {
    static std::string name() { return cat("a", subscript(L)); }
};

namespace detail {

using typegrad::detail::layer_at_t;
using typegrad::detail::parameter_index;

// The output node of layer K of composition S, given the node E feeding it; Batch > 1 builds
// the batched form (E is a (Batch, width) node).
template <class S, std::size_t K, std::size_t Batch, class Layer, class E>
struct layer_node;
template <class S, std::size_t K, std::size_t Batch, std::size_t Out, std::size_t In, class E>
struct layer_node<S, K, Batch, Dense<Out, In>, E> {
    static constexpr std::size_t L = parameter_index<S, K>;
    using W = expr::Param<weights_tag<L>, S::widths[K], S::widths[K + 1]>;
    using b = expr::Param<biases_tag<L>, S::widths[K + 1]>;
    // zᴸ = Wᴸᵀ a + bᴸ; for a batch, Wᴸᵀ A with bᴸ added to every example
    using type = std::conditional_t<Batch == 1, expr::Node<expr::AddOp, expr::Node<expr::MatTVecOp, W, E>, b>,
                                    expr::Node<expr::AddRowsOp, expr::Node<expr::MatTMatOp, W, E>, b>>;
};
template <class S, std::size_t K, std::size_t Batch, class F, class E>
struct layer_node<S, K, Batch, Activation<F>, E> {
    using type = expr::Node<expr::MapOp<F>, E>;
};
template <class S, std::size_t K, std::size_t Batch, class E>
struct layer_node<S, K, Batch, Softmax, E> {
    static_assert(Batch == 1, "the batched path does not support softmax layers yet; use the per-example path");
    using type = expr::Node<expr::SoftmaxOp, E>;
};

// outputs<S, K, E, Done...>: the output node of every layer from K on.
template <class S, std::size_t Batch, std::size_t K, class E, class... Done>
struct layer_outputs {
    using node = typename layer_node<S, K, Batch, layer_at_t<S, K>, E>::type;
    using type = typename layer_outputs<S, Batch, K + 1, node, Done..., node>::type;
};
template <class S, std::size_t Batch, class E, class... Done>
    requires(sizeof...(Done) == S::depth)
struct layer_outputs<S, Batch, S::depth, E, Done...> {
    using type = ad::type_list<Done...>;
};

template <class Tag, std::size_t Batch, std::size_t N>
using batch_input_t = std::conditional_t<Batch == 1, expr::Input<Tag, N>, expr::Input<Tag, Batch, N>>;

}  // namespace detail

/// Everything the engine needs to know about model M, as types. Batch = 1: the cost of one
/// example, with vector nodes; Batch = B > 1: the summed cost of a mini-batch of B examples,
/// with (B, width) nodes — the same network, differentiated by the same engine.
template <AnyModel M, std::size_t Batch = 1>
struct ModelExpression {
    static_assert(Batch >= 1, "a batch has at least one example");
    using S = typename M::composition;
    using T = typename M::value_type;
    static constexpr std::size_t batch = Batch;
    using x = detail::batch_input_t<input_tag, Batch, M::input_width>;
    using y = detail::batch_input_t<target_tag, Batch, M::output_width>;
    /// outputs: the output node of every layer, in order.
    using outputs = typename detail::layer_outputs<S, Batch, 0, x>::type;
    template <std::size_t K>
    using output_of_layer = typename ad::detail::at<K, outputs>::type;
    using output = output_of_layer<S::depth - 1>;
    /// The cost J(a, y) of one example.
    using cost = typename M::cost_type::template expression<output, y>;
    /// zᴸ, the pre-activation node of parameter layer L; Wᴸ and bᴸ.
    template <std::size_t L>
    using z = output_of_layer<M::template position<L>>;
    template <std::size_t L>
    using weights = expr::Param<weights_tag<L>, M::template fan_in<L>, M::template fan_out<L>>;
    template <std::size_t L>
    using biases = expr::Param<biases_tag<L>, M::template fan_out<L>>;

private:
    template <std::size_t K>
    struct name_of_layer {
        using type = void;
    };
    template <std::size_t K>
        requires layer_traits<typegrad::detail::layer_at_t<S, K>>::has_parameters
    struct name_of_layer<K> {
        using type = Named<output_of_layer<K>, z_name<typegrad::detail::parameter_index<S, K>>>;
    };
    template <std::size_t K>
        requires(!layer_traits<typegrad::detail::layer_at_t<S, K>>::has_parameters && K > 0 &&
                 layer_traits<typegrad::detail::layer_at_t<S, K - 1>>::has_parameters)
    struct name_of_layer<K> {
        using type = Named<output_of_layer<K>, a_name<typegrad::detail::parameter_index<S, K> - 1>>;
    };
    template <class List, class... N>
    struct drop_void;
    template <class... Kept>
    struct drop_void<ad::type_list<Kept...>> {
        using type = ad::type_list<Kept...>;
    };
    template <class... Kept, class N, class... Rest>
    struct drop_void<ad::type_list<Kept...>, N, Rest...> {
        using type = typename drop_void<std::conditional_t<std::is_void_v<N>, ad::type_list<Kept...>, ad::type_list<Kept..., N>>,
                                        Rest...>::type;
    };
    template <std::size_t... K>
    static auto names_of(std::index_sequence<K...>) ->
        typename drop_void<ad::type_list<>, typename name_of_layer<K>::type...>::type;

public:
    /// Names for printing: zᴸ (adjoint δᴸ) and aᴸ, the activation that follows layer L.
    using names = decltype(names_of(std::make_index_sequence<S::depth>{}));
};

/// The reverse-mode program of model M's cost (of one example, or of a batch of Batch), with
/// its workspace (allocated once, here).
template <AnyModel M, std::size_t Batch = 1>
struct Workspace {
    using model_expression = ModelExpression<M, Batch>;
    ad::Program<typename M::value_type, typename model_expression::cost> program;
};

namespace detail {

// Binds x, y, every Wᴸ/bᴸ and its gradient, runs both sweeps, copies δᴸ (of the last example).
template <AnyModel M, std::size_t Batch>
typename M::value_type run(const M& m, const typename M::value_type* x, const typename M::value_type* y,
                           Gradients<M>& g, Workspace<M, Batch>& ws, Accumulate acc) noexcept {
    using E = ModelExpression<M, Batch>;
    auto& p = ws.program;
    p.bind_all(ad::bind(typename E::x{}, x), ad::bind(typename E::y{}, y));
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        p.bind_all(ad::bind(typename E::template weights<L>{}, m.template weights<L>().data(), g.template weights<L>().data())...,
                   ad::bind(typename E::template biases<L>{}, m.template biases<L>().data(), g.template biases<L>().data())...);
    }(std::make_index_sequence<M::layers>{});
    const auto j = p.forward();
    p.backward(acc);
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        // δᴸ = ∂J/∂zᴸ, the adjoint at the pre-activation node (for a batch: its last row)
        ((std::copy_n(p.template adjoint<typename E::template z<L>>() + (Batch - 1) * M::template fan_out<L>,
                      M::template fan_out<L>, g.template delta<L>().data())),
         ...);
    }(std::make_index_sequence<M::layers>{});
    return j;
}

}  // namespace detail

/// The gradient of model m's cost on (x, y), derived by reverse mode from the cost's
/// expression type, into g (overwriting ∂W, ∂b, or adding to them with Accumulate::yes);
/// returns J. No allocation.
template <AnyModel M>
typename M::value_type backprop_into(const M& m, const typename M::input_type& x, const typename M::output_type& y,
                                     Gradients<M>& g, Workspace<M>& ws, Accumulate acc = Accumulate::no) noexcept {
    return detail::run(m, x.data(), y.data(), g, ws, acc);
}

/// The batched path: the gradient of the summed cost of B examples at once. X holds the B inputs
/// one after another (B x input_width values: the article's input_width x B matrix, column by
/// column), Y the B targets likewise. g receives Σᵦ ∂Jᵦ/∂W and Σᵦ ∂Jᵦ/∂b — the same numbers as B
/// calls of backprop_into with Accumulate — and δᴸ of the last example. Returns Σᵦ Jᵦ.
template <AnyModel M, std::size_t B>
typename M::value_type backprop_batch_into(const M& m, const typename M::value_type* X, const typename M::value_type* Y,
                                           Gradients<M>& g, Workspace<M, B>& ws, Accumulate acc = Accumulate::no) noexcept {
    return detail::run(m, X, Y, g, ws, acc);
}

/// autodiff::backprop(net, x, y): the same Gradients type as reference::backprop, derived.
template <AnyModel M, class X, class Y>
[[nodiscard]] Gradients<M> backprop(const M& m, const X& x, const Y& y) {
    constexpr bool x_fits = std::is_same_v<X, typename M::input_type>;
    constexpr bool y_fits = std::is_same_v<Y, typename M::output_type>;
    // The one place a wrong input or target is reported (then no cascade follows).
    static_assert(x_fits, "autodiff::backprop(net, x, y): x must be the network's input, Vector<T, input_width> with the "
                          "network's element type T");
    static_assert(y_fits, "autodiff::backprop(net, x, y): y must be the network's target, Vector<T, output_width> with the "
                          "network's element type T");
    Gradients<M> g;
    if constexpr (x_fits && y_fits) {
        Workspace<M> ws;
        backprop_into(m, x, y, g, ws);
    }
    return g;
}

/// The recurrences the engine derives from model M's type, one per line: the forward
/// definitions, then δᴸ = ∂J/∂zᴸ from the output layer down, then ∂J/∂bᴸ and ∂J/∂Wᴸ.
template <AnyModel M>
std::vector<std::string> derivation() {
    using E = ModelExpression<M>;
    using D = ad::Derivation<typename E::cost, typename E::names>;
    std::vector<std::string> lines;
    [&]<class... Ns>(ad::type_list<Ns...>) {
        ((lines.push_back(cat(Ns::name::name(), " = ", D::template definition<typename Ns::node>().s))), ...);
    }(typename E::names{});
    lines.push_back(cat("J = ", D::template print<typename E::cost>().s));
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        constexpr std::size_t n = sizeof...(L);
        ((lines.push_back(cat(z_name<n - 1 - L>::adjoint_name(), " = ",
                              D::template print<typename D::template adjoint_t<typename E::template z<n - 1 - L>>>().s))),
         ...);
        ((lines.push_back(cat("∂J/∂", biases_tag<n - 1 - L>::name(), " = ",
                              D::template print<typename D::template adjoint_t<typename E::template biases<n - 1 - L>>>().s)),
          lines.push_back(cat("∂J/∂", weights_tag<n - 1 - L>::name(), " = ",
                              D::template print<typename D::template adjoint_t<typename E::template weights<n - 1 - L>>>().s))),
         ...);
    }(std::make_index_sequence<M::layers>{});
    return lines;
}

}  // namespace typegrad::autodiff
