// An activation struct without its local derivative rule is not an ElementwiseFunction.
#include <typegrad/nn/layers.hpp>

#include <cmath>
#include <string_view>

struct Softsign {
    static constexpr std::string_view name = "softsign";
    template <class V>
    static V value(V x) { return x / (V(1) + std::abs(x)); }
#ifdef TYPEGRAD_CONTROL
    template <class V>
    static V derivative(V x, V) { return V(1) / ((V(1) + std::abs(x)) * (V(1) + std::abs(x))); }
#endif
};
constexpr auto net = typegrad::input<4> | typegrad::dense<3> | typegrad::Activation<Softsign>{};
int main() { return static_cast<int>(decltype(net)::output_width) - 3; }
