// --net specs (src/cli/spec.hpp): the grammar, the canonical form, the C++ composition, and the
// round trip through a checkpoint's layer description, which is how a checkpoint of a network
// compiled on first use finds its network again.
#include <catch2/catch.hpp>

#include <string>

#include "menu.hpp"
#include "typegrad/nn/graph.hpp"
#include "spec.hpp"
#include "spec_checks.hpp"

using namespace typegrad;
using namespace typegrad::cli;

namespace {
std::string canonical(const std::string& text) {
    std::string error;
    const std::string c = canonical_network(text, error);
    INFO(error);
    CHECK((c.empty() != error.empty()));
    return c;
}
std::string error_of(const std::string& text) {
    std::string error;
    const std::string c = canonical_network(text, error);
    CHECK(c.empty());
    return error;
}
/// The spec the checkpoint of model M reads back as.
template <class M>
std::string spec_of_description() {
    std::string error;
    const NetworkSpec s = parse_layers_description(layers_description<typename M::composition>(), error);
    INFO(layers_description<typename M::composition>() << ": " << error);
    CHECK(error.empty());
    return spec_text(s);
}
}  // namespace

TEST_CASE("specs: canonical forms", "[spec]") {
    CHECK(canonical("784-30-10") == "784-30-10");
    CHECK(canonical("784-30:sigmoid-010") == "784-30-10");
    CHECK(canonical("784-100:tanh-10:softmax") == "784-100:tanh-10:softmax");
    CHECK(canonical("784-100:relu-10:linear") == "784-100:relu-10:linear");
    CHECK(canonical("784-100:linear-relu-10:softmax") == "784-100:relu-10:softmax");  // the same layers
    CHECK(canonical("784-100:linear-tanh-relu-10") == "784-100:tanh-relu-10");
    CHECK(canonical("784-100:relu-dropout0.50-10:softmax") == "784-100:relu-dropout0.5-10:softmax");
    CHECK(canonical("1x28x28-conv6k5s1p0:relu-maxpool2-flatten-10:softmax") == "1x28x28-conv6k5:relu-maxpool2-10:softmax");
    CHECK(canonical("1x28x28-conv6k3s2p1-avgpool2-flatten") == "1x28x28-conv6k3s2p1-avgpool2-flatten");
    CHECK(canonical("784-flatten-10") == "784-flatten-10");  // not implied: the input is a vector
    // without ':ACT' a dense layer has the article's σ, a convolution none (PyTorch's Conv2d; issue 20)
    CHECK(canonical("1x8x8-conv2k3:linear-conv2k3:sigmoid-10:sigmoid") == "1x8x8-conv2k3-conv2k3:sigmoid-10");
    CHECK(canonical(lenet_spec) == "lenet");
    CHECK(canonical("lenet") == "lenet");
}

TEST_CASE("specs: what is wrong, in one line", "[spec]") {
    CHECK_THAT(error_of("784"), Catch::Contains("it needs an input and at least one layer"));
    CHECK_THAT(error_of("784-30-"), Catch::Contains("layer 2 is empty"));
    CHECK_THAT(error_of("784:relu-10"), Catch::Contains("the input takes no activation"));
    CHECK_THAT(error_of("28x28-10"), Catch::Contains("the input '28x28' is not WIDTH or CxHxW"));
    CHECK_THAT(error_of("784-0-10"), Catch::Contains("'0' is not a width"));
    CHECK_THAT(error_of("784-12345678-10"), Catch::Contains("'12345678' is not a width"));
    CHECK_THAT(error_of("784-30:swish-10"), Catch::Contains("unknown activation 'swish'"));
    CHECK_THAT(error_of("1x28x28-conv6-10"), Catch::Contains("'conv6' is not a convolution convCkK[sS][pP]"));
    CHECK_THAT(error_of("1x28x28-conv6k5q1-10"), Catch::Contains("'conv6k5q1' is not a convolution"));
    CHECK_THAT(error_of("1x28x28-maxpool-10"), Catch::Contains("'maxpool' is not a pooling"));
    CHECK_THAT(error_of("1x28x28-maxpool2:relu-10"), Catch::Contains("only dense and conv layers take an activation"));
    CHECK_THAT(error_of("784-dropout1-10"), Catch::Contains("'dropout1' is not dropoutRATE with RATE in [0, 1)"));
    CHECK_THAT(error_of("784-dropout0.1234567-10"), Catch::Contains("at most 6 significant digits"));
    CHECK_THAT(error_of("784-relu:tanh-10"), Catch::Contains("the activation 'relu' takes no activation"));
    CHECK_THAT(error_of("784-lstm-10"), Catch::Contains("unknown layer 'lstm'"));
    CHECK_THAT(error_of("784-30--10"), Catch::Contains("layer 2 is empty"));
}

