// Shared and tied parameters: one tensor used at two places of a network, its gradient the sum
// of both uses' — the tied weights of an autoencoder, a layer applied twice.
//
//   constexpr auto enc = typegrad::shared<"enc">(typegrad::dense<4, 8>);   // owns W (8, 4) and b (4)
//   constexpr auto net = typegrad::input<8> | enc | typegrad::tanh_
//                        | typegrad::tied_transpose(enc) | typegrad::sigmoid;   // y = W_enc h + c, its own c
//
// `shared<"tag">(layer)` is the layer, with a name for its parameters: the model stores them
// there, once. Later in the same composition, `same(enc)` applies the identical layer again
// (Keras: calling one layer object twice) and `tied_transpose(enc)` is a dense layer whose
// weights are the owner's W transposed, with a bias of its own (PyTorch: F.linear(h,
// enc.weight.t(), c)). A use has no tensor of its own for what it borrows: its expression names
// the owner's parameter leaves — the same types — so the engine, which computes a node once and
// sums the adjoints of every use, gives ∂J/∂W the sum of both uses by itself. Storage,
// optimizers, L2 decay, checkpoints and gradcheck see the owner's tensors once.
//
// The uses find their owner by its tag in the composition when the model's expression is built
// (nn/expression.hpp's `borrows_parameters` hook): the owner must come first, at the top level
// (not inside a residual/concat/branch_sum block), and a tag names one owner. The hand-written
// reference rules are in reference/shared.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "typegrad/ad/graph.hpp"
#include "typegrad/expr/matvec.hpp"
#include "typegrad/expr/node.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/nn/expression.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/layers/dense.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad {

/// A layer whose parameters are named Tag so that later layers can use them: shared<"enc">(dense<4, 8>).
template <fixed_string Tag, Layer L>
struct Shared {
    using layer = L;
    static constexpr auto tag = Tag;
    static std::string name() { return "shared<\"" + std::string(Tag.view()) + "\">(" + layer_traits<L>::name() + ")"; }
};

/// The owner's layer again, with the owner's parameters: y = f(x; θ_owner).
template <class Owner>
struct Same;
/// y = W_owner a + b: the owner's dense weights W (n_in, n_out) transposed, from n_out back to
/// n_in, with a bias b (n_in) of its own.
template <class Owner>
struct TiedTranspose;

template <fixed_string Tag, Layer L>
constexpr Shared<Tag, L> shared(L) noexcept {
    return {};
}
template <fixed_string Tag, class L>
constexpr Same<Shared<Tag, L>> same(Shared<Tag, L>) noexcept {
    return {};
}
template <fixed_string Tag, class L>
constexpr TiedTranspose<Shared<Tag, L>> tied_transpose(Shared<Tag, L>) noexcept {
    return {};
}

template <fixed_string Tag, class L>
struct Same<Shared<Tag, L>> {
    using owner = Shared<Tag, L>;
    static std::string name() { return "same<\"" + std::string(Tag.view()) + "\">"; }
};
template <fixed_string Tag, class L>
struct TiedTranspose<Shared<Tag, L>> {
    using owner = Shared<Tag, L>;
    static std::string name() { return "tied_transpose<\"" + std::string(Tag.view()) + "\">"; }
};

