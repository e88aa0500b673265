// Multi-head causal self-attention on a sequence (T, D), as PyTorch's nn.MultiheadAttention(D, H)
// with a causal mask and batch_first (issue 21, item 3):
//   [Q K V] = X W + b                 W (D, 3D), b (3D): in_proj_weight (transposed), in_proj_bias
//   S_h = Q_h K_hᵀ / √d, masked       −∞ where j > i; d = D/H
//   P_h = softmax(S_h) row by row
//   O = [P_1 V_1 … P_H V_H]           the heads concatenated (T, D)
//   Y = O Wo + bo                     Wo (D, D), bo (D): out_proj (transposed)
// made of ops of the expression language (expr/attention.hpp, the row softmax, the dense node),
// so the engine derives its backward pass; the hand-written reference rule (the textbook formulas
// through the softmax) is in reference/attention.hpp.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "typegrad/expr/attention.hpp"
#include "typegrad/expr/build.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/spec.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad {

namespace detail {
template <class In, std::size_t H>
struct attention_fits {
    static constexpr bool value = rank_v<In> == 2 && shape_traits<In>::extents[rank_v<In> - 1] % H == 0;
    static_assert(rank_v<In> == 2, "attention<H> takes a sequence (T, D)");
    static_assert(rank_v<In> != 2 || shape_traits<In>::extents[rank_v<In> - 1] % H == 0,
                  "attention<H>: the width D must be a multiple of the number of heads H");
};
/// U(−1/√n, 1/√n) for a tensor of n elements (√n = D for the square Wo (D, D)): a bias of D
/// elements gets 1/√D; Wo's entries 1/√D as well (fan-in D), PyTorch's Linear bound.
struct SquareFanInUniform {
    template <class T>
    static void fill(T* p, std::size_t n, Rng& rng) noexcept {
        const double side = std::sqrt(static_cast<double>(n));
        const double fan_in = std::abs(side - std::round(side)) < 1e-9 && n > 1 ? side : static_cast<double>(n);
        const double bound = 1.0 / std::sqrt(fan_in);
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(rng.uniform(-bound, bound));
    }
};
}  // namespace detail

/// Causal self-attention with H heads (see above): `input<T, D> | … | attention<4> | …`.
template <std::size_t H>
struct Attention {
    static_assert(H > 0, "attention<H>: at least one head");
    static constexpr std::size_t heads = H;
    static std::string name() { return cat("attention<", H, ">"); }
    static constexpr std::string_view symbol = "a";

