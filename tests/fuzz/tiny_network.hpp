// The 4-3-2 networks fuzz_resume trains, and their checkpoint header, written without
// typegrad/io/checkpoint.hpp and typegrad/train/sgd.hpp: those include the autodiff headers,
// which clang 14 (the fuzzers' compiler) does not compile (ad/model.hpp: "type of specialized
// non-type template argument depends on a template parameter of the partial specialization").
// tests/io/test_checkpoint.cpp checks that tiny_header<T>() is what io::checkpoint_header
// writes for these networks.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/nn/model.hpp"

namespace typegrad::fuzz {

template <class T>
using Tiny = Network<T, 4, 3, 2>;

/// The header of a checkpoint of Tiny<T> (without the training state).
template <class T>
io::CheckpointHeader tiny_header() {
    io::CheckpointHeader h;
    h.element_type = std::is_same_v<T, float> ? "float" : "double";
    h.widths = {4, 3, 3, 2, 2};
    h.parameter_layers = {0, 2};
    h.layers = "input<4> | dense<3> | σ | dense<2> | σ";
    h.cost = "quadratic";
    h.parameter_sizes = {12, 3, 6, 2};  // W₀, b₀, W₁, b₁
    h.payload_bytes = Tiny<T>::parameter_count * sizeof(T);
    return h;
}

template <class T>
using bits_of = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// The parameters as checkpoint payload bytes (tensor by tensor: W then b, little-endian).
template <class T>
std::vector<unsigned char> tiny_payload(const Tiny<T>& net) {
    std::vector<unsigned char> out;
    const auto put = [&](T v) {
        const auto b = std::bit_cast<bits_of<T>>(v);
        for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<unsigned char>(b >> (8 * i)));
    };
    net.for_each_parameter([&](auto, const auto& t) {
        for (auto v : t) put(v);
    });
    return out;
}

/// Copies a payload of the right size into net.
template <class T>
void tiny_restore(const std::vector<unsigned char>& payload, Tiny<T>& net) {
    const unsigned char* in = payload.data();
    const auto get = [&] {
        bits_of<T> b = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) b |= static_cast<bits_of<T>>(in[i]) << (8 * i);
        in += sizeof(T);
        return std::bit_cast<T>(b);
    };
    net.for_each_parameter([&](auto, auto& t) {
        for (auto& v : t) v = get();
    });
}

}  // namespace typegrad::fuzz
