// The article's backpropagation, written out by hand, no autodiff:
//
//   forward:  zᴸ = Wᴸᵀ aᴸ⁻¹ + bᴸ,  aᴸ = σ(zᴸ)           (a⁻¹ = x), keeping every zᴸ and aᴸ
//   output:   δᴴ = ∇ₐC ⊙ σ'(zᴴ)                          (quadratic cost: ∇ₐC = aᴴ − y)
//   hidden:   δᴸ = (Wᴸ⁺¹ δᴸ⁺¹) ⊙ σ'(zᴸ)
//   params:   ∂J/∂bᴸ = δᴸ,  ∂J/∂Wᴸ = aᴸ⁻¹ δᴸᵀ
//
// It walks the composition's layers from the top, so it also serves networks whose layers are
// Dense and any elementwise activation (σ' becomes that activation's derivative).
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"

namespace typegrad::reference {

/// Scratch space for one gradient evaluation: every layer's output and every layer's
/// ∂J/∂output. Holds only vectors, so it is small; create it once and reuse it.
template <AnyModel M>
struct Workspace {
    using T = typename M::value_type;
    using S = typename M::composition;
    LayerValues<T, S> values;   // zᴸ and aᴸ
    LayerValues<T, S> adjoint;  // ∂J/∂(output of layer K)
};

namespace detail {

using typegrad::detail::layer_at_t;
using typegrad::detail::parameter_index;

template <class M, class T>
const T* layer_input(const Workspace<M>&, const T* x, std::integral_constant<std::size_t, 0>) noexcept {
    return x;
}
template <class M, class T, std::size_t K>
const T* layer_input(const Workspace<M>& ws, const T*, std::integral_constant<std::size_t, K>) noexcept {
    return ws.values.template value<K - 1>().data();
}

// Walks layer K's backward rule, then layer K − 1's: g = ∂J/∂(output of layer K) is in
// ws.adjoint.value<K>().
template <std::size_t K, class M, class T>
void backward(const M& m, const T* x, Workspace<M>& ws, Gradients<M>& g, Accumulate acc) noexcept {
    using S = typename M::composition;
    using Layer = layer_at_t<S, K>;
    const T* gout = ws.adjoint.template value<K>().data();
    const T* in = layer_input(ws, x, std::integral_constant<std::size_t, K>{});
    constexpr std::size_t w_in = S::widths[K];
    constexpr std::size_t w_out = S::widths[K + 1];

    if constexpr (layer_traits<Layer>::has_parameters) {
        constexpr std::size_t L = parameter_index<S, K>;
        const auto& W = m.template weights<L>();
        // δᴸ: the gradient arriving at zᴸ.
        auto& delta = g.template delta<L>();
        for (std::size_t j = 0; j < w_out; ++j) delta[j] = gout[j];
        // ∂J/∂bᴸ = δᴸ
        auto& db = g.template biases<L>();
        if (acc == Accumulate::yes)
            for (std::size_t j = 0; j < w_out; ++j) db[j] += gout[j];
        else
            for (std::size_t j = 0; j < w_out; ++j) db[j] = gout[j];
        // ∂J/∂Wᴸ = aᴸ⁻¹ δᴸᵀ
        simd::ger<w_in, w_out>(in, gout, g.template weights<L>().data(), acc == Accumulate::yes);
        // Wᴸ δᴸ: the gradient arriving at aᴸ⁻¹ (not needed below the first layer).
        if constexpr (K > 0) simd::gemv<w_in, w_out>(W.data(), gout, ws.adjoint.template value<K - 1>().data());
    } else if constexpr (std::is_same_v<Layer, Softmax>) {
        // softmax: ∂J/∂z = a ⊙ (∂J/∂a − ⟨∂J/∂a, a⟩)
        const T* a = ws.values.template value<K>().data();
        T* gin = ws.adjoint.template value<K - 1>().data();
        T dot = 0;
        for (std::size_t i = 0; i < w_in; ++i) dot += gout[i] * a[i];
        for (std::size_t i = 0; i < w_in; ++i) gin[i] = a[i] * (gout[i] - dot);
    } else {
        // activation: ∂J/∂z = ∂J/∂a ⊙ f'(z), with f'(z) from z and a = f(z)
        using F = typename Layer::function;
        static_assert(K > 0, "an activation directly on the input has no parameters below it to train");
        const T* a = ws.values.template value<K>().data();
        T* gin = ws.adjoint.template value<K - 1>().data();
        for (std::size_t i = 0; i < w_in; ++i) gin[i] = gout[i] * F::derivative(in[i], a[i]);
    }
    if constexpr (K > 0) backward<K - 1>(m, x, ws, g, acc);
}

}  // namespace detail

/// The gradient of model m's cost on (x, y), into g (overwriting ∂W, ∂b, or adding to them with
/// Accumulate::yes); returns the cost J. No allocation.
template <AnyModel M>
typename M::value_type backprop_into(const M& m, const typename M::input_type& x, const typename M::output_type& y,
                                     Gradients<M>& g, Workspace<M>& ws, Accumulate acc = Accumulate::no) noexcept {
    using S = typename M::composition;
    using T = typename M::value_type;
    typegrad::detail::forward_layers(m, x.data(), ws.values);
    constexpr std::size_t top = S::depth - 1;
    // ∇ₐC at the output, written out for each cost (quadratic: aᴴ − y)
    M::cost_type::template gradient<T, M::output_width>(ws.values.template value<top>().data(), y.data(),
                                                        ws.adjoint.template value<top>().data());
    detail::backward<top>(m, x.data(), ws, g, acc);
    return M::cost_type::template value<T, M::output_width>(ws.values.template value<top>().data(), y.data());
}

/// The article's backprop(x, y): the gradient of the cost of one example.
template <AnyModel M, class X, class Y>
[[nodiscard]] Gradients<M> backprop(const M& m, const X& x, const Y& y) {
    constexpr bool x_fits = std::is_same_v<X, typename M::input_type>;
    constexpr bool y_fits = std::is_same_v<Y, typename M::output_type>;
    // The one place a wrong input or target is reported (then no cascade follows).
    static_assert(x_fits, "reference::backprop(net, x, y): x must be the network's input, Vector<T, input_width> with the "
                          "network's element type T");
    static_assert(y_fits, "reference::backprop(net, x, y): y must be the network's target, Vector<T, output_width> with the "
                          "network's element type T");
    Gradients<M> g;
    if constexpr (x_fits && y_fits) {
        Workspace<M> ws;
        backprop_into(m, x, y, g, ws);
    }
    return g;
}

}  // namespace typegrad::reference
