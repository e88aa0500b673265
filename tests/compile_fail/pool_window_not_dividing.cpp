// Max pooling with 2 × 2 windows over a 7 × 7 image: the window must divide the height and width.
#include <typegrad/nn/layers.hpp>

using namespace typegrad;
#ifdef TYPEGRAD_CONTROL
constexpr auto net = input<1, 8, 8> | max_pool<2> | flatten | dense<3>;
#else
constexpr auto net = input<1, 7, 7> | max_pool<2> | flatten | dense<3>;
#endif
int main() { return static_cast<int>(decltype(net)::output_width) - 3; }
