// The float gradient against the double one for the same parameters (rounded to float):
// relative error ≤ 1e-4 in the max norm per tensor. float carries 24 bits (6e-8), a 784-term
// sum of products loses a few more, and sigmoid saturation can amplify it.
#include <catch2/catch.hpp>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/autodiff/gradcheck.hpp"
#include "../support/gradient_check.hpp"

using namespace typegrad;

TEMPLATE_TEST_CASE_SIG("float and double autodiff agree", "[ad][float]", ((std::size_t A, std::size_t B, std::size_t C), A, B, C),
                       (784, 30, 10), (7, 5, 3), (50, 20, 10)) {
    using D = Network<double, A, B, C>;
    using F = Network<float, A, B, C>;
    D d{3};
    F f{3};
    // the same parameters in both: the double model's, rounded to float and back
    for_each_parameter_pair<typename D::composition>(d.parameters(), f.parameters(), [](auto, auto& pd, auto& pf) {
        for (std::size_t k = 0; k < pd.size(); ++k) {
            pf.data()[k] = static_cast<float>(pd.data()[k]);
            pd.data()[k] = static_cast<double>(pf.data()[k]);
        }
    });
    Rng rng(4);
    typename D::input_type xd;
    typename D::output_type yd;
    test::random_example<D>(rng, xd, yd);
    typename F::input_type xf;
    typename F::output_type yf;
    for (std::size_t i = 0; i < A; ++i) {
        xf[i] = static_cast<float>(xd[i]);
        xd[i] = static_cast<double>(xf[i]);
    }
    for (std::size_t i = 0; i < C; ++i) yf[i] = static_cast<float>(yd[i]);
    const auto gd = autodiff::backprop(d, xd, yd);
    const auto gf = autodiff::backprop(f, xf, yf);
    for_each_parameter_pair<typename D::composition>(gd.parameters(), gf.parameters(), [](auto ref, const auto& a, const auto& b) {
        INFO(decltype(ref)::description());
        CHECK(relative_error(a, b) <= 1e-4);
    });
    gd.for_each_delta([&]<std::size_t L>(const auto& delta) { CHECK(relative_error(delta, gf.template delta<L>()) <= 1e-4); });
}
