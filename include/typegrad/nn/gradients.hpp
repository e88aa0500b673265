// The gradient of a model's cost for one example (or summed over a batch): ∂J/∂Wᴸ, ∂J/∂bᴸ
// and δᴸ = ∂J/∂zᴸ for every layer with parameters. The reference and the autodiff engine
// both fill this one type.
#pragma once

#include <cstddef>
#include <memory>
#include <tuple>
#include <utility>

#include "typegrad/nn/model.hpp"

namespace typegrad {

template <AnyModel M>
class Gradients {
    using T = typename M::value_type;

    template <std::size_t L>
    struct Layer {
        typename M::template weights_type<L> weights;
        typename M::template biases_type<L> biases;
        typename M::template biases_type<L> delta;
    };
    template <std::size_t... L>
    static auto storage_of(std::index_sequence<L...>) -> std::tuple<Layer<L>...>;
    using storage_type = decltype(storage_of(std::make_index_sequence<M::layers>{}));

public:
    using model_type = M;
    using value_type = T;

    /// All zeros. Storage is on the heap, allocated here once.
    Gradients() : g_(std::make_unique<storage_type>()) { zero(); }
    Gradients(const Gradients& o) : g_(std::make_unique<storage_type>(*o.g_)) {}
    Gradients(Gradients&&) noexcept = default;
    Gradients& operator=(const Gradients& o) {
        if (this != &o) *g_ = *o.g_;
        return *this;
    }
    Gradients& operator=(Gradients&&) noexcept = default;
    ~Gradients() = default;

    /// ∂J/∂Wᴸ = aᴸ⁻¹ δᴸᵀ, shape (n_in, n_out).
    template <std::size_t L>
    auto& weights() noexcept { return std::get<L>(*g_).weights; }
    template <std::size_t L>
    const auto& weights() const noexcept { return std::get<L>(*g_).weights; }
    /// ∂J/∂bᴸ = δᴸ (summed over the examples of a batch).
    template <std::size_t L>
    auto& biases() noexcept { return std::get<L>(*g_).biases; }
    template <std::size_t L>
    const auto& biases() const noexcept { return std::get<L>(*g_).biases; }
    /// δᴸ = ∂J/∂zᴸ of the last example.
    template <std::size_t L>
    auto& delta() noexcept { return std::get<L>(*g_).delta; }
    template <std::size_t L>
    const auto& delta() const noexcept { return std::get<L>(*g_).delta; }

    void zero() noexcept {
        for_each_layer([]<std::size_t L>(auto& w, auto& b, auto& d) {
            w.fill(T(0));
            b.fill(T(0));
            d.fill(T(0));
        });
    }

    /// Calls f.template operator()<L>(weights, biases, delta) for every layer.
    template <class F>
    void for_each_layer(F&& f) {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (f.template operator()<L>(weights<L>(), biases<L>(), delta<L>()), ...);
        }(std::make_index_sequence<M::layers>{});
    }
    template <class F>
    void for_each_layer(F&& f) const {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (f.template operator()<L>(weights<L>(), biases<L>(), delta<L>()), ...);
        }(std::make_index_sequence<M::layers>{});
    }

private:
    std::unique_ptr<storage_type> g_;
};

/// Whether a gradient evaluation overwrites ∂W, ∂b or adds to them (summing over a batch).
enum class Accumulate : bool { no = false, yes = true };

}  // namespace typegrad
