// flatten: an image (C, H, W) becomes a vector of C·H·W elements in the same row-major order
// (PyTorch's nn.Flatten), so that a dense layer can follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/spatial.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/spec.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad {

struct Flatten {
    static constexpr std::string_view name = "flatten";
    static constexpr std::string_view symbol = "a";
    template <class In>
    using output_shape = Shape<size_v<In>>;
    // X is one example (shape In) or a batch of them: the leading extents are kept as one.
    template <class In, class X>
    using expression_at = expr::Node<
        expr::ReshapeOp<std::conditional_t<rank_v<typename X::shape> == rank_v<In>, Shape<size_v<In>>,
                                           Shape<size_v<typename X::shape> / size_v<In>, size_v<In>>>>,
        X>;

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.Flatten(); ONNX Flatten, axis 1 (C
    /// order, as typegrad's).
    template <class In>
    static std::string torch_module() {
        return "{\"type\": \"Flatten\"}";
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node("Flatten", {}, {typename Builder::attribute{"axis", {1}, false}});
        return true;
    }
};

inline constexpr Flatten flatten{};

/// --net: "flatten", implied before a layer that takes a flattened image (a dense layer).
namespace spec::words {
inline constexpr Word flatten{.keyword = "flatten",
                              .cpp = "flatten",
                              .vector_out = true,
                              .shape = [](const Values&, Extents& s, std::vector<std::uint64_t>&) {
                                  s = {elements(s)};
                                  return std::string();
                              }};
inline const bool flatten_registered = add(flatten);
}  // namespace spec::words

}  // namespace typegrad
