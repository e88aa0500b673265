// Export works on the sequence networks (issue 21): the small GPT of tests/nn/test_gpt21.cpp —
// input<6> | embedding<10, 8> | positional | residual(layer_norm | attention<2>) |
// residual(layer_norm | dense<32> | gelu | dense<8>) | layer_norm | dense<10> | softmax — and
// causal attention alone (input<6, 8> | attention<2>), to ONNX (io/onnx.hpp) and to PyTorch's
// .npz (io/export.hpp, scripts/npz_to_torch.py). Checked here:
//  - the graph: attention's nodes (MatMul, Add, three Slice → Reshape → Transpose, MatMul, Mul
//    1/√d, Add the causal mask, Softmax, MatMul, Transpose, Reshape, MatMul, Add), its
//    initializers (W as stored under nn.MultiheadAttention's names, the int64 shapes and bounds,
//    the mask 0 / −∞), Softmax over the last axis, every name unique and every node's input
//    defined before it (without python);
//  - the .npz: the architecture and the parameters' names and layout (in_proj_weight = Wᵀ);
//  - the ONNX file, written by the protobuf writer (src/io/onnx.cpp) and validated by
//    onnx.checker (full_check), run on a batch of B = 4 examples by every evaluator
//    tests/io/export_gpt21.py finds — onnxruntime, onnx.reference.ReferenceEvaluator (ONNX ≥ 1.13)
//    and always the numpy interpreter of tests/cli/onnx_reference.py — against typegrad's forward
//    pass: ≤ 1e-12 relative (max norm over all outputs) in double, ≤ 1e-5 in float (float32
//    arithmetic through seven layers). The control: the same graph with its causal mask zeroed (an
//    attention that sees later tokens) must miss typegrad's outputs by more than 1e-3 relative;
//  - the .npz loaded by scripts/npz_to_torch.py (nn.Embedding, the Positional module,
//    nn.MultiheadAttention with the causal mask, …) against typegrad's forward pass, ≤ 1e-10
//    relative in float64 (as test_gpt21's PyTorch check).
// Skipped, saying so, without a python3 that imports onnx and numpy (Debian: python3-onnx) or
// torch, or in a build without the ONNX writer (TYPEGRAD_HAVE_ONNX).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/io/export.hpp"
#include "typegrad/io/npz.hpp"
#include "typegrad/io/onnx.hpp"
#include "typegrad/nn/graph.hpp"
#include "typegrad/typegrad.hpp"
#if TYPEGRAD_HAVE_ONNX
#include "../../src/io/onnx_writer.hpp"
#endif
#include "../support/pytorch.hpp"
#include "../support/workdir.hpp"

using namespace typegrad;

namespace {

constexpr std::size_t T = 6, V = 10, D = 8, B = 4;
template <class E>
using GptOf = Model<E,
                    decltype(input<T> | embedding<V, D> | positional | residual(layer_norm | attention<2>) |
                             residual(layer_norm | dense<4 * D> | gelu | dense<D>) | layer_norm | dense<V> | softmax),
                    cost::LogLikelihood>;
using Gpt = GptOf<double>;
using GptFloat = GptOf<float>;
using Alone = Model<double, decltype(input<T, D> | attention<2>)>;

const std::filesystem::path here = std::filesystem::path(__FILE__).parent_path();
const std::filesystem::path script = here / "export_gpt21.py";

/// B windows of T token ids in [0, V) (the GPT's input), flattened.
std::vector<double> token_windows(std::uint64_t seed) {
    Rng rng(seed);
    std::vector<double> X(B * T);
    for (auto& v : X) v = static_cast<double>(rng.below(V));
    return X;
}
/// B sequences (T, D) in [−2, 2] (attention's input), flattened.
std::vector<double> sequences(std::uint64_t seed) {
    Rng rng(seed);
    std::vector<double> X(B * T * D);
    for (auto& v : X) v = rng.uniform(-2.0, 2.0);
    return X;
}

/// typegrad's forward pass of each of the B examples of X, flattened.
template <class M>
std::vector<double> forward_all(const M& net, const std::vector<double>& X) {
    using E = typename M::value_type;
    std::vector<double> out;
    typename M::input_type x;
    for (std::size_t b = 0; b < B; ++b) {
        std::transform(X.begin() + b * M::input_width, X.begin() + (b + 1) * M::input_width, x.begin(),
                       [](double v) { return static_cast<E>(v); });
        const typename M::output_type y = net.forward(x);
        out.insert(out.end(), y.begin(), y.end());
    }
    return out;
}

/// max |a − b| / max(|a|, |b|), over all elements (relative in the max norm, as check_against).
double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(a[i] - b[i]));
        scale = std::max({scale, std::abs(a[i]), std::abs(b[i])});
    }
    return diff / scale;
}