TEST_CASE("specs: the C++ composition", "[spec]") {
    std::string error;
    CHECK(cpp_layers(parse_network("784-100:tanh-10:softmax", error)) ==
          "input<784> | dense<100> | tanh_ | dense<10> | softmax");
    CHECK(cpp_layers(parse_network("784-30-10:linear", error)) == "input<784> | dense<30> | sigmoid | dense<10>");
    CHECK(cpp_layers(parse_network("1x8x8-conv2k3-10", error)) == "input<1, 8, 8> | conv2d<2, 3, 1, 0> | flatten | dense<10> | sigmoid");
    CHECK(cpp_layers(parse_network("1x28x28-conv6k3s2p1:relu-avgpool2-dropout0.25-10", error)) ==
          "input<1, 28, 28> | conv2d<6, 3, 2, 1> | relu | avg_pool<2> | dropout<0.25> | flatten | dense<10> | sigmoid");
    CHECK(error.empty());
}

TEST_CASE("specs: a checkpoint's layer description reads back as the menu's name", "[spec]") {
    CHECK(spec_of_description<shape<784, 30, 10>::network<float>>() == "784-30-10");
    CHECK(spec_of_description<shape<784, 60, 30, 10>::network<float>>() == "784-60-30-10");
    CHECK(spec_of_description<relu_classifier::network<float>>() == "784-100:relu-10:softmax");
    CHECK(spec_of_description<lenet::network<float>>() == "lenet");
    // and a description with every kind of layer, written as typegrad writes it
    constexpr auto layers = input<3, 12, 12> | conv2d<4, 3, 1, 1> | tanh_ | avg_pool<2> | dropout<0.25> | conv2d<2, 3, 2, 0> |
                            max_pool<1> | flatten | dense<5> | softmax;
    using M = Model<double, std::remove_const_t<decltype(layers)>, cost::LogLikelihood>;
    CHECK(spec_of_description<M>() == "3x12x12-conv4k3p1:tanh-avgpool2-dropout0.25-conv2k3s2-maxpool1-5:softmax");
    std::string error;
    CHECK(cpp_layers(parse_network(spec_of_description<M>(), error)) ==
          "input<3, 12, 12> | conv2d<4, 3, 1, 1> | tanh_ | avg_pool<2> | dropout<0.25> | conv2d<2, 3, 2, 0> | max_pool<1> | "
          "flatten | dense<5> | softmax");
}

TEST_CASE("specs: descriptions typegrad cannot rebuild are named", "[spec]") {
    std::string error;
    CHECK(parse_layers_description("input<784> | dense<30> | softplus | dense<10>", error).layers.empty());
    CHECK_THAT(error, Catch::Contains("the layer 'softplus' has no --net spec"));
    CHECK(parse_layers_description("output<784> | dense<30>", error).layers.empty());
    CHECK_THAT(error, Catch::Contains("is not an input layer"));
    CHECK(parse_layers_description("input<784> | dense<30> | conv2d<1, 2, 3>", error).layers.empty());
    CHECK_THAT(error, Catch::Contains("the layer 'conv2d<1, 2, 3>' has no --net spec"));
}

