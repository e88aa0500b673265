// Networks compiled on first use: a --net spec (or a checkpoint's network) that is not in the
// compiled-in menu is written out as a C++ translation unit, compiled with the compiler and flags
// typegrad itself was built with against its own headers (the source tree it was built from, or
// the installed ones), and loaded as a shared object — as CmdStan compiles a model. The shared
// object is cached under a key made of the network, the cost, the element type, the compile
// command and typegrad's own executable, so later runs start at once.
//
//   cache:     $TYPEGRAD_CACHE_DIR, else $XDG_CACHE_HOME/typegrad, else ~/.cache/typegrad
//   compiler:  $TYPEGRAD_CXX, else the compiler typegrad was built with
//
// A network that does not compile (a kernel larger than the image, …) is reported as the one
// line of typegrad's own static_assert message, with the path of the compiler's full output.
#pragma once

#include <string>
#include <vector>

#include "plugin.hpp"
#include "spec.hpp"

namespace typegrad::cli {

/// What to compile: the network, its cost, its element type, and the option it came from (for
/// messages: "--net", "--model FILE").
struct JitRequest {
    NetworkSpec network;
    std::string cost;          // quadratic, cross-entropy, log-likelihood
    std::string element_type;  // float, double
    std::string origin;        // "--net"
    /// For training a network with batch norm: --batch, the size of the one program a
    /// mini-batch runs as (0: the default chunk of 10, as for every other command).
    std::size_t whole_batch = 0;
    /// What is compiled, each a separate entry of the cache whose table holds only its entry
    /// points (the others are null):
    ///  - commands: eval, export, predict, generate and derive (plugin_api<M,
    ///    Entries::all_but_training>), for every command but train and gradcheck, in two parts
    ///    at once as well;
    ///  - default_engine: train, with the default --grad engine alone (engines.hpp,
    ///    default_engines; the reference engine is 1.5 s of the compile), in two parts at once
    ///    (plugin.hpp): the first compile a user waits for, so nothing else is in it;
    ///  - every_engine: train with another engine (--grad reference);
    ///  - checking: derive and gradcheck only (plugin_api<M, Entries::checking>), for gradcheck.
    enum class Variant { commands, default_engine, every_engine, checking };
    Variant variant = Variant::commands;
};

/// The entry points of the requested network: loaded from the cache, or compiled first (a
/// progress line on stderr says so). Throws UsageError when the network does not compile,
/// RunError when no compiler or headers are found or the cache cannot be written, Interrupted on
/// SIGINT/SIGTERM during the compile (nothing is left in the cache).
const PluginApi& load_network(const JitRequest& request);

/// The cost a spec trains with when --cost is not given: log-likelihood after a softmax output,
/// else quadratic (the article's).
[[nodiscard]] std::string default_cost(const NetworkSpec& network);

/// "" when `cost` fits the network's output, else one line saying which cost does: cross-entropy
/// takes a sigmoid's outputs (each in (0, 1)), log-likelihood a softmax's probability vector,
/// quadratic any output. Checked before any compile (a misfit compiles, then diverges or learns
/// nothing).
[[nodiscard]] std::string cost_fit_error(const NetworkSpec& network, const std::string& cost);

/// The C++ translation unit typegrad compiles for a request (shown in the cache next to the
/// shared object). It includes the --layers headers.
[[nodiscard]] std::string plugin_source(const JitRequest& request);

/// --layers FILE (repeatable): headers of the user's own layers (docs/layers.md). Each must be a
/// readable regular file whose path can be written into an #include; their words (typegrad/nn/
/// spec.hpp) are compiled once into a small library (cached as networks are, keyed by the headers'
/// bytes) and join the registry, so --net and a checkpoint's layer text can name the layers; and
/// every network compiled on first use after this includes them. UsageError naming the file when
/// it cannot be read or does not compile (the compiler's first error).
void use_layer_headers(const std::vector<std::string>& files);
/// The --layers headers in use, as absolute paths.
[[nodiscard]] std::vector<std::string> layer_headers();

}  // namespace typegrad::cli

namespace typegrad::io {
struct CheckpointHeader;
}

namespace typegrad::cli {

/// The request for the network a checkpoint holds (its layers, cost and element type); throws
/// RunError starting with `origin` ("--model run.tgck") when typegrad cannot rebuild it.
[[nodiscard]] JitRequest checkpoint_request(const io::CheckpointHeader& header, const std::string& origin);

}  // namespace typegrad::cli
