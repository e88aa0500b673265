// The hand-written backprop of a whole mini-batch, layer by layer: every example through layer K
// before any through layer K + 1, so that a layer whose rule needs the batch at once — batch norm
// in training (reference/batch_norm.hpp: forward_batch, backward_batch) — sees it; every other
// layer runs its one-example rule on each example in turn. The same recurrences as
// reference::backprop_into (reference/backprop.hpp), summed over the examples; for a model
// without batch norm the result is the sum of the per-example gradients.
//
// It walks the top-level layers of a chain: a batch-norm layer inside a block (residual, concat)
// is refused at compile time (the block's rule runs one example at a time).
#pragma once

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "typegrad/ad/program.hpp"
#include "typegrad/expr/batch.hpp"
#include "typegrad/nn/expression.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/reference/backprop.hpp"

namespace typegrad::reference {

namespace detail {
// a layer whose rule has a batch form (forward_batch/backward_batch) says so: batch_rule
template <class L>
inline constexpr bool needs_batch_v = requires { rule<L>::batch_rule; };

// batch-norm layers among a model's top-level layers, and in its whole expression
template <class S>
inline constexpr std::size_t top_level_batch_norms = []<std::size_t... K>(std::index_sequence<K...>) {
    return (std::size_t{0} + ... + (needs_batch_v<typename S::template layer_at<K>> ? 1 : 0));
}(std::make_index_sequence<S::depth>{});
template <class... Ns>
constexpr std::size_t recorded_means(ad::type_list<Ns...>) noexcept {
    return (std::size_t{0} + ... + [] {
        if constexpr (typegrad::detail::recorded_statistic<Ns>::value) return typegrad::detail::recorded_statistic<Ns>::unbiased ? 0 : 1;
        else return 0;
    }());
}
template <class M>
inline constexpr std::size_t all_batch_norms =
    recorded_means(typename ad::Program<typename M::value_type, typename ModelExpression<M, 1>::cost>::nodes{});
}  // namespace detail

/// Every layer's outputs and adjoints for m examples (grown as needed, reused).
template <AnyModel M>
struct BatchWorkspace {
    using T = typename M::value_type;
    std::vector<std::vector<T>> values, adjoints;
};

/// The gradient of the summed cost of the m examples X (m × input_width values, one example after
/// another) with targets Y, into g (overwritten, or added to with Accumulate::yes); returns the
/// summed cost. Batch norm layers normalise over the m examples (training) when `training`, and
/// use their running statistics otherwise (then the result is the per-example sum).
template <AnyModel M>
typename M::value_type backprop_batch_into(const M& net, const typename M::value_type* X, const typename M::value_type* Y,
                                           std::size_t m, Gradients<M>& g, BatchWorkspace<M>& ws, bool training,
                                           Accumulate acc = Accumulate::no) {
    using S = typename M::composition;
    using T = typename M::value_type;
    using Cost = typename M::cost_type;
    static_assert(detail::top_level_batch_norms<S> == detail::all_batch_norms<M>,
                  "reference::backprop_batch_into: a batch_norm inside a block (residual, concat, branch_sum) has no "
                  "hand-written batch rule here; the reference walks the top-level layers of a chain");
    constexpr std::size_t depth = S::depth, top = depth - 1, n_out = M::output_width;
    ws.values.resize(depth);
    ws.adjoints.resize(depth);
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((ws.values[K].resize(m * size_v<typename S::template shape_at<K + 1>>),
          ws.adjoints[K].resize(m * size_v<typename S::template shape_at<K + 1>>)),
         ...);
    }(std::make_index_sequence<depth>{});
    const auto input_of = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) -> const T* {
        if constexpr (K == 0) return X;
        else return ws.values[K - 1].data();
    };
    // forward, layer after layer
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (([&] {
             using L = typename S::template layer_at<K>;
             using In = typename S::template shape_at<K>;
             constexpr std::size_t in = size_v<In>, out = size_v<typename S::template shape_at<K + 1>>;
             const T* x = input_of(std::integral_constant<std::size_t, K>{});
             if constexpr (detail::needs_batch_v<L>) {
                 if (training) {
                     rule<L>::template forward_batch<In>(std::get<K>(net.parameters()), x, ws.values[K].data(), m);
                     return;
                 }
             }
             for (std::size_t b = 0; b < m; ++b)
                 rule<L>::template forward<In>(std::get<K>(net.parameters()), x + b * in, ws.values[K].data() + b * out);
         }()),
         ...);
    }(std::make_index_sequence<depth>{});
    // backward from layer Top down, ∂J/∂(output of layer Top) in adjoints[Top]
    T cost = 0;
    const auto backward_from = [&]<std::size_t Top>(std::integral_constant<std::size_t, Top>) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (([&] {
                 constexpr std::size_t K = Top - I;
                 using L = typename S::template layer_at<K>;
                 using In = typename S::template shape_at<K>;
                 constexpr std::size_t in = size_v<In>, out = size_v<typename S::template shape_at<K + 1>>;
                 const T* x = input_of(std::integral_constant<std::size_t, K>{});
                 T* gin = K > 0 ? ws.adjoints[K == 0 ? 0 : K - 1].data() : nullptr;
                 auto& gp = std::get<K>(g.parameters());
                 if constexpr (detail::needs_batch_v<L>) {
                     if (training) {
                         rule<L>::template backward_batch<In>(std::get<K>(net.parameters()), x, ws.adjoints[K].data(), gin, gp,
                                                               acc, m);
                         return;
                     }
                 }
                 for (std::size_t b = 0; b < m; ++b)
                     rule<L>::template backward<In>(std::get<K>(net.parameters()), x + b * in, ws.values[K].data() + b * out,
                                                    ws.adjoints[K].data() + b * out, gin ? gin + b * in : nullptr, gp,
                                                    b == 0 ? acc : Accumulate::yes);
             }()),
             ...);
        }(std::make_index_sequence<Top + 1>{});
    };
    if constexpr (top > 0 && detail::fused_output_v<typename S::template layer_at<top>, Cost>) {
        constexpr std::size_t n = n_out;
        for (std::size_t b = 0; b < m; ++b) {
            const T* a = ws.values[top].data() + b * n;
            T* dz = ws.adjoints[top - 1].data() + b * n;
            for (std::size_t i = 0; i < n; ++i) dz[i] = a[i] - Y[b * n + i];
            cost += Cost::template value_from_logits<T, n>(ws.values[top - 1].data() + b * n, Y + b * n);
        }
        backward_from(std::integral_constant<std::size_t, top - 1>{});
    } else {
        for (std::size_t b = 0; b < m; ++b) {
            const T* a = ws.values[top].data() + b * n_out;
            Cost::template gradient<T, n_out>(a, Y + b * n_out, ws.adjoints[top].data() + b * n_out);
            cost += Cost::template value<T, n_out>(a, Y + b * n_out);
        }
        backward_from(std::integral_constant<std::size_t, top>{});
    }
    return cost;
}

}  // namespace typegrad::reference