TEST_CASE("specs: gelu, silu and leakyrelu, after ':' and on their own (issue 19)", "[spec]") {
    CHECK(canonical("784-64:gelu-10:softmax") == "784-64:gelu-10:softmax");
    CHECK(canonical("784-64:linear-gelu-10") == "784-64:gelu-10");
    CHECK(canonical("784-64-gelu-10") == "784-64-gelu-10");  // a sigmoid, then a gelu
    CHECK(canonical("784-32:silu-16:leakyrelu-10:softmax") == "784-32:silu-16:leakyrelu-10:softmax");
    CHECK(canonical("1x28x28-conv4k3p1:leakyrelu-silu-maxpool2-10:gelu") == "1x28x28-conv4k3p1:leakyrelu-silu-maxpool2-10:gelu");
    CHECK_THAT(error_of("784-30:leaky_relu-10"), Catch::Contains("unknown activation 'leaky_relu' (sigmoid, tanh, relu, gelu, silu, leakyrelu"));
    CHECK_THAT(error_of("784-gelu:silu-10"), Catch::Contains("the activation 'gelu' takes no activation"));
    std::string error;
    CHECK(cpp_layers(parse_network("784-64:gelu-32:silu-16:leakyrelu-10:softmax", error)) ==
          "input<784> | dense<64> | gelu | dense<32> | silu | dense<16> | leaky_relu | dense<10> | softmax");
    CHECK(cpp_layers(parse_network("784-64:linear-gelu-silu-leakyrelu-10", error)) ==
          "input<784> | dense<64> | gelu | silu | leaky_relu | dense<10> | sigmoid");
    CHECK(error.empty());
    // the checkpoint's layer description (the layers' own names) reads back as the spec
    constexpr auto layers = input<1, 8, 8> | conv2d<2, 3, 1, 1> | gelu | max_pool<2> | leaky_relu | flatten | dense<5> | silu | dense<3> | softmax;
    using M = Model<double, std::remove_const_t<decltype(layers)>, cost::LogLikelihood>;
    CHECK(layers_description<M::composition>() ==
          "input<1, 8, 8> | conv2d<2, 3, 1, 1> | gelu | max_pool<2> | leaky_relu | flatten | dense<5> | silu | dense<3> | softmax");
    CHECK(spec_of_description<M>() == "1x8x8-conv2k3p1:gelu-maxpool2-leakyrelu-5:silu-3:softmax");
    CHECK(cpp_layers(parse_network(spec_of_description<M>(), error)) ==
          "input<1, 8, 8> | conv2d<2, 3, 1, 1> | gelu | max_pool<2> | leaky_relu | flatten | dense<5> | silu | dense<3> | softmax");
    CHECK(error.empty());
}

// --- issue 19, item 6: res(…) and cat(…) ------------------------------------------------------

namespace {
std::string cpp_of(const std::string& text) {
    std::string error;
    const std::string c = cpp_layers(parse_network(text, error));
    INFO(error);
    CHECK(error.empty());
    return c;
}
SpecShapes shapes_of(const std::string& text) {
    std::string error;
    const NetworkSpec s = parse_network(text, error);
    INFO(error);
    CHECK(error.empty());
    return infer_shapes(s);
}
}  // namespace

