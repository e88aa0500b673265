// Elementwise functions: a value rule and a local derivative rule, written once for scalars
// and SIMD batches alike. A new activation is one such struct; nothing else needs to change.
#pragma once

#include <cmath>
#include <concepts>
#include <string_view>
#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace typegrad::expr {

namespace detail {
// Lets the same rule run on T and on xsimd::batch<T>: select(c, a, b) and max(x, 0).
template <class V>
V relu_value(V x) noexcept {
    if constexpr (std::is_floating_point_v<V>) return x > V(0) ? x : V(0);
    else return xsimd::max(x, V(0));
}
template <class V>
V step(V x) noexcept {
    if constexpr (std::is_floating_point_v<V>) return x > V(0) ? V(1) : V(0);
    else return xsimd::select(x > V(0), V(1), V(0));
}
/// x limited to where exp(x) is still finite and non-zero-ish: exp of the limited value is the
/// same 0 or ∞ as exp(x) (e^−104 and e^89 already round to 0 and ∞ in float, e^−746 and e^710
/// in double), but xsimd's vectorised exp converts x·log2(e) to an integer first, which is
/// undefined behaviour for |x| near 1e300 (UBSan found it through a restored checkpoint).
template <class V>
V exp_domain(V x) noexcept {
    if constexpr (std::is_floating_point_v<V>) {
        constexpr V lo = sizeof(V) == 4 ? V(-104) : V(-746), hi = sizeof(V) == 4 ? V(89) : V(710);
        return x < lo ? lo : (x > hi ? hi : x);
    } else {
        using T = typename V::value_type;
        constexpr T lo = sizeof(T) == 4 ? T(-104) : T(-746), hi = sizeof(T) == 4 ? T(89) : T(710);
        return xsimd::min(xsimd::max(x, V(lo)), V(hi));
    }
}
}  // namespace detail

/// What an elementwise function must provide: its printed name, its value f(x), and its
/// derivative f'(x) given x and y = f(x) (so sigmoid can use y(1 − y)) — for scalars (float,
/// double) *and* for xsimd batches of them, since the kernels call it on whole SIMD registers:
/// write it as a template over the value type V, with `using std::exp;` before an unqualified
/// `exp(x)` so that xsimd's overloads are found for batches.
template <class F>
concept ElementwiseFunction = requires(double x, float xf, xsimd::batch<double> b, xsimd::batch<float> bf) {
    { F::name } -> std::convertible_to<std::string_view>;
    { F::value(x) } -> std::convertible_to<double>;
    { F::derivative(x, x) } -> std::convertible_to<double>;
    { F::value(xf) } -> std::convertible_to<float>;
    { F::derivative(xf, xf) } -> std::convertible_to<float>;
    { F::value(b) } -> std::convertible_to<xsimd::batch<double>>;
    { F::derivative(b, b) } -> std::convertible_to<xsimd::batch<double>>;
    { F::value(bf) } -> std::convertible_to<xsimd::batch<float>>;
    { F::derivative(bf, bf) } -> std::convertible_to<xsimd::batch<float>>;
};

namespace fn {

/// σ(x) = 1 / (1 + e^−x),  σ'(x) = σ(x)(1 − σ(x)).
struct Sigmoid {
    static constexpr std::string_view name = "σ";
    template <class V>
    static V value(V x) noexcept {
        using std::exp;
        return V(1) / (V(1) + exp(detail::exp_domain(-x)));  // the same value, without UB for huge |x|
    }
    template <class V>
    static V derivative(V /*x*/, V y) noexcept { return y * (V(1) - y); }
};

/// tanh(x),  tanh'(x) = 1 − tanh²(x).
struct Tanh {
    static constexpr std::string_view name = "tanh";
    template <class V>
    static V value(V x) noexcept {
        using std::tanh;
        return tanh(x);
    }
    template <class V>
    static V derivative(V /*x*/, V y) noexcept { return V(1) - y * y; }
};

/// max(x, 0),  derivative 1 for x > 0 and 0 otherwise (0 at the kink, as PyTorch).
struct Relu {
    static constexpr std::string_view name = "relu";
    template <class V>
    static V value(V x) noexcept { return detail::relu_value(x); }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept { return detail::step(x); }
};

/// The identity (a linear output layer).
struct Identity {
    static constexpr std::string_view name = "id";
    template <class V>
    static V value(V x) noexcept { return x; }
    template <class V>
    static V derivative(V /*x*/, V /*y*/) noexcept { return V(1); }
};

/// ln x,  1/x (used by the cross-entropy costs).
struct Log {
    static constexpr std::string_view name = "ln";
    template <class V>
    static V value(V x) noexcept {
        using std::log;
        return log(x);
    }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept { return V(1) / x; }
};

static_assert(ElementwiseFunction<Sigmoid> && ElementwiseFunction<Tanh> && ElementwiseFunction<Relu> &&
              ElementwiseFunction<Identity> && ElementwiseFunction<Log>);

}  // namespace fn
}  // namespace typegrad::expr
