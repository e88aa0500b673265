// A trained network for PyTorch: every parameter as a .npy array named as nn.Sequential's
// state_dict names it ("K.weight", "K.bias", K the layer's position in the composition, which is
// its index in the matching nn.Sequential), in PyTorch's layout (a dense layer's W, stored
// (n_in, n_out) for the article's z = Wᵀa + b, is transposed to Linear's (out, in); a
// convolution's (C_out, C_in, K, K) is already Conv2d's), plus the architecture as JSON
// ("architecture.npy", uint8 text). scripts/npz_to_torch.py rebuilds the nn.Sequential.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "typegrad/io/npz.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/util/text.hpp"

namespace typegrad::io {

namespace detail {

/// The JSON object of layer L after input shape In, as torch.nn would build it; "" when PyTorch
/// has no equivalent.
template <class L, class In>
struct torch_layer {
    static std::string json() { return ""; }
};
template <std::size_t Out, std::size_t I, class In>
struct torch_layer<Dense<Out, I>, In> {
    static std::string json() { return cat("{\"type\": \"Linear\", \"in_features\": ", size_v<In>, ", \"out_features\": ", Out, "}"); }
};
template <class In>
struct torch_layer<Sigmoid, In> {
    static std::string json() { return "{\"type\": \"Sigmoid\"}"; }
};
template <class In>
struct torch_layer<Tanh, In> {
    static std::string json() { return "{\"type\": \"Tanh\"}"; }
};
template <class In>
struct torch_layer<expr::MapFn<expr::fn::Relu>, In> {
    static std::string json() { return "{\"type\": \"ReLU\"}"; }
};
template <class In>
struct torch_layer<Gelu, In> {
    static std::string json() { return "{\"type\": \"GELU\"}"; }  // exact, as typegrad's (approximate=\"none\")
};
template <class In>
struct torch_layer<Silu, In> {
    static std::string json() { return "{\"type\": \"SiLU\"}"; }
};
template <class In>
struct torch_layer<LeakyRelu, In> {
    static std::string json() { return cat("{\"type\": \"LeakyReLU\", \"negative_slope\": ", expr::rate_text(expr::fn::LeakyRelu::slope), "}"); }
};
template <class In>
struct torch_layer<Softmax, In> {
    static std::string json() { return "{\"type\": \"Softmax\", \"dim\": -1}"; }
};
template <std::size_t Co, std::size_t K, std::size_t S, std::size_t P, std::size_t Ci, class In>
struct torch_layer<Conv2d<Co, K, S, P, Ci>, In> {
    static std::string json() {
        return cat("{\"type\": \"Conv2d\", \"in_channels\": ", shape_traits<In>::extents[0], ", \"out_channels\": ", Co,
                   ", \"kernel_size\": ", K, ", \"stride\": ", S, ", \"padding\": ", P, "}");
    }
};
template <std::size_t K, class In>
struct torch_layer<MaxPool<K>, In> {
    static std::string json() { return cat("{\"type\": \"MaxPool2d\", \"kernel_size\": ", K, "}"); }
};
template <std::size_t K, class In>
struct torch_layer<AvgPool<K>, In> {
    static std::string json() { return cat("{\"type\": \"AvgPool2d\", \"kernel_size\": ", K, "}"); }
};
template <class In>
struct torch_layer<Flatten, In> {
    static std::string json() { return "{\"type\": \"Flatten\"}"; }
};
template <auto Rate, class In>
struct torch_layer<Dropout<Rate>, In> {
    static std::string json() { return cat("{\"type\": \"Dropout\", \"p\": ", expr::rate_text(static_cast<double>(Rate)), "}"); }
};

/// "K.weight", "K.bias" (other parameters: "K.<name>"): parameter R as nn.Sequential's
/// state_dict names it, K the layer's position in the composition.
template <class R>
std::string torch_parameter_name() {
    const std::string kind = R::name == std::string_view("W") ? "weight" : R::name == std::string_view("b") ? "bias" : std::string(R::name);
    return cat(R::position, ".", kind);
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
        const std::string name = detail::torch_parameter_name<R>();
        if constexpr (e.size() == 2 && requires { R::layer::stated_input; }) {  // dense: (n_in, n_out) -> (out, in)
            std::vector<T> transposed(t.size());
            for (std::size_t i = 0; i < e[0]; ++i)
                for (std::size_t j = 0; j < e[1]; ++j) transposed[j * e[0] + i] = t.data()[i * e[1] + j];
            out.push_back(npy_array(name, {e[1], e[0]}, transposed.data(), transposed.size()));
        } else {
            out.push_back(npy_array(name, std::vector<std::size_t>(e.begin(), e.end()), t.data(), t.size()));
        }
    });
    out.push_back(npy_text("architecture", architecture_json<M>()));
    return out;
}

}  // namespace typegrad::io
