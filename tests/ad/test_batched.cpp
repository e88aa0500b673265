// The batched path (a mini-batch as one matrix through one forward and one reverse sweep)
// against the per-example path: Σᵦ of the per-example gradients, in double, to a relative error
// ≤ 1e-12 in the max norm per tensor — in practice bit for bit, since every element is computed
// by the same operations in the same order.
#include <catch2/catch.hpp>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/autodiff/gradcheck.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

namespace {

template <class M, std::size_t B>
void check(std::uint64_t seed) {
    using T = typename M::value_type;
    M m{seed};
    Rng rng(seed + 17);
    std::vector<T> X(B * M::input_width), Y(B * M::output_width);
    Gradients<M> sum;
    reference::Workspace<M> rws;
    double cost = 0;
    for (std::size_t b = 0; b < B; ++b) {
        typename M::input_type x;
        typename M::output_type y;
        test::random_example<M>(rng, x, y);
        std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(b * M::input_width));
        std::copy(y.begin(), y.end(), Y.begin() + static_cast<std::ptrdiff_t>(b * M::output_width));
        reference::backprop_into(m, x, y, sum, rws, b == 0 ? Accumulate::no : Accumulate::yes);
        cost += test::cost_of(m, x, y);
    }
    Gradients<M> batched;
    autodiff::Workspace<M, B> ws;
    const double j = autodiff::backprop_batch_into(m, X.data(), Y.data(), batched, ws);
    // J is summed in another order (over the whole batch at once): rounding-level agreement
    CHECK_THAT(j, Catch::Matchers::WithinRel(cost, std::is_same_v<T, float> ? 1e-5 : 1e-12));
    test::check_close(sum, batched, 1e-12);  // δ: of the last example
}

}  // namespace

TEST_CASE("batched = Σ per-example on 784-30-10, a batch of 10", "[ad][batched]") { check<Network<double, 784, 30, 10>, 10>(1); }
TEST_CASE("batched = Σ per-example on 784-100-10, a batch of 10", "[ad][batched]") { check<Network<double, 784, 100, 10>, 10>(2); }
TEST_CASE("batched = Σ per-example on 7-5-4-3, a batch of 3", "[ad][batched]") { check<Network<double, 7, 5, 4, 3>, 3>(3); }
TEST_CASE("batched = Σ per-example with tanh and relu, a batch of 16", "[ad][batched]") {
    check<Model<double, decltype(input<20> | dense<17> | tanh_ | dense<9> | relu | dense<4> | sigmoid)>, 16>(4);
}
TEST_CASE("batched = Σ per-example in float (same operations, same order)", "[ad][batched]") {
    check<Network<float, 784, 30, 10>, 10>(5);
}
TEST_CASE("the batched expression has batch-shaped nodes", "[ad][batched]") {
    using E = autodiff::ModelExpression<Network<float, 784, 30, 10>, 10>;
    STATIC_REQUIRE(std::is_same_v<E::x::shape, expr::Shape<10, 784>>);
    STATIC_REQUIRE(std::is_same_v<E::z<0>::shape, expr::Shape<10, 30>>);
    STATIC_REQUIRE(std::is_same_v<E::weights<0>::shape, expr::Shape<784, 30>>);
    STATIC_REQUIRE(expr::is_scalar_shape_v<E::cost::shape>);
}
