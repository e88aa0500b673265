// A layer of the user's own is a --net layer through its own header (issue 19, item 5): the test
// layer PReLU (tests/nn/prelu.hpp) declares and registers its word ("prelu"), and nothing in
// typegrad or in the grammar (src/cli/spec.cpp) names it. The spec reads, prints and sizes it as a
// built-in layer, in blocks too, and a checkpoint's layer description of a network holding it reads
// back as the spec, with the shapes a checkpoint records (what the CLI checks a checkpoint
// against). Without its header the word is unknown (test_spec: "has no --net spec").
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "../nn/prelu.hpp"
#include "spec.hpp"
#include "spec_checks.hpp"

using namespace typegrad;
using namespace typegrad::cli;

namespace {
NetworkSpec parsed(const std::string& text) {
    std::string error;
    const NetworkSpec s = parse_network(text, error);
    INFO(text << ": " << error);
    CHECK(error.empty());
    return s;
}
std::string error_of(const std::string& text) {
    std::string error;
    CHECK(parse_network(text, error).layers.empty());
    return error;
}

constexpr auto user_layers = input<6> | dense<5> | user::prelu | residual(dense<5> | user::prelu) | dense<3> | softmax;
using UserModel = Model<double, std::remove_const_t<decltype(user_layers)>, cost::LogLikelihood>;
}  // namespace

TEST_CASE("a user's layer: its word reads, prints and compiles to its C++ object", "[spec][custom]") {
    CHECK(spec_text(parsed("784-64:linear-prelu-10:softmax")) == "784-64:linear-prelu-10:softmax");
    CHECK(cpp_layers(parsed("784-64:linear-prelu-10:softmax")) == "input<784> | dense<64> | user::prelu | dense<10> | softmax");
    // on an image, and inside blocks, as any layer
    CHECK(cpp_layers(parsed("1x8x8-conv2k3p1:linear-prelu-res(conv2k3p1:linear-prelu)-10")) ==
          "input<1, 8, 8> | conv2d<2, 3, 1, 1> | user::prelu | residual(conv2d<2, 3, 1, 1> | user::prelu) | flatten | dense<10> | sigmoid");
    CHECK(spec_text(parsed("784-cat(prelu|16:linear-prelu)-10")) == "784-cat(prelu|16:linear-prelu)-10");
    // what is wrong with it, in the grammar's words
    CHECK_THAT(error_of("784-prelu:relu-10"), Catch::Contains("only dense and conv layers take an activation, not 'prelu'"));
    CHECK_THAT(error_of("784-prelu2-10"), Catch::Contains("unknown layer 'prelu2'"));
}

TEST_CASE("a user's layer: sized before any compile, limits counted", "[spec][custom]") {
    const SpecShapes s = infer_shapes(parsed("784-64:linear-prelu-10:softmax"));
    CHECK(s.error.empty());
    CHECK(s.widths == std::vector<std::uint64_t>{784, 64, 64, 10, 10});
    CHECK(s.parameter_layers == std::vector<std::uint64_t>{0, 1, 2});
    CHECK(s.parameter_sizes == std::vector<std::uint64_t>{784 * 64, 64, 64, 64 * 10, 10});
    CHECK(s.parameters == 784 * 64 + 64 + 64 + 640 + 10);
    const SpecShapes image = infer_shapes(parsed("1x8x8-conv2k3p1:linear-prelu-10"));
    CHECK(image.parameter_sizes == std::vector<std::uint64_t>{2 * 9, 2, 2 * 64, 128 * 10, 10});  // α per unit of 2x8x8
    std::string preluses = "784";
    for (int i = 0; i < 41; ++i) preluses += "-prelu";
    CHECK_THAT(error_of(preluses), Catch::Contains("more than 40 layers"));
}

TEST_CASE("a user's layer: a checkpoint's layer description reads back with the model's shapes", "[spec][custom]") {
    CHECK(layers_description<UserModel::composition>() == "input<6> | dense<5> | prelu | residual(dense<5> | prelu) | dense<3> | softmax");
    const NetworkSpec spec = test::spec_with_shapes_of<UserModel>();
    CHECK(spec_text(spec) == "6-5:linear-prelu-res(5:linear-prelu)-3:softmax");
    CHECK(cpp_layers(spec) == "input<6> | dense<5> | user::prelu | residual(dense<5> | user::prelu) | dense<3> | softmax");
}

TEST_CASE("a word is registered once: a second word with the same keyword is refused", "[spec][custom]") {
    CHECK_FALSE(spec::add(user::prelu_word));
    static constexpr spec::Word impostor{.keyword = "prelu", .cpp = "user::other"};
    CHECK_FALSE(spec::add(impostor));
    std::size_t n = 0;
    for (const spec::Word* w : spec::registry()) n += w->keyword == "prelu" ? 1 : 0;
    CHECK(n == 1);
    CHECK(cpp_layers(parsed("4-prelu")) == "input<4> | user::prelu");
}
