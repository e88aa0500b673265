// ad::gradient with the target y left unbound (it used to compile and read a null pointer).
#include <typegrad/ad/program.hpp>
#include <typegrad/expr/build.hpp>

using namespace typegrad::expr;
struct W_ {};
struct x_ {};
struct y_ {};
int main() {
    constexpr Param<W_, 3, 2> W;
    constexpr Input<x_, 3> x;
    constexpr Input<y_, 2> y;
    constexpr auto J = half * squared_norm(matT_vec(W, x) - y);
    const double Wv[6] = {}, xv[3] = {}, yv[2] = {};
    double dW[6];
#ifdef TYPEGRAD_CONTROL
    return typegrad::ad::gradient(J, typegrad::ad::bind(W, Wv, dW), typegrad::ad::bind(x, xv), typegrad::ad::bind(y, yv)) > 1;
#else
    (void)yv;
    return typegrad::ad::gradient(J, typegrad::ad::bind(W, Wv, dW), typegrad::ad::bind(x, xv)) > 1;
#endif
}
