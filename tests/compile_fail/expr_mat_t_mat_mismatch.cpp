// A batch of 10 examples of width 5 through W of 4 rows.
#include <typegrad/expr/build.hpp>

using namespace typegrad::expr;
constexpr Param<struct W_, 4, 3> W;
#ifdef TYPEGRAD_CONTROL
constexpr Input<struct X_, 10, 4> X;
#else
constexpr Input<struct X_, 10, 5> X;
#endif
using Z = Node<MatTVecOp, std::remove_const_t<decltype(W)>, std::remove_const_t<decltype(X)>>::shape;
int main() { return static_cast<int>(Z::size()) - 30; }
