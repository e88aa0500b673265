// Batch normalisation (Ioffe & Szegedy 2015), PyTorch's nn.BatchNorm1d(C) on a vector (C) and
// nn.BatchNorm2d(C) on an image (C, H, W), with their defaults (ε = 1e-5, momentum 0.1, affine,
// tracking running statistics):
//   training    y = γ ⊙ (x − μ_B) / √(σ²_B + ε) + β,  μ_B and σ²_B (biased) per channel over the
//               m examples of the mini-batch (and the H·W positions of an image), and after the
//               step  running_mean ← 0.9 running_mean + 0.1 μ_B,
//                     running_var  ← 0.9 running_var + 0.1 σ²_B · n/(n − 1)   (n = m·H·W)
//   evaluation  y = γ ⊙ (x − running_mean) / √(running_var + ε) + β
// Training is a thread with a TrainingScope open (expr/batch.hpp): the trainer's steps. Everything
// else — evaluation, forward(), predictions, gradcheck — is evaluation.
//
// The layer couples the examples of a mini-batch: the trainer then normalises over the whole
// mini-batch, which AutodiffEngine<M, Chunk> runs as one program of Chunk = batch examples
// (train/engine.hpp, train/trainer.hpp). Its expression is built from the ops of expr/batch.hpp,
// so the engine derives its backward pass; the hand-written rule is in reference/batch_norm.hpp.
//
// Parameters, in order: "γ" (scale, 1), "β" (shift, 0), "running_mean" (0) and "running_var" (1),
// the last two ParamRole::statistic: not trained by the optimizers, updated by
// update_running_statistics after each step, saved in checkpoints and exported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "typegrad/ad/graph.hpp"
#include "typegrad/expr/batch.hpp"
#include "typegrad/expr/build.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/layers/layer_norm.hpp"
#include "typegrad/util/text.hpp"
#include "typegrad/nn/spec.hpp"

namespace typegrad {

namespace detail {
// The one place batch_norm's input is checked.
template <class In>
struct batch_norm_fits {
    static constexpr bool value = rank_v<In> == 1 || rank_v<In> == 3;
    static_assert(value,
                  "batch_norm takes a vector (C) (PyTorch's BatchNorm1d) or an image (C, H, W) (BatchNorm2d) and "
                  "normalises each feature or channel over the mini-batch (see 'batch_norm_fits<shape of the previous "
                  "layer>' below)");
};
template <class In>
inline constexpr std::size_t channels_of = shape_traits<In>::extents[0];
/// x², elementwise; its derivative 2x.
struct Square {
    static constexpr std::string_view name = "sq";
    template <class V>
    static V value(V x) noexcept { return x * x; }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept { return V(2) * x; }
};
}  // namespace detail

/// Batch normalisation over the mini-batch (see above): `conv2d<16, 3, 1, 1> | batch_norm | relu`.
struct BatchNorm {
    static constexpr std::string_view name = "batch_norm";  // derive, checkpoints, messages
    static constexpr std::string_view symbol = "a";
    static constexpr double epsilon = detail::InvSqrtEpsilon::epsilon;
    static constexpr double momentum = 0.1;

    template <class In>
    using output_shape = std::conditional_t<detail::batch_norm_fits<In>::value, In, In>;
    template <class In>
    using parameters = params<param<"γ", Shape<detail::channels_of<In>>, init::Constant<1>, ParamRole::scale>,
                              param<"β", Shape<detail::channels_of<In>>, init::Constant<0>, ParamRole::shift>,
                              param<"running_mean", Shape<detail::channels_of<In>>, init::Constant<0>, ParamRole::statistic>,
                              param<"running_var", Shape<detail::channels_of<In>>, init::Constant<1>, ParamRole::statistic>>;

