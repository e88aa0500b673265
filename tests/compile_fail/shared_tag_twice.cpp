// Two owners with one tag: a tag names one set of parameters.
#include <typegrad/autodiff/backprop.hpp>
#include <typegrad/nn/shared.hpp>

constexpr auto a = typegrad::shared<"a">(typegrad::dense<5, 5>);
#ifdef TYPEGRAD_CONTROL
constexpr auto b = typegrad::shared<"b">(typegrad::dense<5, 5>);
#else
constexpr auto b = typegrad::shared<"a">(typegrad::dense<5>);
#endif
constexpr auto layers = typegrad::input<5> | a | typegrad::tanh_ | b | typegrad::same(a);

int main() {
    typegrad::Model<double, decltype(layers)> net{1};
    typename decltype(net)::input_type x{};
    typename decltype(net)::output_type y{};
    const auto g = typegrad::autodiff::backprop(net, x, y);
    return g.biases<1>()[0] > 1;
}
