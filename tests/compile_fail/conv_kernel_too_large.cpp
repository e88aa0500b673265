// A 5 × 5 kernel over a 4 × 4 image without padding: it does not fit.
#include <typegrad/nn/layers.hpp>

using namespace typegrad;
#ifdef TYPEGRAD_CONTROL
constexpr auto net = input<1, 4, 4> | conv2d<2, 5, 1, 1> | flatten | dense<3>;
#else
constexpr auto net = input<1, 4, 4> | conv2d<2, 5> | flatten | dense<3>;
#endif
int main() { return static_cast<int>(decltype(net)::output_width) - 3; }
