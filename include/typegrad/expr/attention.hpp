// The ops of multi-head causal self-attention (issue 21, item 3), over a sequence's projected
// queries, keys and values held side by side in one tensor QKV (…, T, 3D) — Q in columns [0, D),
// K in [D, 2D), V in [2D, 3D), head h in columns [h·d, (h+1)·d) of each, d = D/H — as PyTorch's
// nn.MultiheadAttention holds them (in_proj_weight). Leading extents are a batch.
//
//   AttentionScoresOp<H>   S[h, i, j] = Q_h[i] · K_h[j] / √d                      (…, H, T, T)
//                          ∂Q_h[i] = Σ_j ∂S[h,i,j] K_h[j] / √d,  ∂K_h[j] = Σ_i ∂S[h,i,j] Q_h[i] / √d
//   CausalMaskOp           S[…, i, j] = −∞ for j > i (a position sees itself and the past)
//                          ∂ passes where j ≤ i, 0 elsewhere
//   AttentionMixOp<H>      O[i, h·d + k] = Σ_j P[h, i, j] V_h[j, k]  (heads concatenated) (…, T, D)
//                          ∂P[h, i, j] = ∂O_h[i] · V_h[j],  ∂V_h[j] = Σ_i P[h, i, j] ∂O_h[i]
//
// With the row softmax between the mask and the mix (expr::SoftmaxOp), these are the whole of
// attention; the engine derives its backward pass from their local rules (the *GradOp kernels
// below), and derive prints it.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"

namespace typegrad::expr {

namespace detail {
/// Extent K from the end of shape S (1: the last).
template <class S, std::size_t K>
inline constexpr std::size_t from_end_v = shape_traits<S>::extents[rank_v<S> - K];

/// (…, T, 3D) → (…, H, T, T)
template <class QKV, std::size_t H>
struct scores_shape;
template <std::size_t... N, std::size_t H>
struct scores_shape<Shape<N...>, H> {
    static constexpr std::size_t rank = sizeof...(N);
    static constexpr std::array<std::size_t, rank> e{N...};
    static constexpr std::size_t T = e[rank - 2];
    static_assert(e[rank - 1] % (3 * H) == 0,
                  "attention: the width D of the queries, keys and values must be a multiple of the heads H");
    template <std::size_t... I>
    static auto make(std::index_sequence<I...>) -> Shape<e[I]..., H, T, T>;
    using type = decltype(make(std::make_index_sequence<rank - 2>{}));
};

/// The sizes of an attention: batch entries, positions, heads, head width d, model width D.
template <class QKV, std::size_t H>
struct attention_sizes {
    static constexpr std::size_t T = from_end_v<QKV, 2>, D = from_end_v<QKV, 1> / 3, d = D / H;
    static constexpr std::size_t batch = size_v<QKV> / (T * 3 * D);
};
}  // namespace detail

/// ∂QKV from ∂S (derived expressions only): the Q and K blocks, the V block 0; assigned or added.
template <std::size_t H>
struct AttentionScoresGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class G, class QKV>
    using shape = QKV;
    template <class G, class QKV, class T>
    static void compute(T* out, const T* g, const T* qkv, bool accumulate) noexcept {
        using S = detail::attention_sizes<typename QKV::shape, H>;
        constexpr std::size_t n = S::T, D = S::D, d = S::d, W = 3 * D;
        const T scale = T(1) / std::sqrt(T(d));
        for (std::size_t b = 0; b < S::batch; ++b) {
            T* o = out + b * n * W;
            const T* x = qkv + b * n * W;
            const T* gs = g + b * H * n * n;
            if (!accumulate)
                for (std::size_t i = 0; i < n * W; ++i) o[i] = T(0);
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t j = 0; j < n; ++j) {
                        const T s = gs[(h * n + i) * n + j] * scale;
                        if (s == T(0)) continue;
                        for (std::size_t k = 0; k < d; ++k) {
                            o[i * W + h * d + k] += s * x[j * W + D + h * d + k];      // ∂Q_h[i] += ∂S K_h[j]
                            o[j * W + D + h * d + k] += s * x[i * W + h * d + k];      // ∂K_h[j] += ∂S Q_h[i]
                        }
                    }
        }
    }
    // δ[Q K V] from δS: [δS K, δSᵀ Q, 0]/√d, per head, of QKV (printed as the scores are)
    static Text print(const Text& g, const Text& qkv) {
        return {cat("[", g.s, " K, ", g.s, "ᵀ Q, 0]/√d [", qkv.s, "]"), 3};
    }
};

