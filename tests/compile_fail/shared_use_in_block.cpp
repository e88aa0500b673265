// same(h) inside a residual block: shared parameters are used at the top level only.
#include <typegrad/autodiff/backprop.hpp>
#include <typegrad/nn/graph.hpp>
#include <typegrad/nn/shared.hpp>

constexpr auto h = typegrad::shared<"h">(typegrad::dense<5, 5>);
#ifdef TYPEGRAD_CONTROL
constexpr auto layers = typegrad::input<5> | h | typegrad::residual(typegrad::dense<5> | typegrad::tanh_) | typegrad::same(h);
#else
constexpr auto layers = typegrad::input<5> | h | typegrad::residual(typegrad::same(h) | typegrad::tanh_);
#endif

int main() {
    typegrad::Model<double, decltype(layers)> net{1};
    typename decltype(net)::input_type x{};
    typename decltype(net)::output_type y{};
    const auto g = typegrad::autodiff::backprop(net, x, y);
    return g.biases<0>()[0] > 1;
}
