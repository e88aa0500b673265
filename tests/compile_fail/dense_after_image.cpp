// A dense layer straight after a 1×28×28 image: it takes a vector (flatten first).
#include <typegrad/nn/layers.hpp>

using namespace typegrad;
#ifdef TYPEGRAD_CONTROL
constexpr auto net = input<784> | dense<10> | sigmoid;
#else
constexpr auto net = input<1, 28, 28> | dense<10> | sigmoid;
#endif
int main() { return static_cast<int>(decltype(net)::output_width) - 10; }
