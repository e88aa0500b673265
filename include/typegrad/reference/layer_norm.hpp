// The hand-written reference rule of layer_norm (nn/layers/layer_norm.hpp), from the textbook
// (Ba, Kiros & Hinton 2016), in plain loops with double accumulators; the autodiff engine
// derives its own backward pass from the layer's expression and never reads this. Over the n
// features of one example, with μ = mean(x), σ = √(mean((x − μ)²) + ε), x̂ = (x − μ)/σ:
//   forward   y = γ ⊙ x̂ + β
//   backward  ∂J/∂β = ∂J/∂y,  ∂J/∂γ = ∂J/∂y ⊙ x̂   (assigned, or added with Accumulate::yes),
//             ∂J/∂x = (1/σ)(g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)),  g = ∂J/∂y ⊙ γ.
// On a sequence (T, n), the same at every position, with ∂J/∂γ and ∂J/∂β summed over the positions.
// (Included at the end of reference/rule.hpp, so every user of the reference has it.)
#pragma once

#include <cmath>
#include <cstddef>

#include "typegrad/nn/layers/layer_norm.hpp"
#include "typegrad/reference/rule.hpp"

namespace typegrad::reference {

template <>
struct rule<LayerNorm> {
    /// μ and 1/σ of the n values at x.
    struct Statistics {
        double mean = 0, inv_std = 0;
    };
    template <class T>
    static Statistics statistics(const T* x, std::size_t n) noexcept {
        double mean = 0;
        for (std::size_t i = 0; i < n; ++i) mean += static_cast<double>(x[i]);
        mean /= static_cast<double>(n);
        double var = 0;
        for (std::size_t i = 0; i < n; ++i) var += (static_cast<double>(x[i]) - mean) * (static_cast<double>(x[i]) - mean);
        var /= static_cast<double>(n);  // biased, as PyTorch
        return {mean, 1.0 / std::sqrt(var + LayerNorm::epsilon)};
    }

    template <class In>
    static constexpr std::size_t features = shape_traits<In>::extents[rank_v<In> - 1];

    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) noexcept {
        constexpr std::size_t n = features<In>;
        for (std::size_t t = 0; t < size_v<In> / n; ++t) forward_one<n>(p, x + t * n, y + t * n);
    }
    template <std::size_t n, class T, class P>
    static void forward_one(const P& p, const T* x, T* y) noexcept {
        const T* gamma = p.template get<"γ">().data();
        const T* beta = p.template get<"β">().data();
        const Statistics s = statistics(x, n);
        for (std::size_t i = 0; i < n; ++i) {
            const double xhat = (static_cast<double>(x[i]) - s.mean) * s.inv_std;
            y[i] = static_cast<T>(static_cast<double>(gamma[i]) * xhat + static_cast<double>(beta[i]));
        }
    }

    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T* y, const T* gy, T* gx, G& g, Accumulate acc) noexcept {
        constexpr std::size_t n = features<In>;
        for (std::size_t t = 0; t < size_v<In> / n; ++t)
            backward_one<n>(p, x + t * n, y + t * n, gy + t * n, gx ? gx + t * n : nullptr, g,
                            t > 0 ? Accumulate::yes : acc);
    }
    template <std::size_t n, class T, class P, class G>
    static void backward_one(const P& p, const T* x, const T*, const T* gy, T* gx, G& g, Accumulate acc) noexcept {
        const T* gamma = p.template get<"γ">().data();
        T* dgamma = g.template get<"γ">().data();
        T* dbeta = g.template get<"β">().data();
        const Statistics s = statistics(x, n);
        const auto xhat = [&](std::size_t i) { return (static_cast<double>(x[i]) - s.mean) * s.inv_std; };
        for (std::size_t i = 0; i < n; ++i) {
            const T dg = static_cast<T>(static_cast<double>(gy[i]) * xhat(i));
            dgamma[i] = acc == Accumulate::yes ? dgamma[i] + dg : dg;
            dbeta[i] = acc == Accumulate::yes ? dbeta[i] + gy[i] : gy[i];
        }
        if (!gx) return;
        // g = ∂J/∂y ⊙ γ;  mean(g) and mean(g ⊙ x̂)
        double mean_g = 0, mean_g_xhat = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double gi = static_cast<double>(gy[i]) * static_cast<double>(gamma[i]);
            mean_g += gi;
            mean_g_xhat += gi * xhat(i);
        }
        mean_g /= static_cast<double>(n);
        mean_g_xhat /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i) {
            const double gi = static_cast<double>(gy[i]) * static_cast<double>(gamma[i]);
            gx[i] = static_cast<T>(s.inv_std * (gi - mean_g - xhat(i) * mean_g_xhat));
        }
    }
};

}  // namespace typegrad::reference
