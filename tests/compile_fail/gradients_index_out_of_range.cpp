// A 784-30-10 network's gradients have parameter layers 0 and 1 only.
#include <typegrad/nn/gradients.hpp>

int main() {
    typegrad::Gradients<typegrad::Network<float, 784, 30, 10>> g;
#ifdef TYPEGRAD_CONTROL
    return g.weights<1>()(0, 0) > 100.0f;
#else
    return g.weights<2>()(0, 0) > 100.0f;
#endif
}
