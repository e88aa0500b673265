// A layer of zero units.
#include <typegrad/nn/layers.hpp>

#ifdef TYPEGRAD_CONTROL
constexpr auto net = typegrad::input<4> | typegrad::dense<1>;
#else
constexpr auto net = typegrad::input<4> | typegrad::dense<0>;
#endif
int main() { return static_cast<int>(decltype(net)::output_width) - 1; }
