// typegrad's layouts match PyTorch's, so that results compare one to one: the same CNN (two
// convolutions, one with stride 2 and padding, max and average pooling, flatten, a dense layer,
// softmax + log-likelihood = CrossEntropyLoss) with the same parameters gives the same cost and
// the same gradients in PyTorch (tests/cnn/pytorch_reference.py, autograd) and in typegrad, in
// double, to 1e-12 relative per tensor. Skips (exit 77) when no python3 with torch is found
// (Debian's python3-torch; /usr/bin/python3 is tried first).
#define CATCH_CONFIG_RUNNER
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/typegrad.hpp"

using namespace typegrad;

namespace {

std::string python;  // an interpreter that imports torch

using M = Model<double, decltype(input<2, 12, 12> | conv2d<4, 3, 1, 1> | relu | max_pool<2> | conv2d<3, 3, 2, 1> |
                                 typegrad::tanh_ | avg_pool<3> | flatten | dense<5> | softmax),
                cost::LogLikelihood>;

template <class Tensor>
void write(const std::filesystem::path& file, const Tensor& t) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.size() * sizeof(double)));
}

std::string run(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        if (pclose(p) != 0) out.clear();
    }
    return out;
}

}  // namespace

TEST_CASE("the same CNN in PyTorch gives the same cost and gradients (layouts match)", "[cnn][pytorch]") {
    M net{7};  // PyTorch's initialisation; the values are copied into PyTorch anyway
    Rng rng(8);
    M::input_type x;
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    M::output_type y;
    y.fill(0);
    const std::size_t label = 3;
    y[label] = 1;
    const auto dir = std::filesystem::temp_directory_path() / ("typegrad_pytorch_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    write(dir / "W0.f64", net.weights<0>());
    write(dir / "b0.f64", net.biases<0>());
    write(dir / "W1.f64", net.weights<1>());
    write(dir / "b1.f64", net.biases<1>());
    write(dir / "W2.f64", net.weights<2>());
    write(dir / "b2.f64", net.biases<2>());
    write(dir / "x.f64", x);
    write(dir / "label.f64", Vector<double, 1>{double(label)});
    const std::string script = std::string(TYPEGRAD_SOURCE_DIR) + "/tests/cnn/pytorch_reference.py";
    std::istringstream torch_out(run(python + " " + script + " " + dir.string()));
    std::filesystem::remove_all(dir);

    const auto g = autodiff::backprop(net, x, y);
    double torch_cost = 0;
    REQUIRE(torch_out >> torch_cost);
    CHECK(autodiff::cost(net, x, y) == Approx(torch_cost).epsilon(1e-12));
    std::size_t tensors = 0;
    for_each_parameter_pair<M::composition>(g.parameters(), g.parameters(), [&](auto ref, const auto& ours, const auto&) {
        INFO("∂J/∂" << decltype(ref)::description());
        std::vector<double> theirs(ours.size());
        for (auto& v : theirs) REQUIRE(torch_out >> v);
        CHECK(relative_error(ours, theirs) <= 1e-12);
        CHECK(relative_error(ours, std::vector<double>(ours.size())) > 0);  // not trivially zero
        ++tensors;
    });
    CHECK(tensors == 6);
}

int main(int argc, char* argv[]) {
    for (const char* candidate : {"/usr/bin/python3", "python3"}) {
        if (std::system((std::string(candidate) + " -c 'import torch, numpy' >/dev/null 2>&1").c_str()) == 0) {
            python = candidate;
            break;
        }
    }
    if (python.empty()) {
        std::cout << "no python3 that imports torch and numpy (Debian: python3-torch): skipping the PyTorch comparison\n";
        return 77;
    }
    return Catch::Session().run(argc, argv) == 0 ? 0 : 1;
}
