// A trained network as an ONNX graph, described without protobuf: the nodes (none, one or a few per
// layer, written by the layer's own header's onnx hook, nn/layer.hpp's contract), the parameters as
// initializers, the input and output. Writing it as a .onnx file needs Debian's libonnx-dev and
// protobuf, and is done once, in src/io/onnx.cpp (the library typegrad_onnx, built when CMake finds
// ONNX), so that no translation unit with a network in it includes protobuf's headers.
//
// The mapping (docs/design.md, "ONNX"; each layer's part in its header under nn/layers/): opset 13;
// input "input" of shape [batch, n] for a network of vectors and [batch, C, H, W] for one of
// images, "batch" a symbolic dimension; output "output", the network's output activation. A dense
// layer is Gemm with typegrad's W (n_in, n_out) as B as it is stored (z = Wᵀa + b is, for a batch
// of rows A, A·W + b: transB = 0, nothing transposed); a convolution is Conv (weights (C_out, C_in,
// K, K) as stored, pads, strides); pooling is MaxPool/AveragePool with stride = window; flatten is
// Flatten (axis 1, C order as typegrad's); dropout, the identity at inference, adds no node. Leaky
// ReLU is LeakyRelu (alpha 0.01); SiLU is Mul(x, Sigmoid(x)) and GELU Mul(x, Mul(Add(Erf(Div(x,
// √2)), 1), ½)), opset 13 having neither as an op, with their constants as scalar initializers.
// Layer normalisation (LayerNormalization is opset 17) is ReduceMean (axes [-1], keepdims) → Sub →
// Mul (the square) → ReduceMean → Add ε → Sqrt → Div → Mul γ → Add β, γ and β the initializers
// "K.weight" and "K.bias", ε a scalar initializer of the network's element type. Batch
// normalisation is BatchNormalization (inference: the running statistics "K.running_mean" and
// "K.running_var"), epsilon 1e-5. Softmax is over the last axis (axis 1 of (batch, n)).
//
// Sequences (issue 21): the input of a network of token ids (T) is [batch, T] in the network's
// element type; embedding is Cast (to int64) → Gather(E, ids), positional Add(x, P) (P (T, D)
// broadcast over the batch), a dense layer on (batch, T, D) MatMul(x, W) → Add b, layer_norm as
// above over the last axis. Causal self-attention (nn/layers/attention.hpp) on (batch, T, D), d =
// D/H: MatMul(x, in_proj_weight) → Add in_proj_bias → three Slices of the last axis (Q, K, V) →
// Reshape [0, 0, H, d] → Transpose (Q, V: [0, 2, 1, 3]; K: [0, 2, 3, 1]) → MatMul Q Kᵀ (batch, H,
// T, T) → Mul 1/√d → Add the causal mask (a (T, T) initializer, 0 where j ≤ i, −∞ above) →
// Softmax (last axis) → MatMul V → Transpose [0, 2, 1, 3] → Reshape [0, 0, D] → MatMul
// out_proj.weight → Add out_proj.bias; W and Wo as stored, (D, 3D) and (D, D), under the names
// of nn.MultiheadAttention's state_dict; the integer inputs (shapes, slice bounds) as int64
// initializers.
//
// The combinators of nn/graph.hpp make the graph fork: the block's input tensor is read by each
// branch and, for residual(body), by an Add of it and the body's output; branch_sum adds its
// branches' outputs (Add, left to right), concat joins them with Concat along axis 1 — the
// features of (batch, n), the channels of (batch, C, H, W). The nodes and initializers of an
// inner layer are named under its PyTorch path ("3.body.0.weight", "2.branches.1.0.Conv"), as
// in the .npz export.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "typegrad/io/export.hpp"
#include "typegrad/io/npz.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::io {

inline constexpr std::int64_t onnx_opset = 13;
inline constexpr const char* onnx_input = "input";
inline constexpr const char* onnx_output = "output";
inline constexpr const char* onnx_batch = "batch";

