// The three-way gradient check a user can run on their own network: the autodiff gradient, the
// hand-written reference and central finite differences of J, compared tensor by tensor.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/reference/backprop.hpp"

namespace typegrad {

/// Relative error of b against a in the max norm: ‖a − b‖∞ / max(‖a‖∞, ‖b‖∞), 0 when both are 0.
template <class A, class B>
double relative_error(const A& a, const B& b) noexcept {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(double(a.data()[i]) - double(b.data()[i])));
        scale = std::max({scale, std::abs(double(a.data()[i])), std::abs(double(b.data()[i]))});
    }
    return scale > 0 ? diff / scale : 0.0;
}

/// The largest relative_error over every parameter gradient and δ of two gradients.
template <AnyModel M>
double max_relative_error(const Gradients<M>& a, const Gradients<M>& b) noexcept {
    double e = 0;
    for_each_parameter_pair<typename M::composition>(a.parameters(), b.parameters(),
                                                     [&](auto, const auto& x, const auto& y) { e = std::max(e, relative_error(x, y)); });
    a.for_each_delta([&]<std::size_t L>(const auto& d) { e = std::max(e, relative_error(d, b.template delta<L>())); });
    return e;
}

struct GradcheckOptions {
    double step = 1e-6;              // h of the central difference (J(p + h) − J(p − h)) / 2h
    std::size_t samples_per_tensor = 0;  // finite differences for at most this many entries per tensor (0: all)
};

struct GradcheckResult {
    double autodiff_vs_reference = 0;  // max over tensors of relative_error (every parameter's gradient, δ)
    double autodiff_vs_fd = 0;         // max over tensors of relative_error on the entries checked
    double reference_vs_fd = 0;
    double cost = 0;                   // J at the parameters
    std::size_t fd_entries = 0;        // parameters checked by finite differences
};

/// Compares the three gradients of model m's cost on (x, y). Finite differences perturb m's
/// parameters and restore them exactly. Meaningful in double; in float the finite differences
/// are only good to about 1e-3.
template <AnyModel M>
GradcheckResult gradcheck(M& m, const typename M::input_type& x, const typename M::output_type& y,
                          GradcheckOptions options = {}) {
    using T = typename M::value_type;
    const auto ad = autodiff::backprop(m, x, y);
    const auto ref = reference::backprop(m, x, y);
    GradcheckResult r;
    r.autodiff_vs_reference = max_relative_error(ad, ref);

    // J by the engine's forward sweep (stable for the fused costs); the parameters are bound by
    // pointer, so perturbing them in place is seen by the next forward()
    using E = ModelExpression<M, 1>;
    auto program = std::make_unique<ad::Program<T, typename E::cost, ad::Sweep::forward>>();
    program->bind_all(ad::bind(typename E::x{}, x.data()), ad::bind(typename E::y{}, y.data()));
    bind_parameters<E>(*program, m);
    auto cost = [&] { return double(program->forward()); };
    r.cost = cost();
    auto check_tensor = [&](auto& p, const auto& g_ad, const auto& g_ref) {
        const std::size_t n = p.size();
        const std::size_t stride =
            options.samples_per_tensor == 0 || options.samples_per_tensor >= n ? 1 : n / options.samples_per_tensor;
        double d_ad = 0, d_ref = 0, scale = 0;
        for (std::size_t k = 0; k < n; k += stride) {
            T& v = p.data()[k];
            const T saved = v;
            v = static_cast<T>(saved + options.step);
            const double up = cost();
            v = static_cast<T>(saved - options.step);
            const double down = cost();
            v = saved;
            const double fd = (up - down) / (2 * options.step);
            d_ad = std::max(d_ad, std::abs(fd - double(g_ad.data()[k])));
            d_ref = std::max(d_ref, std::abs(fd - double(g_ref.data()[k])));
            scale = std::max({scale, std::abs(fd), std::abs(double(g_ref.data()[k]))});
            ++r.fd_entries;
        }
        if (scale > 0) {
            r.autodiff_vs_fd = std::max(r.autodiff_vs_fd, d_ad / scale);
            r.reference_vs_fd = std::max(r.reference_vs_fd, d_ref / scale);
        }
    };
    // every parameter of every layer, through the one parameter visitor
    for_each_parameter_pair<typename M::composition>(
        m.parameters(), ad.parameters(), [&](auto ref_, auto& p, const auto& g_ad) {
            using R = decltype(ref_);
            check_tensor(p, g_ad, std::get<R::position>(ref.parameters()).template at<R::index>());
        });
    return r;
}

}  // namespace typegrad
