// Checkpoints of a model and its trainer: save_checkpoint writes the model's parameters and the
// trainer's state atomically; load_checkpoint reads them back into a model of exactly the same
// type (element type, widths, layers, cost), leaving it untouched if anything is wrong. The file
// format is in checkpoint_file.hpp (compiled in typegrad::data).
//
//   train::Trainer<M> trainer(net, options);
//   trainer.restore(io::load_checkpoint("run.tgck", net));          // continue a run
//   trainer.run(train, test, [&](const train::EpochStats&) {
//       io::save_checkpoint("run.tgck", net, trainer.state());       // after every epoch
//   }, [](std::size_t, std::size_t) {});
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/state.hpp"

namespace typegrad::io {

namespace detail {

template <class T>
using unsigned_of = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// Appends v as little-endian IEEE 754 bytes.
template <class T>
void put(unsigned char*& out, T v) noexcept {
    const auto bits = std::bit_cast<unsigned_of<T>>(v);
    for (std::size_t i = 0; i < sizeof(T); ++i) *out++ = static_cast<unsigned char>(bits >> (8 * i));
}

template <class T>
T get(const unsigned char*& in) noexcept {
    unsigned_of<T> bits = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) bits |= static_cast<unsigned_of<T>>(in[i]) << (8 * i);
    in += sizeof(T);
    return std::bit_cast<T>(bits);
}

}  // namespace detail

/// "float" or "double".
template <AnyModel M>
std::string element_type_name() {
    return std::is_same_v<typename M::value_type, float> ? "float" : "double";
}

using typegrad::layers_description;

/// The header that a checkpoint of a model of type M with this trainer state has
/// (payload_bytes included). `training` is free text kept in the file (e.g. the options);
/// `vocabulary` the characters of a text network's token ids, UTF-8 (the file is then version 4).
template <AnyModel M>
CheckpointHeader checkpoint_header(const train::TrainerState& state = {}, std::string training = {},
                                   std::string vocabulary = {}) {
    using S = typename M::composition;
    CheckpointHeader h;
    h.version = vocabulary.empty() ? 3 : 4;
    h.vocabulary = std::move(vocabulary);
    h.element_type = element_type_name<M>();
    h.widths.assign(S::widths.begin(), S::widths.end());
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        (h.parameter_layers.push_back(M::template position<L>), ...);
    }(std::make_index_sequence<M::layers>{});
    h.layers = layers_description<S>();
    h.cost = std::string(M::cost_type::name);
    h.training = std::move(training);
    h.epochs_done = state.epochs_done;
    h.rng = state.rng;
    for_each_parameter_ref<S, typename M::value_type>([&](auto ref) { h.parameter_sizes.push_back(decltype(ref)::size); });
    h.optimizer = state.optimizer;
    h.optimizer_state = state.optimizer_state;
    h.best_epoch = state.monitor.best_epoch;
    h.best_accuracy = state.monitor.best_accuracy;
    h.epochs_without_improvement = state.monitor.epochs_without_improvement;
    h.epochs_since_halving = state.monitor.epochs_since_halving;
    h.halvings = state.monitor.halvings;
    h.eta = state.eta;
    h.payload_bytes = M::parameter_count * sizeof(typename M::value_type);
    return h;
}

/// The parameters as checkpoint payload bytes: tensor by tensor in the parameter visitor's order
/// (a dense layer: W then b), little-endian.
template <AnyModel M>
std::vector<unsigned char> checkpoint_payload(const M& net) {
    using T = typename M::value_type;
    std::vector<unsigned char> bytes(M::parameter_count * sizeof(T));
    unsigned char* out = bytes.data();
    net.for_each_parameter([&](auto, const auto& t) {
        for (auto v : t) detail::put<T>(out, v);
    });
    return bytes;
}

/// The bytes of a checkpoint file of net and state.
template <AnyModel M>
std::vector<unsigned char> checkpoint_bytes(const M& net, const train::TrainerState& state, std::string training = {},
                                            std::string vocabulary = {}) {
    return serialize_checkpoint(checkpoint_header<M>(state, std::move(training), std::move(vocabulary)),
                                checkpoint_payload(net));
}

/// Writes net and the trainer state to path atomically (see write_file_atomically): a crash at
/// any moment leaves the previous checkpoint or the new one. Throws CheckpointError.
template <AnyModel M>
void save_checkpoint(const std::filesystem::path& path, const M& net, const train::TrainerState& state,
                     std::string training = {}, std::string vocabulary = {}) {
    write_file_atomically(path, checkpoint_bytes(net, state, std::move(training), std::move(vocabulary)));
}

/// Whether a checkpoint with this header holds a model of type M.
template <AnyModel M>
bool holds(const CheckpointHeader& header) {
    return network_mismatch(header, checkpoint_header<M>()).empty();
}

/// Copies a parsed checkpoint into net after checking that it holds a model of type M; returns
/// the trainer state. Throws CheckpointError (starting with `what`) and leaves net untouched if
/// the network differs or the optimizer state cannot be its optimizer's for it.
template <AnyModel M>
train::TrainerState restore_checkpoint(const CheckpointImage& image, M& net, const std::string& what) {
    using T = typename M::value_type;
    if (const std::string mismatch = network_mismatch(image.header, checkpoint_header<M>()); !mismatch.empty())
        throw CheckpointError(what + ": " + mismatch);
    if (image.payload.size() != M::parameter_count * sizeof(T))
        throw CheckpointError(what + ": the payload is " + std::to_string(image.payload.size()) + " bytes, expected " +
                              std::to_string(M::parameter_count * sizeof(T)));
    if (image.header.epochs_done > std::numeric_limits<std::size_t>::max())
        throw CheckpointError(what + ": " + std::to_string(image.header.epochs_done) + " epochs do not fit size_t");
    check_optimizer_state(image.header, what);  // done by parse_checkpoint too; an image may be made by hand
    const unsigned char* in = image.payload.data();
    net.for_each_parameter([&](auto, auto& t) {
        for (auto& v : t) v = detail::get<T>(in);
    });
    // check_header bounds the monitor's counts by epochs_done, which fits size_t
    const auto& h = image.header;
    const train::MonitorState monitor{static_cast<std::size_t>(h.best_epoch), h.best_accuracy,
                                      static_cast<std::size_t>(h.epochs_without_improvement),
                                      static_cast<std::size_t>(h.epochs_since_halving),
                                      static_cast<std::size_t>(h.halvings)};
    return {static_cast<std::size_t>(h.epochs_done), h.rng, h.optimizer, h.optimizer_state, monitor, h.eta};
}

/// Reads a checkpoint into net (which must have exactly the type it was saved from) and returns
/// the trainer state to restore. Throws CheckpointError naming the file, e.g.
/// "run.tgck: holds a 784-100-10 double network, this is a 784-30-10 float network", and then
/// net is unchanged.
template <AnyModel M>
train::TrainerState load_checkpoint(const std::filesystem::path& path, M& net) {
    return restore_checkpoint(read_checkpoint_file(path), net, path.string());
}

}  // namespace typegrad::io