/// What export_gpt21.py printed: each evaluator's name and outputs.
std::map<std::string, std::vector<double>> evaluations(const std::string& printed) {
    std::map<std::string, std::vector<double>> out;
    std::istringstream lines(printed);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string name;
        words >> name;
        std::vector<double>& values = out[name];
        for (double v; words >> v;) values.push_back(v);
    }
    return out;
}

std::vector<std::string> op_types(const io::OnnxGraph& g) {
    std::vector<std::string> ops;
    for (const auto& n : g.nodes) ops.push_back(n.op_type);
    return ops;
}

const io::NpyArray& initializer(const io::OnnxGraph& g, const std::string& name) {
    for (const auto& a : g.initializers)
        if (a.name == name) return a;
    FAIL("no initializer " << name);
    throw std::logic_error("unreachable");
}

std::vector<std::int64_t> int64s(const io::NpyArray& a) {
    REQUIRE(a.dtype == "<i8");
    std::vector<std::int64_t> v(a.data.size() / 8);
    std::memcpy(v.data(), a.data.data(), a.data.size());
    return v;
}

/// Every initializer and node output named once, every node's inputs the graph's input, an
/// initializer or an earlier node's output, the last node's output "output".
void check_well_formed(const io::OnnxGraph& g) {
    std::set<std::string> defined{io::onnx_input};
    for (const auto& a : g.initializers) CHECK(defined.insert(a.name).second);
    for (const auto& n : g.nodes) {
        for (const auto& i : n.inputs) {
            INFO("node " << n.name << " reads " << i);
            CHECK(defined.count(i) == 1);
        }
        CHECK(defined.insert(n.output).second);
    }
    CHECK(g.nodes.back().output == io::onnx_output);
}

/// g with every attention's causal mask replaced by zeros: an attention that sees later tokens.
io::OnnxGraph without_mask(io::OnnxGraph g) {
    std::size_t masks = 0;
    for (auto& a : g.initializers)
        if (a.name.ends_with(".causal_mask")) {
            std::fill(a.data.begin(), a.data.end(), 0);
            ++masks;
        }
    REQUIRE(masks == 1);
    return g;
}

#if TYPEGRAD_HAVE_ONNX
/// g written as a .onnx file and run on X by every evaluator export_gpt21.py finds.
std::map<std::string, std::vector<double>> run_onnx(const std::string& python, const io::OnnxGraph& g,
                                                    const std::vector<double>& X) {
    test::WorkDir dir("typegrad_onnx_gpt21");
    io::write_onnx(dir / "net.onnx", g, "test");
    test::write_f64(dir / "x.f64", X.data(), X.size());
    return evaluations(test::run_command(python + " " + script.string() + " onnx " + (dir / "net.onnx").string() + " " +
                                         (dir / "x.f64").string() + " " + std::to_string(B)));
}
#endif