namespace detail {

template <class L>
struct shared_layer_info {
    static constexpr bool is_owner = false;
    using owner = void;  // not a use either
};
template <fixed_string Tag, class L>
struct shared_layer_info<Shared<Tag, L>> {
    static constexpr bool is_owner = true;
    static constexpr auto tag = Tag;
    using owner = void;
};
template <class O>
struct shared_layer_info<Same<O>> {
    static constexpr bool is_owner = false;
    using owner = O;
};
template <class O>
struct shared_layer_info<TiedTranspose<O>> {
    static constexpr bool is_owner = false;
    using owner = O;
};

template <class L, fixed_string Tag>
inline constexpr bool owns_tag_v = [] {
    if constexpr (shared_layer_info<L>::is_owner) return shared_layer_info<L>::tag == Tag;
    else return false;
}();

/// Where the owner of Tag is in composition S: count (the layers shared<Tag>(…) at the top
/// level) and position (the first).
template <class S, fixed_string Tag>
struct owner_lookup {
    static constexpr std::array<bool, S::depth> owns = []<std::size_t... J>(std::index_sequence<J...>) {
        return std::array<bool, S::depth>{owns_tag_v<typename S::template layer_at<J>, Tag>...};
    }(std::make_index_sequence<S::depth>{});
    static constexpr std::size_t count = [] {
        std::size_t n = 0;
        for (bool b : owns) n += b;
        return n;
    }();
    static constexpr std::size_t position = [] {
        for (std::size_t j = 0; j < S::depth; ++j)
            if (owns[j]) return j;
        return S::depth;
    }();
};

// The one place a tag is checked against the composition; the compiler shows this instantiation
// with the use's position K and the owner's, e.g. "shared_use_fits<…, 3, 0>".
template <class S, fixed_string Tag>
struct shared_tag_unique {
    static constexpr bool value = owner_lookup<S, Tag>::count <= 1;
    static_assert(value, "shared<tag>(layer): two layers of this composition are shared<tag>(…) with one tag; a tag names "
                         "one set of parameters: use it again with same(owner) or tied_transpose(owner)");
};
template <class S, std::size_t K, std::size_t Owner>
struct shared_use_fits {
    static constexpr bool found = Owner < K;
    static_assert(found, "same(owner) / tied_transpose(owner): the owner shared<tag>(layer) must come earlier in the same "
                         "composition, at its top level (not inside a residual/concat/branch_sum block) "
                         "(see 'shared_use_fits<composition, position of the use, position of the owner>' below)");
    static constexpr bool value = found;
};
template <class Here, class There>
struct same_parameters_fit {
    static_assert(std::is_same_v<Here, There>,
                  "same(owner): at this input shape the owner's layer would have parameters of other shapes than the "
                  "owner's own; apply it to inputs of the owner's input shape "
                  "(see 'same_parameters_fit<params here, params of the owner>' below)");
    static constexpr bool value = std::is_same_v<Here, There>;
};

/// The owner's position for the use at position K, checked (one error, then a position that
/// keeps the rest well-formed).
template <class S, std::size_t K, class Owner>
struct owner_of_use {
    static constexpr auto tag = Owner::tag;
    static constexpr std::size_t found = owner_lookup<S, tag>::position;
    static constexpr bool ok = shared_tag_unique<S, tag>::value && shared_use_fits<S, K, found>::value &&
                               std::is_same_v<typename S::template layer_at<(found < K ? found : 0)>, Owner>;
    static constexpr std::size_t position = ok ? found : 0;
};

template <class List, std::size_t... I>
struct pick_leaves;
template <class... P, std::size_t... I>
struct pick_leaves<ad::type_list<P...>, I...> {
    using type = ad::type_list<std::tuple_element_t<I, std::tuple<P...>>...>;
};

// A tied transposed layer's owner must be a dense layer that states its input width.
template <class L>
struct tied_owner_fits {
    static_assert(sizeof(L) == 0 || false,
                  "tied_transpose(owner): the owner must be a dense layer that states its input width, "
                  "shared<tag>(dense<n_out, n_in>) or shared<tag>(linear<n_in, n_out>) (see 'tied_owner_fits<layer>' below)");
    static constexpr std::size_t in = 1, out = 1;
    static constexpr bool stated = false;
};
template <std::size_t Out, std::size_t In>
struct tied_owner_fits<Dense<Out, In>> {
    static_assert(In != inferred_width,
                  "tied_transpose(owner): the owner's dense layer must state its input width, dense<n_out, n_in> or "
                  "linear<n_in, n_out>, so that the transposed layer's output width is known "
                  "(see 'tied_owner_fits<Dense<n_out, n_in>>' below)");
    static constexpr std::size_t in = In == inferred_width ? 1 : In, out = Out;
    static constexpr bool stated = In != inferred_width;
};
template <class L, class In>
struct tied_input_fits {
    static constexpr bool value = std::is_same_v<In, Shape<tied_owner_fits<L>::out>>;
    static_assert(value, "tied_transpose(owner): its input must be a vector of the owner's output width n_out "
                         "(see 'tied_input_fits<owner layer, input shape>' below)");
};

template <class Use, class X>
struct top_level_only {
    static_assert(sizeof(Use) == 0 || false,
                  "same(owner) / tied_transpose(owner): a shared parameter can be used at the top level of a "
                  "composition only, not inside a residual/concat/branch_sum block (see 'top_level_only<use, …>' below)");
    using type = X;
};

/// Leaves of the right shapes that stand in for the owner's when a use was reported wrong, so
/// that the compiler goes on without a cascade.
struct borrow_failed_tag {};
template <class List>
struct stand_in_leaves;
template <class... P>
struct stand_in_leaves<params<P...>> {
    using type = ad::type_list<expr::leaf_of_shape_t<expr::Role::input, borrow_failed_tag, typename P::shape>...>;
};

}  // namespace detail

