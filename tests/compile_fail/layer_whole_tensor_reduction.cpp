// A layer that centres its input with the whole-tensor sum (issue 19): over a batch it would
// subtract the mean of every example of the chunk, so it must not compile; the per-example
// mean_last does.
#include <typegrad/typegrad.hpp>

using namespace typegrad;
struct Centre {
    static constexpr std::string_view name = "centre";
    template <class In>
    using output_shape = In;
#ifdef TYPEGRAD_CONTROL
    template <class X>
    using expression = expr::Sub<X, expr::MeanLast<X>>;
#else
    template <class X>
    using expression = expr::Sub<X, expr::Hadamard<expr::Const<1, 6>, expr::Sum<X>>>;
#endif
};
using Net = Model<double, decltype(input<4> | dense<6> | Centre{} | tanh | dense<3> | sigmoid)>;
int main() {
    const Net net{1};
    return static_cast<int>(net.forward(Net::input_type{})[0]);
}
