// The hand-written reference of batch_norm (nn/layers/batch_norm.hpp), from the textbook (Ioffe &
// Szegedy 2015, §3), in plain loops with double accumulators; the autodiff engine derives its own
// backward pass from the layer's expression and never reads this.
//
// Evaluation (rule<BatchNorm>::forward/backward, one example, as every reference rule): with
// r = 1/√(running_var + ε),
//   y = γ (x − running_mean) r + β;   ∂J/∂γ = Σ g (x − running_mean) r,  ∂J/∂β = Σ g,
//   ∂J/∂running_mean = −Σ g γ r,  ∂J/∂running_var = −½ Σ g γ (x − running_mean) r³,
//   ∂J/∂x = g γ r                         (g = ∂J/∂y; Σ over H, W of each channel).
// Training (forward_batch/backward_batch, the m examples of a mini-batch at once): with n = m·H·W
// values per channel, μ = mean, σ² = biased variance, r = 1/√(σ² + ε), x̂ = (x − μ) r:
//   y = γ x̂ + β;   ∂J/∂γ = Σ g x̂,  ∂J/∂β = Σ g,
//   ∂J/∂x = (r/n) (n ĝ − Σ ĝ − x̂ Σ ĝ x̂),   ĝ = g γ        (Σ over the n values of the channel).
// The running statistics get no gradient while training.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "typegrad/nn/layers/batch_norm.hpp"
#include "typegrad/reference/rule.hpp"

