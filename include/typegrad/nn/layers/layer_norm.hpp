// Layer normalisation (Ba, Kiros & Hinton 2016), PyTorch's nn.LayerNorm(n) on a vector (n):
//   y = (x − μ) / √(σ² + ε) ⊙ γ + β,   μ = mean(x), σ² = mean((x − μ)²) (the biased variance),
// over the n features of each example, ε = 1e-5, γ (n) starting at 1 and β (n) at 0. Its
// expression is built from the per-example reductions of expr/reduce.hpp, so one expression
// serves one example and a batch, and its backward pass is derived by the engine; the
// hand-written reference rule (the textbook backward) is in reference/layer_norm.hpp.
//
// γ and β are a scale and a shift (ParamRole), not a weight and a bias: the --init schemes leave
// them at 1 and 0 (init::Scheme draws only layers with a weight and a bias), L2 does not decay
// them (train/optimizer.hpp decays weights only), as PyTorch's weight decay is usually not
// applied to normalisation parameters, and export names them "weight" and "bias" as PyTorch does.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "typegrad/expr/build.hpp"
#include "typegrad/expr/noise.hpp"
#include "typegrad/expr/reduce.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/util/text.hpp"
#include "typegrad/nn/spec.hpp"

namespace typegrad {

namespace detail {
/// 1/√(v + ε) with LayerNorm's ε = 1e-5, elementwise; its derivative is −½ (v + ε)^(−3/2) = −½ y³.
struct InvSqrtEpsilon {
    static constexpr std::string_view name = "rsqrtε";
    static constexpr double epsilon = 1e-5;
    template <class V>
    static V value(V v) noexcept {
        using std::sqrt;
        return V(1) / sqrt(v + V(epsilon));
    }
    template <class V>
    static V derivative(V /*v*/, V y) noexcept {
        return V(-0.5) * y * y * y;
    }
};

// The one place layer_norm's input is checked; the compiler shows this instantiation with the
// shape it was given.
template <class In>
struct layer_norm_fits {
    static constexpr bool value = rank_v<In> == 1 || rank_v<In> == 2;
    static_assert(value,
                  "layer_norm takes a vector (n) and normalises its n features, as PyTorch's nn.LayerNorm(n), or a "
                  "sequence (T, n) and normalises every position; images (C, H, W) are not supported (PyTorch's "
                  "LayerNorm over the last axis would normalise over W only): put typegrad::flatten before it (see "
                  "'layer_norm_fits<shape of the previous layer>' below)");
};
}  // namespace detail

/// Layer normalisation over the features of each example (see above): `input<8> | dense<6> |
/// layer_norm | gelu | …`. Parameters "γ" (scale, 1) and "β" (shift, 0), in that order.
struct LayerNorm {
    static constexpr std::string_view name = "layer_norm";  // derive, checkpoints, messages
    static constexpr std::string_view symbol = "a";
    static constexpr double epsilon = detail::InvSqrtEpsilon::epsilon;

    template <class In>
    using output_shape = std::conditional_t<detail::layer_norm_fits<In>::value, In, In>;
    /// γ and β (n): a sequence (T, n) shares them across its positions, as nn.LayerNorm(n).
    template <class In>
    using features = Shape<shape_traits<In>::extents[rank_v<In> - 1]>;
    template <class In>
    using parameters = params<param<"γ", features<In>, init::Constant<1>, ParamRole::scale>,
                              param<"β", features<In>, init::Constant<0>, ParamRole::shift>>;

    /// x − μ, μ broadcast back over the features.
    template <class X>
    using centred = expr::Sub<X, expr::MeanLast<X>>;
    /// σ² = mean((x − μ)²), broadcast back over the features.
    template <class X>
    using variance = expr::MeanLast<expr::Hadamard<centred<X>, centred<X>>>;
    /// 1/√(σ² + ε), broadcast back over the features.
    template <class X>
    using inv_std = expr::Map<detail::InvSqrtEpsilon, variance<X>>;
    /// γ ⊙ ((x − μ) ⊙ 1/√(σ² + ε)) + β.
    template <class X, class Gamma, class Beta>
    using expression = expr::Add<expr::Hadamard<Gamma, expr::Hadamard<centred<X>, inv_std<X>>>, Beta>;
    /// What derive names (named_node, nn/layer.hpp): c = x − μ, σ² = mean(c ⊙ c), r = 1/√(σ² + ε)
    /// and x̂ = c ⊙ r, with their adjoints, so δ through the normalisation reads δx̂ → δr → δσ² →
    /// δc → δx.
    static constexpr bool has_named_nodes = true;
    template <class In, class X, class Gamma, class Beta>
    using named_nodes = std::tuple<named_node<centred<X>, "c">, named_node<variance<X>, "σ²">, named_node<inv_std<X>, "r">,
                                   named_node<expr::Hadamard<centred<X>, inv_std<X>>, "x̂">>;

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.LayerNorm(n, eps=1e-5), γ and β as
    /// its "weight" and "bias" (their roles). ONNX node by node (LayerNormalization is an op from
    /// opset 17 only): d = x − ReduceMean(x), y = d / Sqrt(ReduceMean(d · d) + ε) · γ + β, the means
    /// over the last axis kept as (batch, 1) — (batch, T, 1) for a sequence — and broadcast back,
    /// ε a scalar of the graph's type.
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"LayerNorm\", \"features\": ", shape_traits<In>::extents[rank_v<In> - 1], ", \"eps\": ",
                   expr::rate_text(epsilon), "}");
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        const typename Builder::attribute axes{"axes", {-1}, true}, keepdims{"keepdims", {1}, false};
        const std::string x = b.current;
        const std::string d = b.add("Sub", "centred", {x, b.add("ReduceMean", "mean", {x}, {axes, keepdims})});
        const std::string variance = b.add("ReduceMean", "variance", {b.add("Mul", "squared", {d, d})}, {axes, keepdims});
        const std::string sd = b.add("Sqrt", "std", {b.add("Add", "variance_eps", {variance, b.constant("eps", epsilon)})});
        const std::string scaled = b.add("Mul", "scaled", {b.add("Div", "normalised", {d, sd}), b.parameter("weight")});
        b.current = b.add("Add", "layer_norm", {scaled, b.parameter("bias")});
        return true;
    }
};
inline constexpr LayerNorm layer_norm{};

/// --net: "layernorm", after a vector or a sequence (T, D): γ then β, one per feature (of a
/// sequence: over D, at every position).
namespace spec::words {
inline constexpr Word layer_norm{.keyword = "layernorm",
                                 .cpp = "layer_norm",
                                 .input = Word::Input::vector,
                                 .shape = [](const Values&, Extents& s, std::vector<std::uint64_t>& p) {
                                     if (s.size() != 1 && s.size() != 2) return std::string("takes a vector or a sequence");
                                     p.insert(p.end(), {s.back(), s.back()});
                                     return std::string();
                                 }};
inline const bool layer_norm_registered = add(layer_norm);
}  // namespace spec::words

}  // namespace typegrad
