// The compiled-in networks, shared by every command: the article's sigmoid MLPs by their widths,
// network2.py's, a ReLU classifier and LeNet-5. Each is built as a plugin at build time
// (compiled_in.hpp); adding a network is one entry here and TYPEGRAD_MENU_SIZE in CMakeLists.txt;
// any other network is compiled on first use (jit.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"

namespace typegrad::cli {

using ad::type_list;

/// A sigmoid network n₀-n₁-… with cost Cost, in element type T: the article's (quadratic cost,
/// η = 3) and network2.py's (cross-entropy, η = 0.5).
template <class Cost, std::size_t... N>
struct sigmoid_net {
    template <class T>
    using network = Model<T, sigmoid_mlp_t<N...>, Cost>;
    static std::string name() {
        std::string s;
        ((s += (s.empty() ? "" : "-"), s += std::to_string(N)), ...);
        return s;
    }
    static std::string description() { return name() + " sigmoid"; }
    static constexpr double default_eta = std::is_same_v<Cost, cost::Quadratic> ? 3.0 : 0.5;
    static constexpr const char* default_schedule = "constant";
};
/// The article's network of those widths (Network<T, N...>).
template <std::size_t... N>
using shape = sigmoid_net<cost::Quadratic, N...>;

/// 784-100:relu-10:softmax with log-likelihood: the ReLU classifier of issue 11's Adam run.
inline constexpr auto relu_classifier_layers = input<784> | dense<100> | relu | dense<10> | softmax;
struct relu_classifier {
    template <class T>
    using network = Model<T, decltype(relu_classifier_layers), cost::LogLikelihood>;
    static std::string name() { return "784-100:relu-10:softmax"; }
    static std::string description() { return name(); }
    static constexpr double default_eta = 0.1;
    static constexpr const char* default_schedule = "constant";
};

/// LeNet-5 (issue 10): two convolutions with ReLU and max pooling, three dense layers, softmax
/// and log-likelihood (PyTorch's CrossEntropyLoss), PyTorch's initialisation.
inline constexpr auto lenet_layers = input<1, 28, 28> | conv2d<6, 5, 1, 2> | relu | max_pool<2> | conv2d<16, 5> | relu |
                                     max_pool<2> | flatten | dense<120> | relu | dense<84> | relu | dense<10> | softmax;
struct lenet {
    template <class T>
    using network = Model<T, decltype(lenet_layers), cost::LogLikelihood>;
    static std::string name() { return "lenet"; }
    static std::string description() { return "lenet (LeNet-5: 2 convolutions, ReLU, max pooling, softmax)"; }
    // η = 0.05, divided by 5 after epochs 4 and 8: 99.2 % in ten epochs (docs/results.md)
    static constexpr double default_eta = 0.05;
    static constexpr const char* default_schedule = "step:4:0.2";
};

/// --net: the menu, the default first. A spec compiled in with several costs takes the first
/// one listed unless --cost says otherwise.
using shapes = type_list<                          //
    shape<784, 30, 10>,                            //
    shape<784, 100, 10>,                           //
    shape<784, 60, 30, 10>,                        //
    lenet,                                         // train_lenet.cpp
    sigmoid_net<cost::CrossEntropy, 784, 30, 10>,  // train_more.cpp, from here on
    sigmoid_net<cost::CrossEntropy, 784, 100, 10>, //
    relu_classifier>;

template <class... S>
constexpr std::size_t size_of(type_list<S...>) noexcept {
    return sizeof...(S);
}
/// The number of networks on the menu.
inline constexpr std::size_t menu_size = size_of(shapes{});

template <std::size_t I, class List>
struct type_at;
template <std::size_t I, class S, class... Ss>
struct type_at<I, type_list<S, Ss...>> : type_at<I - 1, type_list<Ss...>> {};
template <class S, class... Ss>
struct type_at<0, type_list<S, Ss...>> {
    using type = S;
};
/// Entry I of the menu, and its network in element type T.
template <std::size_t I>
using menu_entry_t = typename type_at<I, shapes>::type;
template <std::size_t I, class T>
using menu_network_t = typename menu_entry_t<I>::template network<T>;

/// The menu entry whose network is M (void if none).
template <class M, class List>
struct entry_of {
    using type = void;
};
template <class M, class E, class... Es>
struct entry_of<M, type_list<E, Es...>> {
    using type = std::conditional_t<std::is_same_v<M, typename E::template network<typename M::value_type>>, E,
                                    typename entry_of<M, type_list<Es...>>::type>;
};
/// The entry of a network compiled on first use: its generated translation unit specialises
/// this (jit.cpp, plugin_source).
template <class M>
struct generated_entry {
    using type = void;
};
template <class M>
using entry_of_t = std::conditional_t<std::is_void_v<typename generated_entry<M>::type>, typename entry_of<M, shapes>::type,
                                      typename generated_entry<M>::type>;

/// "784-30-10 sigmoid": the network in the headers of train and eval.
template <class M>
std::string network_description() {
    return entry_of_t<M>::description();
}
/// The η a network trains with when --eta is not given.
template <class M>
double default_eta() {
    return entry_of_t<M>::default_eta;
}

}  // namespace typegrad::cli
