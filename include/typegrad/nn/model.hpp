// A network as a type: Model<T, composition, cost> owns the parameters of every layer of a
// Sequential composition; Network<T, sizes...> is the article's sigmoid network built from that
// same composition.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/ad/program.hpp"
#include "typegrad/nn/costs.hpp"
#include "typegrad/nn/expression.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/parameters.hpp"
#include "typegrad/tensor/tensor.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad {

using ad::Accumulate;
using ad::Real;

namespace detail {
/// Whether layer L says it belongs to the article's kind of network (layer_traits::article_network:
/// dense layers and σ); a layer_traits specialisation without the member does not.
template <class L>
struct article_layer : std::false_type {};
template <class L>
    requires requires { layer_traits<L>::article_network; }
struct article_layer<L> : std::bool_constant<layer_traits<L>::article_network> {};
/// Whether composition S is the article's kind of network: a vector through such layers only
/// (its initialisation is the article's N(0, 1)).
template <class S>
struct sigmoid_mlp_layers {
    static constexpr bool value = rank_v<typename S::input_shape> == 1 && []<std::size_t... K>(std::index_sequence<K...>) {
        return (article_layer<typename S::template layer_at<K>>::value && ...);
    }(std::make_index_sequence<S::depth>{});
};
}  // namespace detail

/// What the composition of a Model must be: input<…> | layers..., with at least one layer that
/// has parameters.
template <class S>
concept Composition = is_sequential<S>::value && S::parameter_layers > 0;

namespace detail {
// The one place a parameter-layer index out of range is reported.
template <std::size_t L, std::size_t Layers>
struct parameter_layer_exists {
    static_assert(L < Layers, "weights<L>() / biases<L>() / delta<L>() / parameter<L, name>(): L counts the layers "
                              "with parameters from 0 and must be less than their number ('layers')");
    static constexpr std::size_t value = L < Layers ? L : 0;  // clamped: one error, not a cascade
};
template <class Set, fixed_string Name>
struct layer_has_parameter {
    static_assert(Set::template has<Name>,
                  "weights<L>() / biases<L>() / parameter<L, name>(): layer L has no parameter of that name "
                  "(see 'layer_has_parameter<ParameterSet<T, params<param<name, …>…>>, name>' below)");
    static constexpr bool value = Set::template has<Name>;
};
/// The parameter Name of parameter layer L in a storage of model M's parameter sets (a model's
/// own, or its gradients'): one error if the layer has no such parameter, no cascade.
template <class M, std::size_t L, fixed_string Name, class Storage>
auto& parameter_of(Storage& storage) noexcept {
    constexpr std::size_t K = M::template position<L>;
    using Set = typename M::template layer_parameters_type<K>;
    if constexpr (layer_has_parameter<Set, Name>::value) {  // else reported there, once
        return std::get<K>(storage).template get<Name>();
    } else {
        static Tensor<typename M::value_type, Shape<1>> none{};
        return none;
    }
}
}  // namespace detail

/// A network of typed layers with element type T (spelled Model<T, S, Cost>). Parameters live on
/// the heap (allocated once, at construction), so large networks never sit on the stack.
template <Real T, Composition S, class Cost = cost::Quadratic>
class BasicModel {
public:
    using value_type = T;
    using composition = S;
    using cost_type = Cost;
    using input_shape = typename S::input_shape;
    using output_shape = typename S::output_shape;

    static constexpr std::size_t input_width = S::input_width;
    static constexpr std::size_t output_width = S::output_width;
    /// Number of layers with parameters; L = 0 … layers − 1 as in the article.
    static constexpr std::size_t layers = S::parameter_layers;
    /// Position of parameter layer L in the composition, and its input and output sizes.
    template <std::size_t L>
    static constexpr std::size_t position = S::parameter_positions[detail::parameter_layer_exists<L, layers>::value];
    template <std::size_t L>
    static constexpr std::size_t fan_in = S::widths[position<L>];
    template <std::size_t L>
    static constexpr std::size_t fan_out = S::widths[position<L> + 1];

    using input_type = Tensor<T, input_shape>;
    using output_type = Tensor<T, output_shape>;
    using parameters_type = typename parameter_storage<T, S>::type;
    /// The parameters of the layer at position K of the composition (a ParameterSet).
    template <std::size_t K>
    using layer_parameters_type = std::tuple_element_t<K, parameters_type>;

    /// The scheme init::Scheme::automatic stands for: the article's for the article's kind of
    /// network (vectors through dense layers and sigmoids only), PyTorch's for any other (a ReLU
    /// or softmax MLP, a CNN), as PyTorch's layers start.
    static constexpr init::Scheme automatic_scheme =
        detail::sigmoid_mlp_layers<S>::value ? init::Scheme::article : init::Scheme::pytorch;