/// S = Q Kᵀ/√d per head, from QKV (…, T, 3D).
template <std::size_t H>
struct AttentionScoresOp {
    template <class QKV>
    using shape = typename detail::scores_shape<QKV, H>::type;
    template <class QKV, class T>
    static void compute(T* out, const T* qkv) noexcept {
        using S = detail::attention_sizes<typename QKV::shape, H>;
        constexpr std::size_t n = S::T, D = S::D, d = S::d, W = 3 * D;
        const T scale = T(1) / std::sqrt(T(d));
        for (std::size_t b = 0; b < S::batch; ++b) {
            const T* x = qkv + b * n * W;
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t j = 0; j < n; ++j) {
                        T s = 0;
                        for (std::size_t k = 0; k < d; ++k) s += x[i * W + h * d + k] * x[j * W + D + h * d + k];
                        out[((b * H + h) * n + i) * n + j] = s * scale;
                    }
        }
    }
    template <std::size_t I, class Self, class G, class QKV>
    using vjp = Node<AttentionScoresGradOp<H>, G, QKV>;
    static Text print(const Text& qkv) { return {cat("Q Kᵀ/√d [", qkv.s, "]"), 3}; }
};

/// ∂S from ∂S_masked (derived expressions only): passed where j ≤ i, 0 elsewhere.
struct CausalMaskGradOp {
    static constexpr bool accumulating_kernel = true;
    template <class G>
    using shape = G;
    template <class G, class T>
    static void compute(T* out, const T* g, bool accumulate) noexcept {
        constexpr std::size_t n = detail::from_end_v<typename G::shape, 1>, blocks = size_v<typename G::shape> / (n * n);
        for (std::size_t b = 0; b < blocks; ++b)
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                    const std::size_t at = (b * n + i) * n + j;
                    const T v = j <= i ? g[at] : T(0);
                    out[at] = accumulate ? out[at] + v : v;
                }
    }
    static Text print(const Text& g) { return {cat("causal(", g.s, ")"), 3}; }
};

/// S with −∞ above the diagonal of every (T, T) block: position i attends to positions j ≤ i.
struct CausalMaskOp {
    template <class A>
    using shape = A;
    template <class A, class T>
    static void compute(T* out, const T* a) noexcept {
        static_assert(detail::from_end_v<typename A::shape, 1> == detail::from_end_v<typename A::shape, 2>,
                      "the causal mask takes (…, T, T) scores");
        constexpr std::size_t n = detail::from_end_v<typename A::shape, 1>, blocks = size_v<typename A::shape> / (n * n);
        for (std::size_t b = 0; b < blocks; ++b)
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                    const std::size_t at = (b * n + i) * n + j;
                    out[at] = j <= i ? a[at] : -std::numeric_limits<T>::infinity();
                }
    }
    template <std::size_t I, class Self, class G, class A>
    using vjp = Node<CausalMaskGradOp, G>;
    static Text print(const Text& a) { return {cat("causal(", a.s, ")"), 3}; }
};

