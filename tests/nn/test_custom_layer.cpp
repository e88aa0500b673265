// A layer of the user's own (tests/nn/prelu.hpp: PReLU, with a learnable slope per unit) gets,
// with no change to typegrad's headers: its shape rule, its parameters and their initialiser,
// the forward pass, the autodiff gradient per example and batched, the three-way gradient
// check against its hand-written reference rule, SGD updates through the trainer, checkpoints,
// and its name in `derive`.
//
// Tolerances (double): autodiff vs reference ≤ 1e-12 relative in the max norm per tensor (the
// same operations up to rounding); vs central differences with h = 1e-6, ≤ 1e-6 relative (the
// truncation error is O(h²) ≈ 1e-12, the rounding error ≈ ε·J/h ≈ 1e-10).
#include <filesystem>

#include <catch2/catch.hpp>

#include "prelu.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {
using Net = Model<double, decltype(input<6> | dense<5> | user::prelu | dense<3> | sigmoid)>;
using Classifier = Model<double, decltype(input<7> | dense<6> | user::prelu | dense<4> | softmax), cost::LogLikelihood>;
}  // namespace

TEST_CASE("a user's layer: shape, parameters and initialiser come from its header", "[nn][custom]") {
    using S = Net::composition;
    STATIC_REQUIRE(Layer<user::PReLU>);
    STATIC_REQUIRE(S::parameter_layers == 3);  // dense, prelu, dense
    STATIC_REQUIRE(std::is_same_v<S::shape_at<2>, Shape<5>>);
    STATIC_REQUIRE(Net::parameter_count == 6 * 5 + 5 + 5 + 5 * 3 + 3);
    const Net net{1};
    for (double a : net.parameter<1, "α">()) CHECK(a == 0.25);
    CHECK(layers_description<S>() == "input<6> | dense<5> | prelu | dense<3> | σ");
}

TEST_CASE("a user's layer: forward, autodiff = its reference rule = finite differences", "[nn][custom][gradient]") {
    Net net{2};
    // slopes that differ per unit, so that a transposed or shared α would show
    for (std::size_t i = 0; i < 5; ++i) net.parameter<1, "α">()[i] = 0.1 * double(i) - 0.15;
    Rng rng(3);
    for (int example = 0; example < 4; ++example) {
        Net::input_type x;
        Net::output_type y;
        for (auto& v : x) v = rng.uniform(-1.0, 1.0);  // negative inputs too: both sides of the kink
        y.fill(0);
        y[rng.below(3)] = 1;
        INFO("example " << example);
        const auto r = gradcheck(net, x, y, {.step = 1e-6});
        CHECK(r.autodiff_vs_reference <= 1e-12);
        CHECK(r.autodiff_vs_fd <= 1e-6);
        CHECK(r.reference_vs_fd <= 1e-6);
        CHECK(r.fd_entries == Net::parameter_count);
        // the gradient of α is not trivially zero
        const auto g = autodiff::backprop(net, x, y);
        CHECK(relative_error(g.parameter<1, "α">(), Vector<double, 5>{}) > 0);
        CHECK(relative_error(net.forward(x), Vector<double, 3>{}) > 0);
    }
}

TEST_CASE("a user's layer in a batch: the batched gradient is the sum of the per-example ones", "[nn][custom][batched]") {
    constexpr std::size_t B = 4;
    Classifier net{5};
    Rng rng(6);
    std::vector<double> X(B * 7), Y(B * 4);
    Gradients<Classifier> sum, batched;
    reference::Workspace<Classifier> ws;
    for (std::size_t b = 0; b < B; ++b) {
        Classifier::input_type x;
        Classifier::output_type y;
        for (auto& v : x) v = rng.uniform(-1.0, 1.0);
        y.fill(0);
        y[rng.below(4)] = 1;
        std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(b * 7));
        std::copy(y.begin(), y.end(), Y.begin() + static_cast<std::ptrdiff_t>(b * 4));
        reference::backprop_into(net, x, y, sum, ws, b == 0 ? Accumulate::no : Accumulate::yes);
    }
    autodiff::Workspace<Classifier, B> aws;
    autodiff::backprop_batch_into(net, X.data(), Y.data(), batched, aws);
    test::check_close(sum, batched, 1e-12);
}

TEST_CASE("a user's layer trains, and its parameters go through checkpoints", "[nn][custom][train][io]") {
    using M = Model<float, decltype(input<784> | dense<30> | user::prelu | dense<10> | softmax), cost::LogLikelihood>;
    const auto data = data::synthetic_split(2000, 500, 7);
    M net{8};
    train::Trainer<M> trainer(net, {.epochs = 2, .batch = 10, .eta = 0.1, .seed = 9});
    const auto history = trainer.run(data.train, data.test);
    CHECK(history.back().accuracy > 0.5);  // ten classes: chance is 0.1
    bool slopes_moved = false;
    for (float a : net.parameter<1, "α">()) slopes_moved |= a != 0.25f;
    CHECK(slopes_moved);

    const auto file = std::filesystem::temp_directory_path() / "typegrad_custom_layer.tgck";
    io::save_checkpoint(file, net, trainer.state());
    M loaded{1};
    io::load_checkpoint(file, loaded);
    CHECK(io::checkpoint_payload(loaded) == io::checkpoint_payload(net));
    CHECK((loaded.parameter<1, "α">() == net.parameter<1, "α">()));
    const auto header = io::read_checkpoint_file(file).header;
    CHECK(header.layers == "input<784> | dense<30> | prelu | dense<10> | softmax");
    CHECK(header.parameter_sizes == std::vector<std::uint64_t>{784 * 30, 30, 30, 30 * 10, 10});
    std::filesystem::remove(file);
}

TEST_CASE("a user's layer in derive: its output and its parameter are named", "[nn][custom][print]") {
    const auto lines = autodiff::derivation<Net>();
    REQUIRE(lines.size() >= 6);
    CHECK(lines.at(0) == "z₀ = W₀ᵀ x + b₀");
    CHECK(lines.at(1) == "a₀ = relu(z₀) + α₁ ⊙ min0(z₀)");
    CHECK(lines.at(2) == "z₂ = W₂ᵀ a₀ + b₂");
    CHECK(lines.at(3) == "a₂ = σ(z₂)");  // subscripts count the layers with parameters, as weights<L> does
    CHECK(lines.at(6) == "δ₀ = (W₂ δ₂) ⊙ relu'(z₀) + ((W₂ δ₂) ⊙ α₁) ⊙ min0'(z₀)");  // through both branches of PReLU
    CHECK(lines.at(9) == "∂J/∂α₁ = (W₂ δ₂) ⊙ min0(z₀)");
    CHECK(lines.at(8) == "∂J/∂W₂ = a₀ δ₂ᵀ");
}
