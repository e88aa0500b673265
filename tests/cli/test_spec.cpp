// --net specs (src/cli/spec.hpp): the grammar, the canonical form, the C++ composition, and the
// round trip through a checkpoint's layer description, which is how a checkpoint of a network
// compiled on first use finds its network again.
#include <catch2/catch.hpp>

#include <string>

#include "menu.hpp"
#include "spec.hpp"

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
    CHECK(spec_of_description<M>() == "3x12x12-conv4k3p1:tanh-avgpool2-dropout0.25-conv2k3s2:linear-maxpool1-5:softmax");
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
