// matT_vec(W, a) with W of 3 rows and a of width 4.
#include <typegrad/expr/build.hpp>

using namespace typegrad::expr;
constexpr Param<struct W_, 3, 2> W;
#ifdef TYPEGRAD_CONTROL
constexpr Input<struct x_, 3> x;
#else
constexpr Input<struct x_, 4> x;
#endif
using Z = decltype(matT_vec(W, x))::shape;
int main() { return static_cast<int>(Z::size()) - 2; }
