// A trained network as an ONNX graph, described without protobuf: the nodes (one or none per
// layer, built by a function per layer type as io/export.hpp's torch_layer), the parameters as
// initializers, the input and output. Writing it as a .onnx file needs Debian's libonnx-dev and
// protobuf, and is done once, in src/io/onnx.cpp (the library typegrad_onnx, built when CMake
// finds ONNX), so that no translation unit with a network in it includes protobuf's headers.
//
// The mapping (docs/design.md, "ONNX"): opset 13; input "input" of shape [batch, n] for a
// network of vectors and [batch, C, H, W] for one of images, "batch" a symbolic dimension;
// output "output", the network's output activation. A dense layer is Gemm with typegrad's W
// (n_in, n_out) as B as it is stored (z = Wᵀa + b is, for a batch of rows A, A·W + b: transB
// = 0, nothing transposed); a convolution is Conv (weights (C_out, C_in, K, K) as stored, pads,
// strides); pooling is MaxPool/AveragePool with stride = window; flatten is Flatten (axis 1,
// C order as typegrad's); dropout, the identity at inference, adds no node. Leaky ReLU is
// LeakyRelu (alpha 0.01); SiLU is Mul(x, Sigmoid(x)) and GELU Mul(x, Mul(Add(Erf(Div(x, √2)), 1),
// ½)), opset 13 having neither as an op, with their constants as scalar initializers. Layer
// normalisation (LayerNormalization is opset 17) is ReduceMean (axes [-1], keepdims) → Sub →
// Mul (the square) → ReduceMean → Add ε → Sqrt → Div → Mul γ → Add β, γ and β the initializers
// "K.weight" and "K.bias", ε a scalar initializer of the network's element type. Batch
// normalisation is BatchNormalization (inference: the running statistics "K.running_mean" and
// "K.running_var"), epsilon 1e-5.
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
#include <numbers>
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

/// Appends the nodes of one layer after the tensor `current`.
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
    std::string constant(const char* name, double value) {
        std::string out = cat(prefix, ".", name);
        const float f = static_cast<float>(value);
        graph.initializers.push_back(graph.double_precision ? npy_array(out, {}, &value, 1) : npy_array(out, {}, &f, 1));
        return out;
    }
    /// The initializer of this layer's parameter ("weight", "bias").
    [[nodiscard]] std::string parameter(const char* kind) const { return cat(prefix, ".", kind); }
};

inline OnnxAttribute ints(const char* name, std::int64_t a, std::int64_t b) { return {name, {a, b}, true}; }