/// ∂P from ∂O (derived expressions only): ∂P[h, i, j] = ∂O_h[i] · V_h[j]; assigned or added.
template <std::size_t H>
struct AttentionMixGradPOp {
    static constexpr bool accumulating_kernel = true;
    template <class G, class QKV>
    using shape = typename detail::scores_shape<QKV, H>::type;
    template <class G, class QKV, class T>
    static void compute(T* out, const T* g, const T* qkv, bool accumulate) noexcept {
        using S = detail::attention_sizes<typename QKV::shape, H>;
        constexpr std::size_t n = S::T, D = S::D, d = S::d, W = 3 * D;
        for (std::size_t b = 0; b < S::batch; ++b) {
            const T* x = qkv + b * n * W;
            const T* go = g + b * n * D;
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t j = 0; j < n; ++j) {
                        T s = 0;
                        for (std::size_t k = 0; k < d; ++k) s += go[i * D + h * d + k] * x[j * W + 2 * D + h * d + k];
                        T& o = out[((b * H + h) * n + i) * n + j];
                        o = accumulate ? o + s : s;
                    }
        }
    }
    static Text print(const Text& g, const Text& qkv) { return {cat(g.s, " Vᵀ [", qkv.s, "]"), 3}; }
};

/// ∂QKV from ∂O (derived expressions only): the V block ∂V_h[j] = Σ_i P[h, i, j] ∂O_h[i], the Q and K
/// blocks 0; assigned or added.
template <std::size_t H>
struct AttentionMixGradVOp {
    static constexpr bool accumulating_kernel = true;
    template <class P, class G>
    using shape = typename detail::with_last<G, 3 * detail::from_end_v<G, 1>>::type;
    template <class P, class G, class T>
    static void compute(T* out, const T* p, const T* g, bool accumulate) noexcept {
        constexpr std::size_t n = detail::from_end_v<typename G::shape, 2>, D = detail::from_end_v<typename G::shape, 1>;
        constexpr std::size_t d = D / H, W = 3 * D, batch = size_v<typename G::shape> / (n * D);
        for (std::size_t b = 0; b < batch; ++b) {
            T* o = out + b * n * W;
            const T* go = g + b * n * D;
            const T* pb = p + b * H * n * n;
            if (!accumulate)
                for (std::size_t i = 0; i < n * W; ++i) o[i] = T(0);
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t j = 0; j < n; ++j) {
                        const T w = pb[(h * n + i) * n + j];
                        if (w == T(0)) continue;
                        for (std::size_t k = 0; k < d; ++k) o[j * W + 2 * D + h * d + k] += w * go[i * D + h * d + k];
                    }
        }
    }
    // δ[Q K V] from δO: [0, 0, Pᵀ δO], the V block
    static Text print(const Text& p, const Text& g) { return {cat("[0, 0, ", p.s, "ᵀ ", g.s, "]"), 3}; }
};

/// O = P V per head, the heads concatenated: P (…, H, T, T), QKV (…, T, 3D) → (…, T, D).
template <std::size_t H>
struct AttentionMixOp {
    template <class P, class QKV>
    using shape = typename detail::with_last<QKV, detail::from_end_v<QKV, 1> / 3>::type;
    template <class P, class QKV, class T>
    static void compute(T* out, const T* p, const T* qkv) noexcept {
        using S = detail::attention_sizes<typename QKV::shape, H>;
        constexpr std::size_t n = S::T, D = S::D, d = S::d, W = 3 * D;
        for (std::size_t b = 0; b < S::batch; ++b) {
            const T* x = qkv + b * n * W;
            const T* pb = p + b * H * n * n;
            T* o = out + b * n * D;
            for (std::size_t i = 0; i < n * D; ++i) o[i] = T(0);
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t j = 0; j < n; ++j) {
                        const T w = pb[(h * n + i) * n + j];
                        if (w == T(0)) continue;
                        for (std::size_t k = 0; k < d; ++k) o[i * D + h * d + k] += w * x[j * W + 2 * D + h * d + k];
                    }
        }
    }
    template <std::size_t I, class Self, class G, class P, class QKV>
    using vjp = std::conditional_t<I == 0, Node<AttentionMixGradPOp<H>, G, QKV>, Node<AttentionMixGradVOp<H>, P, G>>;
    static Text print(const Text& p, const Text& qkv) { return {cat(p.s, " V [", qkv.s, "]"), 3}; }
};

}  // namespace typegrad::expr
