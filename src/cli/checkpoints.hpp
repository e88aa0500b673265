// Checkpoints and the network menu: which compiled-in network a checkpoint holds (used by
// `train --resume` without --net, and by `eval`).
#pragma once

#include <filesystem>
#include <string>

#include "jit.hpp"
#include "menu.hpp"
#include "options.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/train/trainer.hpp"

namespace typegrad::cli {

/// "784-31-10 float network (input<784> | dense<31> | σ | dense<10> | σ, quadratic cost)" (text
/// from the file escaped: io::printable_text).
inline std::string describe_checkpoint(const io::CheckpointHeader& h) {
    return io::printable_text(cat(io::describe_network(h), " (", h.layers, ", ", h.cost, " cost)"));
}

/// What --resume and --model say about a checkpoint holding NaN or infinite parameters.
inline constexpr const char* non_finite_parameters = "a weight or bias is NaN or infinite (saved by a diverged run?)";

/// The name ("784-30-10") of the menu's network in element type T that the checkpoint holds,
/// or "" if none.
template <class T>
std::string menu_network_holding(const io::CheckpointHeader& header) {
    return []<class... Ms>(const io::CheckpointHeader& h, type_list<Ms...>) {
        std::string name;
        ((io::holds<Ms>(h) ? (name = shape_name<Ms>(), true) : false) || ...);
        return name;
    }(header, networks<T>{});
}

/// The checkpoint --model FILE (of export and predict); RunError "--model FILE: …" if unusable.
inline io::CheckpointImage read_model_file(const std::filesystem::path& file) {
    try {
        return io::read_checkpoint_file(file);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--model ", e.what()));
    }
}

/// Restores net from the checkpoint --model FILE holds, refusing NaN or infinite parameters.
template <class M>
train::TrainerState restore_model(const io::CheckpointImage& image, M& net, const std::filesystem::path& file) {
    train::TrainerState state;
    try {
        state = io::restore_checkpoint(image, net, file.string());
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--model ", e.what()));
    }
    if (!train::parameters_finite(net)) throw RunError(cat("--model ", file.string(), ": ", non_finite_parameters));
    return state;
}

/// For eval, export and predict: menu.template operator()<M>() for the menu's network M (float
/// or double) that the --model checkpoint holds, else compiled(network) for the network compiled
/// on first use (jit.hpp).
template <class Menu, class Compiled>
int with_model_network(const io::CheckpointImage& image, const std::filesystem::path& model, Menu&& menu,
                       Compiled&& compiled) {
    int rc = -1;
    const auto in = [&]<class... Ms>(type_list<Ms...>) {
        return ((io::holds<Ms>(image.header) ? (rc = menu.template operator()<Ms>(), true) : false) || ...);
    };
    if (in(networks<float>{}) || in(networks<double>{})) return rc;
    return compiled(load_network(checkpoint_request(image.header, cat("--model ", model.string()))));
}

}  // namespace typegrad::cli
