// Dense<10, 20> states an input width of 20, but follows a layer of width 30.
#include <typegrad/nn/layers.hpp>

#ifdef TYPEGRAD_CONTROL
constexpr auto net = typegrad::input<784> | typegrad::dense<30> | typegrad::sigmoid | typegrad::dense<10, 30>;
#else
constexpr auto net = typegrad::input<784> | typegrad::dense<30> | typegrad::sigmoid | typegrad::dense<10, 20>;
#endif
int main() { return static_cast<int>(decltype(net)::output_width) - 10; }
