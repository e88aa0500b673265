// A network as a type: Model<T, composition, cost> owns the parameters of every Dense layer of
// a Sequential composition; Network<T, sizes...> is the article's sigmoid network built from
// that same composition.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/nn/costs.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/tensor/tensor.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad {

template <class T>
concept Real = std::same_as<T, float> || std::same_as<T, double>;

template <class T>
struct is_sequential : std::false_type {};
template <std::size_t N, class... Ls>
struct is_sequential<Sequential<N, Ls...>> : std::true_type {};

/// What the composition of a Model must be: input<N> | layers..., with at least one Dense layer.
template <class S>
concept Composition = is_sequential<S>::value && S::parameter_layers > 0;

namespace detail {

template <class S, std::size_t K>
using layer_at_t = std::tuple_element_t<K, typename S::layers>;

/// Position in the composition of the L-th layer with parameters.
template <class S>
inline constexpr auto parameter_positions = [] {
    std::array<std::size_t, S::parameter_layers> pos{};
    std::size_t l = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((layer_traits<layer_at_t<S, K>>::has_parameters ? (pos[l++] = K, 0) : 0), ...);
    }(std::make_index_sequence<S::depth>{});
    return pos;
}();

/// Number of layers with parameters before position K (the L of a Dense at position K).
template <class S, std::size_t K>
inline constexpr std::size_t parameter_index = [] {
    std::size_t l = 0;
    for (std::size_t p : parameter_positions<S>)
        if (p < K) ++l;
    return l;
}();

}  // namespace detail

/// Weights (In, Out) and biases (Out) of one Dense layer.
template <class T, std::size_t In, std::size_t Out>
struct DenseParameters {
    Matrix<T, In, Out> weights;
    Vector<T, Out> biases;
};

/// A network of typed layers with element type T. Parameters live on the heap (allocated once,
/// at construction), so large networks never sit on the stack.
template <Real T, Composition S, class Cost = cost::Quadratic>
class Model {
public:
    using value_type = T;
    using composition = S;
    using cost_type = Cost;

    static constexpr std::size_t input_width = S::input_width;
    static constexpr std::size_t output_width = S::output_width;
    /// Number of layers with parameters; L = 0 … layers − 1 as in the article.
    static constexpr std::size_t layers = S::parameter_layers;
    /// Position of parameter layer L in the composition, and its widths.
    template <std::size_t L>
    static constexpr std::size_t position = detail::parameter_positions<S>[L];
    template <std::size_t L>
    static constexpr std::size_t fan_in = S::widths[position<L>];
    template <std::size_t L>
    static constexpr std::size_t fan_out = S::widths[position<L> + 1];

    template <std::size_t L>
    using weights_type = Matrix<T, fan_in<L>, fan_out<L>>;
    template <std::size_t L>
    using biases_type = Vector<T, fan_out<L>>;
    using input_type = Vector<T, input_width>;
    using output_type = Vector<T, output_width>;

private:
    template <std::size_t... L>
    static auto storage_of(std::index_sequence<L...>) -> std::tuple<DenseParameters<T, fan_in<L>, fan_out<L>>...>;

public:
    using parameters_type = decltype(storage_of(std::make_index_sequence<layers>{}));

    /// Weights and biases drawn from N(0, 1) with a generator seeded by `seed` (the article's
    /// initialisation); layer by layer, biases first.
    explicit Model(std::uint64_t seed = 0) : params_(std::make_unique<parameters_type>()) {
        Rng rng(seed);
        for_each_layer([&]<std::size_t L>(DenseParameters<T, fan_in<L>, fan_out<L>>& p) {
            for (auto& v : p.biases) v = static_cast<T>(rng.normal());
            for (auto& v : p.weights) v = static_cast<T>(rng.normal());
        });
    }
    Model(const Model& other) : params_(std::make_unique<parameters_type>(*other.params_)) {}
    Model(Model&&) noexcept = default;
    Model& operator=(const Model& other) {
        if (this != &other) *params_ = *other.params_;
        return *this;
    }
    Model& operator=(Model&&) noexcept = default;
    ~Model() = default;

    /// Wᴸ, shape (n_in, n_out): the article's weights[L] transposed to z = Wᵀa + b.
    template <std::size_t L>
    [[nodiscard]] auto& weights() noexcept {
        static_assert(L < layers, "weights<L>(): L counts the layers with parameters from 0 and must be < layers");
        return std::get<(L < layers ? L : 0)>(*params_).weights;  // index clamped: one error, not a cascade
    }
    template <std::size_t L>
    [[nodiscard]] const auto& weights() const noexcept {
        static_assert(L < layers, "weights<L>(): L counts the layers with parameters from 0 and must be < layers");
        return std::get<(L < layers ? L : 0)>(*params_).weights;  // index clamped: one error, not a cascade
    }
    template <std::size_t L>
    [[nodiscard]] auto& biases() noexcept {
        static_assert(L < layers, "biases<L>(): L counts the layers with parameters from 0 and must be < layers");
        return std::get<(L < layers ? L : 0)>(*params_).biases;  // index clamped: one error, not a cascade
    }
    template <std::size_t L>
    [[nodiscard]] const auto& biases() const noexcept {
        static_assert(L < layers, "biases<L>(): L counts the layers with parameters from 0 and must be < layers");
        return std::get<(L < layers ? L : 0)>(*params_).biases;  // index clamped: one error, not a cascade
    }

