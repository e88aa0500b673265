// Binding data to a leaf that the expression does not use.
#include <typegrad/ad/program.hpp>
#include <typegrad/expr/build.hpp>

using namespace typegrad::expr;
constexpr Param<struct W_, 3, 2> W;
constexpr Input<struct x_, 3> x;
constexpr Input<struct other_, 3> other;
constexpr auto J = sum(sigmoid(matT_vec(W, x)));
int main() {
    const double w[6] = {}, v[3] = {};
    double dw[6];
    typegrad::ad::Program<double, std::remove_const_t<decltype(J)>> p;
#ifdef TYPEGRAD_CONTROL
    p.bind_all(typegrad::ad::bind(W, w, dw), typegrad::ad::bind(x, v));
#else
    p.bind_all(typegrad::ad::bind(W, w, dw), typegrad::ad::bind(other, v));
#endif
    return 0;
}
