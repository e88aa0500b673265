// A convolution that states 3 input channels (PyTorch's Conv2d(3, 6, 5)) after a 1-channel image.
#include <typegrad/nn/layers.hpp>

using namespace typegrad;
#ifdef TYPEGRAD_CONTROL
constexpr auto net = input<1, 28, 28> | conv2d<6, 5, 1, 0, 1> | flatten | dense<3>;
#else
constexpr auto net = input<1, 28, 28> | conv2d<6, 5, 1, 0, 3> | flatten | dense<3>;
#endif
int main() { return static_cast<int>(decltype(net)::output_width) - 3; }
