// The text form of a network on the command line (--net SPEC): the input, then each layer, joined
// by '-':
//
//   spec       := "lenet" | input ( "-" layer )+
//   input      := WIDTH | C "x" H "x" W                    a vector, or an image (1x28x28)
//   layer      := WIDTH [ ":" activation ]                  a dense layer of WIDTH units
//               | "conv" C "k" K [ "s" S ] [ "p" P ] [ ":" activation ]
//                                                           C output channels, K × K kernel, stride S
//                                                           (default 1), zero padding P (default 0)
//               | "maxpool" K | "avgpool" K                 K × K pooling, stride K
//               | "dropout" RATE                            inverted dropout, RATE in [0, 1)
//               | "flatten"                                 implied before a dense layer after an image
//               | "layernorm"                               layer normalisation over the features of a
//                                                           vector (nn.LayerNorm(n), ε = 1e-5, γ and β
//                                                           learnt); after a vector only
//               | "batchnorm"                               batch normalisation per feature (vector,
//                                                           nn.BatchNorm1d) or channel (image,
//                                                           BatchNorm2d) over the whole mini-batch,
//                                                           running statistics in evaluation
//               | activation                                on its own, but linear ("784-64-gelu-10")
//               | "res(" layers ")"                          a residual block y = x + body(x): its output
//                                                           shape must equal its input's
//               | "cat(" layers ( "|" layers )+ ")"         branches on the same input, concatenated
//                                                           along the features (vectors) or the
//                                                           channels (images, of equal H × W)
//   layers     := layer ( "-" layer )*                      inside a block: '-' and '|' split at
//                                                           the block's own depth; blocks nest
//   activation := "sigmoid" | "tanh" | "relu" | "gelu" | "silu" | "leakyrelu" | "softmax" | "linear"
//                                                           (none: sigmoid after a dense layer, linear
//                                                           after a convolution; linear: no activation;
//                                                           gelu: exact, with erf; leakyrelu: slope 0.01)
//
// so "784-30-10" is the article's network, "784-100:tanh-10:softmax" a tanh hidden layer with a
// softmax output, and LeNet-5 is
// "1x28x28-conv6k5p2:relu-maxpool2-conv16k5:relu-maxpool2-120:relu-84:relu-10:softmax" (also
// spelled "lenet"). Specs are compared in canonical form: a layer's default activation (":sigmoid" after a dense
// layer, ":linear" after a convolution), "s1", "p0" and an implied
// "flatten" dropped, numbers without leading zeros ("784-30:sigmoid-010" is "784-30-10").
//
// Inside a block a dense layer after an image still implies a flatten, as at the top level, so
// a res(…) body on an image holds convolutions, pools and activations only (a flatten would
// change its shape). A body that changes the shape, or cat branches of images of different
// heights and widths, are refused when parsed, in one line naming the shapes, before any compile:
// "'res(64:relu-32)' changes the shape: its input is 64, its output 32 (a residual block must keep
// it)". A block counts as one layer of the composition (one width, one position with parameters:
// its inner layers' in order), and its inner layers count toward SpecLimits as every other layer.
//
// The layers and activations above are not listed here: each is a word its own header declares and
// registers (typegrad/nn/spec.hpp: keyword, arguments, C++ name, shape and limits), and this
// grammar reads the registry, so a header of the user's that registers a word (tests/nn/prelu.hpp:
// "prelu") makes its layer a --net layer with no change here. What stays here is the grammar: the
// input, '-', ':ACT' ("linear": none), res(…), cat(…|…), and the implied flatten.
//
// A spec is also a C++ layer composition (cpp_layers): the one a compiled-on-first-use network
// is built from (jit.hpp), and what a checkpoint's layer description reads back as.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/nn/spec.hpp"