TEST_CASE("specs: residual blocks and concatenations, canonical forms (issue 19)", "[spec]") {
    CHECK(canonical("784-64:relu-res(64:relu-64:linear)-relu-10:softmax") == "784-64:relu-res(64:relu-64:linear)-relu-10:softmax");
    CHECK(canonical("784-cat(32:relu|16:tanh)-10:softmax") == "784-cat(32:relu|16:tanh)-10:softmax");
    CHECK(canonical("1x28x28-conv8k3p1:relu-res(conv8k3s1p1:relu-conv8k3p1:linear)-relu-maxpool2-10:softmax") ==
          "1x28x28-conv8k3p1:relu-res(conv8k3p1:relu-conv8k3p1)-relu-maxpool2-10:softmax");
    CHECK(canonical("1x28x28-cat(conv4k3p1:relu|conv4k5p2:relu)-maxpool2-10:softmax") ==
          "1x28x28-cat(conv4k3p1:relu|conv4k5p2:relu)-maxpool2-10:softmax");
    CHECK(canonical("784-64-res(064:sigmoid-64:linear)-10") == "784-64-res(64-64:linear)-10");
    // nested, three branches, a dense layer after an image inside a branch flattens it there
    CHECK(canonical("784-32-res(res(32:tanh-32:linear)-relu)-cat(8|res(32:linear)|4:relu-dropout0.5)-10") ==
          "784-32-res(res(32:tanh-32:linear)-relu)-cat(8|res(32:linear)|4:relu-dropout0.5)-10");
    CHECK(canonical("1x8x8-cat(10|flatten-5)-10") == "1x8x8-cat(10|5)-10");  // implied in a branch too
    CHECK(canonical("1x8x8-cat(conv2k3p1:linear|maxpool1)-10") == "1x8x8-cat(conv2k3p1|maxpool1)-10");
}

TEST_CASE("specs: residual blocks and concatenations as C++ (issue 19)", "[spec]") {
    CHECK(cpp_of("784-64:relu-res(64:relu-64:linear)-relu-10:softmax") ==
          "input<784> | dense<64> | relu | residual(dense<64> | relu | dense<64>) | relu | dense<10> | softmax");
    CHECK(cpp_of("784-cat(32:relu|16:tanh)-10:softmax") == "input<784> | concat(dense<32> | relu, dense<16> | tanh_) | dense<10> | softmax");
    CHECK(cpp_of("1x8x8-cat(10:relu|flatten-4)-10") ==
          "input<1, 8, 8> | concat(flatten | dense<10> | relu, flatten | dense<4> | sigmoid) | dense<10> | sigmoid");
    CHECK(cpp_of("1x8x8-cat(conv2k3p1:relu|conv1k1:linear)-10") ==
          "input<1, 8, 8> | concat(conv2d<2, 3, 1, 1> | relu, conv2d<1, 1, 1, 0>) | flatten | dense<10> | sigmoid");
    CHECK(cpp_of("784-res(res(784:tanh))-10") == "input<784> | residual(residual(dense<784> | tanh_)) | dense<10> | sigmoid");
}

