// io::onnx_graph (include/typegrad/io/onnx.hpp): the graph a network becomes, layer by layer,
// for the layers the CLI's menu does not reach (tanh, avg_pool, dropout, a stride, double) and
// the refusal of a layer ONNX has no op for. That the graph computes what typegrad computes is
// checked end to end by cli.export_to_onnx (onnx.checker and a numpy interpreter).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/io/onnx.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "../support/softplus.hpp"

namespace {

using namespace typegrad;
using Ints = std::vector<std::int64_t>;

std::vector<std::string> op_types(const io::OnnxGraph& g) {
    std::vector<std::string> ops;
    for (const auto& n : g.nodes) ops.push_back(n.op_type);
    return ops;
}

const io::OnnxAttribute& attribute(const io::OnnxNode& n, std::string_view name) {
    for (const auto& a : n.attributes)
        if (a.name == name) return a;
    FAIL("node " << n.name << " has no attribute " << name);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("onnx_graph: a CNN with a stride, average pooling, tanh and dropout", "[io][onnx]") {
    constexpr auto layers = input<2, 8, 8> | conv2d<3, 3, 2, 1> | tanh_ | avg_pool<2> | flatten | dropout<0.5> |
                            dense<4> | softmax;
    const Model<double, decltype(layers), cost::LogLikelihood> net{7};
    const io::OnnxGraph g = io::onnx_graph(net);

    CHECK(g.double_precision);
    CHECK(g.input_shape == Ints{2, 8, 8});
    CHECK(g.output_shape == Ints{4});
    // dropout (position 4) adds no node: the identity at inference
    CHECK(op_types(g) == std::vector<std::string>{"Conv", "Tanh", "AveragePool", "Flatten", "Gemm", "Softmax"});
    const auto& conv = g.nodes[0];
    CHECK(conv.inputs == std::vector<std::string>{"input", "0.weight", "0.bias"});
    CHECK(attribute(conv, "kernel_shape").ints == Ints{3, 3});
    CHECK(attribute(conv, "strides").ints == Ints{2, 2});
    CHECK(attribute(conv, "pads").ints == Ints{1, 1, 1, 1});
    CHECK(attribute(g.nodes[2], "kernel_shape").ints == Ints{2, 2});
    CHECK(attribute(g.nodes[2], "strides").ints == Ints{2, 2});
    CHECK(attribute(g.nodes[3], "axis").ints == Ints{1});
    // the dense layer reads the flatten's output past the dropout, with W as stored
    const auto& gemm = g.nodes[4];
    CHECK(gemm.inputs == std::vector<std::string>{g.nodes[3].output, "5.weight", "5.bias"});
    CHECK(attribute(gemm, "transB").ints == Ints{0});
    CHECK_FALSE(attribute(gemm, "transB").list);
    CHECK(g.nodes.back().output == "output");

    REQUIRE(g.initializers.size() == 4);
    CHECK(g.initializers[0].name == "0.weight");
    CHECK(g.initializers[0].shape == std::vector<std::size_t>{3, 2, 3, 3});  // (C_out, C_in, K, K)
    CHECK(g.initializers[0].dtype == "<f8");
    CHECK(g.initializers[2].name == "5.weight");
    CHECK(g.initializers[2].shape == std::vector<std::size_t>{12, 4});  // (n_in, n_out) = (3×2×2, 4): Gemm's B, transB = 0
    const auto& w = net.weights<1>();
    CHECK(std::memcmp(g.initializers[2].data.data(), w.data(), w.size() * sizeof(double)) == 0);
}

TEST_CASE("onnx_graph: the article's network in float", "[io][onnx]") {
    const Network<float, 784, 30, 10> net{1};
    const io::OnnxGraph g = io::onnx_graph(net);
    CHECK_FALSE(g.double_precision);
    CHECK(op_types(g) == std::vector<std::string>{"Gemm", "Sigmoid", "Gemm", "Sigmoid"});
    CHECK(g.nodes[0].inputs[0] == "input");
    CHECK(g.nodes[1].inputs[0] == g.nodes[0].output);
    CHECK(g.nodes[3].output == "output");
    CHECK(g.initializers[0].dtype == "<f4");
}

TEST_CASE("onnx_graph: a layer ONNX has no op for is refused, naming it", "[io][onnx]") {
    const Model<double, decltype(input<6> | dense<5> | Activation<test::Softplus>{} | dense<3> | sigmoid)> net{1};
    CHECK_THROWS_WITH(io::onnx_graph(net), "layer 1 (softplus) has no ONNX equivalent to export to");
}
