// A 784-30-10 network has parameter layers 0 and 1 only.
#include <typegrad/nn/model.hpp>

int main() {
    typegrad::Network<float, 784, 30, 10> net{1};
#ifdef TYPEGRAD_CONTROL
    return net.weights<1>()(0, 0) > 100.0f;
#else
    return net.weights<2>()(0, 0) > 100.0f;
#endif
}
