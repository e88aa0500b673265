// A layer of the user's own is exported by its own header (issue 19, item 5): tests/nn/prelu.hpp
// declares its torch.nn module and its ONNX nodes (the layer contract's torch_module and onnx
// hooks, nn/layer.hpp) and the role of its parameter (a scale: PyTorch's "weight"), and nothing in
// typegrad names it. Checked here: the .npz architecture and array names, the ONNX graph's nodes
// and initializers, and — when a python3 with torch is found — that scripts/npz_to_torch.py
// rebuilds the network from the .npz alone and computes the same outputs as typegrad's forward
// pass (float64, ≤ 1e-12 relative: the same arithmetic up to the order of the sums). And a user's
// activation, Activation<Softplus>, exports by the same hooks declared on its function struct.
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "prelu.hpp"
#include "typegrad/io/export.hpp"
#include "typegrad/io/npz.hpp"
#include "typegrad/io/onnx.hpp"
#include "../support/pytorch.hpp"
#include "../support/softplus.hpp"

using namespace typegrad;

namespace {
using Net = Model<double, decltype(input<6> | dense<5> | user::prelu | dense<3> | softmax), cost::LogLikelihood>;

/// softplus, an activation of the user's own: Activation<Softplus> exports by the same two hooks
/// as a layer, declared on the function struct (nn/layers/activation.hpp).
struct Softplus : test::Softplus {
    template <class In>
    static std::string torch_module() {
        return "{\"type\": \"Softplus\", \"kwargs\": {}}";
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node("Softplus");
        return true;
    }
};

/// α away from ¼, so that a parameter exported under the wrong name or not at all would show.
void perturb_alpha(Net& net) {
    Rng rng(3);
    for (auto& a : net.parameter<1, "α">()) a = rng.uniform(-0.5, 0.5);
}
}  // namespace

TEST_CASE("a user's layer exports to .npz from its own header", "[nn][custom][io]") {
    Net net{1, init::Scheme::pytorch};
    perturb_alpha(net);
    const std::string json = io::architecture_json<Net>();
    CHECK_THAT(json, Catch::Contains("{\"type\": \"PReLU\", \"kwargs\": {\"num_parameters\": 5}}"));
    std::vector<std::string> names;
    for (const auto& a : io::torch_arrays(net)) names.push_back(a.name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "2.weight", "2.bias", "architecture"});
}

TEST_CASE("a user's layer exports to ONNX from its own header", "[nn][custom][onnx]") {
    Net net{2, init::Scheme::pytorch};
    const io::OnnxGraph g = io::onnx_graph(net);
    std::vector<std::string> ops;
    for (const auto& n : g.nodes) ops.push_back(n.op_type);
    CHECK(ops == std::vector<std::string>{"Gemm", "PRelu", "Gemm", "Softmax"});
    REQUIRE(g.nodes.size() == 4);
    CHECK(g.nodes[1].inputs == std::vector<std::string>{g.nodes[0].output, "1.weight"});
    bool slope = false;
    for (const auto& i : g.initializers) slope |= i.name == "1.weight" && i.shape == std::vector<std::size_t>{5};
    CHECK(slope);
}

TEST_CASE("a user's activation exports from its function struct", "[nn][custom][io][onnx]") {
    using Soft = Model<double, decltype(input<4> | dense<3> | Activation<Softplus>{} | dense<2> | sigmoid)>;
    const Soft net{4};
    CHECK_THAT(io::architecture_json<Soft>(), Catch::Contains("{\"type\": \"Linear\", \"in_features\": 4, \"out_features\": 3}, "
                                                              "{\"type\": \"Softplus\", \"kwargs\": {}}, "));
    std::vector<std::string> ops;
    for (const auto& n : io::onnx_graph(net).nodes) ops.push_back(n.op_type);
    CHECK(ops == std::vector<std::string>{"Gemm", "Softplus", "Gemm", "Sigmoid"});
}

TEST_CASE("a user's layer: PyTorch rebuilds it from the .npz and computes the same outputs", "[nn][custom][pytorch]") {
    const std::string python = test::torch_python();
    if (python.empty()) {
        WARN("no python3 that imports torch and numpy (Debian: python3-torch): skipping the PyTorch comparison");
        return;
    }
    Net net{3, init::Scheme::pytorch};
    perturb_alpha(net);
    const auto dir = std::filesystem::temp_directory_path() / ("typegrad_custom_export19_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    io::write_npz(dir / "net.npz", io::torch_arrays(net));
    Rng rng(4);
    constexpr std::size_t B = 4;
    std::vector<double> X(B * 6);
    for (auto& v : X) v = rng.uniform(-2.0, 2.0);
    test::write_f64(dir / "x.f64", X.data(), X.size());
    const auto script = std::filesystem::path(__FILE__).parent_path() / "custom_export19.py";
    const auto scripts = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "scripts";
    std::istringstream out(test::run_command(python + " " + script.string() + " " + scripts.string() + " " + dir.string() + " " +
                                             std::to_string(B)));
    std::filesystem::remove_all(dir);
    for (std::size_t b = 0; b < B; ++b) {
        Net::input_type x;
        std::copy_n(X.data() + b * 6, 6, x.data());
        INFO("example " << b);
        test::check_against(out, net.forward(x), 1e-12);
    }
}