/// net exported to ONNX and run on X: every evaluator's outputs within tol of typegrad's forward
/// pass, and — the control — not within 1e-3 once the causal mask is removed.
template <class M>
void check_onnx_outputs(const M& net, const std::vector<double>& X, double tol) {
#if !TYPEGRAD_HAVE_ONNX
    (void)net, (void)X, (void)tol;
    WARN("this build has no ONNX writer (Debian: libonnx-dev, libprotobuf-dev): skipping the ONNX evaluation");
#else
    const std::string python = test::python_importing("onnx, numpy");
    if (python.empty()) {
        WARN("no python3 that imports onnx and numpy (Debian: python3-onnx): skipping the ONNX evaluation");
        return;
    }
    const std::vector<double> ours = forward_all(net, X);
    const io::OnnxGraph g = io::onnx_graph(net);
    const auto theirs = run_onnx(python, g, X);
    REQUIRE(theirs.count("onnx_reference.py") == 1);  // the numpy interpreter always runs
    for (const auto& [evaluator, y] : theirs) {
        INFO("evaluator " << evaluator << ", tolerance " << tol);
        REQUIRE(y.size() == ours.size());
        const double d = relative_difference(y, ours);
        UNSCOPED_INFO(evaluator << ": " << d);
        CHECK(d <= tol);
    }
    const auto unmasked = run_onnx(python, without_mask(g), X);
    REQUIRE(unmasked.size() == theirs.size());
    for (const auto& [evaluator, y] : unmasked) {
        INFO("evaluator " << evaluator << " without the causal mask");
        REQUIRE(y.size() == ours.size());
        CHECK(relative_difference(y, ours) > 1e-3);
    }
#endif
}

/// net exported to .npz, rebuilt by scripts/npz_to_torch.py and run on X: within tol of typegrad.
template <class M>
void check_torch_outputs(const M& net, const std::vector<double>& X, double tol) {
    const std::string python = test::torch_python();
    if (python.empty()) {
        WARN("no python3 that imports torch and numpy (Debian: python3-torch): skipping the PyTorch comparison");
        return;
    }
    test::WorkDir dir("typegrad_npz_gpt21");
    io::write_npz(dir / "net.npz", io::torch_arrays(net));
    test::write_f64(dir / "x.f64", X.data(), X.size());
    const auto theirs = evaluations(test::run_command(python + " " + script.string() + " torch " +
                                                      (here.parent_path().parent_path() / "scripts").string() + " " +
                                                      (dir / "net.npz").string() + " " + (dir / "x.f64").string() + " " +
                                                      std::to_string(B)));
    REQUIRE(theirs.count("torch") == 1);
    const std::vector<double> ours = forward_all(net, X);
    REQUIRE(theirs.at("torch").size() == ours.size());
    CHECK(relative_difference(theirs.at("torch"), ours) <= tol);
}

}  // namespace

