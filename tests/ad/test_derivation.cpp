// The recurrences printed by autodiff::derivation come from the adjoint expression types; here
// they must read exactly as the article's equations.
#include <catch2/catch.hpp>

#include "typegrad/autodiff/backprop.hpp"

using namespace typegrad;

TEST_CASE("784-30-10: the article's four equations", "[ad][print]") {
    const std::vector<std::string> expected = {
        "z₀ = W₀ᵀ x + b₀",
        "a₀ = σ(z₀)",
        "z₁ = W₁ᵀ a₀ + b₁",
        "a₁ = σ(z₁)",
        "J = ½ ‖a₁ − y‖²",
        "δ₁ = (a₁ − y) ⊙ σ'(z₁)",
        "δ₀ = (W₁ δ₁) ⊙ σ'(z₀)",
        "∂J/∂b₁ = δ₁",
        "∂J/∂W₁ = a₀ δ₁ᵀ",
        "∂J/∂b₀ = δ₀",
        "∂J/∂W₀ = x δ₀ᵀ",
    };
    CHECK(autodiff::derivation<Network<float, 784, 30, 10>>() == expected);
}

TEST_CASE("three hidden layers: 784-30-20-15-10", "[ad][print]") {
    const std::vector<std::string> expected = {
        "z₀ = W₀ᵀ x + b₀", "a₀ = σ(z₀)", "z₁ = W₁ᵀ a₀ + b₁", "a₁ = σ(z₁)", "z₂ = W₂ᵀ a₁ + b₂", "a₂ = σ(z₂)",
        "z₃ = W₃ᵀ a₂ + b₃", "a₃ = σ(z₃)", "J = ½ ‖a₃ − y‖²",
        "δ₃ = (a₃ − y) ⊙ σ'(z₃)",
        "δ₂ = (W₃ δ₃) ⊙ σ'(z₂)",
        "δ₁ = (W₂ δ₂) ⊙ σ'(z₁)",
        "δ₀ = (W₁ δ₁) ⊙ σ'(z₀)",
        "∂J/∂b₃ = δ₃", "∂J/∂W₃ = a₂ δ₃ᵀ",
        "∂J/∂b₂ = δ₂", "∂J/∂W₂ = a₁ δ₂ᵀ",
        "∂J/∂b₁ = δ₁", "∂J/∂W₁ = a₀ δ₁ᵀ",
        "∂J/∂b₀ = δ₀", "∂J/∂W₀ = x δ₀ᵀ",
    };
    CHECK(autodiff::derivation<Network<double, 784, 30, 20, 15, 10>>() == expected);
}

TEST_CASE("other activations and costs print their own rules", "[ad][print]") {
    const auto lines =
        autodiff::derivation<Model<double, decltype(input<6> | dense<5> | tanh_ | dense<3> | sigmoid), cost::CrossEntropy>>();
    CHECK(lines.at(1) == "a₀ = tanh(z₀)");
    CHECK(lines.at(4) == "J = −Σ [y ⊙ ln a₁ + (1 − y) ⊙ ln(1 − a₁)]");
    // cross-entropy after a sigmoid: the engine's rewrite gives the textbook δ (ad/rewrite.hpp)
    CHECK(lines.at(5) == "δ₁ = a₁ − y");
    CHECK(lines.at(6) == "δ₀ = (W₁ δ₁) ⊙ tanh'(z₀)");
}

TEST_CASE("softmax with log-likelihood: δ = a − y, found from the types", "[ad][print]") {
    const auto lines =
        autodiff::derivation<Model<double, decltype(input<6> | dense<5> | relu | dense<3> | softmax), cost::LogLikelihood>>();
    CHECK(lines.at(3) == "a₁ = softmax(z₁)");
    CHECK(lines.at(4) == "J = −Σ y ⊙ ln a₁");
    CHECK(lines.at(5) == "δ₁ = a₁ − y");
    CHECK(lines.at(6) == "δ₀ = (W₁ δ₁) ⊙ relu'(z₀)");
}

TEST_CASE("a second activation after a layer gets a name of its own", "[ad][print]") {
    const auto lines = autodiff::derivation<Model<double, decltype(input<6> | dense<5> | tanh | sigmoid | dense<3> | sigmoid)>>();
    CHECK(lines.at(1) == "a₀ = tanh(z₀)");
    CHECK(lines.at(2) == "a₀′ = σ(a₀)");
    CHECK(lines.at(3) == "z₁ = W₁ᵀ a₀′ + b₁");
    CHECK(lines.at(6) == "δ₁ = (a₁ − y) ⊙ σ'(z₁)");
    CHECK(lines.at(7) == "δ₀ = ((W₁ δ₁) ⊙ σ'(a₀)) ⊙ tanh'(z₀)");
}
