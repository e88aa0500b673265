// Parameters are named tensors of each layer (none for an activation). ParameterSet holds one
// layer's; a model holds one per layer of its composition. Everything that walks a model's
// parameters — SGD and other optimizers, the finiteness check, gradcheck, checkpoints, the
// autodiff binding — goes through one visitor, for_each_parameter, and none of it names a kind
// of layer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/sequential.hpp"
#include "typegrad/tensor/tensor.hpp"

namespace typegrad {

namespace detail {
template <fixed_string Name, class... P>
inline constexpr std::size_t index_of_name = param_index<Name, params<P...>>::value;
}  // namespace detail

/// The learnable tensors of one layer, element type T, in declared order.
template <class T, class List>
class ParameterSet;
template <class T, class... P>
class ParameterSet<T, params<P...>> {
public:
    using list = params<P...>;
    static constexpr std::size_t size = sizeof...(P);
    static constexpr std::size_t count = (std::size_t{0} + ... + size_v<typename P::shape>);  // elements

    template <fixed_string Name>
    static constexpr bool has = detail::index_of_name<Name, P...> < sizeof...(P);

    /// The tensor named Name (a compile error naming the layer's parameters if there is none).
    template <fixed_string Name>
    auto& get() noexcept {
        static_assert(has<Name>, "parameter<Name>: this layer has no parameter of that name");
        return std::get<(has<Name> ? detail::index_of_name<Name, P...> : 0)>(tensors_);
    }
    template <fixed_string Name>
    const auto& get() const noexcept {
        static_assert(has<Name>, "parameter<Name>: this layer has no parameter of that name");
        return std::get<(has<Name> ? detail::index_of_name<Name, P...> : 0)>(tensors_);
    }
    template <std::size_t I>
    auto& at() noexcept { return std::get<I>(tensors_); }
    template <std::size_t I>
    const auto& at() const noexcept { return std::get<I>(tensors_); }

    /// Calls f.template operator()<I, Param>(tensor) for each parameter, in declared order.
    template <class F>
    void each(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I, P>(std::get<I>(tensors_)), ...); }(
            std::index_sequence_for<P...>{});
    }
    template <class F>
    void each(F&& f) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I, P>(std::get<I>(tensors_)), ...); }(
            std::index_sequence_for<P...>{});
    }

private:
    std::tuple<Tensor<T, typename P::shape>...> tensors_;
};

/// What the parameter visitor says about a parameter, as compile-time constants: the layer's
/// position in the composition, its index L among the layers with parameters (as in weights<L>),
/// the parameter's index within the layer and its descriptor (param<Name, Shape, Init>).
template <class S, std::size_t Position, std::size_t Index, class P>
struct ParameterRef {
    using composition = S;
    using layer = typename S::template layer_at<Position>;
    using descriptor = P;
    using shape = typename P::shape;
    static constexpr std::size_t position = Position;
    static constexpr std::size_t layer_index = S::parameter_index[Position];
    static constexpr std::size_t index = Index;
    static constexpr std::string_view name = P::name;
    static constexpr std::size_t size = size_v<shape>;
    /// "W₀"-style names are the printer's; this is "layer 0 (dense<30>) W".
    static std::string description() {
        return "layer " + std::to_string(layer_index) + " (" + layer_traits<layer>::name() + ") " + std::string(name);
    }
};

/// The parameter sets of every layer of composition S (empty sets for layers without any).
template <class T, class S>
struct parameter_storage {
    template <std::size_t... K>
    static auto of(std::index_sequence<K...>)
        -> std::tuple<ParameterSet<T, typename layer_traits<typename S::template layer_at<K>>::template parameters<
                                          typename S::template shape_at<K>>>...>;
    using type = decltype(of(std::make_index_sequence<S::depth>{}));
};

/// Calls f(ParameterRef<…>{}, tensor) for every parameter of every layer, in order (layer by
/// layer, each layer's parameters in declared order: the order of checkpoints).
template <class S, class Storage, class F>
void for_each_parameter_in(Storage& storage, F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (std::get<K>(storage).each([&]<std::size_t I, class P>(auto& t) { f(ParameterRef<S, K, I, P>{}, t); }), ...);
    }(std::make_index_sequence<S::depth>{});
}
namespace detail {
// (Function templates rather than nested generic lambdas: GCC 12 crashes on those, "internal
// compiler error in finish_expr_stmt".)
template <class S, std::size_t K, class F, class... P, std::size_t... I>
void each_ref(F& f, params<P...>, std::index_sequence<I...>) {
    (f(ParameterRef<S, K, I, P>{}), ...);
}
template <class S, class Storage, class F, std::size_t... K>
void each_layer_ref(F& f, std::index_sequence<K...>) {
    using Lists = std::tuple<typename std::tuple_element_t<K, Storage>::list...>;
    (each_ref<S, K>(f, std::tuple_element_t<K, Lists>{}, std::make_index_sequence<std::tuple_element_t<K, Storage>::size>{}),
     ...);
}
}  // namespace detail

/// Calls f(ParameterRef<…>{}) for every parameter of composition S (no storage needed).
template <class S, class T, class F>
void for_each_parameter_ref(F&& f) {
    using Storage = typename parameter_storage<T, S>::type;
    detail::each_layer_ref<S, Storage>(f, std::make_index_sequence<S::depth>{});
}

/// The same over two storages of one composition in lockstep: f(ref, a, b).
template <class S, class A, class B, class F>
void for_each_parameter_pair(A& a, B& b, F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (std::get<K>(a).each([&]<std::size_t I, class P>(auto& t) { f(ParameterRef<S, K, I, P>{}, t, std::get<K>(b).template at<I>()); }),
         ...);
    }(std::make_index_sequence<S::depth>{});
}

}  // namespace typegrad