    /// p (C) repeated over X's batch (and H, W).
    template <class In, class P, class X>
    using per_channel = expr::Node<expr::PerChannelOp<In, typename X::shape>, P>;
    /// The mean: the mini-batch's while training (recorded for the running mean), the running
    /// mean otherwise.
    template <class In, class X, class RM>
    using mean = expr::Node<expr::TrainingSelectOp, expr::Node<expr::RecordedBatchMeanOp<In, false>, X, RM>, per_channel<In, RM, X>>;
    template <class In, class X, class RM>
    using centred = expr::Sub<X, mean<In, X, RM>>;
    /// The variance: the mini-batch's (biased; recorded, unbiased, for the running variance) while
    /// training — the mean of the squared centred values, centred on the batch's mean then — the
    /// running variance otherwise.
    template <class In, class X, class RM, class RV>
    using variance = expr::Node<expr::TrainingSelectOp,
                                expr::Node<expr::RecordedBatchMeanOp<In, true>, expr::Map<detail::Square, centred<In, X, RM>>, RV>,
                                per_channel<In, RV, X>>;
    /// Export (io/export.hpp, io/onnx.hpp read these): nn.BatchNorm1d(C) on a vector,
    /// nn.BatchNorm2d(C) on an image, γ and β as "weight" and "bias" (their roles), the running
    /// statistics as the buffers "running_mean" and "running_var"; ONNX BatchNormalization with
    /// the running statistics (inference), epsilon 1e-5.
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"", rank_v<In> == 1 ? "BatchNorm1d" : "BatchNorm2d", "\", \"features\": ",
                   shape_traits<In>::extents[0], ", \"eps\": 1e-05, \"momentum\": 0.1}");
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node("BatchNormalization", {b.parameter("weight"), b.parameter("bias"), b.parameter("running_mean"), b.parameter("running_var")},
               {typename Builder::attribute{"epsilon", {}, false, static_cast<float>(epsilon)}});
        return true;
    }

    /// γ ⊙ ((x − mean) ⊙ 1/√(variance + ε)) + β.
    template <class In, class X, class G, class B, class RM, class RV>
    using expression_at =
        expr::Add<expr::Hadamard<per_channel<In, G, X>,
                                 expr::Hadamard<centred<In, X, RM>, expr::Map<detail::InvSqrtEpsilon, variance<In, X, RM, RV>>>>,
                  per_channel<In, B, X>>;
};
inline constexpr BatchNorm batch_norm{};

namespace detail {
template <class Leaf>
struct statistic_leaf {
    static constexpr bool value = false;
};
template <expr::Role R, class S, std::size_t K, std::size_t I, std::size_t... N, template <class, std::size_t, std::size_t> class Tag>
struct statistic_leaf<expr::Leaf<R, Tag<S, K, I>, N...>> {
    static constexpr bool value = true;
    static constexpr std::size_t position = K, index = I;
};

template <class Node>
struct recorded_statistic {
    static constexpr bool value = false;
};
template <class In, bool U, class X, class R>
struct recorded_statistic<expr::Node<expr::RecordedBatchMeanOp<In, U>, X, R>> {
    static constexpr bool value = statistic_leaf<R>::value;
    using example_shape = In;
    using operand = X;
    using leaf = R;
    static constexpr bool unbiased = U;
};

template <class Net, class Program, class N>
void update_statistic(Net& net, const Program& p, double momentum) noexcept {
    if constexpr (recorded_statistic<N>::value) {
        using R = recorded_statistic<N>;
        using L = expr::detail::channel_layout<typename R::example_shape, typename R::operand::shape>;
        using T = typename Net::value_type;
        const T* stat = p.template value<N>();
        auto& running = std::get<statistic_leaf<typename R::leaf>::position>(net.parameters())
                            .template at<statistic_leaf<typename R::leaf>::index>();
        const double correction = R::unbiased && L::count > 1 ? double(L::count) / double(L::count - 1) : 1.0;
        for (std::size_t c = 0; c < L::channels; ++c)
            running.data()[c] = static_cast<T>((1.0 - momentum) * double(running.data()[c]) +
                                               momentum * correction * double(stat[c * L::inner]));
    }
}
template <class Net, class Program, class... Ns>
void update_statistics(Net& net, const Program& p, double momentum, ad::type_list<Ns...>) noexcept {
    (update_statistic<Net, Program, Ns>(net, p, momentum), ...);
}
template <class... Ns>
constexpr bool any_crossing(ad::type_list<Ns...>) noexcept {
    return (false || ... ||
            [] {
                if constexpr (expr::is_node_v<Ns>) return expr::crosses_examples_v<typename Ns::op>;
                else return false;
            }());
}
}  // namespace detail

/// After a training forward pass of program p (a model's cost, its parameters bound to net's),
/// every running statistic of net (batch norm's running mean and variance) moves towards the
/// mini-batch's: r ← (1 − momentum) r + momentum · statistic (the variance unbiased).
template <class Net, class Program>
void update_running_statistics(Net& net, const Program& p, double momentum = BatchNorm::momentum) noexcept {
    detail::update_statistics(net, p, momentum, typename Program::nodes{});
}

/// Whether the nodes of an expression (a type_list, as a Graph or Program lists them) mix the
/// examples of a batch (batch norm among them).
template <class Nodes>
inline constexpr bool nodes_couple_examples_v = detail::any_crossing(Nodes{});

/// --net: "batchnorm", per feature of a vector or per channel of an image: γ, β, the running mean
/// and variance, one each per feature or channel. The network then trains on whole mini-batches.
namespace spec::words {
inline constexpr Word batch_norm{.keyword = "batchnorm",
                                 .cpp = "batch_norm",
                                 .couples_examples = true,
                                 .shape = [](const Values&, Extents& s, std::vector<std::uint64_t>& p) {
                                     if (s.size() != 1 && s.size() != 3) return std::string("takes a vector or an image");
                                     p.insert(p.end(), {s[0], s[0], s[0], s[0]});
                                     return std::string();
                                 }};
inline const bool batch_norm_registered = add(batch_norm);
}  // namespace spec::words

}  // namespace typegrad
