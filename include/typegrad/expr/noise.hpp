// Randomness inside an expression: the dropout mask. A mask is a node of the graph whose value
// is drawn when the forward sweep reaches it — from the generator of the current NoiseScope
// (the trainer opens one around each step, with its own seeded generator, so that runs are
// reproducible and resume bit for bit), or all ones when there is none (evaluation, forward,
// predictions). The mask is not differentiated through: ∂J/∂x of x ⊙ m is ∂J/∂y ⊙ m, read
// from the stored mask.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad::expr {

namespace detail {
inline Rng*& noise_source() noexcept {
    static thread_local Rng* source = nullptr;
    return source;
}
}  // namespace detail

/// The generator masks are drawn from on this thread, or null (then masks are all ones).
inline Rng* current_noise() noexcept { return detail::noise_source(); }

/// Masks drawn on this thread during the scope's lifetime come from rng (scopes nest).
class NoiseScope {
public:
    explicit NoiseScope(Rng& rng) noexcept : saved_(detail::noise_source()) { detail::noise_source() = &rng; }
    ~NoiseScope() { detail::noise_source() = saved_; }
    NoiseScope(const NoiseScope&) = delete;
    NoiseScope& operator=(const NoiseScope&) = delete;

private:
    Rng* saved_;
};

/// Inverted dropout's mask for n elements: each 0 with probability Rate, else 1/(1 − Rate), one
/// uniform draw per element in order; all ones without a NoiseScope.
template <auto Rate, class T>
void draw_dropout_mask(T* m, std::size_t n) noexcept {
    if (Rng* r = current_noise()) {
        const T keep = T(1) / (T(1) - static_cast<T>(Rate));
        for (std::size_t i = 0; i < n; ++i) m[i] = r->uniform() < static_cast<double>(Rate) ? T(0) : keep;
    } else {
        std::fill_n(m, n, T(1));
    }
}

inline std::string rate_text(double rate) {
    char s[32];
    std::snprintf(s, sizeof s, "%g", rate);
    return s;
}

/// The dropout mask of x's shape (x gives the shape only, and is not differentiated through).
template <auto Rate>
struct DropoutMaskOp {
    template <class A>
    using shape = A;
    template <std::size_t I>
    static constexpr bool differentiable = false;
    template <class A, class T>
    static void compute(T* out, const T*) noexcept {
        draw_dropout_mask<Rate>(out, size_v<typename A::shape>);
    }
    static Text print(const Text&) { return {cat("mask(p = ", rate_text(static_cast<double>(Rate)), ")"), 3}; }
};

}  // namespace typegrad::expr
