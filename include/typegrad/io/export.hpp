// A trained network for PyTorch: every parameter as a .npy array named as nn.Sequential's
// state_dict names it ("K.weight", "K.bias", K the layer's position in the composition, which is
// its index in the matching nn.Sequential), in PyTorch's layout (a dense layer's W, stored (n_in,
// n_out) for the article's z = Wᵀa + b, is transposed to Linear's (out, in); a convolution's
// (C_out, C_in, K, K) is already Conv2d's), plus the architecture as JSON ("architecture.npy",
// uint8 text). scripts/npz_to_torch.py rebuilds the nn.Sequential. Each layer's module is written
// by its own header's torch_module hook (nn/layer.hpp's contract): dense is {"type": "Linear",
// "in_features": 784, "out_features": 30}, a built-in activation {"type": "Sigmoid"} and so on;
// layer_norm is {"type": "LayerNorm", "features": n, "eps": 1e-05}, nn.LayerNorm(n, eps=1e-5),
// batch_norm {"type": "BatchNorm1d" or "BatchNorm2d", "features": C, "eps": 1e-05, "momentum": 0.1}
// with its running statistics as the buffers "K.running_mean" and "K.running_var", its γ "K.weight"
// and β "K.bias" as they are (n).
//
// Sequences (issue 21): embedding<V, D> is {"type": "Embedding", "num_embeddings": V,
// "embedding_dim": D}, nn.Embedding on the ids cast to int64, E "K.weight" as stored (V, D);
// positional is {"type": "Positional", "positions": T, "features": D}, a module of
// scripts/npz_to_torch.py (torch.nn has none) that adds its "K.weight" P (T, D); attention<H> is
// {"type": "CausalSelfAttention", "embed_dim": D, "num_heads": H}, nn.MultiheadAttention(D, H,
// batch_first=True) called with the causal mask (npz_to_torch.py), its parameters named as its
// state_dict names them: W (D, 3D) transposed as "K.in_proj_weight" (3D, D), b "K.in_proj_bias",
// Wo transposed as "K.out_proj.weight", bo "K.out_proj.bias".
//
// The combinators of nn/graph.hpp nest: residual(body) is {"type": "Residual", "body": [layers]},
// a module with a Sequential `body` (y = x + body(x)); concat(branches…) is {"type": "Concat",
// "dim": 1, "branches": [[layers], …]} and branch_sum {"type": "BranchSum", "branches": …}, a
// module with a ModuleList `branches` of Sequentials (torch.cat along dim 1 — the features of
// (N, F), the channels of (N, C, H, W) — or their sum). Their parameters are named as the
// state_dict of those modules names them: "K.body.J.weight", "K.branches.I.J.bias", J the inner
// layer's position in its chain.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "typegrad/io/npz.hpp"
#include "typegrad/nn/graph.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::io {

namespace detail {

/// The JSON object of layer L after input shape In, as torch.nn would build it; "" when PyTorch
/// has no equivalent. Every layer says it in its own header, with the hook
/// `template <class In> static std::string torch_module()` read through layer_traits<L>
/// (nn/layer.hpp's contract; e.g. nn/layers/dense.hpp); the combinators below are walked here.
template <class L, class In>
struct torch_layer {
    static std::string json() {
        if constexpr (requires { layer_traits<L>::template torch_module<In>(); })
            return std::string(layer_traits<L>::template torch_module<In>());
        else return "";
    }
};

/// How a combinator is called in the architecture's JSON, and how its branches' modules are
/// reached in the state_dict ("body", "branches.I").
template <class C>
struct torch_combinator;
template <class B>
struct torch_combinator<Residual<B>> {
    static constexpr const char* type = "Residual";
    static std::string path(std::size_t) { return "body"; }
};
template <class... B>
struct torch_combinator<Concat<B...>> {
    static constexpr const char* type = "Concat";
    static std::string path(std::size_t i) { return cat("branches.", i); }
};
template <class... B>
struct torch_combinator<BranchSum<B...>> {
    static constexpr const char* type = "BranchSum";
    static std::string path(std::size_t i) { return cat("branches.", i); }
};

/// The spans of combinator C on input In (one typegrad::detail::chain_layers per branch), and
/// calls f.template operator()<Inner>(branch, position) for each inner layer, in parameter order.
template <class C, class In, class F>
void for_each_inner_layer(F&& f) {
    using spans = typename typegrad::detail::combinator_graph<C, In>::parts::spans;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&]<std::size_t Branch>(std::integral_constant<std::size_t, Branch>) {
                using inner = typename std::tuple_element_t<Branch, spans>::type;
                [&]<std::size_t... J>(std::index_sequence<J...>) {
                    (f.template operator()<std::tuple_element_t<J, inner>>(Branch, J), ...);
                }(std::make_index_sequence<std::tuple_size_v<inner>>{});
            }(std::integral_constant<std::size_t, I>{}),
            ...);
    }(std::make_index_sequence<std::tuple_size_v<spans>>{});
}

