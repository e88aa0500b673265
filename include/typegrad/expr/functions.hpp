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
/// x limited to [−28, 28], the argument of erfc: erfc(±28) is already the 2 or 0 (e^−784 is below
/// the smallest double) that erfc of anything beyond is, and xsimd's erfc squares its argument and takes
/// exp(−x²), which for |x| near 1e300 is the undefined behaviour exp_domain avoids.
template <class V>
V erfc_domain(V x) noexcept {
    if constexpr (std::is_floating_point_v<V>) return x < V(-28) ? V(-28) : (x > V(28) ? V(28) : x);
    else return xsimd::min(xsimd::max(x, V(-28)), V(28));
}
/// Φ(x) = ½ erfc(−x/√2), the standard normal distribution function: for x far below 0 a true
/// tiny number, where ½(1 + erf(x/√2)) cancels to 0. On scalars std::erfc (within an ulp); on
/// SIMD batches xsimd 8.1's erfc, within 5e-15 relative for Φ(x) with x > −3.1 and 4e-12 below
/// (measured; tests/nn/test_activations19.cpp).
template <class V>
V normal_cdf(V x) noexcept {
    using std::erfc;
    return V(0.5) * erfc(erfc_domain(x * V(-0.70710678118654752440)));
}
/// φ(x) = e^(−x²/2) / √(2π), the standard normal density.
template <class V>
V normal_pdf(V x) noexcept {
    using std::exp;
    return V(0.39894228040143267794) * exp(exp_domain(V(-0.5) * x * x));
}
template <class V>
V sigmoid_value(V x) noexcept {
    using std::exp;
    return V(1) / (V(1) + exp(exp_domain(-x)));  // the same value, without UB for huge |x|
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
    static V value(V x) noexcept { return detail::sigmoid_value(x); }
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

/// GELU, exact (PyTorch's nn.GELU() default, not its tanh approximation):
/// gelu(x) = x Φ(x) = ½x(1 + erf(x/√2)),  gelu'(x) = Φ(x) + x φ(x),
/// Φ and φ the standard normal distribution and density. Φ is computed as ½ erfc(−x/√2).
struct Gelu {
    static constexpr std::string_view name = "gelu";
    template <class V>
    static V value(V x) noexcept { return x * detail::normal_cdf(x); }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept { return detail::normal_cdf(x) + x * detail::normal_pdf(x); }
};

/// SiLU (swish): silu(x) = x σ(x),  silu'(x) = σ(x)(1 + x(1 − σ(x))).
struct Silu {
    static constexpr std::string_view name = "silu";
    template <class V>
    static V value(V x) noexcept { return x * detail::sigmoid_value(x); }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept {
        const V s = detail::sigmoid_value(x);
        return s * (V(1) + x * (V(1) - s));
    }
};

/// Leaky ReLU with PyTorch's default slope 0.01 (nn.LeakyReLU()): x for x > 0, else 0.01 x;
/// derivative 1 for x > 0 and 0.01 otherwise (0.01 at 0, as PyTorch's x > 0 ? 1 : slope).
struct LeakyRelu {
    static constexpr std::string_view name = "leaky_relu";
    static constexpr double slope = 0.01;
    template <class V>
    static V value(V x) noexcept {
        if constexpr (std::is_floating_point_v<V>) return x > V(0) ? x : V(slope) * x;
        else return xsimd::select(x > V(0), x, V(slope) * x);
    }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept {
        if constexpr (std::is_floating_point_v<V>) return x > V(0) ? V(1) : V(slope);
        else return xsimd::select(x > V(0), V(1), V(slope));
    }
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
              ElementwiseFunction<Identity> && ElementwiseFunction<Log> && ElementwiseFunction<Gelu> &&
              ElementwiseFunction<Silu> && ElementwiseFunction<LeakyRelu>);

}  // namespace fn
}  // namespace typegrad::expr
