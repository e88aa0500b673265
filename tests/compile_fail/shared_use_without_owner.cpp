// tied_transpose(enc) in a composition without enc: the owner must come earlier.
#include <typegrad/autodiff/backprop.hpp>
#include <typegrad/nn/shared.hpp>

constexpr auto enc = typegrad::shared<"enc">(typegrad::dense<3, 5>);
#ifdef TYPEGRAD_CONTROL
constexpr auto layers = typegrad::input<5> | enc | typegrad::tied_transpose(enc);
#else
constexpr auto layers = typegrad::input<5> | typegrad::dense<3> | typegrad::tied_transpose(enc);
#endif

int main() {
    typegrad::Model<double, decltype(layers)> net{1};
    typename decltype(net)::input_type x{};
    typename decltype(net)::output_type y{};
    const auto g = typegrad::autodiff::backprop(net, x, y);
    return g.biases<1>()[0] > 1;
}