/// Residual, Concat, BranchSum: their branches' layers, nested.
template <class C, class In>
    requires is_combinator<C>::value
struct torch_layer<C, In> {
    static std::string json() {
        std::vector<std::string> branches;
        bool complete = true;
        for_each_inner_layer<C, In>([&]<class Inner>(std::size_t branch, std::size_t position) {
            if (branch >= branches.size()) branches.emplace_back();
            const std::string layer = torch_layer<typename Inner::layer, typename Inner::input_shape>::json();
            complete = complete && !layer.empty();
            branches[branch] += cat(position ? ", " : "", layer);
        });
        if (!complete) return "";
        if constexpr (requires { typename C::body; }) {  // Residual
            return cat("{\"type\": \"Residual\", \"body\": [", branches[0], "]}");
        } else {
            std::string list;
            for (const std::string& b : branches) list += cat(list.empty() ? "" : ", ", "[", b, "]");
            return cat("{\"type\": \"", torch_combinator<C>::type, "\", ",
                       torch_combinator<C>::type == std::string_view("Concat") ? "\"dim\": 1, " : "", "\"branches\": [", list, "]}");
        }
    }
};

/// A parameter as PyTorch's state_dict names it, and whether PyTorch stores it transposed (a
/// dense layer's W, stored (n_in, n_out), is Linear's (out, in)).
struct TorchParameter {
    std::string name;
    bool transpose = false;
};

/// The parameters of layer L after input shape In, in order, under `prefix` ("3", "3.body.0"),
/// named as the layer's torch_names say when it gives them (attention: "in_proj_weight",
/// "out_proj.weight", …), else by their role (ParamRole): "weight" for a weight and for a
/// normalisation's scale γ, "bias" for a bias and a shift β (PyTorch's names), else the
/// parameter's own name ("running_mean").
template <class L, class In>
struct torch_parameters {
    template <class P, std::size_t I>
    static std::string kind() {
        constexpr ParamRole r = param_role_v<P>;
        if constexpr (requires { layer_traits<L>::torch_names; }) {
            if constexpr (I < layer_traits<L>::torch_names.size()) return std::string(layer_traits<L>::torch_names[I]);
        }
        if constexpr (r == ParamRole::weight || r == ParamRole::scale) return "weight";
        else if constexpr (r == ParamRole::bias || r == ParamRole::shift) return "bias";
        else return std::string(P::name);
    }
    /// A layer's weight, a matrix, when the layer says PyTorch stores it transposed
    /// (torch_weight_transposed).
    template <class P>
    static constexpr bool transposed() {
        if constexpr (requires { layer_traits<L>::torch_weight_transposed; })
            return layer_traits<L>::torch_weight_transposed && param_role_v<P> == ParamRole::weight && rank_v<typename P::shape> == 2;
        else return false;
    }
    template <class... P>
    static void each(params<P...>*, const std::string& prefix, std::vector<TorchParameter>& out) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (out.push_back({cat(prefix, ".", kind<P, I>()), transposed<P>()}), ...);
        }(std::index_sequence_for<P...>{});
    }
    static void add(const std::string& prefix, std::vector<TorchParameter>& out) {
        each(static_cast<typename layer_traits<L>::template parameters<In>*>(nullptr), prefix, out);
    }
};
template <class C, class In>
    requires is_combinator<C>::value
