// The hand-written reference rules of shared and tied parameters (nn/shared.hpp), as a textbook
// writes a tensor used at two places: each use computes its own contribution to ∂J/∂θ, and
// ∂J/∂θ is their sum.
//
//   same(owner)            y = f(x; θ)            the owner layer's own rule, on the owner's θ
//   tied_transpose(owner)  y = W a + c            ∂J/∂c = δ,  ∂J/∂W += δ aᵀ,  ∂J/∂a = Wᵀ δ
//   shared<tag>(layer)     the layer's own rule
//
// These rules read and write another layer's tensors, so they take the model's whole storage
// and their position (reference/backprop.hpp's `reads_other_layers`): forward_in<S, K>(all, x, y)
// and backward_in<S, K>(all, x, y, gy, gx, all_gradients, acc). The backward walk visits the
// uses from the last to the owner; the last assigns (or adds, with Accumulate::yes) and every
// earlier one adds to what the later ones wrote, so the gradients are never zeroed beforehand.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typegrad/nn/shared.hpp"
#include "typegrad/reference/rule.hpp"

namespace typegrad::reference {

namespace detail {

template <std::size_t N, class Set>
void add_saved(Set&, const Set&, const std::array<bool, N>&, std::index_sequence<>) {}
template <std::size_t N, class Set, std::size_t I, std::size_t... J>
void add_saved(Set& g, const Set& saved, const std::array<bool, N>& which, std::index_sequence<I, J...>) {
    if (which[I]) {
        auto& t = g.template at<I>();
        const auto& s = saved.template at<I>();
        for (std::size_t e = 0; e < t.size(); ++e) t.data()[e] += s.data()[e];
    }
    add_saved<N>(g, saved, which, std::index_sequence<J...>{});
}

/// Runs f(acc′), a backward step that writes the owner's gradients g by acc′, so that what the
/// uses after position K already wrote into g is kept: with Accumulate::no, those tensors are
/// set aside, f assigns, and they are added back.
template <class S, std::size_t K, class Owner, class GSet, class F>
void keeping_later_uses(GSet& g, Accumulate acc, F&& f) {
    constexpr auto later = typegrad::detail::borrowed_after_v<S, K, Owner, GSet::size>;
    constexpr bool any = std::find(later.begin(), later.end(), true) != later.end();
    if constexpr (!any) {
        f(acc);
    } else {
        if (acc == Accumulate::yes) return f(acc);
        const GSet saved = g;  // the later uses' contributions (they ran first)
        f(Accumulate::no);
        add_saved<GSet::size>(g, saved, later, std::make_index_sequence<GSet::size>{});
    }
}

template <class S, std::size_t K, class Owner>
inline constexpr std::size_t owner_position = typegrad::detail::owner_of_use<S, K, Owner>::position;

}  // namespace detail

/// A shared layer, and its later uses, have a rule when the layer has one.
template <fixed_string Tag, class L, class In>
struct has_rule<Shared<Tag, L>, In> : has_rule<L, In> {};
template <class Owner, class In>
struct has_rule<Same<Owner>, In> : has_rule<Owner, In> {};

/// The owner: its layer's own rule (on its own tensors, after the later uses wrote theirs).
template <fixed_string Tag, class L>
struct rule<Shared<Tag, L>> {
    // inside a block (where nothing can use it): the layer's rule as it is
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) {
        rule<L>::template forward<In>(p, x, y);
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T* y, const T* gy, T* gx, G& g, Accumulate acc) {
        rule<L>::template backward<In>(p, x, y, gy, gx, g, acc);
    }

