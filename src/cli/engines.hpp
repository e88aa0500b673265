// The --grad menu of `typegrad train`: the gradient engines a network's training driver
// (drive.hpp) can be instantiated with.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "menu.hpp"
#include "typegrad/train/engine.hpp"

namespace typegrad::cli {

/// A string usable as a template argument: engine<"reference", ...>.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }  // NOLINT: implicit on purpose
    [[nodiscard]] constexpr std::string_view view() const { return {chars, N - 1}; }
};

/// A gradient engine on the --grad menu: its name and the engine template (instantiated with
/// the network type), as Trainer<M, Engine> expects it.
template <fixed_string Name, template <AnyModel> class Engine>
struct engine {
    static constexpr std::string_view name = Name.view();
    template <class M>
    using type = Engine<M>;
};

// ---------------------------------------------------------------------------------------------
// The menu of --grad. Adding an engine is one line; the default is named in options.hpp
// (TrainOptions) and checked against this list at startup.

/// --grad: the gradient engines, each a template over the model type with
/// operator()(net, x, y, Gradients&, Accumulate), like train::ReferenceEngine.
/// The autodiff engine's chunk: the batch a network with batch norm was compiled for (its
/// generated entry's whole_batch, jit.cpp), else 10.
template <class M>
constexpr std::size_t autodiff_chunk() {
    if constexpr (requires { entry_of_t<M>::whole_batch; }) return entry_of_t<M>::whole_batch;
    else return 10;
}
template <AnyModel M>
using CliAutodiffEngine = train::AutodiffEngine<M, autodiff_chunk<M>()>;

using engines = type_list<                        //
    engine<"autodiff", CliAutodiffEngine>,        // derived from the network's type (default)
    engine<"reference", train::ReferenceEngine>>;  // the article's backprop, by hand

/// The engines a network compiled on first use trains with unless --grad names another: the
/// default alone (jit.hpp, JitRequest::Variant; the reference engine is 1.5 s of an 11 s
/// compile, docs/benchmarks.md). The compiled-in networks have every engine.
using default_engines = type_list<engine<"autodiff", CliAutodiffEngine>>;

// ---------------------------------------------------------------------------------------------

template <class... Es>
std::vector<std::string> engine_names_of(type_list<Es...>) {
    return {std::string(Es::name)...};
}

}  // namespace typegrad::cli
