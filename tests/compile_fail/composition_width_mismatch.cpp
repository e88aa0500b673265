// A feature extractor of width 6 followed by a head that expects width 5.
#include <typegrad/nn/layers.hpp>

using namespace typegrad;
constexpr auto features = input<8> | dense<6> | relu;
#ifdef TYPEGRAD_CONTROL
constexpr auto head = input<6> | dense<3> | sigmoid;
#else
constexpr auto head = input<5> | dense<3> | sigmoid;
#endif
constexpr auto net = features | head;
int main() { return static_cast<int>(decltype(net)::output_width) - 3; }