    [[nodiscard]] parameters_type& parameters() noexcept { return *params_; }
    [[nodiscard]] const parameters_type& parameters() const noexcept { return *params_; }

    /// Calls f.template operator()<L>(DenseParameters&) for L = 0 … layers − 1.
    template <class F>
    void for_each_layer(F&& f) {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (f.template operator()<L>(std::get<L>(*params_)), ...);
        }(std::make_index_sequence<layers>{});
    }
    template <class F>
    void for_each_layer(F&& f) const {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (f.template operator()<L>(std::get<L>(*params_)), ...);
        }(std::make_index_sequence<layers>{});
    }

    /// Total number of parameters.
    static constexpr std::size_t parameter_count = [] {
        std::size_t n = 0;
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            ((n += fan_in<L> * fan_out<L> + fan_out<L>), ...);
        }(std::make_index_sequence<layers>{});
        return n;
    }();

    /// The output activations for one input.
    template <class X>
    [[nodiscard]] output_type forward(const X& x) const;

private:
    std::unique_ptr<parameters_type> params_;
};

/// The article's Network([n0, n1, …, nk]): sigmoid after every layer, quadratic cost.
template <Real T, std::size_t... Sizes>
using Network = Model<T, sigmoid_mlp_t<Sizes...>, cost::Quadratic>;

template <class M>
struct is_model : std::false_type {};
template <class T, class S, class C>
struct is_model<Model<T, S, C>> : std::true_type {};
template <class M>
concept AnyModel = is_model<std::remove_cvref_t<M>>::value;

// ---------------------------------------------------------------------------------------------
// The forward pass through the layers of a composition, one layer at a time. The reference
// backprop reuses it, keeping every layer's output.

/// Outputs of every layer of a composition for one example: value<K>() is the output of
/// layer K (the input itself is not copied).
template <class T, class S>
class LayerValues {
    template <std::size_t... K>
    static auto storage_of(std::index_sequence<K...>) -> std::tuple<Vector<T, S::widths[K + 1]>...>;

public:
    using storage_type = decltype(storage_of(std::make_index_sequence<S::depth>{}));
    template <std::size_t K>
    auto& value() noexcept { return std::get<K>(values_); }
    template <std::size_t K>
    const auto& value() const noexcept { return std::get<K>(values_); }

private:
    storage_type values_;
};

namespace detail {

template <class Layer>
struct forward_rule;

template <std::size_t Out, std::size_t In>
struct forward_rule<Dense<Out, In>> {
    template <std::size_t Fin, std::size_t Fout, class T>
    static void apply(const DenseParameters<T, Fin, Fout>& p, const T* a, T* z) noexcept {
        simd::gemv_t_bias<Fin, Fout>(p.weights.data(), a, p.biases.data(), z);
    }
};

template <class F>
struct forward_rule<Activation<F>> {
    template <std::size_t N, class T>
    static void apply(const T* z, T* a) noexcept {
        simd::map<F, N>(z, a);
    }
};

template <>
struct forward_rule<Softmax> {
    template <std::size_t N, class T>
    static void apply(const T* z, T* a) noexcept {
        T m = z[0];
        for (std::size_t i = 1; i < N; ++i) m = z[i] > m ? z[i] : m;
        T s = 0;
        for (std::size_t i = 0; i < N; ++i) s += (a[i] = std::exp(z[i] - m));
        for (std::size_t i = 0; i < N; ++i) a[i] /= s;
    }
};

/// Runs layers [0, depth) of model m on input x, storing each output in v.
template <class M, class T>
void forward_layers(const M& m, const T* x, LayerValues<T, typename M::composition>& v) noexcept {
    using S = typename M::composition;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (
            [&] {
                using L = layer_at_t<S, K>;
                const T* in = nullptr;
                if constexpr (K == 0) in = x;
                else in = v.template value<K - 1>().data();
                T* out = v.template value<K>().data();
                if constexpr (layer_traits<L>::has_parameters)
                    forward_rule<L>::apply(std::get<parameter_index<S, K>>(m.parameters()), in, out);
                else
                    forward_rule<L>::template apply<S::widths[K]>(in, out);
            }(),
            ...);
    }(std::make_index_sequence<S::depth>{});
}

}  // namespace detail

template <Real T, Composition S, class Cost>
template <class X>
auto Model<T, S, Cost>::forward(const X& x) const -> output_type {
    static_assert(std::is_same_v<std::remove_cvref_t<X>, input_type>,
                  "forward(x): x must be the network's input vector, Vector<T, input_width> "
                  "(xt::xtensor_fixed<T, xt::xshape<input_width>>) with the network's element type T");
    LayerValues<T, S> v;
    detail::forward_layers(*this, x.data(), v);
    return v.template value<S::depth - 1>();
}

}  // namespace typegrad
