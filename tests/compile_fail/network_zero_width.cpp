// A hidden layer of 0 units: refused where the network is named, not at a later use.
#include <typegrad/nn/model.hpp>

#ifdef TYPEGRAD_CONTROL
using M = typegrad::Network<float, 784, 1, 10>;
#else
using M = typegrad::Network<float, 784, 0, 10>;
#endif
int main() { return static_cast<int>(M::output_width) - 10; }