    /// Every parameter drawn with a generator seeded by `seed`, layer by layer: with the article's
    /// scheme each layer's own initialiser (N(0, 1) for dense layers, biases first); with the
    /// others (init::Scheme) the weights W and biases b of every layer that has both, each
    /// layer's own initialiser for its other parameters.
    explicit BasicModel(std::uint64_t seed = 0, init::Scheme scheme = init::Scheme::automatic)
        : params_(std::make_unique<parameters_type>()) {
        if (scheme == init::Scheme::automatic) scheme = automatic_scheme;
        Rng rng(seed);
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (initialize_layer<K>(rng, scheme), ...);
        }(std::make_index_sequence<S::depth>{});
    }
    BasicModel(const BasicModel& other) : params_(std::make_unique<parameters_type>(*other.params_)) {}
    BasicModel(BasicModel&&) noexcept = default;
    BasicModel& operator=(const BasicModel& other) {
        if (this != &other) *params_ = *other.params_;
        return *this;
    }
    BasicModel& operator=(BasicModel&&) noexcept = default;
    ~BasicModel() = default;

    /// The parameter Name of parameter layer L: parameter<0, "W">().
    template <std::size_t L, fixed_string Name>
    [[nodiscard]] auto& parameter() noexcept {
        return detail::parameter_of<BasicModel, L, Name>(*params_);
    }
    template <std::size_t L, fixed_string Name>
    [[nodiscard]] const auto& parameter() const noexcept {
        return detail::parameter_of<BasicModel, L, Name>(*params_);
    }
    /// Wᴸ: for a dense layer of shape (n_in, n_out), the article's weights[L] transposed to z = Wᵀa + b.
    template <std::size_t L>
    [[nodiscard]] auto& weights() noexcept { return parameter<L, "W">(); }
    template <std::size_t L>
    [[nodiscard]] const auto& weights() const noexcept { return parameter<L, "W">(); }
    /// bᴸ.
    template <std::size_t L>
    [[nodiscard]] auto& biases() noexcept { return parameter<L, "b">(); }
    template <std::size_t L>
    [[nodiscard]] const auto& biases() const noexcept { return parameter<L, "b">(); }

    template <std::size_t L>
    using weights_type =
        std::remove_cvref_t<decltype(std::declval<layer_parameters_type<position<L>>&>().template get<"W">())>;
    template <std::size_t L>
    using biases_type =
        std::remove_cvref_t<decltype(std::declval<layer_parameters_type<position<L>>&>().template get<"b">())>;

    [[nodiscard]] parameters_type& parameters() noexcept { return *params_; }
    [[nodiscard]] const parameters_type& parameters() const noexcept { return *params_; }

    /// Calls f(ref, tensor) for every parameter, layer by layer, with ref a ParameterRef (its
    /// position, layer index, name and shape as compile-time constants).
    template <class F>
    void for_each_parameter(F&& f) {
        for_each_parameter_in<S>(*params_, f);
    }
    template <class F>
    void for_each_parameter(F&& f) const {
        for_each_parameter_in<S>(*params_, f);
    }

    /// Total number of parameters.
    static constexpr std::size_t parameter_count = []<std::size_t... K>(std::index_sequence<K...>) {
        return (std::size_t{0} + ... + std::tuple_element_t<K, parameters_type>::count);
    }(std::make_index_sequence<S::depth>{});

    /// The output for one input (the forward sweep of the model's expression, with a workspace
    /// made for this call; for many inputs use train::Evaluator, which keeps one).
    template <class X>
    [[nodiscard]] output_type forward(const X& x) const;

private:
    template <std::size_t K>
    void initialize_layer(Rng& rng, init::Scheme scheme) {
        using L = typename S::template layer_at<K>;
        using In = typename S::template shape_at<K>;
        auto& set = std::get<K>(*params_);
        using Set = std::tuple_element_t<K, parameters_type>;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            initialize_layer_tensors<L, In>(rng, scheme, set.template at<I>()...);
        }(std::make_index_sequence<Set::size>{});
    }

    std::unique_ptr<parameters_type> params_;
};

/// A model: element type T, composition S (the value of `input<…> | …`, const or not), cost.
template <Real T, class S, class Cost = cost::Quadratic>
using Model = BasicModel<T, std::remove_cvref_t<S>, Cost>;

/// The article's Network([n0, n1, …, nk]): sigmoid after every layer, quadratic cost.
template <Real T, std::size_t... Sizes>
using Network = BasicModel<T, sigmoid_mlp_t<Sizes...>, cost::Quadratic>;

template <class M>
struct is_model : std::false_type {};
template <class T, class S, class C>
struct is_model<BasicModel<T, S, C>> : std::true_type {};
template <class M>
concept AnyModel = is_model<std::remove_cvref_t<M>>::value;

/// Binds every parameter of net to the program's parameter leaves (gradients into g's tensors
/// when given): the one place the model's parameters meet the expression's leaves.
template <class E, class Program, class M>
void bind_parameters(Program& p, const M& net) noexcept {
    net.for_each_parameter([&](auto ref, const auto& t) {
        using R = decltype(ref);
        p.bind_all(ad::bind(typename E::template parameter<R::position, R::index>{}, t.data()));
    });
}

template <Real T, Composition S, class Cost>
template <class X>
auto BasicModel<T, S, Cost>::forward(const X& x) const -> output_type {
    static_assert(std::is_same_v<std::remove_cvref_t<X>, input_type>,
                  "forward(x): x must be the network's input, Tensor<T, input shape> (Vector<T, input_width> for a "
                  "vector) with the network's element type T");
    using E = ModelExpression<BasicModel, 1>;
    ad::Program<T, typename E::output, ad::Sweep::forward> p;
    p.bind_all(ad::bind(typename E::x{}, x.data()));
    bind_parameters<E>(p, *this);
    p.forward();
    output_type out;
    std::copy_n(p.template value<typename E::output>(), output_width, out.data());
    return out;
}

}  // namespace typegrad
