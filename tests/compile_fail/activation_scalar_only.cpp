// An activation written for scalars only (std::min on double): the kernels call it on xsimd
// batches too, so it is refused where the layer is named, whatever the width.
#include <typegrad/nn/layers.hpp>

#include <algorithm>
#include <string_view>

struct Clipped {
    static constexpr std::string_view name = "clip";
#ifdef TYPEGRAD_CONTROL
    template <class V>
    static V value(V x) { return x; }
    template <class V>
    static V derivative(V, V) { return V(1); }
#else
    static double value(double x) { return std::min(x, 1.0); }
    static double derivative(double x, double) { return x < 1.0 ? 1.0 : 0.0; }
#endif
};
constexpr auto net = typegrad::input<3> | typegrad::dense<3> | typegrad::Activation<Clipped>{};
int main() { return static_cast<int>(decltype(net)::output_width) - 3; }
