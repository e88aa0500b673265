// The gradient of a model's cost for one example (or summed over a batch): ∂J/∂p for every
// parameter p of every layer, and δᴸ = ∂J/∂(output of parameter layer L) — for a dense layer,
// ∂J/∂zᴸ. The reference and the autodiff engine both fill this one type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <tuple>
#include <utility>

#include "typegrad/nn/layers/dense.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/nn/parameters.hpp"

namespace typegrad {

template <AnyModel M>
class Gradients {
    using T = typename M::value_type;
    using S = typename M::composition;
    using parameters_type = typename M::parameters_type;
    template <std::size_t... L>
    static auto deltas_of(std::index_sequence<L...>)
        -> std::tuple<Tensor<T, typename S::template shape_at<S::parameter_positions[L] + 1>>...>;
    using deltas_type = decltype(deltas_of(std::make_index_sequence<M::layers>{}));
    struct Storage {
        parameters_type parameters;
        deltas_type deltas;
    };

public:
    using model_type = M;
    using value_type = T;

    /// All zeros. Storage is on the heap, allocated here once.
    Gradients() : g_(std::make_unique<Storage>()) { zero(); }
    Gradients(const Gradients& o) : g_(std::make_unique<Storage>(*o.g_)) {}
    Gradients(Gradients&&) noexcept = default;
    Gradients& operator=(const Gradients& o) {
        if (this != &o) *g_ = *o.g_;
        return *this;
    }
    Gradients& operator=(Gradients&&) noexcept = default;
    ~Gradients() = default;

    /// ∂J/∂(parameter Name of layer L).
    template <std::size_t L, fixed_string Name>
    auto& parameter() noexcept {
        return detail::parameter_of<M, L, Name>(g_->parameters);
    }
    template <std::size_t L, fixed_string Name>
    const auto& parameter() const noexcept {
        return detail::parameter_of<M, L, Name>(g_->parameters);
    }
    /// ∂J/∂Wᴸ = aᴸ⁻¹ δᴸᵀ, shape (n_in, n_out).
    template <std::size_t L>
    auto& weights() noexcept { return parameter<L, "W">(); }
    template <std::size_t L>
    const auto& weights() const noexcept { return parameter<L, "W">(); }
    /// ∂J/∂bᴸ = δᴸ (summed over the examples of a batch).
    template <std::size_t L>
    auto& biases() noexcept { return parameter<L, "b">(); }
    template <std::size_t L>
    const auto& biases() const noexcept { return parameter<L, "b">(); }
    /// δᴸ = ∂J/∂(output of parameter layer L), of the last example.
    template <std::size_t L>
    auto& delta() noexcept { return std::get<detail::parameter_layer_exists<L, M::layers>::value>(g_->deltas); }
    template <std::size_t L>
    const auto& delta() const noexcept { return std::get<detail::parameter_layer_exists<L, M::layers>::value>(g_->deltas); }

    /// The gradients of every layer, as the model holds its parameters.
    parameters_type& parameters() noexcept { return g_->parameters; }
    const parameters_type& parameters() const noexcept { return g_->parameters; }

    /// Calls f(ref, gradient tensor) for every parameter, as Model::for_each_parameter.
    template <class F>
    void for_each_parameter(F&& f) {
        for_each_parameter_in<S>(g_->parameters, f);
    }
    template <class F>
    void for_each_parameter(F&& f) const {
        for_each_parameter_in<S>(g_->parameters, f);
    }
    /// Calls f.template operator()<L>(δᴸ) for every parameter layer.
    template <class F>
    void for_each_delta(F&& f) const {
        [&]<std::size_t... L>(std::index_sequence<L...>) { (f.template operator()<L>(std::get<L>(g_->deltas)), ...); }(
            std::make_index_sequence<M::layers>{});
    }

    void zero() noexcept {
        for_each_parameter([](auto, auto& t) { t.fill(T(0)); });
        std::apply([](auto&... d) { (d.fill(T(0)), ...); }, g_->deltas);
    }

private:
    std::unique_ptr<Storage> g_;
};

/// Whether model composition S starts with a dense layer on a vector input: row i of that layer's
/// weight gradient Σᵦ xᵦ δᵦᵀ is then exactly 0 unless input i is non-zero in some example of the
/// batch (InputRows).
template <class S>
inline constexpr bool starts_dense_on_vector_v = [] {
    if constexpr (S::depth > 0 && rank_v<typename S::template shape_at<0>> == 1)
        return is_dense_v<typename S::template layer_at<0>>;
    else
        return false;
}();

/// Whether model M has such a weight.
template <AnyModel M>
inline constexpr bool has_input_row_weight_v = starts_dense_on_vector_v<typename M::composition>;

/// Whether parameter Ref is that weight (W of the layer at position 0).
template <class Ref>
inline constexpr bool input_row_weight_v =
    Ref::position == 0 && Ref::name == std::string_view("W") && starts_dense_on_vector_v<typename Ref::composition>;

/// Which rows of that weight's gradient an engine's last gradient() can have made non-zero: flags[i]
/// != 0 where input i was non-zero in some example (n = the input width), every other row holds
/// exact zeros. Nothing is known when flags is null. The trainer hands it from the engine that
/// computed the gradient (AutodiffEngine::input_rows) to the optimizer in Step, and Sgd then
/// updates only those rows: on MNIST at batch 10, 382 of 784 on average (issue 22).
struct InputRows {
    const std::uint8_t* flags = nullptr;
    std::size_t n = 0;
    [[nodiscard]] bool known() const noexcept { return flags != nullptr; }
};

/// The type check of a backprop(net, x, y) call: x and y must be the network's input and target
/// tensors. Call names the entry point (autodiff::backprop_call, reference::backprop_call), so
/// the compiler's "In instantiation of checked_example<call, …>" line says which call it was;
/// one error at a time, no cascade.
template <class Call, AnyModel M, class X, class Y>
struct checked_example {
    static constexpr bool input = std::is_same_v<std::remove_cvref_t<X>, typename M::input_type>;
    static constexpr bool target = std::is_same_v<std::remove_cvref_t<Y>, typename M::output_type>;
    static_assert(input, "backprop(net, x, y): x must be the network's input, Vector<T, input_width> (Tensor<T, input "
                         "shape>) with the network's element type T (the call: 'checked_example<call, …>' below)");
    static_assert(!input || target, "backprop(net, x, y): y must be the network's target, Vector<T, output_width> "
                                    "(Tensor<T, output shape>) with the network's element type T (the call: "
                                    "'checked_example<call, …>' below)");
    static constexpr bool value = input && target;
};

/// The one checked front end of autodiff::backprop and reference::backprop: checks (x, y), then
/// into(g) fills a fresh Gradients<M>.
template <class Call, AnyModel M, class X, class Y, class Into>
[[nodiscard]] Gradients<M> checked_backprop(const X&, const Y&, Into&& into) {
    Gradients<M> g;
    if constexpr (checked_example<Call, M, X, Y>::value) into(g);
    return g;
}

/// Calls f(ref, parameter tensor, gradient tensor) for every parameter of net, in order.
template <AnyModel M, class F>
void for_each_parameter(M& net, Gradients<std::remove_const_t<M>>& g, F&& f) {
    for_each_parameter_pair<typename M::composition>(net.parameters(), g.parameters(), f);
}
template <AnyModel M, class F>
void for_each_parameter(M& net, const Gradients<std::remove_const_t<M>>& g, F&& f) {
    for_each_parameter_pair<typename M::composition>(net.parameters(), g.parameters(), f);
}

}  // namespace typegrad
