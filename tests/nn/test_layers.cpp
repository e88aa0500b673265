#include <cmath>
#include <type_traits>

#include <catch2/catch.hpp>

#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"

using namespace typegrad;

TEST_CASE("composition with | builds the Sequential type, widths known at compile time", "[nn][layers]") {
    constexpr auto net = input<784> | dense<30> | sigmoid | dense<10> | sigmoid;
    using S = std::remove_const_t<decltype(net)>;
    STATIC_REQUIRE(std::is_same_v<S, Sequential<Shape<784>, Dense<30>, Sigmoid, Dense<10>, Sigmoid>>);
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
    STATIC_REQUIRE(std::is_same_v<S, Sequential<Shape<4>, Dense<3, 4>, Tanh, Dense<2, 3>, Relu>>);
    STATIC_REQUIRE(S::output_width == 2);
}

TEST_CASE("two compositions chain when the widths fit", "[nn][layers]") {
    constexpr auto features = input<8> | dense<6> | relu;
    constexpr auto head = input<6> | dense<3> | sigmoid;
    using S = std::remove_const_t<decltype(features | head)>;
    STATIC_REQUIRE(std::is_same_v<S, Sequential<Shape<8>, Dense<6>, Relu, Dense<3>, Sigmoid>>);
}

TEST_CASE("layer traits state the output shape of an input shape", "[nn][layers]") {
    STATIC_REQUIRE(std::is_same_v<layer_traits<Dense<10>>::output_shape<Shape<30>>, Shape<10>>);
    STATIC_REQUIRE(std::is_same_v<layer_traits<Dense<10, 30>>::output_shape<Shape<30>>, Shape<10>>);
    STATIC_REQUIRE(std::is_same_v<layer_traits<Sigmoid>::output_shape<Shape<17>>, Shape<17>>);
    STATIC_REQUIRE(std::is_same_v<layer_traits<Relu>::output_shape<Shape<3, 5, 7>>, Shape<3, 5, 7>>);  // any rank
    STATIC_REQUIRE(std::is_same_v<layer_traits<Softmax>::output_shape<Shape<2, 10>>, Shape<2, 10>>);
    STATIC_REQUIRE_FALSE(Layer<int>);
    STATIC_REQUIRE(Layer<Tanh>);
    STATIC_REQUIRE(Layer<Dense<3>>);
}

TEST_CASE("an input of any rank; activations keep its shape", "[nn][layers]") {
    using S = decltype(input<2, 3, 4> | relu | tanh);
    STATIC_REQUIRE(std::is_same_v<S::input_shape, Shape<2, 3, 4>>);
    STATIC_REQUIRE(std::is_same_v<S::output_shape, Shape<2, 3, 4>>);
    STATIC_REQUIRE(S::input_width == 24);
    STATIC_REQUIRE(S::parameter_layers == 0);
}

TEST_CASE("the layer values are the expression functions: both namespaces together are not ambiguous", "[nn][layers]") {
    using namespace typegrad::expr;
    constexpr auto net = input<3> | dense<2> | softmax;  // the layers
    struct x_ {};
    constexpr Input<x_, 3> x;
    constexpr auto e = softmax(tanh(x));  // the same objects as functions on expressions
    STATIC_REQUIRE(std::is_same_v<std::remove_const_t<decltype(e)>, Node<SoftmaxOp, Node<MapOp<fn::Tanh>, Input<x_, 3>>>>);
    STATIC_REQUIRE(std::remove_const_t<decltype(net)>::output_width == 2);
    STATIC_REQUIRE(std::is_same_v<decltype(tanh_), const Tanh>);  // the former spelling
    STATIC_REQUIRE(std::is_same_v<decltype(input<3> | tanh), decltype(input<3> | tanh_)>);
    CHECK(tanh(0.5) == std::tanh(0.5));  // the C library's, still
}

TEST_CASE("a const composition makes the same Model as a non-const one", "[nn][layers]") {
    constexpr auto layers = input<4> | dense<3> | sigmoid;
    STATIC_REQUIRE(std::is_same_v<Model<float, decltype(layers)>, Model<float, std::remove_const_t<decltype(layers)>>>);
}
