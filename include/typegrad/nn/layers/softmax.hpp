// softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ over the last extent (pair it with cost::LogLikelihood: the engine
// then computes J from z and δ = a − y, see ad/rewrite.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "typegrad/expr/build.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/layers/activation.hpp"  // its word after the activations' (the list in messages)
#include "typegrad/nn/spec.hpp"

namespace typegrad {

using Softmax = expr::SoftmaxFn;
using expr::softmax;

template <>
struct layer_traits<expr::SoftmaxFn> {
    static constexpr bool is_layer = true;
    static std::string name() { return "softmax"; }
    static constexpr std::string_view outputs = "softmax probabilities";  // as the last layer (predict)
    template <class In>
    using output_shape = In;
    template <class In>
    using parameters = params<>;
    template <class In, class X>
    using expression = expr::Node<expr::SoftmaxOp, X>;
    static constexpr std::string_view symbol = "a";
    template <class In>
    static void initialize(Rng&) noexcept {}

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.Softmax(dim=-1); ONNX Softmax over
    /// the last axis, as typegrad's: axis 1 of (batch, n), axis 2 of a sequence's (batch, T, n)
    /// (opset 13's Softmax normalises along that one axis).
    template <class In>
    static std::string torch_module() {
        return "{\"type\": \"Softmax\", \"dim\": -1}";
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node("Softmax", {}, {typename Builder::attribute{"axis", {static_cast<std::int64_t>(rank_v<In>)}, false}});
        return true;
    }
};

/// --net: "softmax", after ':' or on its own.
namespace spec::words {
inline constexpr Word softmax{.keyword = "softmax", .cpp = "softmax", .role = Word::Role::activation};
inline const bool softmax_registered = add(softmax);
}  // namespace spec::words

}  // namespace typegrad
