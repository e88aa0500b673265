#include <type_traits>

#include <catch2/catch.hpp>

#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"

using namespace typegrad;

TEST_CASE("composition with | builds the Sequential type, widths known at compile time", "[nn][layers]") {
    constexpr auto net = input<784> | dense<30> | sigmoid | dense<10> | sigmoid;
    using S = std::remove_const_t<decltype(net)>;
    STATIC_REQUIRE(std::is_same_v<S, Sequential<784, Dense<30>, Sigmoid, Dense<10>, Sigmoid>>);
    STATIC_REQUIRE(S::input_width == 784);
    STATIC_REQUIRE(S::output_width == 10);
    STATIC_REQUIRE(S::depth == 4);
    STATIC_REQUIRE(S::parameter_layers == 2);
    STATIC_REQUIRE(S::widths == std::array<std::size_t, 5>{784, 30, 30, 10, 10});
}

TEST_CASE("Network<T, sizes...> is the composition input | dense | sigmoid | ..., not a separate type",
          "[nn][layers]") {
    STATIC_REQUIRE(std::is_same_v<Network<float, 784, 30, 10>,
                                  Model<float, decltype(input<784> | dense<30> | sigmoid | dense<10> | sigmoid)>>);
    STATIC_REQUIRE(std::is_same_v<sigmoid_mlp_t<7, 5, 4, 3>::layers,
                                  std::tuple<Dense<5>, Sigmoid, Dense<4>, Sigmoid, Dense<3>, Sigmoid>>);
}

TEST_CASE("a stated input width is checked and kept; Linear<In, Out> is Dense<Out, In>", "[nn][layers]") {
    using S = decltype(input<4> | linear<4, 3> | tanh_ | dense<2, 3> | relu);
    STATIC_REQUIRE(std::is_same_v<S, Sequential<4, Dense<3, 4>, Tanh, Dense<2, 3>, Relu>>);
    STATIC_REQUIRE(S::output_width == 2);
}

TEST_CASE("two compositions chain when the widths fit", "[nn][layers]") {
    constexpr auto features = input<8> | dense<6> | relu;
    constexpr auto head = input<6> | dense<3> | sigmoid;
    using S = std::remove_const_t<decltype(features | head)>;
    STATIC_REQUIRE(std::is_same_v<S, Sequential<8, Dense<6>, Relu, Dense<3>, Sigmoid>>);
}

TEST_CASE("layer traits state what a layer accepts", "[nn][layers]") {
    STATIC_REQUIRE(layer_traits<Dense<10>>::accepts(30));
    STATIC_REQUIRE(layer_traits<Dense<10, 30>>::accepts(30));
    STATIC_REQUIRE_FALSE(layer_traits<Dense<10, 30>>::accepts(20));
    STATIC_REQUIRE(layer_traits<Sigmoid>::output_width(17) == 17);
    STATIC_REQUIRE_FALSE(Layer<int>);
    STATIC_REQUIRE(Layer<Tanh>);
}
