// The three-way gradient check a user can run on their own network: the autodiff gradient, the
// hand-written reference and central finite differences of J, compared tensor by tensor — two-way
// (autodiff and finite differences) when a layer has no hand-written rule — and every activation's
// derivative against finite differences of its function.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>

#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/graph.hpp"
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
    bool reference = true;             // false: a layer has no hand-written rule (reference::has_rules_v), so
                                       // autodiff is checked against finite differences only
    double autodiff_vs_reference = 0;  // max over tensors of relative_error (every parameter's gradient, δ)
    double autodiff_vs_fd = 0;         // max over tensors of relative_error on the entries checked
    double reference_vs_fd = 0;
    double activations_vs_fd = 0;      // max over the network's activations Activation<F>: F::derivative
                                       // against central differences of F::value (detail::activation_error)
    std::size_t activation_points = 0; // the points of [−4, 4] they were compared at, all activations together
    double cost = 0;                   // J at the parameters
    std::size_t fd_entries = 0;        // parameters checked by finite differences
};

namespace detail {

/// F's own derivative against central differences of F::value, at 64 points of [−4, 4] (none
/// within 0.06 of 0, where ReLU's kind have their kink): max |f′ − fd| / max(|f′|, |fd|). The
/// reference rule of an Activation<F> whose F has no textbook formula (reference/rule.hpp) calls
/// the same F::derivative as autodiff, so this is what checks it.
template <class F>
double activation_error(double h, std::size_t& points) {
    double diff = 0, scale = 0;
    for (int k = 0; k < 64; ++k) {
        const double z = -4.0 + 0.125 * k + 0.0625;
        const double fd = (F::value(z + h) - F::value(z - h)) / (2 * h);
        const double d = F::derivative(z, F::value(z));
        diff = std::max(diff, std::abs(d - fd));
        scale = std::max({scale, std::abs(d), std::abs(fd)});
        ++points;
    }
    return scale > 0 ? diff / scale : 0.0;
}

/// activation_error of every Activation<F> of layer L (after input shape In), inside blocks too.
template <class L, class In>
struct activations_of {
    static void check(double, double&, std::size_t&) {}
};
template <class F, class In>
struct activations_of<expr::MapFn<F>, In> {
    static void check(double h, double& e, std::size_t& n) { e = std::max(e, activation_error<F>(h, n)); }
};
template <class C, class In>
    requires is_combinator<C>::value
struct activations_of<C, In> {
    static void check(double h, double& e, std::size_t& n) {
        [&]<class... I>(std::tuple<I...>*) {
            (activations_of<typename I::layer, typename I::input_shape>::check(h, e, n), ...);
        }(static_cast<typename typegrad::detail::combinator_graph<C, In>::parts::inner*>(nullptr));
    }
};

}  // namespace detail

/// Compares the gradients of model m's cost on (x, y): autodiff, the hand-written reference (when
/// every layer has a rule; else r.reference is false) and central finite differences; and each
/// activation's derivative against finite differences of its function. Finite differences perturb
/// m's parameters and restore them exactly. Meaningful in double; in float the finite differences
/// are only good to about 1e-3.
template <AnyModel M>
GradcheckResult gradcheck(M& m, const typename M::input_type& x, const typename M::output_type& y,
                          GradcheckOptions options = {}) {
    using T = typename M::value_type;
    using S = typename M::composition;
    const auto ad = autodiff::backprop(m, x, y);
    GradcheckResult r;
    std::optional<std::remove_cvref_t<decltype(ad)>> ref;
    if constexpr (reference::has_rules_v<M>) {
        ref.emplace(reference::backprop(m, x, y));
        r.autodiff_vs_reference = max_relative_error(ad, *ref);
    } else {
        r.reference = false;
    }

    // J by the engine's forward sweep (stable for the fused costs); the parameters are bound by
    // pointer, so perturbing them in place is seen by the next forward()
    using E = ModelExpression<M, 1>;
    auto program = std::make_unique<ad::Program<T, typename E::cost, ad::Sweep::forward>>();
    program->bind_all(ad::bind(typename E::x{}, x.data()), ad::bind(typename E::y{}, y.data()));
    bind_parameters<E>(*program, m);
    auto cost = [&] { return double(program->forward()); };
    r.cost = cost();
    auto check_tensor = [&](auto& p, const auto& g_ad, const auto* g_ref) {
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
            scale = std::max(scale, std::abs(fd));
            if (g_ref) {
                d_ref = std::max(d_ref, std::abs(fd - double(g_ref->data()[k])));
                scale = std::max(scale, std::abs(double(g_ref->data()[k])));
            } else {
                scale = std::max(scale, std::abs(double(g_ad.data()[k])));
            }
            ++r.fd_entries;
        }
        if (scale > 0) {
            r.autodiff_vs_fd = std::max(r.autodiff_vs_fd, d_ad / scale);
            r.reference_vs_fd = std::max(r.reference_vs_fd, d_ref / scale);
        }
    };
    // every parameter of every layer, through the one parameter visitor
    for_each_parameter_pair<S>(m.parameters(), ad.parameters(), [&](auto ref_, auto& p, const auto& g_ad) {
        using R = decltype(ref_);
        check_tensor(p, g_ad, ref ? &std::get<R::position>(ref->parameters()).template at<R::index>() : nullptr);
    });
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (detail::activations_of<typename S::template layer_at<K>, typename S::template shape_at<K>>::check(
             options.step, r.activations_vs_fd, r.activation_points),
         ...);
    }(std::make_index_sequence<S::depth>{});
    return r;
}

}  // namespace typegrad
