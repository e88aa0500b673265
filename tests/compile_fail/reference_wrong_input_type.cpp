// A float input for a double network.
#include <typegrad/reference/backprop.hpp>

int main() {
    typegrad::Network<double, 784, 30, 10> net{1};
#ifdef TYPEGRAD_CONTROL
    typegrad::Vector<double, 784> x{};
#else
    typegrad::Vector<float, 784> x{};
#endif
    typegrad::Vector<double, 10> y{};
    return typegrad::reference::backprop(net, x, y).biases<1>()[0] > 1.0;
}