TEST_CASE("specs: blocks that do not fit, and malformed blocks, in one line (issue 19)", "[spec]") {
    CHECK(error_of("784-64:relu-res(64:relu-32)-10") ==
          "'res(64:relu-32)' changes the shape: its input is 64, its output 32 (a residual block must keep it)");
    CHECK(error_of("1x8x8-res(conv2k3p1)-10") ==
          "'res(conv2k3p1)' changes the shape: its input is 1x8x8, its output 2x8x8 (a residual block must keep it)");
    CHECK(error_of("1x8x8-res(10)-10") == "'res(10)' changes the shape: its input is 1x8x8, its output 10 (a residual block must keep it)");
    CHECK(error_of("1x8x8-cat(conv2k3|conv2k3p1)-10") ==
          "'cat(conv2k3|conv2k3p1)' joins branches of different shapes: 2x6x6 and 2x8x8 (a concatenation joins vectors, or images "
          "of the same height and width)");
    CHECK_THAT(error_of("1x8x8-cat(conv2k3p1|10)-10"), Catch::Contains("joins branches of different shapes: 2x8x8 and 10"));
    CHECK_THAT(error_of("784-res(32-res(16)-32)-10"), Catch::Contains("'res(16)' changes the shape: its input is 32, its output 16"));
    CHECK_THAT(error_of("784-res()-10"), Catch::Contains("'res()' is empty: a residual block needs at least one layer"));
    CHECK_THAT(error_of("784-cat(32)-10"), Catch::Contains("'cat(32)' has one branch: a concatenation needs two or more, joined by '|'"));
    CHECK_THAT(error_of("784-cat()-10"), Catch::Contains("'cat()' has one branch"));
    CHECK_THAT(error_of("784-res(64-10"), Catch::Contains("unbalanced parentheses: a '(' is not closed"));
    CHECK_THAT(error_of("784-res(64))-10"), Catch::Contains("unbalanced parentheses: a ')' closes nothing"));
    CHECK_THAT(error_of("784-cat(32|)-10"), Catch::Contains("branch 2 of 'cat(32|)' is empty"));
    CHECK_THAT(error_of("784-res(64--64)-10"), Catch::Contains("layer 2 of 'res(64--64)' is empty"));
    CHECK_THAT(error_of("784-res(64|64)-10"), Catch::Contains("'res(64|64)' has branches"));
    CHECK_THAT(error_of("784-32|16-10"), Catch::Contains("'|' joins the branches of cat(LAYERS|LAYERS…) only"));
    CHECK_THAT(error_of("784-res(784):relu-10"), Catch::Contains("only dense and conv layers take an activation, not 'res(784)'"));
    CHECK_THAT(error_of("784-res(784)x-10"), Catch::Contains("'res(784)x' goes on after its closing parenthesis"));
    CHECK_THAT(error_of("784-block(784)-10"), Catch::Contains("unknown layer 'block(784)' (the blocks are res(LAYERS) and cat("));
    CHECK_THAT(error_of("784-res(64:swish)-10"), Catch::Contains("unknown activation 'swish'"));
    // the limits count the layers inside blocks
    std::string deep = "784";
    for (int i = 0; i < 9; ++i) deep += "-res(784:relu-784:linear)";
    CHECK_THAT(error_of(deep + "-10"), Catch::Contains("19 dense and conv layers, more than the 16"));
    std::string relus;
    for (int i = 0; i < 40; ++i) relus += "relu-";
    CHECK_THAT(error_of("784-res(" + relus + "relu)-10"), Catch::Contains("more than 40 layers (activations included)"));
    CHECK_THAT(error_of("784-cat(10|res(" + relus + "relu))-10"), Catch::Contains("more than 40 layers (activations included)"));
    CHECK_THAT(error_of("1x512x64-cat(conv512k3p1|conv512k3p1)-10"), Catch::Contains("elements per example"));
}

TEST_CASE("specs: what a block computes to without compiling it (issue 19)", "[spec]") {
    // a block is one layer of the composition, its parameters its inner layers', in order
    const SpecShapes r = shapes_of("784-64:relu-res(64:relu-64:linear)-relu-10:softmax");
    CHECK(r.error.empty());
    CHECK(r.widths == std::vector<std::uint64_t>{784, 64, 64, 64, 64, 10, 10});
    CHECK(r.parameter_layers == std::vector<std::uint64_t>{0, 2, 4});
    CHECK(r.parameter_sizes == std::vector<std::uint64_t>{784 * 64, 64, 64 * 64, 64, 64 * 64, 64, 64 * 10, 10});
    const SpecShapes c = shapes_of("1x28x28-cat(conv4k3p1:relu|conv4k5p2:relu|maxpool1)-maxpool2-10:softmax");
    CHECK(c.widths == std::vector<std::uint64_t>{784, 9 * 784, 9 * 196, 9 * 196, 10, 10});  // flatten implied
    CHECK(c.parameter_layers == std::vector<std::uint64_t>{0, 3});
    CHECK(c.parameter_sizes == std::vector<std::uint64_t>{4 * 9, 4, 4 * 25, 4, 9 * 196 * 10, 10});
    CHECK(shapes_of("784-cat(32:relu|16:tanh)-10:softmax").widths == std::vector<std::uint64_t>{784, 48, 10, 10});
}

