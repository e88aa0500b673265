// Checkpoints as the commands read them: --model FILE parsed, a network restored from it (which
// network a checkpoint holds is compiled_in.hpp's network_of_checkpoint).
#pragma once

#include <filesystem>
#include <string>

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

}  // namespace typegrad::cli