/// An attribute of a node: an integer (INT), a list of integers (INTS) or, with `real` set, one
/// float (FLOAT, LeakyRelu's alpha) — the only kinds typegrad's ops need.
struct OnnxAttribute {
    std::string name;
    std::vector<std::int64_t> ints;
    bool list = false;
    std::optional<float> real = std::nullopt;
};

struct OnnxNode {
    std::string op_type;
    std::string name;
    std::vector<std::string> inputs;
    std::string output;
    std::vector<OnnxAttribute> attributes;
};

/// The graph of a network, ready for the protobuf writer (src/io/onnx.cpp).
struct OnnxGraph {
    std::string name;                       // the graph's name: the layers, as typegrad prints them
    bool double_precision = false;          // tensors are float64, else float32
    std::vector<std::int64_t> input_shape;  // without the batch dimension
    std::vector<std::int64_t> output_shape;
    std::vector<OnnxNode> nodes;
    std::vector<NpyArray> initializers;  // the parameters, named as PyTorch's state_dict ("0.weight")
};

namespace detail {

/// Appends the nodes of one layer after the tensor `current`: what a layer's onnx hook is given,
/// as its template parameter Builder (layer headers do not include io/): node, add, constant,
/// tensor, integers, parameter, current, and Builder::attribute ({name, {ints…}, list, real}) for
/// attributes.
struct OnnxBuilder {
    using attribute = OnnxAttribute;
    OnnxGraph& graph;
    std::string prefix = "0";  // the layer's position in the composition ("3"), or its path inside a block ("3.body.0")
    std::string current = onnx_input;

