// Network<T, sizes...> needs an input and an output width.
#include <typegrad/nn/model.hpp>

#ifdef TYPEGRAD_CONTROL
using Net = typegrad::Network<float, 784, 10>;
#else
using Net = typegrad::Network<float, 784>;
#endif
int main() { return static_cast<int>(Net::input_width) - 784; }
