// Adding vectors of widths 3 and 2.
#include <typegrad/expr/build.hpp>

using namespace typegrad::expr;
constexpr Input<struct a_, 3> a;
#ifdef TYPEGRAD_CONTROL
constexpr Input<struct b_, 3> b;
#else
constexpr Input<struct b_, 2> b;
#endif
using S = decltype(a + b)::shape;
int main() { return static_cast<int>(S::size()) - 3; }