TEST_CASE("onnx_graph: causal attention's nodes and initializers", "[io][onnx][attention]") {
    const Alone net{1, init::Scheme::pytorch};
    const io::OnnxGraph g = io::onnx_graph(net);
    check_well_formed(g);
    CHECK(g.double_precision);
    CHECK(g.input_shape == std::vector<std::int64_t>{T, D});
    CHECK(g.output_shape == std::vector<std::int64_t>{T, D});
    CHECK(op_types(g) == std::vector<std::string>{"MatMul", "Add",                            // X W + b
                                                  "Slice", "Reshape", "Transpose",            // Q (batch, H, T, d)
                                                  "Slice", "Reshape", "Transpose",            // Kᵀ (batch, H, d, T)
                                                  "Slice", "Reshape", "Transpose",            // V
                                                  "MatMul", "Mul", "Add", "Softmax",          // softmax(mask(Q Kᵀ/√d))
                                                  "MatMul", "Transpose", "Reshape",           // the heads concatenated
                                                  "MatMul", "Add"});                          // O Wo + bo
    CHECK(g.nodes[0].inputs == std::vector<std::string>{"input", "0.in_proj_weight"});
    CHECK(g.nodes[1].inputs[1] == "0.in_proj_bias");
    CHECK(g.nodes[18].inputs[1] == "0.out_proj.weight");
    CHECK(g.nodes[19].inputs[1] == "0.out_proj.bias");

    // the parameters as stored (W (D, 3D): MatMul's right operand), under nn.MultiheadAttention's names
    const io::NpyArray& w = initializer(g, "0.in_proj_weight");
    CHECK(w.shape == std::vector<std::size_t>{D, 3 * D});
    CHECK(std::memcmp(w.data.data(), net.parameter<0, "W">().data(), D * 3 * D * sizeof(double)) == 0);
    CHECK(initializer(g, "0.out_proj.weight").shape == std::vector<std::size_t>{D, D});
    // Q, K, V: columns [0, D), [D, 2D), [2D, 3D) of the last axis, in heads of d = 4
    CHECK(int64s(initializer(g, g.nodes[2].inputs[1])) == std::vector<std::int64_t>{0});
    CHECK(int64s(initializer(g, g.nodes[5].inputs[1])) == std::vector<std::int64_t>{D});
    CHECK(int64s(initializer(g, g.nodes[8].inputs[2])) == std::vector<std::int64_t>{3 * D});
    CHECK(int64s(initializer(g, g.nodes[2].inputs[3])) == std::vector<std::int64_t>{-1});
    CHECK(int64s(initializer(g, g.nodes[3].inputs[1])) == std::vector<std::int64_t>{0, 0, 2, 4});
    CHECK(int64s(initializer(g, g.nodes[17].inputs[1])) == std::vector<std::int64_t>{0, 0, D});
    CHECK(g.nodes[4].attributes[0].ints == std::vector<std::int64_t>{0, 2, 1, 3});
    CHECK(g.nodes[7].attributes[0].ints == std::vector<std::int64_t>{0, 2, 3, 1});
    // the scale 1/√d, and the mask: 0 where j ≤ i, −∞ where j > i
    const io::NpyArray& scale = initializer(g, g.nodes[12].inputs[1]);
    CHECK(scale.shape.empty());
    CHECK(*reinterpret_cast<const double*>(scale.data.data()) == 1 / std::sqrt(4.0));
    const io::NpyArray& mask = initializer(g, g.nodes[13].inputs[1]);
    REQUIRE(mask.shape == std::vector<std::size_t>{T, T});
    std::vector<double> m(T * T);
    std::memcpy(m.data(), mask.data.data(), mask.data.size());
    for (std::size_t i = 0; i < T; ++i)
        for (std::size_t j = 0; j < T; ++j) CHECK(m[i * T + j] == (j > i ? -std::numeric_limits<double>::infinity() : 0.0));
    CHECK(g.nodes[14].attributes[0].ints == std::vector<std::int64_t>{-1});
}

TEST_CASE("onnx_graph: the small GPT", "[io][onnx][gpt]") {
    const Gpt net{1, init::Scheme::pytorch};
    const io::OnnxGraph g = io::onnx_graph(net);
    check_well_formed(g);
    CHECK(g.input_shape == std::vector<std::int64_t>{T});
    CHECK(g.output_shape == std::vector<std::int64_t>{T, V});
    const auto ops = op_types(g);
    // ids cast to int64 and gathered from E, then + P
    REQUIRE(ops.size() > 3);
    CHECK(std::vector<std::string>(ops.begin(), ops.begin() + 3) == std::vector<std::string>{"Cast", "Gather", "Add"});
    CHECK(g.nodes[1].inputs == std::vector<std::string>{"0.weight", g.nodes[0].output});
    CHECK(g.nodes[2].inputs[1] == "1.weight");
    CHECK(initializer(g, "1.weight").shape == std::vector<std::size_t>{T, D});
    CHECK(initializer(g, "2.body.1.in_proj_weight").shape == std::vector<std::size_t>{D, 3 * D});
    CHECK(initializer(g, "2.body.1.out_proj.bias").shape == std::vector<std::size_t>{D});
    // the softmax over the vocabulary: the last axis of (batch, T, V)
    CHECK(g.nodes.back().op_type == "Softmax");
    CHECK(g.nodes.back().attributes[0].ints == std::vector<std::int64_t>{2});
    CHECK(std::count(ops.begin(), ops.end(), "Softmax") == 2);  // attention's and the output's
}