namespace {
constexpr auto residual_layers = input<6> | dense<5> | tanh_ | residual(dense<5> | relu | dense<5>) | sigmoid |
                                 concat(dense<4> | tanh_, dense<3> | leaky_relu, residual(dense<5>)) | dense<3> | softmax;
using ResidualModel = Model<double, std::remove_const_t<decltype(residual_layers)>, cost::LogLikelihood>;
constexpr auto image_layers = input<1, 8, 8> | conv2d<2, 3, 1, 1> | relu | residual(conv2d<2, 3, 1, 1> | gelu | conv2d<2, 1>) |
                              concat(conv2d<2, 3, 1, 1> | relu, max_pool<1>) | max_pool<2> | flatten | dense<3> | softmax;
using ImageModel = Model<double, std::remove_const_t<decltype(image_layers)>, cost::LogLikelihood>;

/// The spec of M's checkpoint has M's shapes, and compiles to what its canonical text does.
template <class M>
void check_shapes_of() {
    const NetworkSpec spec = test::spec_with_shapes_of<M>();
    CHECK(cpp_layers(spec) == cpp_of(spec_text(spec)));
}
}  // namespace

TEST_CASE("specs: a checkpoint's description of blocks reads back, with the model's shapes (issue 19)", "[spec]") {
    CHECK(layers_description<ResidualModel::composition>() ==
          "input<6> | dense<5> | tanh | residual(dense<5> | relu | dense<5>) | σ | concat(dense<4> | tanh, dense<3> | leaky_relu, "
          "residual(dense<5>)) | dense<3> | softmax");
    CHECK(spec_of_description<ResidualModel>() == "6-5:tanh-res(5:relu-5:linear)-sigmoid-cat(4:tanh|3:leakyrelu|res(5:linear))-3:softmax");
    CHECK(spec_of_description<ImageModel>() ==
          "1x8x8-conv2k3p1:relu-res(conv2k3p1:gelu-conv2k1)-cat(conv2k3p1:relu|maxpool1)-maxpool2-3:softmax");
    // the spec's shapes are the type's (what a checkpoint records and is checked against)
    check_shapes_of<ResidualModel>();
    check_shapes_of<ImageModel>();
    std::string error;
    CHECK(parse_layers_description("input<4> | residual(dense<4> | prelu) | dense<2>", error).layers.empty());
    CHECK_THAT(error, Catch::Contains("the layer 'residual(dense<4> | prelu)' has no --net spec"));
    CHECK(parse_layers_description("input<4> | concat(dense<4>) | dense<2>", error).layers.empty());
    CHECK_THAT(error, Catch::Contains("has no --net spec"));
    CHECK(parse_layers_description("input<4> | branch_sum(dense<4>, dense<4>) | dense<2>", error).layers.empty());
    CHECK_THAT(error, Catch::Contains("has no --net spec"));
}

// --- issue 19, items 3 and 6: layernorm -------------------------------------------------------

namespace {
constexpr auto norm_layers = input<6> | dense<5> | layer_norm | gelu | residual(layer_norm | dense<5> | relu) |
                             concat(layer_norm, dense<2>) | dense<3> | softmax;
using NormModel = Model<double, std::remove_const_t<decltype(norm_layers)>, cost::LogLikelihood>;
}  // namespace

