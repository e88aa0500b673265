// The compiled-in network shapes, shared by `train`, `derive` and `gradcheck`. Adding a shape
// is one line here.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "typegrad/nn/model.hpp"

namespace typegrad::cli {

using ad::type_list;

/// A shape n₀-n₁-…: the article's sigmoid network of those widths, in element type T.
template <std::size_t... N>
struct shape {
    template <class T>
    using network = Network<T, N...>;
};

/// --net: the menu, the default first.
using shapes = type_list<  //
    shape<784, 30, 10>,    //
    shape<784, 100, 10>,   //
    shape<784, 60, 30, 10>>;

template <class T, class... S>
auto networks_of(type_list<S...>) -> type_list<typename S::template network<T>...>;
/// The menu's networks in element type T.
template <class T>
using networks = decltype(networks_of<T>(shapes{}));

/// "784-30-10": the input width and every layer's width.
template <class M>
std::string shape_name() {
    std::string s = std::to_string(M::input_width);
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        ((s += '-', s += std::to_string(M::template fan_out<L>)), ...);
    }(std::make_index_sequence<M::layers>{});
    return s;
}

template <class... Ms>
std::vector<std::string> shape_names_of(type_list<Ms...>) {
    return {shape_name<Ms>()...};
}

/// Calls f.template operator()<M>() for the network M of the menu named `name` (element type T);
/// returns false when no shape has that name.
template <class T, class F>
bool with_network(const std::string& name, F&& f) {
    return []<class... Ms>(const std::string& n, F& fn, type_list<Ms...>) {
        return ((n == shape_name<Ms>() ? (fn.template operator()<Ms>(), true) : false) || ...);
    }(name, f, networks<T>{});
}

}  // namespace typegrad::cli