    template <class In>
    using output_shape = std::conditional_t<detail::attention_fits<In, H>::value, In, In>;
    template <class In>
    static constexpr std::size_t width = shape_traits<In>::extents[rank_v<In> - 1];
    /// W (D, 3D) and b (3D), drawn by the --init scheme as a dense layer's; Wo (D, D) and bo (D),
    /// PyTorch's Linear bound 1/√D.
    template <class In>
    using parameters = params<param<"W", Shape<width<In>, 3 * width<In>>>, param<"b", Shape<3 * width<In>>>,
                              param<"Wo", Shape<width<In>, width<In>>, detail::SquareFanInUniform, ParamRole::weight>,
                              param<"bo", Shape<width<In>>, detail::SquareFanInUniform, ParamRole::bias>>;
    /// With an --init scheme, both projections are drawn by it as dense layers (fan-in D); with the
    /// article's, each parameter's own initialiser.
    template <class In, class Wt, class Bt, class Wot, class Bot>
    static void initialize_scheme(Rng& rng, init::Scheme scheme, Wt& w, Bt& b, Wot& wo, Bot& bo) {
        if (scheme == init::Scheme::article || scheme == init::Scheme::automatic) {
            init::Normal::fill(w.data(), w.size(), rng);
            init::Normal::fill(b.data(), b.size(), rng);
            detail::SquareFanInUniform::fill(wo.data(), wo.size(), rng);
            detail::SquareFanInUniform::fill(bo.data(), bo.size(), rng);
            return;
        }
        init::fill_weights_and_biases(scheme, w.data(), w.size(), b.data(), b.size(), 1, rng);
        init::fill_weights_and_biases(scheme, wo.data(), wo.size(), bo.data(), bo.size(), 1, rng);
    }
    template <class X, class W, class B>
    using qkv = expr::Node<expr::AddOp, expr::Node<expr::MatTVecOp, W, X>, B>;
    /// S: the heads' scaled scores, masked; P: their row softmax; O: the heads' P V, concatenated.
    template <class X, class W, class B>
    using scores = expr::Node<expr::CausalMaskOp, expr::Node<expr::AttentionScoresOp<H>, qkv<X, W, B>>>;
    template <class X, class W, class B>
    using probabilities = expr::Node<expr::SoftmaxOp, scores<X, W, B>>;
    template <class X, class W, class B>
    using mixed = expr::Node<expr::AttentionMixOp<H>, probabilities<X, W, B>, qkv<X, W, B>>;
    template <class X, class W, class B, class Wo, class Bo>
    using expression = expr::Node<expr::AddOp, expr::Node<expr::MatTVecOp, Wo, mixed<X, W, B>>, Bo>;
    /// What derive names (named_node, nn/layer.hpp): QKV, S, P and O with their adjoints δQKV,
    /// δS, δP, δO, as the textbook writes attention's backward pass.
    static constexpr bool has_named_nodes = true;
    template <class In, class X, class W, class B, class Wo, class Bo>
    using named_nodes = std::tuple<named_node<qkv<X, W, B>, "QKV">, named_node<scores<X, W, B>, "S">,
                                   named_node<probabilities<X, W, B>, "P">, named_node<mixed<X, W, B>, "O">>;

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.MultiheadAttention(D, H,
    /// batch_first=True) with the causal mask, scripts/npz_to_torch.py's CausalSelfAttention (a
    /// Sequential cannot call it with a mask); its state_dict's names, W and Wo transposed (its
    /// in_proj_weight is (3D, D), out_proj.weight (out, in)).
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"CausalSelfAttention\", \"embed_dim\": ", width<In>, ", \"num_heads\": ", H, "}");
    }
    static constexpr bool torch_weight_transposed = true;
    static constexpr std::array<std::string_view, 4> torch_names{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                                                 "out_proj.bias"};
    /// ONNX on (batch, T, D), node by node as above (io/onnx.hpp's header has the list): the heads
    /// by Reshape and Transpose, the scale 1/√d a scalar, the mask a (T, T) constant (0 where j ≤ i,
    /// −∞ where j > i, as CausalMaskOp), Softmax over the last axis; W and Wo as stored.
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        if constexpr (rank_v<In> != 2) {
            return false;
        } else {
            constexpr std::size_t T = shape_traits<In>::extents[0], D = width<In>, d = D / H;
            constexpr auto i64 = [](std::size_t n) { return static_cast<std::int64_t>(n); };
            using attribute = typename Builder::attribute;
            const std::string qkv = b.add("Add", "qkv", {b.add("MatMul", "in_proj", {b.current, b.parameter("in_proj_weight")}),
                                                        b.parameter("in_proj_bias")});
            const std::string last_axis = b.integers("last_axis", {-1});
            const std::string heads = b.integers("heads_shape", {0, 0, i64(H), i64(d)});
            // Q, K or V (part 0, 1, 2) of the last axis, as (batch, H, T, d), K as (batch, H, d, T)
            const auto part = [&](std::size_t k, const char* name, std::vector<std::int64_t> perm) {
                const std::string slice = b.add("Slice", cat(name, "_slice"),
                                                {qkv, b.integers(cat(name, "_start"), {i64(k * D)}),
                                                 b.integers(cat(name, "_end"), {i64((k + 1) * D)}), last_axis});
                return b.add("Transpose", name, {b.add("Reshape", cat(name, "_heads"), {slice, heads})},
                             {attribute{"perm", std::move(perm), true}});
            };
            const std::string q = part(0, "q", {0, 2, 1, 3}), k = part(1, "k_t", {0, 2, 3, 1}), v = part(2, "v", {0, 2, 1, 3});
            const std::string scores =
                b.add("Mul", "scores", {b.add("MatMul", "q_k_t", {q, k}), b.constant("scale", 1.0 / std::sqrt(double(d)))});
            std::vector<double> mask(T * T, 0.0);
            for (std::size_t i = 0; i < T; ++i)
                for (std::size_t j = i + 1; j < T; ++j) mask[i * T + j] = -std::numeric_limits<double>::infinity();
            const std::string p = b.add("Softmax", "weights", {b.add("Add", "masked", {scores, b.tensor("causal_mask", {T, T}, mask)})},
                                        {attribute{"axis", {-1}, false}});
            const std::string mixed = b.add("Transpose", "mixed", {b.add("MatMul", "heads", {p, v})}, {attribute{"perm", {0, 2, 1, 3}, true}});
            const std::string o = b.add("Reshape", "concat_heads", {mixed, b.integers("model_shape", {0, 0, i64(D)})});
            b.current = b.add("Add", "attention", {b.add("MatMul", "out_proj", {o, b.parameter("out_proj.weight")}),
                                                   b.parameter("out_proj.bias")});
            return true;
        }
    }
};
template <std::size_t H>
inline constexpr Attention<H> attention{};

/// --net: "attn4", causal self-attention with 4 heads on a sequence (T, D), its width kept:
/// W (D, 3D), b (3D), Wo (D, D), bo (D).
namespace spec::words {
inline constexpr Argument attention_arguments[] = {{""}};
inline constexpr Word attention{
    .keyword = "attn",
    .what = "an attention attnH (H heads, a positive integer)",
    .cpp = "attention",
    .arguments = attention_arguments,
    .weighted = true,
    .shape = [](const Values& v, Extents& s, std::vector<std::uint64_t>& p) {
        if (s.size() != 2) return std::string("takes a sequence (T, D): put it after seqT-embedD");
        if (s[1] % v.n[0] != 0) return cat("has ", v.n[0], " heads, which do not divide the width ", s[1]);
        p.insert(p.end(), {product(s[1], 3 * s[1]), 3 * s[1], product(s[1], s[1]), s[1]});
        if (product(product(s[0], s[0]), v.n[0]) > limits::elements)
            return cat("would hold ", v.n[0], " × ", s[0], " × ", s[0], " attention weights per example, more than the ",
                       limits::elements, " typegrad compiles");
        return std::string();
    },
    .limits = [](const Values& v) {
        return v.n[0] > 64 ? cat("an attention of ", v.n[0], " heads, more than the 64 typegrad compiles") : std::string();
    },
};
inline const bool attention_registered = add(attention);
}  // namespace spec::words

}  // namespace typegrad
