// Checkpoints and the network menu: which compiled-in network a checkpoint holds (used by
// `train --resume` without --net, and by `eval`).
#pragma once

#include <string>

#include "menu.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint.hpp"

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

}  // namespace typegrad::cli
