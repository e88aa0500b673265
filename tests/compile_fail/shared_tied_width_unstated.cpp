// tied_transpose of a dense layer whose input width is inferred: its output width is unknown.
#include <typegrad/autodiff/backprop.hpp>
#include <typegrad/nn/shared.hpp>

#ifdef TYPEGRAD_CONTROL
constexpr auto enc = typegrad::shared<"enc">(typegrad::dense<3, 5>);
#else
constexpr auto enc = typegrad::shared<"enc">(typegrad::dense<3>);
#endif
constexpr auto layers = typegrad::input<5> | enc | typegrad::tied_transpose(enc);

int main() {
    typegrad::Model<double, decltype(layers)> net{1};
    typename decltype(net)::input_type x{};
    typename decltype(net)::output_type y{};
    const auto g = typegrad::autodiff::backprop(net, x, y);
    return g.biases<1>()[0] > 1;
}
