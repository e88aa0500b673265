// The article's backpropagation, written out by hand, no autodiff:
//
//   forward:  zᴸ = Wᴸᵀ aᴸ⁻¹ + bᴸ,  aᴸ = σ(zᴸ)           (a⁻¹ = x), keeping every zᴸ and aᴸ
//   output:   δᴴ = ∇ₐC ⊙ σ'(zᴴ)                          (quadratic cost: ∇ₐC = aᴴ − y)
//   hidden:   δᴸ = (Wᴸ⁺¹ δᴸ⁺¹) ⊙ σ'(zᴸ)
//   params:   ∂J/∂bᴸ = δᴸ,  ∂J/∂Wᴸ = aᴸ⁻¹ δᴸᵀ
//
// It walks the composition's layers from the top with each layer's hand-written rule
// (reference/rule.hpp), so it serves any composition whose layers have one. For cross-entropy
// after a sigmoid and log-likelihood after a softmax it uses the textbook δᴴ = aᴴ − y (Nielsen,
// ch. 3) and J computed from zᴴ, as the engine does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/reference/rule.hpp"
#include "typegrad/reference/spatial.hpp"

namespace typegrad::reference {

/// Outputs of every layer of a composition for one example: value<K>() is the output of layer K.
template <class T, class S>
class LayerValues {
    template <std::size_t... K>
    static auto storage_of(std::index_sequence<K...>) -> std::tuple<Tensor<T, typename S::template shape_at<K + 1>>...>;

public:
    using storage_type = decltype(storage_of(std::make_index_sequence<S::depth>{}));
    template <std::size_t K>
    auto& value() noexcept { return std::get<K>(values_); }
    template <std::size_t K>
    const auto& value() const noexcept { return std::get<K>(values_); }

private:
    storage_type values_;
};

/// Scratch space for one gradient evaluation: every layer's output and ∂J/∂output. Create it
/// once and reuse it (it lives on the heap).
template <AnyModel M>
struct Workspace {
    using T = typename M::value_type;
    using S = typename M::composition;
    struct Buffers {
        LayerValues<T, S> values;   // zᴸ and aᴸ
        LayerValues<T, S> adjoint;  // ∂J/∂(output of layer K)
    };
    std::unique_ptr<Buffers> buffers = std::make_unique<Buffers>();
};

/// Whether every layer of model M has a hand-written rule (has_rule): reference::backprop is
/// defined for M.
template <class M>
inline constexpr bool has_rules_v = []<std::size_t... K>(std::index_sequence<K...>) {
    using S = typename M::composition;
    return (has_rule<typename S::template layer_at<K>, typename S::template shape_at<K>>::value && ...);
}(std::make_index_sequence<M::composition::depth>{});

namespace detail {

/// The output layer and cost the textbook pairs (the cost says which: Cost::fused_output, in
/// nn/costs.hpp): δᴴ = aᴴ − y at the output layer's input.
template <class Last, class Cost>
struct fused_output : std::false_type {};
template <class Last, class Cost>
    requires requires { typename Cost::fused_output; }
struct fused_output<Last, Cost> : std::is_same<Last, typename Cost::fused_output> {};
template <class Last, class Cost>
inline constexpr bool fused_output_v = fused_output<Last, Cost>::value;

template <class M, std::size_t K>
const typename M::value_type* layer_input(const Workspace<M>& ws, const typename M::value_type* x) noexcept {
    if constexpr (K == 0) return x;
    else return ws.buffers->values.template value<K - 1>().data();
}

// A rule that reads or writes the parameters of other layers (reference/shared.hpp: a tied or
// shared use and its owner) says so (`reads_other_layers`) and is given the whole model's
// storage and its position: forward_in<S, K>(all, x, y), backward_in<S, K>(all, …, all_g, acc).
template <class L>
inline constexpr bool reads_other_layers_v = requires { rule<L>::reads_other_layers; };

template <std::size_t K, class M, class T>
void forward_layer(const M& m, const T* x, Workspace<M>& ws) noexcept {
    using S = typename M::composition;
    using L = typename S::template layer_at<K>;
    if constexpr (reads_other_layers_v<L>)
        rule<L>::template forward_in<S, K>(m.parameters(), layer_input<M, K>(ws, x), ws.buffers->values.template value<K>().data());
    else
        rule<L>::template forward<typename S::template shape_at<K>>(std::get<K>(m.parameters()), layer_input<M, K>(ws, x),
                                                                    ws.buffers->values.template value<K>().data());
}

/// Runs layers [0, depth) of model m on input x, storing each output in v.
template <class M, class T>
void forward_layers(const M& m, const T* x, Workspace<M>& ws) noexcept {
    using S = typename M::composition;
    [&]<std::size_t... K>(std::index_sequence<K...>) { (forward_layer<K>(m, x, ws), ...); }(std::make_index_sequence<S::depth>{});
}

// Layer K's backward rule, then layer K − 1's: ∂J/∂(output of layer K) is in adjoint<K>.
template <std::size_t K, class M, class T>
void backward(const M& m, const T* x, Workspace<M>& ws, Gradients<M>& g, Accumulate acc) noexcept {
    using S = typename M::composition;
    using L = typename S::template layer_at<K>;
    auto& b = *ws.buffers;
    const T* gout = b.adjoint.template value<K>().data();
    if constexpr (S::has_parameters[K]) {  // δᴸ: the gradient arriving at the layer's output
        auto& delta = g.template delta<S::parameter_index[K]>();
        std::copy_n(gout, delta.size(), delta.data());
    }
    T* gin = nullptr;
    if constexpr (K > 0) gin = b.adjoint.template value<K - 1>().data();
    if constexpr (reads_other_layers_v<L>)
        rule<L>::template backward_in<S, K>(m.parameters(), layer_input<M, K>(ws, x), b.values.template value<K>().data(), gout,
                                            gin, g.parameters(), acc);
    else
        rule<L>::template backward<typename S::template shape_at<K>>(std::get<K>(m.parameters()), layer_input<M, K>(ws, x),
                                                                     b.values.template value<K>().data(), gout, gin,
                                                                     std::get<K>(g.parameters()), acc);
    if constexpr (K > 0) backward<K - 1>(m, x, ws, g, acc);
}

}  // namespace detail

/// The gradient of model m's cost on (x, y), into g (overwriting the parameters' gradients, or
/// adding to them with Accumulate::yes); returns the cost J. No allocation.
template <AnyModel M>
typename M::value_type backprop_into(const M& m, const typename M::input_type& x, const typename M::output_type& y,
                                     Gradients<M>& g, Workspace<M>& ws, Accumulate acc = Accumulate::no) noexcept {
    using S = typename M::composition;
    using T = typename M::value_type;
    using Cost = typename M::cost_type;
    constexpr std::size_t top = S::depth - 1;
    constexpr std::size_t n = M::output_width;
    auto& b = *ws.buffers;
    detail::forward_layers(m, x.data(), ws);
    const T* a = b.values.template value<top>().data();
    if constexpr (top > 0 && detail::fused_output_v<typename S::template layer_at<top>, Cost>) {
        // δᴴ = aᴴ − y at the output layer's input zᴴ, and J from zᴴ
        T* dz = b.adjoint.template value<top - 1>().data();
        for (std::size_t i = 0; i < n; ++i) dz[i] = a[i] - y.data()[i];
        detail::backward<top - 1>(m, x.data(), ws, g, acc);
        return Cost::template value_from_logits<T, n>(b.values.template value<top - 1>().data(), y.data());
    } else {
        // ∇ₐC at the output, written out for each cost (quadratic: aᴴ − y)
        Cost::template gradient<T, n>(a, y.data(), b.adjoint.template value<top>().data());
        detail::backward<top>(m, x.data(), ws, g, acc);
        return Cost::template value<T, n>(a, y.data());
    }
}

/// Names this entry point in checked_example's messages.
struct backprop_call {};

/// The article's backprop(x, y): the gradient of the cost of one example.
template <AnyModel M, class X, class Y>
[[nodiscard]] Gradients<M> backprop(const M& m, const X& x, const Y& y) {
    return checked_backprop<backprop_call, M>(x, y, [&](auto& g) {  // instantiated only when (x, y) fit
        Workspace<M> ws;
        backprop_into(m, x, y, g, ws);
    });
}

}  // namespace typegrad::reference
