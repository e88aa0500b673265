// A target of width 9 for a network with 10 outputs.
#include <typegrad/autodiff/backprop.hpp>

int main() {
    typegrad::Network<double, 784, 30, 10> net{1};
    typegrad::Vector<double, 784> x{};
#ifdef TYPEGRAD_CONTROL
    typegrad::Vector<double, 10> y{};
#else
    typegrad::Vector<double, 9> y{};
#endif
    return typegrad::autodiff::backprop(net, x, y).biases<1>()[0] > 1.0;
}
