// Differentiating a vector-valued expression: the cost must be a scalar.
#include <typegrad/ad/program.hpp>
#include <typegrad/expr/build.hpp>

using namespace typegrad::expr;
constexpr Param<struct W_, 3, 2> W;
constexpr Input<struct x_, 3> x;
#ifdef TYPEGRAD_CONTROL
constexpr auto J = sum(sigmoid(matT_vec(W, x)));
#else
constexpr auto J = sigmoid(matT_vec(W, x));
#endif
int main() {
    typegrad::ad::Program<double, std::remove_const_t<decltype(J)>> p;
    return p.forward() > 1e9;
}