namespace typegrad::cli {

/// One layer of a spec: a word of the grammar (a layer or an activation, as its header declares
/// it, typegrad/nn/spec.hpp) with its arguments, or a block of layers.
struct LayerSpec {
    enum class Kind { word, residual, concat };
    Kind kind = Kind::word;
    const spec::Word* word = nullptr;  // Kind::word: which layer or activation
    spec::Values values;               // its arguments ("conv6k5": 6, 5, 1, 0)
    std::vector<std::vector<LayerSpec>> branches;  // residual: its body; concat: two or more branches
    bool operator==(const LayerSpec&) const = default;
    /// Whether this is the activation `keyword` ("softmax").
    [[nodiscard]] bool is_activation(std::string_view keyword) const {
        return word != nullptr && word->role == spec::Word::Role::activation && word->keyword == keyword;
    }
};

/// A network as a list of layers after an input shape (one extent: a vector; three: C, H, W).
struct NetworkSpec {
    std::vector<std::size_t> input;
    bool tokens = false;  // seqT: the input is T token ids (its first layer an embedding)
    std::vector<LayerSpec> layers;
    bool operator==(const NetworkSpec&) const = default;
};

/// Parses a --net spec; on failure returns an empty spec and sets `error` to one line saying
/// what is wrong ("'784-30-' is not a network: layer 2 is empty (expected …)").
[[nodiscard]] NetworkSpec parse_network(const std::string& text, std::string& error);

/// Reads a layer description as a checkpoint holds it ("input<784> | dense<30> | σ | …", see
/// layers_description); an empty spec and `error` set when it is not one typegrad can rebuild.
[[nodiscard]] NetworkSpec parse_layers_description(const std::string& text, std::string& error);

/// Whether the network reads text (a seqT input): its vocabulary comes from the data.
[[nodiscard]] inline bool reads_text(const NetworkSpec& spec) { return spec.tokens; }
/// Sets the vocabulary's size V in every word that holds it (embedD's embedding<V, D>, a "vocab"
/// width): before its shapes are checked and its C++ is written.
void bind_vocabulary(NetworkSpec& spec, std::size_t vocabulary);
/// The vocabulary a spec is bound to (0: none yet, or no text network).
[[nodiscard]] std::size_t bound_vocabulary(const NetworkSpec& spec);

/// The canonical spec text: "784-100:tanh-10:softmax", "lenet" for LeNet-5.
[[nodiscard]] std::string spec_text(const NetworkSpec& spec);

/// The C++ composition: "input<784> | dense<100> | tanh_ | dense<10> | softmax"; blocks as
/// "residual(dense<64> | relu | dense<64>)", "concat(dense<32> | relu, dense<16> | tanh_)".
[[nodiscard]] std::string cpp_layers(const NetworkSpec& spec);

/// The canonical form of a network spec, or "" with `error` set to one line saying what is wrong
/// when `text` is not one.
[[nodiscard]] std::string canonical_network(const std::string& text, std::string& error);

/// What a spec computes to, without compiling it: the widths after each layer (widths[0] is the
/// input's, as Sequential::widths), the positions of the layers with parameters, the element
/// count of every parameter tensor in checkpoint order (a dense layer: W then b; a convolution:
/// its kernels then its biases; layernorm: γ then β), and their sum. `error` is set, and the rest incomplete, when a
/// layer does not fit its input (the compile would report it too).
struct SpecShapes {
    std::vector<std::uint64_t> widths;
    std::vector<std::uint64_t> parameter_layers;
    std::vector<std::uint64_t> parameter_sizes;
    std::uint64_t parameters = 0;
    std::uint64_t largest = 0;   // the most elements per example of any layer's output, inner layers' too
    std::string error;
    bool refused = false;        // `error` is a block's shape (res, cat), which parse_network refuses
};
[[nodiscard]] SpecShapes infer_shapes(const NetworkSpec& spec);

/// What typegrad compiles on first use (README "Limits"; typegrad/nn/spec.hpp).
using SpecLimits = spec::limits;

/// Whether the spec has a convolution, inside a block or not (the default η is 0.05 then).
[[nodiscard]] bool has_convolution(const NetworkSpec& spec);
/// Whether a network has batch norm (in a block too): it then trains on whole mini-batches.
[[nodiscard]] bool uses_batch_norm(const NetworkSpec& spec);

/// "" if the spec is within SpecLimits (a block's inner layers counted as every other); else one line saying which limit it exceeds, e.g.
/// "41 layers, more than the 40 typegrad compiles".
[[nodiscard]] std::string limits_error(const NetworkSpec& spec);

/// LeNet-5 in the spec grammar (the menu's "lenet").
inline constexpr const char* lenet_spec =
    "1x28x28-conv6k5p2:relu-maxpool2-conv16k5:relu-maxpool2-120:relu-84:relu-10:softmax";

}  // namespace typegrad::cli