struct torch_parameters<C, In> {
    static void add(const std::string& prefix, std::vector<TorchParameter>& out) {
        for_each_inner_layer<C, In>([&]<class Inner>(std::size_t branch, std::size_t position) {
            torch_parameters<typename Inner::layer, typename Inner::input_shape>::add(
                cat(prefix, ".", torch_combinator<C>::path(branch), ".", position), out);
        });
    }
};

/// Parameter R (a ParameterRef) as PyTorch names it: "K.weight", "K.bias" (other parameters:
/// "K.<name>"), K the layer's position in the composition, which is its index in the matching
/// nn.Sequential; "K.body.J.weight" inside a combinator.
template <class R>
TorchParameter torch_parameter() {
    std::vector<TorchParameter> all;
    torch_parameters<typename R::layer, typename R::composition::template shape_at<R::position>>::add(cat(R::position), all);
    return all.at(R::index);
}
template <class R>
std::string torch_parameter_name() {
    return torch_parameter<R>().name;
}

}  // namespace detail

/// The architecture of model M as JSON: {"input": [...], "cost": "...", "layers": [...]}. Throws
/// std::invalid_argument naming the first layer PyTorch has no equivalent for.
template <AnyModel M>
std::string architecture_json() {
    using S = typename M::composition;
    std::string layers;
    std::string missing;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((layers += (K ? ", " : ""),
          layers += detail::torch_layer<typename S::template layer_at<K>, typename S::template shape_at<K>>::json(),
          (missing.empty() && detail::torch_layer<typename S::template layer_at<K>, typename S::template shape_at<K>>::json().empty()
               ? (missing = cat("layer ", K, " (", layer_traits<typename S::template layer_at<K>>::name(), ")"))
               : missing)),
         ...);
    }(std::make_index_sequence<S::depth>{});
    if (!missing.empty()) throw std::invalid_argument(cat(missing, " has no PyTorch equivalent to export to"));
    std::string input;
    constexpr auto e = shape_traits<typename S::input_shape>::extents;
    for (std::size_t i = 0; i < e.size(); ++i) input += cat(i ? ", " : "", e[i]);
    return cat("{\"input\": [", input, "], \"cost\": \"", M::cost_type::name, "\", \"layers\": [", layers, "]}");
}

/// Every parameter of net in PyTorch's layout and names, and the architecture.
template <AnyModel M>
std::vector<NpyArray> torch_arrays(const M& net) {
    using T = typename M::value_type;
    std::vector<NpyArray> out;
    net.for_each_parameter([&](auto ref, const auto& t) {
        using R = decltype(ref);
        constexpr auto e = shape_traits<typename R::shape>::extents;
        const detail::TorchParameter p = detail::torch_parameter<R>();
        const std::string& name = p.name;
        if constexpr (e.size() == 2) {
            if (p.transpose) {  // dense: (n_in, n_out) -> (out, in)
                std::vector<T> transposed(t.size());
                for (std::size_t i = 0; i < e[0]; ++i)
                    for (std::size_t j = 0; j < e[1]; ++j) transposed[j * e[0] + i] = t.data()[i * e[1] + j];
                out.push_back(npy_array(name, {e[1], e[0]}, transposed.data(), transposed.size()));
                return;
            }
        }
        out.push_back(npy_array(name, std::vector<std::size_t>(e.begin(), e.end()), t.data(), t.size()));
    });
    out.push_back(npy_text("architecture", architecture_json<M>()));
    return out;
}

}  // namespace typegrad::io