TEST_CASE("specs: layernorm, a layer with parameters after a vector (issue 19)", "[spec]") {
    CHECK(canonical("784-64:relu-res(layernorm-64:gelu-64:linear)-10:softmax") ==
          "784-64:relu-res(layernorm-64:gelu-64:linear)-10:softmax");
    CHECK(canonical("784-64:linear-layernorm-gelu-10:softmax") == "784-64:linear-layernorm-gelu-10:softmax");
    CHECK(canonical("784-layernorm-10") == "784-layernorm-10");
    CHECK(canonical("1x8x8-flatten-layernorm-10") == "1x8x8-flatten-layernorm-10");  // the flatten is not implied
    CHECK(canonical("1x8x8-cat(10|4:linear-layernorm)-layernorm-10") == "1x8x8-cat(10|4:linear-layernorm)-layernorm-10");
    CHECK(cpp_of("784-64:relu-res(layernorm-64:gelu-64:linear)-10:softmax") ==
          "input<784> | dense<64> | relu | residual(layer_norm | dense<64> | gelu | dense<64>) | dense<10> | softmax");
    CHECK(cpp_of("784-32:linear-layernorm-10") == "input<784> | dense<32> | layer_norm | dense<10> | sigmoid");
    // γ then β, n each; the width unchanged; a position with parameters
    const SpecShapes s = shapes_of("784-32:linear-layernorm-relu-10:softmax");
    CHECK(s.error.empty());
    CHECK(s.widths == std::vector<std::uint64_t>{784, 32, 32, 32, 10, 10});
    CHECK(s.parameter_layers == std::vector<std::uint64_t>{0, 1, 3});
    CHECK(s.parameter_sizes == std::vector<std::uint64_t>{784 * 32, 32, 32, 32, 32 * 10, 10});
    CHECK(s.parameters == 784 * 32 + 32 + 64 + 320 + 10);
    const SpecShapes r = shapes_of("784-16:relu-res(layernorm-16:linear)-10");
    CHECK(r.parameter_layers == std::vector<std::uint64_t>{0, 2, 3});
    CHECK(r.parameter_sizes == std::vector<std::uint64_t>{784 * 16, 16, 16, 16, 16 * 16, 16, 16 * 10, 10});
    // the checkpoint's layer name reads back, with the type's shapes
    CHECK(layers_description<NormModel::composition>() ==
          "input<6> | dense<5> | layer_norm | gelu | residual(layer_norm | dense<5> | relu) | concat(layer_norm, dense<2>) | dense<3> | "
          "softmax");
    CHECK(spec_of_description<NormModel>() == "6-5:linear-layernorm-gelu-res(layernorm-5:relu)-cat(layernorm|2:linear)-3:softmax");
    check_shapes_of<NormModel>();
    // and every other built-in layer's word agrees with its type: strided conv, batch norm of an
    // image and of a vector, average pooling, dropout, SiLU, σ
    constexpr auto other_layers = input<2, 9, 9> | conv2d<3, 3, 2, 1> | batch_norm | silu | avg_pool<5> | dropout<0.25> | flatten |
                                  dense<4> | batch_norm | sigmoid | dense<2> | softmax;
    using OtherModel = Model<double, std::remove_const_t<decltype(other_layers)>, cost::LogLikelihood>;
    check_shapes_of<OtherModel>();
    CHECK(spec_of_description<OtherModel>() == "2x9x9-conv3k3s2p1-batchnorm-silu-avgpool5-dropout0.25-4:linear-batchnorm-sigmoid-2:softmax");
    // after an image: refused when parsed, in one line, as the layer's static_assert would in a page
    for (const char* image : {"1x28x28-layernorm-10", "1x28x28-conv4k3:relu-layernorm-10", "1x8x8-res(conv1k3p1-layernorm)-10",
                              "1x8x8-cat(layernorm|10)-10", "1x8x8-res(layernorm)-10"})
        CHECK_THAT(error_of(image), Catch::Contains("layernorm takes a vector, not an image (put a dense layer, or flatten, before it)"));
    CHECK_THAT(error_of("784-layernorm:relu-10"), Catch::Contains("only dense and conv layers take an activation, not 'layernorm'"));
    CHECK_THAT(error_of("784-layernorm5-10"), Catch::Contains("unknown layer 'layernorm5'"));
    // a layer of the limits' count (not a dense or conv layer)
    std::string norms;
    for (int i = 0; i < 41; ++i) norms += "-layernorm";
    CHECK_THAT(error_of("784" + norms), Catch::Contains("more than 40 layers"));
    CHECK(canonical("784" + norms.substr(10)) == "784" + norms.substr(10));
}
