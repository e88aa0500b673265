// Token and position embeddings (issue 21, item 2), as PyTorch's nn.Embedding and GPT's learned
// positions:
//   embedding<V, D>   ids (T) → E[ids] (T, D): a learned table E (V, D), N(0, 1) as nn.Embedding;
//                     its gradient goes into the rows the ids used only (expr/gather.hpp)
//   positional        x (T, D) → x + P: a learned P (T, D), one row per position, N(0, 1)
// The ids are the network's input, integers in [0, V) stored in the element type; they are data,
// never differentiated. The hand-written reference rules are in reference/embedding.hpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "typegrad/expr/build.hpp"
#include "typegrad/expr/gather.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/spec.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad {

namespace detail {
template <class In>
struct embedding_fits {
    static constexpr bool value = rank_v<In> == 1;
    static_assert(value, "embedding<V, D> takes the token ids of a sequence, a vector (T): its output is (T, D)");
};
template <class In>
struct positional_fits {
    static constexpr bool value = rank_v<In> == 2;
    static_assert(value, "positional adds a learned vector per position to a sequence (T, D): put it after embedding<V, D>");
};
}  // namespace detail

/// The embedding of V tokens in D dimensions: row ids[t] of the table E (V, D) at every position t.
template <std::size_t V, std::size_t D>
struct Embedding {
    static_assert(V > 0 && D > 0, "embedding<V, D>: a vocabulary and a width of at least one");
    static constexpr std::size_t vocabulary = V;
    static constexpr std::size_t width = D;
    static std::string name() { return cat("embedding<", V, ", ", D, ">"); }
    static constexpr std::string_view symbol = "a";

    template <class In>
    using output_shape = std::conditional_t<detail::embedding_fits<In>::value, typename expr::detail::with_row<In, D>::type,
                                            Shape<D>>;
    /// E (V, D) ~ N(0, 1), as nn.Embedding; a weight (L2 decays it, as PyTorch's weight_decay).
    template <class In>
    using parameters = params<param<"E", Shape<V, D>, init::Normal, ParamRole::weight>>;
    template <class X, class E>
    using expression = expr::Node<expr::GatherRowsOp, X, E>;

    /// Export: torch.nn.Embedding(V, D), its weight E as stored (scripts/npz_to_torch.py casts the
    /// ids to int64 first); ONNX Gather(E, ids) on axis 0, (V, D)[(batch, T)] → (batch, T, D) (ids
    /// cast to int64 first: the graph's input is of the network's element type).
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"Embedding\", \"num_embeddings\": ", V, ", \"embedding_dim\": ", D, "}");
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        const std::string ids = b.add("Cast", "ids", {b.current}, {typename Builder::attribute{"to", {7}, false}});
        b.current = b.add("Gather", "embedding", {b.parameter("weight"), ids});
        return true;
    }
};
template <std::size_t V, std::size_t D>
inline constexpr Embedding<V, D> embedding{};

/// A learned vector per position added to a sequence (T, D): x + P, P (T, D) ~ N(0, 1).
struct Positional {
    static constexpr std::string_view name = "positional";
    static constexpr std::string_view symbol = "a";
    template <class In>
    using output_shape = std::conditional_t<detail::positional_fits<In>::value, In, In>;
    template <class In>
    using parameters = params<param<"P", In, init::Normal, ParamRole::weight>>;
    template <class X, class P>
    using expression = expr::Add<X, P>;

    /// Export: no torch.nn module adds a parameter, so the .npz names scripts/npz_to_torch.py's own
    /// module Positional (x + weight, weight P (T, D) as stored), as it names its Residual; ONNX
    /// Add(x, P), P broadcast over the batch.
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"Positional\", \"positions\": ", shape_traits<In>::extents[0], ", \"features\": ",
                   shape_traits<In>::extents[rank_v<In> - 1], "}");
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node("Add", {b.parameter("weight")});
        return true;
    }
};
inline constexpr Positional positional{};

/// The vocabulary of a layer that embeds token ids (V of embedding<V, D>), else 0: a network
/// whose first layer has one reads text.
template <class L>
inline constexpr std::size_t embedding_vocabulary_v = 0;
template <std::size_t V, std::size_t D>
inline constexpr std::size_t embedding_vocabulary_v<Embedding<V, D>> = V;

/// --net: "embed64" after "seq32": token and position embeddings to width 64, i.e.
/// embedding<V, 64> | positional, V the vocabulary of the text (bound when the data is read);
/// "positional" is implied by it, never written.
namespace spec::words {
inline constexpr Argument embed_arguments[] = {{""}};
inline constexpr Word embed{
    .keyword = "embed",
    .what = "an embedding embedD (D a positive integer of at most 7 digits)",
    .cpp = "embedding",
    .arguments = embed_arguments,
    .vocabulary_first = true,
    .then = "positional",
    .rank_out = 2,
    .shape = [](const Values& v, Extents& s, std::vector<std::uint64_t>& p) {
        if (s.size() != 1) return std::string("takes the token ids of a seqT input");
        p.push_back(product(v.n[0], v.n[1]));  // E (V, D)
        s = {s[0], v.n[1]};
        return std::string();
    },
    .limits = [](const Values& v) {
        return v.n[1] > limits::dense_width
                   ? cat("an embedding of width ", v.n[1], ", more than the ", limits::dense_width, " typegrad compiles")
               : v.n[0] > limits::vocabulary
                   ? cat("a vocabulary of ", v.n[0], " characters, more than the ", limits::vocabulary, " typegrad compiles")
                   : std::string();
    },
};
inline constexpr Word positional{
    .keyword = "positional",
    .cpp = "positional",
    .spoken = false,
    .shape = [](const Values&, Extents& s, std::vector<std::uint64_t>& p) {
        if (s.size() != 2) return std::string("takes a sequence (T, D)");
        p.push_back(product(s[0], s[1]));  // P (T, D)
        return std::string();
    },
};
inline const bool embed_registered = (add(embed), add(positional), true);
}  // namespace spec::words

}  // namespace typegrad
