// Fully connected layer: z = Wᵀ a + b, W of shape (n_in, n_out) (the article's orientation),
// b of shape (n_out); for a batch, Wᵀ aᵦ + b for every example. On a sequence (T, n_in) it applies
// at every position, as PyTorch's Linear on the last axis: z_t = Wᵀ a_t + b, z of shape (T, n_out).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/util/text.hpp"
#include "typegrad/nn/spec.hpp"

namespace typegrad {

namespace detail {
// The one place a dense layer's input is checked; the compiler shows this instantiation with the
// layer and the shape it was given, e.g. "layer_fits<typegrad::Dense<10, 20>, xt::fixed_shape<30>>".
template <class L, class In>
struct layer_fits {
    static constexpr bool vector = rank_v<In> == 1 || rank_v<In> == 2;
    static_assert(vector,
                  "a dense layer takes a vector, or a sequence (T, D) at every position: put typegrad::flatten "
                  "before it to flatten an image (see 'layer_fits<Layer, shape of the previous layer>' below)");
    static constexpr bool width =
        !vector || L::stated_input == inferred_width || L::stated_input == shape_traits<In>::extents[rank_v<In> - 1];
    static_assert(width,
                  "this layer cannot follow the previous one: it expects a different input width "
                  "(see 'layer_fits<Layer, width of the previous layer>' below)");
    static constexpr bool value = vector && width;
};
/// The output of a dense layer of Out units after In: (Out), or (T, Out) after a sequence (T, D).
template <class In, std::size_t Out>
struct dense_output {
    using type = Shape<Out>;
};
template <std::size_t T, std::size_t D, std::size_t Out>
struct dense_output<Shape<T, D>, Out> {
    using type = Shape<T, Out>;
};
}  // namespace detail

/// Fully connected layer with Out units. In is taken from the previous layer unless stated (then
/// it is checked): Dense<10> or Dense<10, 30>.
template <std::size_t Out, std::size_t In = inferred_width>
struct Dense {
    static_assert(Out > 0, "Dense<Out>: a layer must have at least one unit");
    static constexpr std::size_t units = Out;
    static constexpr std::size_t stated_input = In;

    static std::string name() { return "dense<" + std::to_string(Out) + ">"; }
    /// The article's network is dense layers and σ: one of them starts from N(0, 1) by default.
    static constexpr bool article_network = true;
    static constexpr std::string_view symbol = "z";

    template <class S>
    using output_shape = std::conditional_t<detail::layer_fits<Dense, S>::value, typename detail::dense_output<S, Out>::type,
                                            Shape<Out>>;
    /// W (n_in, Out) with n_in the input's last extent (a vector's width, a sequence's D).
    template <class S>
    using parameters = params<param<"W", Shape<shape_traits<S>::extents[rank_v<S> - 1], Out>>, param<"b", Shape<Out>>>;
    template <class X, class W, class B>
    using expression = expr::Node<expr::AddOp, expr::Node<expr::MatTVecOp, W, X>, B>;

    /// The article's order: the biases first, then the weights, both from N(0, 1).
    template <class S, class R, class Wt, class Bt>
    static void initialize(R& rng, Wt& w, Bt& b) {
        init::Normal::fill(b.data(), b.size(), rng);
        init::Normal::fill(w.data(), w.size(), rng);
    }

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.Linear(n_in, n_out), whose weight
    /// is (out, in): W, stored (n_in, n_out), is transposed; ONNX Gemm(x, W, b) with W as stored
    /// (z = Wᵀa + b is, for a batch of rows A (batch, n_in), A·W + b: transB = 0).
    template <class S>
    static std::string torch_module() {
        return cat("{\"type\": \"Linear\", \"in_features\": ", shape_traits<S>::extents[rank_v<S> - 1],
                   ", \"out_features\": ", Out, "}");
    }
    static constexpr bool torch_weight_transposed = true;
    /// A sequence (batch, T, D): MatMul(x, W) + b, which broadcast over the positions (Gemm takes
    /// matrices only).
    template <class S, class Builder>
    static bool onnx(Builder& b) {
        if constexpr (rank_v<S> == 2) {
            b.node("MatMul", {b.parameter("weight")});
            b.node("Add", {b.parameter("bias")});
        } else {
            b.node("Gemm", {b.parameter("weight"), b.parameter("bias")}, {typename Builder::attribute{"transB", {0}, false}});
        }
        return true;
    }
};

/// Whether layer L is a Dense<…>.
template <class L>
inline constexpr bool is_dense_v = false;
template <std::size_t Out, std::size_t In>
inline constexpr bool is_dense_v<Dense<Out, In>> = true;

/// PyTorch's spelling: Linear<in_features, out_features> is Dense<Out, In>.
template <std::size_t In, std::size_t Out>
using Linear = Dense<Out, In>;

template <std::size_t Out, std::size_t In = inferred_width>
inline constexpr Dense<Out, In> dense{};
template <std::size_t In, std::size_t Out>
inline constexpr Linear<In, Out> linear{};

/// --net: "30", a dense layer of 30 units ("30:relu" with its activation; σ when none is given,
/// the article's); after an image, flatten is implied; on a sequence (T, D) it acts at every
/// position. "vocab" is the width of the vocabulary of a text (Values::vocabulary).
namespace spec::words {
inline constexpr Argument dense_arguments[] = {{""}};
inline constexpr Word dense{
    .keyword = "",
    .what = "a width (a positive integer of at most 7 digits)",
    .cpp = "dense",
    .arguments = dense_arguments,
    .takes_activation = true,
    .default_activation = "sigmoid",
    .input = Word::Input::flattened,
    .vector_out = true,
    .weighted = true,
    .shape = [](const Values& v, Extents& s, std::vector<std::uint64_t>& p) {
        if (s.size() == 2) {  // a sequence (T, D): the same layer at every position, (T, n_out)
            p.insert(p.end(), {product(s[1], v.n[0]), v.n[0]});
            s = {s[0], v.n[0]};
            return std::string();
        }
        p.insert(p.end(), {product(elements(s), v.n[0]), v.n[0]});  // W (n_in, n_out), b (n_out)
        s = {v.n[0]};
        return std::string();
    },
    .limits = [](const Values& v) {
        return v.n[0] > limits::dense_width
                   ? cat("a dense layer of ", v.n[0], " units, more than the ", limits::dense_width, " typegrad compiles")
                   : std::string();
    },
};
inline const bool dense_registered = add(dense);
}  // namespace spec::words

}  // namespace typegrad