TEST_CASE(".npz export: the small GPT's architecture and parameters as PyTorch names them", "[io][npz][gpt]") {
    const Gpt net{2, init::Scheme::pytorch};
    const std::string json = io::architecture_json<Gpt>();
    CHECK_THAT(json, Catch::Contains("{\"type\": \"Embedding\", \"num_embeddings\": 10, \"embedding_dim\": 8}, "
                                     "{\"type\": \"Positional\", \"positions\": 6, \"features\": 8}, "
                                     "{\"type\": \"Residual\", \"body\": [{\"type\": \"LayerNorm\", \"features\": 8, "
                                     "\"eps\": 1e-05}, {\"type\": \"CausalSelfAttention\", \"embed_dim\": 8, "
                                     "\"num_heads\": 2}]}"));
    const auto arrays = io::torch_arrays(net);
    std::vector<std::string> names;
    for (const auto& a : arrays) names.push_back(a.name);
    CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "2.body.0.weight", "2.body.0.bias",
                                            "2.body.1.in_proj_weight", "2.body.1.in_proj_bias", "2.body.1.out_proj.weight",
                                            "2.body.1.out_proj.bias", "3.body.0.weight", "3.body.0.bias", "3.body.1.weight",
                                            "3.body.1.bias", "3.body.3.weight", "3.body.3.bias", "4.weight", "4.bias",
                                            "5.weight", "5.bias", "architecture"});
    // in_proj_weight is (3D, D) = Wᵀ, out_proj.weight Woᵀ; E and P as stored
    std::vector<std::vector<double>> ours;
    net.for_each_parameter([&](auto, const auto& t) { ours.emplace_back(t.begin(), t.end()); });
    const auto values = [&](std::size_t k) {
        std::vector<double> v(arrays[k].data.size() / sizeof(double));
        std::memcpy(v.data(), arrays[k].data.data(), arrays[k].data.size());
        return v;
    };
    CHECK(arrays[4].shape == std::vector<std::size_t>{3 * D, D});
    CHECK(arrays[6].shape == std::vector<std::size_t>{D, D});
    const auto in_proj = values(4), out_proj = values(6);
    bool transposed = true;
    for (std::size_t i = 0; i < D; ++i) {
        for (std::size_t j = 0; j < 3 * D; ++j) transposed = transposed && in_proj[j * D + i] == ours[4][i * 3 * D + j];
        for (std::size_t j = 0; j < D; ++j) transposed = transposed && out_proj[j * D + i] == ours[6][i * D + j];
    }
    CHECK(transposed);
    CHECK(values(0) == ours[0]);
    CHECK(values(1) == ours[1]);
}

TEST_CASE("ONNX: causal attention alone computes typegrad's outputs", "[io][onnx][attention][python]") {
    const Alone net{3, init::Scheme::pytorch};
    check_onnx_outputs(net, sequences(4), 1e-12);
}

TEST_CASE("ONNX: the small GPT computes typegrad's outputs, in double and in float", "[io][onnx][gpt][python]") {
    SECTION("double") {
        const Gpt net{5, init::Scheme::pytorch};
        check_onnx_outputs(net, token_windows(6), 1e-12);
    }
    SECTION("float") {
        const GptFloat net{5, init::Scheme::pytorch};
        check_onnx_outputs(net, token_windows(6), 1e-5);
    }
}

TEST_CASE(".npz: PyTorch rebuilds causal attention and the small GPT and computes typegrad's outputs",
          "[io][npz][gpt][pytorch]") {
    SECTION("attention alone") {
        const Alone net{7, init::Scheme::pytorch};
        check_torch_outputs(net, sequences(8), 1e-10);
    }
    SECTION("the GPT") {
        const Gpt net{9, init::Scheme::pytorch};
        check_torch_outputs(net, token_windows(10), 1e-10);
    }
}