/// Adds the nodes of layer L after input shape In; false when ONNX has no equivalent. A layer
/// says it in its own header with `template <class In, class Builder> static bool onnx(Builder&)`
/// (nn/layer.hpp's contract, e.g. batch_norm: b.node(op, parameters, attributes) applies op to
/// the current tensor, b.parameter("weight") names an initializer, Builder::attribute is
/// OnnxAttribute); the specialisations below are the built-in layers that predate that hook.
template <class L, class In>
struct onnx_layer {
    static bool add(OnnxBuilder& b) {
        if constexpr (requires { L::template onnx<In>(b); }) return L::template onnx<In>(b);
        else return false;
    }
};
template <std::size_t Out, std::size_t I, class In>
struct onnx_layer<Dense<Out, I>, In> {
    static bool add(OnnxBuilder& b) {
        // Z = A·W + b for rows A (batch, n_in): typegrad's W (n_in, n_out) is Gemm's B as stored.
        b.node("Gemm", {b.parameter("weight"), b.parameter("bias")}, {{"transB", {0}, false}});
        return true;
    }
};
template <class In>
struct onnx_layer<Sigmoid, In> {
    static bool add(OnnxBuilder& b) { return b.node("Sigmoid"), true; }
};
template <class In>
struct onnx_layer<Tanh, In> {
    static bool add(OnnxBuilder& b) { return b.node("Tanh"), true; }
};
template <class In>
struct onnx_layer<Relu, In> {
    static bool add(OnnxBuilder& b) { return b.node("Relu"), true; }
};
template <class In>
struct onnx_layer<LeakyRelu, In> {
    static bool add(OnnxBuilder& b) {
        return b.node("LeakyRelu", {}, {{"alpha", {}, false, static_cast<float>(expr::fn::LeakyRelu::slope)}}), true;
    }
};
/// SiLU: x · Sigmoid(x) (opset 13 has no SiLU op).
template <class In>
struct onnx_layer<Silu, In> {
    static bool add(OnnxBuilder& b) {
        const std::string x = b.current;
        b.current = b.add("Mul", "silu", {x, b.add("Sigmoid", "sigmoid", {x})});
        return true;
    }
};
/// Exact GELU: x · ½(1 + Erf(x / √2)), node by node (Gelu is an ONNX op from opset 20 only).
template <class In>
struct onnx_layer<Gelu, In> {
    static bool add(OnnxBuilder& b) {
        const std::string x = b.current;
        const std::string erf = b.add("Erf", "erf", {b.add("Div", "scaled", {x, b.constant("sqrt2", std::numbers::sqrt2)})});
        const std::string phi = b.add("Mul", "phi", {b.add("Add", "one_plus_erf", {erf, b.constant("one", 1.0)}), b.constant("half", 0.5)});
        b.current = b.add("Mul", "gelu", {x, phi});
        return true;
    }
};
template <class In>
struct onnx_layer<Softmax, In> {
    // typegrad's softmax is over the last extent; of a vector, that is axis 1 of (batch, n).
    static bool add(OnnxBuilder& b) {
        if constexpr (rank_v<In> != 1) return false;
        b.node("Softmax", {}, {{"axis", {1}, false}});
        return true;
    }
};
template <std::size_t Co, std::size_t K, std::size_t S, std::size_t P, std::size_t Ci, class In>
struct onnx_layer<Conv2d<Co, K, S, P, Ci>, In> {
    static bool add(OnnxBuilder& b) {
        constexpr auto k = static_cast<std::int64_t>(K), s = static_cast<std::int64_t>(S), p = static_cast<std::int64_t>(P);
        b.node("Conv", {b.parameter("weight"), b.parameter("bias")},
               {ints("kernel_shape", k, k), ints("strides", s, s), {"pads", {p, p, p, p}, true}});
        return true;
    }
};
template <expr::Pooling Kind, std::size_t K, class In>
struct onnx_layer<Pool<Kind, K>, In> {
    static bool add(OnnxBuilder& b) {
        constexpr auto k = static_cast<std::int64_t>(K);
        b.node(Kind == expr::Pooling::max ? "MaxPool" : "AveragePool", {}, {ints("kernel_shape", k, k), ints("strides", k, k)});
        return true;
    }
};
template <class In>
struct onnx_layer<Flatten, In> {
    static bool add(OnnxBuilder& b) { return b.node("Flatten", {}, {{"axis", {1}, false}}), true; }
};
template <auto Rate, class In>
struct onnx_layer<Dropout<Rate>, In> {
    static bool add(OnnxBuilder&) { return true; }  // the identity at inference
};
/// Layer normalisation over the features, node by node (LayerNormalization is an ONNX op from
/// opset 17 only): d = x − ReduceMean(x), y = d / Sqrt(ReduceMean(d · d) + ε) · γ + β, the means
/// over the last axis kept as (batch, 1) and broadcast back, ε a scalar of the graph's type.
template <class In>
struct onnx_layer<LayerNorm, In> {
    static bool add(OnnxBuilder& b) {
        if constexpr (rank_v<In> != 1) return false;
        const OnnxAttribute axes{"axes", {-1}, true}, keepdims{"keepdims", {1}, false};
        const std::string x = b.current;
        const std::string d = b.add("Sub", "centred", {x, b.add("ReduceMean", "mean", {x}, {axes, keepdims})});
        const std::string variance = b.add("ReduceMean", "variance", {b.add("Mul", "squared", {d, d})}, {axes, keepdims});
        const std::string sd = b.add("Sqrt", "std", {b.add("Add", "variance_eps", {variance, b.constant("eps", LayerNorm::epsilon)})});
        const std::string scaled = b.add("Mul", "scaled", {b.add("Div", "normalised", {d, sd}), b.parameter("weight")});
        b.current = b.add("Add", "layer_norm", {scaled, b.parameter("bias")});
        return true;
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
