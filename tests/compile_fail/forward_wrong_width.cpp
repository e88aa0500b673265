// forward() given an input of width 100 for a network of input width 784.
#include <typegrad/nn/model.hpp>

int main() {
    typegrad::Network<float, 784, 30, 10> net{1};
#ifdef TYPEGRAD_CONTROL
    typegrad::Vector<float, 784> x{};
#else
    typegrad::Vector<float, 100> x{};
#endif
    return net.forward(x)[0] > 2.0f;
}
