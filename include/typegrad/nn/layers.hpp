// The built-in layers and their composition. Each layer is one header in nn/layers/; a layer of
// your own is one header of yours (see nn/layer.hpp and docs/layers.md).
#pragma once

#include <cstddef>

#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/layers/activation.hpp"
#include "typegrad/nn/layers/batch_norm.hpp"
#include "typegrad/nn/layers/conv2d.hpp"
#include "typegrad/nn/layers/attention.hpp"
#include "typegrad/nn/layers/dense.hpp"
#include "typegrad/nn/layers/embedding.hpp"
#include "typegrad/nn/layers/dropout.hpp"
#include "typegrad/nn/layers/flatten.hpp"
#include "typegrad/nn/layers/layer_norm.hpp"
#include "typegrad/nn/layers/pool.hpp"
#include "typegrad/nn/layers/softmax.hpp"
#include "typegrad/nn/sequential.hpp"

namespace typegrad {

namespace detail {
template <class Seq, std::size_t... Ns>
struct append_dense_sigmoid {
    using type = Seq;
};
template <class In, class... Ls, std::size_t N, std::size_t... Ns>
struct append_dense_sigmoid<Sequential<In, Ls...>, N, Ns...> {
    using type = typename append_dense_sigmoid<Sequential<In, Ls..., Dense<N>, Sigmoid>, Ns...>::type;
};
}  // namespace detail

/// input<N0> | dense<N1> | sigmoid | ... | dense<Nk> | sigmoid
template <std::size_t... Sizes>
struct sigmoid_mlp {
    static_assert(sizeof...(Sizes) >= 2,
                  "Network<T, sizes...>: give at least two sizes, the input width and the output width");
    using type = Sequential<Shape<1>, Dense<1>>;  // a placeholder, so that only the assertion above is reported
};
template <std::size_t N0, std::size_t N1, std::size_t... Ns>
struct sigmoid_mlp<N0, N1, Ns...> {
    static_assert(N0 > 0 && N1 > 0 && ((Ns > 0) && ...), "Network<T, sizes...>: every size must be at least 1");
    using type = typename detail::append_dense_sigmoid<Sequential<Shape<(N0 > 0 ? N0 : 1)>>, (N1 > 0 ? N1 : 1),
                                                       (Ns > 0 ? Ns : 1)...>::type;
};
template <std::size_t... Sizes>
using sigmoid_mlp_t = typename sigmoid_mlp<Sizes...>::type;

}  // namespace typegrad