    /// op(current, the layer's parameters...) becomes the current tensor.
    void node(const char* op, std::vector<std::string> parameters = {}, std::vector<OnnxAttribute> attributes = {}) {
        std::vector<std::string> inputs{current};
        for (std::string& p : parameters) inputs.push_back(std::move(p));
        current = add(op, op, std::move(inputs), std::move(attributes));
    }
    /// op(inputs...) as the tensor "<position>.<name>", for a layer of several nodes; the current
    /// tensor is unchanged.
    std::string add(const char* op, std::string_view name, std::vector<std::string> inputs, std::vector<OnnxAttribute> attributes = {}) {
        std::string out = cat(prefix, ".", name);
        graph.nodes.push_back({op, out, std::move(inputs), out, std::move(attributes)});
        return out;
    }
    /// A scalar constant of the graph's element type, as the initializer "<position>.<name>".
    std::string constant(const char* name, double value) { return tensor(name, {}, {value}); }
    /// A constant tensor of the graph's element type (shape, values in C order), as the
    /// initializer "<position>.<name>": attention's causal mask.
    std::string tensor(std::string_view name, std::vector<std::size_t> shape, const std::vector<double>& values) {
        std::string out = cat(prefix, ".", name);
        if (graph.double_precision) {
            graph.initializers.push_back(npy_array(out, std::move(shape), values.data(), values.size()));
        } else {
            const std::vector<float> f(values.begin(), values.end());
            graph.initializers.push_back(npy_array(out, std::move(shape), f.data(), f.size()));
        }
        return out;
    }
    /// A vector of int64, as the initializer "<position>.<name>": a Reshape's shape, a Slice's
    /// starts, ends and axes (inputs, not attributes, from opset 13).
    std::string integers(std::string_view name, const std::vector<std::int64_t>& values) {
        std::string out = cat(prefix, ".", name);
        graph.initializers.push_back(npy_int64(out, values));
        return out;
    }
    /// The initializer of this layer's parameter ("weight", "bias").
    [[nodiscard]] std::string parameter(const char* kind) const { return cat(prefix, ".", kind); }
};

/// Adds the nodes of layer L after input shape In; false when ONNX has no equivalent. Every
/// layer says it in its own header, with the hook `template <class In, class Builder> static bool
/// onnx(Builder&)` read through layer_traits<L> (nn/layer.hpp's contract; e.g.
/// nn/layers/dense.hpp), Builder being OnnxBuilder; the combinators below are walked here.
template <class L, class In>
struct onnx_layer {
    static bool add(OnnxBuilder& b) {
        if constexpr (requires { layer_traits<L>::template onnx<In>(b); }) return layer_traits<L>::template onnx<In>(b);
        else return false;
    }
};

/// Residual, Concat, BranchSum: each branch from the block's input, then Add or Concat.
template <class C, class In>
    requires is_combinator<C>::value
struct onnx_layer<C, In> {
    static bool add(OnnxBuilder& b) {
        const std::string x = b.current, prefix = b.prefix;
        std::vector<std::string> outs;
        bool complete = true;
        for_each_inner_layer<C, In>([&]<class Inner>(std::size_t branch, std::size_t position) {
            if (branch >= outs.size()) {
                outs.push_back(x);
                b.current = x;
            }
            b.prefix = cat(prefix, ".", torch_combinator<C>::path(branch), ".", position);
            complete = complete && onnx_layer<typename Inner::layer, typename Inner::input_shape>::add(b);
            outs.back() = b.current;
        });
        b.prefix = prefix;
        if (!complete) return false;
        if constexpr (requires { typename C::body; }) {  // Residual: x + body(x)
            b.current = b.add("Add", "add", {x, outs[0]});
        } else if constexpr (torch_combinator<C>::type == std::string_view("Concat")) {
            b.current = b.add("Concat", "concat", outs, {{"axis", {1}, false}});
        } else {  // BranchSum
            b.current = outs[0];
            for (std::size_t k = 1; k < outs.size(); ++k) b.current = b.add("Add", cat("add", k), {b.current, outs[k]});
        }
        return true;
    }
};

template <class S, std::size_t K>
void add_onnx_layer(OnnxBuilder& b, std::string& missing) {
    using L = typename S::template layer_at<K>;
    b.prefix = cat(K);
    if (missing.empty() && !onnx_layer<L, typename S::template shape_at<K>>::add(b))
        missing = cat("layer ", K, " (", layer_traits<L>::name(), ")");
}

template <class Shape>
std::vector<std::int64_t> onnx_dims() {
    constexpr auto e = shape_traits<Shape>::extents;
    return std::vector<std::int64_t>(e.begin(), e.end());
}

}  // namespace detail

/// The ONNX graph of net. Throws std::invalid_argument naming the first layer ONNX has no
/// equivalent for (a custom activation, PReLU).
template <AnyModel M>
OnnxGraph onnx_graph(const M& net) {
    using S = typename M::composition;
    using T = typename M::value_type;
    OnnxGraph g;
    g.name = layers_description<S>();
    g.double_precision = sizeof(T) == 8;
    g.input_shape = detail::onnx_dims<typename S::input_shape>();
    g.output_shape = detail::onnx_dims<typename S::output_shape>();
    net.for_each_parameter([&](auto ref, const auto& t) {
        using R = decltype(ref);
        constexpr auto e = shape_traits<typename R::shape>::extents;
        g.initializers.push_back(npy_array(detail::torch_parameter_name<R>(), {e.begin(), e.end()}, t.data(), t.size()));
    });
    detail::OnnxBuilder b{g};
    std::string missing;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (detail::add_onnx_layer<S, K>(b, missing), ...);
    }(std::make_index_sequence<S::depth>{});
    if (!missing.empty()) throw std::invalid_argument(cat(missing, " has no ONNX equivalent to export to"));
    // only dropout layers, or a last layer without nodes after a fork: the output is the current tensor
    if (g.nodes.empty() || g.nodes.back().output != b.current) b.node("Identity");
    g.nodes.back().output = onnx_output;
    return g;
}

}  // namespace typegrad::io