    static constexpr bool reads_other_layers = true;
    template <class S, std::size_t K, class T, class All>
    static void forward_in(const All& all, const T* x, T* y) {
        rule<L>::template forward<typename S::template shape_at<K>>(std::get<K>(all), x, y);
    }
    template <class S, std::size_t K, class T, class All, class GAll>
    static void backward_in(const All& all, const T* x, const T* y, const T* gy, T* gx, GAll& gall, Accumulate acc) {
        auto& g = std::get<K>(gall);
        detail::keeping_later_uses<S, K, Shared<Tag, L>>(g, acc, [&](Accumulate a) {
            rule<L>::template backward<typename S::template shape_at<K>>(std::get<K>(all), x, y, gy, gx, g, a);
        });
    }
};

/// same(owner): the owner layer's rule on the owner's tensors and gradients.
template <class Owner>
struct rule<Same<Owner>> {
    using L = typename Owner::layer;
    static constexpr bool reads_other_layers = true;
    template <class S, std::size_t K, class T, class All>
    static void forward_in(const All& all, const T* x, T* y) {
        rule<L>::template forward<typename S::template shape_at<K>>(std::get<detail::owner_position<S, K, Owner>>(all), x, y);
    }
    template <class S, std::size_t K, class T, class All, class GAll>
    static void backward_in(const All& all, const T* x, const T* y, const T* gy, T* gx, GAll& gall, Accumulate acc) {
        constexpr std::size_t owner = detail::owner_position<S, K, Owner>;
        auto& g = std::get<owner>(gall);
        detail::keeping_later_uses<S, K, Owner>(g, acc, [&](Accumulate a) {
            rule<L>::template backward<typename S::template shape_at<K>>(std::get<owner>(all), x, y, gy, gx, g, a);
        });
    }
};

/// tied_transpose(owner): y = W a + c, W (n, m) the owner's, c (n) its own;
/// ∂J/∂c = δ,  ∂J/∂W += δ aᵀ (added to the owner's),  ∂J/∂a = Wᵀ δ.
template <class Owner>
struct rule<TiedTranspose<Owner>> {
    static constexpr bool reads_other_layers = true;
    static constexpr std::size_t n = typegrad::detail::tied_owner_fits<typename Owner::layer>::in;
    static constexpr std::size_t m = typegrad::detail::tied_owner_fits<typename Owner::layer>::out;

    template <class S, std::size_t K, class T, class All>
    static void forward_in(const All& all, const T* a, T* y) {
        const auto& W = std::get<detail::owner_position<S, K, Owner>>(all).template get<"W">();
        const auto& c = std::get<K>(all).template get<"b">();
        for (std::size_t i = 0; i < n; ++i) {
            T s = c[i];
            for (std::size_t j = 0; j < m; ++j) s += W(i, j) * a[j];
            y[i] = s;
        }
    }
    template <class S, std::size_t K, class T, class All, class GAll>
    static void backward_in(const All& all, const T* a, const T*, const T* delta, T* ga, GAll& gall, Accumulate acc) {
        constexpr std::size_t owner = detail::owner_position<S, K, Owner>;
        const auto& W = std::get<owner>(all).template get<"W">();
        auto& dW = std::get<owner>(gall).template get<"W">();
        auto& dc = std::get<K>(gall).template get<"b">();
        // the owner's W is also written by the later uses (if any) and by the owner below: add
        // when anything after this use wrote it, or when asked to
        constexpr std::size_t count = std::tuple_element_t<owner, std::remove_cvref_t<GAll>>::size;
        const bool add_w = acc == Accumulate::yes || typegrad::detail::borrowed_after_v<S, K, Owner, count>[0];
        for (std::size_t i = 0; i < n; ++i) {
            dc[i] = acc == Accumulate::yes ? dc[i] + delta[i] : delta[i];
            for (std::size_t j = 0; j < m; ++j) dW(i, j) = (add_w ? dW(i, j) : T(0)) + delta[i] * a[j];
        }
        if (ga)
            for (std::size_t j = 0; j < m; ++j) {
                T s = 0;
                for (std::size_t i = 0; i < n; ++i) s += W(i, j) * delta[i];
                ga[j] = s;
            }
    }
};

}  // namespace typegrad::reference