/// The owner: the layer itself (the same name for its parameters, W and b for a dense layer, so
/// that weights<L>(), initialisation and L2 decay treat it as the layer), found by its tag.
template <fixed_string Tag, class L>
struct layer_traits<Shared<Tag, L>> {
    using inner = layer_traits<L>;
    static constexpr bool is_layer = true;
    static std::string name() { return Shared<Tag, L>::name(); }
    template <class In>
    using output_shape = typename inner::template output_shape<In>;
    template <class In>
    using parameters = typename inner::template parameters<In>;
    template <class In, class X, class... P>
    using expression = typename inner::template expression<In, X, P...>;
    static constexpr std::string_view symbol = inner::symbol;
    static constexpr std::size_t receptive_field = inner::receptive_field;
    // (asked by a flag, see nn/expression.hpp) no leaves borrowed; the tag is checked here once
    static constexpr bool borrows_parameters = true;
    template <class S, std::size_t K>
    using borrowed_leaves = std::conditional_t<detail::shared_tag_unique<S, Tag>::value, ad::type_list<>, ad::type_list<>>;

    template <class In, class... Tensors>
    static void initialize_scheme(Rng& rng, init::Scheme scheme, Tensors&... t) {
        initialize_layer_tensors<L, In>(rng, scheme, t...);
    }
    template <class In, class... Tensors>
    static void initialize(Rng& rng, Tensors&... t) {
        inner::template initialize<In>(rng, t...);
    }
};

/// same(owner): no tensors of its own; the owner's layer on the owner's leaves.
template <fixed_string Tag, class L>
struct layer_traits<Same<Shared<Tag, L>>> {
    using inner = layer_traits<L>;
    static constexpr bool is_layer = true;
    static std::string name() { return Same<Shared<Tag, L>>::name(); }
    template <class In>
    using output_shape = typename inner::template output_shape<In>;
    template <class In>
    using parameters = params<>;

    template <class In, class X, class... Q>
    struct node {
        using type = typename inner::template expression<In, X, Q...>;
    };
    template <class In, class X>
    struct node<In, X> {  // called without the owner's leaves: inside a block
        using type = typename detail::top_level_only<Same<Shared<Tag, L>>, X>::type;
    };
    template <class In, class X, class... Q>
    using expression = typename node<In, X, Q...>::type;

    static constexpr bool borrows_parameters = true;
    template <class S, std::size_t K>
    struct borrowed {
        using owner = detail::owner_of_use<S, K, Shared<Tag, L>>;
        using here = typename inner::template parameters<typename S::template shape_at<K>>;
        using there = typename inner::template parameters<typename S::template shape_at<owner::position>>;
        using type = std::conditional_t<owner::ok && detail::same_parameters_fit<here, there>::value,
                                        detail::parameter_leaves_t<S, owner::position>, typename detail::stand_in_leaves<here>::type>;
    };
    template <class S, std::size_t K>
    using borrowed_leaves = typename borrowed<S, K>::type;
    // its output is written as the owner's (z for a dense layer: z₁′ = W₁ᵀ a₁ + b₁ in derive)
    static constexpr std::string_view symbol = inner::symbol;
    static constexpr std::size_t receptive_field = 1;
    template <class In, class... Tensors>
    static void initialize(Rng&, Tensors&...) {}
};