namespace typegrad::reference {

template <>
struct rule<BatchNorm> {
    /// Training has a batch form (forward_batch, backward_batch), which reference/batch.hpp uses.
    static constexpr bool batch_rule = true;
    template <class In>
    static constexpr std::size_t channels = shape_traits<In>::extents[0];
    template <class In>
    static constexpr std::size_t inner = size_v<In> / channels<In>;

    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) noexcept {
        const T* gamma = p.template get<"γ">().data();
        const T* beta = p.template get<"β">().data();
        const T* mean = p.template get<"running_mean">().data();
        const T* var = p.template get<"running_var">().data();
        for (std::size_t c = 0; c < channels<In>; ++c) {
            const double r = 1.0 / std::sqrt(double(var[c]) + BatchNorm::epsilon);
            for (std::size_t i = 0; i < inner<In>; ++i) {
                const std::size_t k = c * inner<In> + i;
                y[k] = static_cast<T>(double(gamma[c]) * (double(x[k]) - double(mean[c])) * r + double(beta[c]));
            }
        }
    }

    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T*, const T* gy, T* gx, G& g, Accumulate acc) noexcept {
        const T* gamma = p.template get<"γ">().data();
        const T* mean = p.template get<"running_mean">().data();
        const T* var = p.template get<"running_var">().data();
        T* dgamma = g.template get<"γ">().data();
        T* dbeta = g.template get<"β">().data();
        T* dmean = g.template get<"running_mean">().data();
        T* dvar = g.template get<"running_var">().data();
        const auto put = [acc](T& to, double v) { to = acc == Accumulate::yes ? to + static_cast<T>(v) : static_cast<T>(v); };
        for (std::size_t c = 0; c < channels<In>; ++c) {
            const double r = 1.0 / std::sqrt(double(var[c]) + BatchNorm::epsilon);
            double sg = 0, sgx = 0;
            for (std::size_t i = 0; i < inner<In>; ++i) {
                const std::size_t k = c * inner<In> + i;
                sg += double(gy[k]);
                sgx += double(gy[k]) * (double(x[k]) - double(mean[c]));
            }
            put(dgamma[c], sgx * r);
            put(dbeta[c], sg);
            put(dmean[c], -sg * double(gamma[c]) * r);
            put(dvar[c], -0.5 * sgx * double(gamma[c]) * r * r * r);
            if (gx)
                for (std::size_t i = 0; i < inner<In>; ++i) {
                    const std::size_t k = c * inner<In> + i;
                    gx[k] = static_cast<T>(double(gy[k]) * double(gamma[c]) * r);
                }
        }
    }

    /// Training, forward: the m examples at x (one after another) normalised with their batch
    /// statistics into y.
    template <class In, class T, class P>
    static void forward_batch(const P& p, const T* x, T* y, std::size_t m) {
        const T* gamma = p.template get<"γ">().data();
        const T* beta = p.template get<"β">().data();
        for (std::size_t c = 0; c < channels<In>; ++c) {
            const Statistics s = statistics<In>(x, m, c);
            for_channel<In>(m, c, [&](std::size_t k) {
                y[k] = static_cast<T>(double(gamma[c]) * (double(x[k]) - s.mean) * s.inv_std + double(beta[c]));
            });
        }
    }

    /// Training, backward: given ∂J/∂y of the m examples, ∂J/∂γ and ∂J/∂β (assigned, or added
    /// with Accumulate::yes; the running statistics' gradients are set to 0 or left) and ∂J/∂x.
    template <class In, class T, class P, class G>
    static void backward_batch(const P& p, const T* x, const T* gy, T* gx, G& g, Accumulate acc, std::size_t m) {
        const T* gamma = p.template get<"γ">().data();
        T* dgamma = g.template get<"γ">().data();
        T* dbeta = g.template get<"β">().data();
        const double n = double(m * inner<In>);
        for (std::size_t c = 0; c < channels<In>; ++c) {
            const Statistics s = statistics<In>(x, m, c);
            double sg = 0, sgx = 0;
            for_channel<In>(m, c, [&](std::size_t k) {
                const double xhat = (double(x[k]) - s.mean) * s.inv_std;
                sg += double(gy[k]);
                sgx += double(gy[k]) * xhat;
            });
            dgamma[c] = acc == Accumulate::yes ? dgamma[c] + static_cast<T>(sgx) : static_cast<T>(sgx);
            dbeta[c] = acc == Accumulate::yes ? dbeta[c] + static_cast<T>(sg) : static_cast<T>(sg);
            if (acc == Accumulate::no) {
                g.template get<"running_mean">().data()[c] = T(0);
                g.template get<"running_var">().data()[c] = T(0);
            }
            if (!gx) continue;
            // ĝ = g γ: Σ ĝ = γ Σ g and Σ ĝ x̂ = γ Σ g x̂
            const double gam = double(gamma[c]), sum_gh = gam * sg, sum_ghx = gam * sgx;
            for_channel<In>(m, c, [&](std::size_t k) {
                const double xhat = (double(x[k]) - s.mean) * s.inv_std;
                gx[k] = static_cast<T>(s.inv_std / n * (n * double(gy[k]) * gam - sum_gh - xhat * sum_ghx));
            });
        }
    }

    struct Statistics {
        double mean = 0, inv_std = 0, variance = 0;  // variance: biased
    };
    /// μ, 1/√(σ² + ε) and σ² (biased) of channel c over the m examples at x.
    template <class In, class T>
    static Statistics statistics(const T* x, std::size_t m, std::size_t c) {
        const double n = double(m * inner<In>);
        double mean = 0;
        for_channel<In>(m, c, [&](std::size_t k) { mean += double(x[k]); });
        mean /= n;
        double var = 0;
        for_channel<In>(m, c, [&](std::size_t k) { var += (double(x[k]) - mean) * (double(x[k]) - mean); });
        var /= n;
        return {mean, 1.0 / std::sqrt(var + BatchNorm::epsilon), var};
    }

private:
    template <class In, class F>
    static void for_channel(std::size_t m, std::size_t c, F&& f) {
        for (std::size_t b = 0; b < m; ++b)
            for (std::size_t i = 0; i < inner<In>; ++i) f((b * channels<In> + c) * inner<In> + i);
    }
};

}  // namespace typegrad::reference