/// tied_transpose(owner): y = W a + b with the owner's W (n_in, n_out) and its own b (n_in).
template <fixed_string Tag, class L>
struct layer_traits<TiedTranspose<Shared<Tag, L>>> {
    using fits = detail::tied_owner_fits<L>;
    static constexpr bool is_layer = true;
    static std::string name() { return TiedTranspose<Shared<Tag, L>>::name(); }
    template <class In>
    using output_shape = std::conditional_t<detail::tied_input_fits<L, In>::value, Shape<fits::in>, Shape<fits::in>>;
    template <class In>
    using parameters = params<param<"b", Shape<fits::in>>>;

    template <class In, class X, class... P>
    struct node {  // X, b, then the owner's W
        using type = expr::Node<expr::AddOp, expr::Node<expr::MatVecValueOp, std::tuple_element_t<1, std::tuple<P...>>, X>,
                                std::tuple_element_t<0, std::tuple<P...>>>;
    };
    template <class In, class X, class B>
    struct node<In, X, B> {  // called without the owner's W: inside a block
        using type = typename detail::top_level_only<TiedTranspose<Shared<Tag, L>>, X>::type;
    };
    template <class In, class X, class... P>
    using expression = typename node<In, X, P...>::type;
    static constexpr std::string_view symbol = "z";
    static constexpr std::size_t receptive_field = 1;

    static constexpr bool borrows_parameters = true;
    template <class S, std::size_t K>
    struct borrowed {
        using owner = detail::owner_of_use<S, K, Shared<Tag, L>>;
        static constexpr std::size_t w = detail::param_index<"W", typename layer_traits<L>::template parameters<
                                                                      typename S::template shape_at<owner::position>>>::value;
        using type = std::conditional_t<owner::ok && fits::stated, typename detail::pick_leaves<detail::parameter_leaves_t<S, owner::position>, w>::type,
                                        typename detail::stand_in_leaves<params<param<"W", Shape<fits::in, fits::out>>>>::type>;
    };
    template <class S, std::size_t K>
    using borrowed_leaves = typename borrowed<S, K>::type;

    /// b as nn.Linear(n_out, n_in) would draw it: U(±1/√n_out) (PyTorch's scheme), N(0, 1)
    /// (the article's, network2's), 0 (Glorot's, He's).
    template <class In, class Bt>
    static void initialize_scheme(Rng& rng, init::Scheme scheme, Bt& b) {
        switch (scheme) {
            case init::Scheme::pytorch: init::FanInUniform::fill(b.data(), b.size(), rng, size_v<In>); break;
            case init::Scheme::glorot:
            case init::Scheme::he: std::fill(b.begin(), b.end(), typename Bt::value_type(0)); break;
            default: init::Normal::fill(b.data(), b.size(), rng); break;
        }
    }
    template <class In, class Bt>
    static void initialize(Rng& rng, Bt& b) {
        init::Normal::fill(b.data(), b.size(), rng);
    }
};

namespace detail {
/// Which of the owner's n parameters layer U borrows when U is a use of Owner (nothing else).
template <class U, class Owner, std::size_t N>
constexpr std::array<bool, N> borrowed_mask() {
    std::array<bool, N> m{};
    if constexpr (std::is_same_v<U, Same<Owner>>) m.fill(true);
    else if constexpr (std::is_same_v<U, TiedTranspose<Owner>>) m[0] = true;  // W: a dense layer's first parameter
    return m;
}
/// The owner's parameters that the layers after position K of S borrow (a function template
/// rather than nested lambdas: GCC 12 crashes on those, see nn/graph.hpp).
template <class S, std::size_t K, class Owner, std::size_t N, std::size_t... J>
constexpr std::array<bool, N> borrowed_after(std::index_sequence<J...>) {
    const std::array<std::array<bool, N>, sizeof...(J)> each{
        (J > K ? borrowed_mask<typename S::template layer_at<J>, Owner, N>() : std::array<bool, N>{})...};
    std::array<bool, N> m{};
    for (const auto& e : each)
        for (std::size_t i = 0; i < N; ++i) m[i] = m[i] || e[i];
    return m;
}
template <class S, std::size_t K, class Owner, std::size_t N>
inline constexpr std::array<bool, N> borrowed_after_v = borrowed_after<S, K, Owner, N>(std::make_index_sequence<S::depth>{});
}  // namespace detail

}  // namespace typegrad
