// What a network exports to the commands: one table of their entry points (train, eval, derive,
// gradcheck, export, predict) for one network type. A network compiled on first use (jit.hpp) is
// a generated translation unit that includes this header, names its network and ends with
// TYPEGRAD_DEFINE_PLUGIN(Network); typegrad loads the shared object and calls typegrad_plugin().
// The compiled-in networks are the same tables, built with typegrad (compiled_in.hpp).
#pragma once

#include <type_traits>

#include "typegrad/io/checkpoint_file.hpp"
#include "derive.hpp"
#include "export.hpp"
#include "options.hpp"
#include "predict.hpp"

namespace typegrad::cli {

/// The entry points of one compiled network. `abi` is checked by the loader: a table of another
/// layout is refused (the cache key already separates typegrad builds; this guards the rest).
struct PluginApi {
    unsigned abi;
    const char* cost;          // "quadratic"
    const char* element_type;  // "float" or "double"
    int (*train)(const TrainOptions&, const io::CheckpointImage*);  // null for a compiled-in double network
    bool (*holds)(const io::CheckpointHeader&);
    int (*eval)(const EvalOptions&, const io::CheckpointImage&);
    int (*derive)();
    int (*gradcheck)(const GradcheckOptions&);  // null unless element_type is double
    int (*export_network)(const ExportOptions&, const io::CheckpointImage&);
    int (*predict)(const PredictOptions&, const io::CheckpointImage&);
    int (*generate)(const GenerateOptions&, const io::CheckpointImage&);
};

inline constexpr unsigned plugin_abi = 0x7467'0001u + static_cast<unsigned>(sizeof(PluginApi));

/// The exported function's name, and its type.
inline constexpr const char* plugin_symbol = "typegrad_plugin";
using PluginEntry = const PluginApi* (*)();

}  // namespace typegrad::cli

#ifdef TYPEGRAD_PLUGIN_SOURCE  // only in a generated translation unit
#include <string>

#include "commands.hpp"
#include "drive.hpp"
#include "export_network.hpp"
#include "predict_network.hpp"

namespace typegrad::cli {

/// gradcheck runs in double only.
template <class M>
constexpr auto gradcheck_entry() {
    if constexpr (std::is_same_v<typename M::value_type, double>) return &gradcheck_network<M>;
    else return static_cast<int (*)(const GradcheckOptions&)>(nullptr);
}

/// Which entry points a table holds: all of them (the compiled-in float networks); all but
/// training (the compiled-in networks in double, whose training compiles on first use as any
/// other network's; and a network compiled on first use for the other commands,
/// JitRequest::Variant::commands); training alone (a network compiled on first use for `train`:
/// the first compile a user waits for, without eval, export, predict, generate and derive, which
/// compile when first used); or derive and gradcheck only (a network compiled for gradcheck
/// alone, JitRequest::checking: gradcheck compiles the network in double beside the float one
/// that trains, and without the training driver, the checkpoint readers, export and predict that
/// second compile takes about 40 % of a whole plugin's time; docs/benchmarks.md, "Compile on
/// first use").
enum class Entries { all, all_but_training, training, checking };

/// The table of network M with the entry points E, training with the --grad engines Engines; the
/// other entry points are null. Train: the training entry when another translation unit
/// instantiates it (a plugin compiled in two parts, below); nullptr: train_network<M, Engines>.
template <class M, Entries E = Entries::all, class Engines = engines, auto Train = nullptr>
const PluginApi* plugin_api() {
    static const std::string cost(M::cost_type::name);
    decltype(PluginApi::train) train = nullptr;
    decltype(PluginApi::holds) holds = nullptr;
    decltype(PluginApi::eval) eval = nullptr;
    decltype(PluginApi::export_network) exporter = nullptr;
    decltype(PluginApi::predict) predict = nullptr;
    decltype(PluginApi::generate) generate = nullptr;
    if constexpr (E == Entries::all || E == Entries::training) {
        if constexpr (std::is_same_v<decltype(Train), std::nullptr_t>) train = &train_network<M, Engines>;
        else train = Train;
    }
    if constexpr (E == Entries::all || E == Entries::all_but_training) {
        holds = &io::holds<M>;
        eval = &evaluate_network<M>;
        exporter = &export_network<M>;
        predict = &predict_network<M>;
        generate = &generate_network<M>;
    }
    decltype(PluginApi::derive) derive = nullptr;
    decltype(PluginApi::gradcheck) gradcheck = nullptr;
    if constexpr (E != Entries::training) {
        derive = &derive_network<M>;
        gradcheck = gradcheck_entry<M>();
    }
    static const PluginApi api{
        plugin_abi, cost.c_str(), std::is_same_v<typename M::value_type, float> ? "float" : "double",
        train,      holds,        eval,
        derive,     gradcheck,    exporter,
        predict,    generate,
    };
    return &api;
}

}  // namespace typegrad::cli

// A generated unit that trains (Entries::training) is compiled as two parts at once, one
// compiler per core (jit.cpp), chosen by TYPEGRAD_PLUGIN_PART in the generated source (not here:
// a macro tested in this header would make the precompiled prelude unusable for one of the
// parts). Part 1 instantiates the training driver as typegrad_plugin_train; part 2 the network's
// programs — the autodiff engine's gradient (AutodiffEngine::sum and the per-example operator()),
// the evaluator's forward sweeps (Evaluator::evaluate), both defined out of their classes so
// that an explicit instantiation declaration keeps part 1 from instantiating them (GCC
// instantiates inline members regardless, to inline them) — with the checkpoint writer and
// reader, AnyOptimizer's updates and the table, which names part 1's function. The two objects
// are linked into one library. For 784-128:relu-64:relu-10:softmax on Zen 3 the parts took
// 7.0–8.0 and 6.5–7.2 s by hand, where the training driver alone had taken 9.5 s and the rest
// 6.7 s; `train` from an empty cache 6.2–7.2 s instead of 9.1–9.8 s (docs/benchmarks.md, "A wide
// layer's weight gradient…").
#define TYPEGRAD_PLUGIN_TRAIN_DECLARATION \
    extern "C" __attribute__((visibility("hidden"))) int typegrad_plugin_train(                         \
        const typegrad::cli::TrainOptions&, const typegrad::io::CheckpointImage*)
// The checkpoint writer and reader of the network, which the training driver calls: instantiated
// in part 2 (kind empty) and declared in part 1 (kind extern). Each is named with its own type
// (decltype), so the signatures are written once, in io/checkpoint.hpp.
#define TYPEGRAD_PLUGIN_RESTORE(kind, ...) \
    kind template decltype(typegrad::io::restore_checkpoint<__VA_ARGS__>) typegrad::io::restore_checkpoint<__VA_ARGS__>
#define TYPEGRAD_PLUGIN_CHECKPOINTS(kind, ...) \
    kind template decltype(typegrad::io::save_checkpoint<__VA_ARGS__>) typegrad::io::save_checkpoint<__VA_ARGS__>; \
    TYPEGRAD_PLUGIN_RESTORE(kind, __VA_ARGS__)
// The network's programs as the trainer runs them (see above): instantiated in part 2 (kind
// empty), declared in part 1 (kind extern).
#define TYPEGRAD_PLUGIN_PROGRAMS(kind, ...) \
    kind template struct typegrad::train::AutodiffEngine<__VA_ARGS__, typegrad::cli::autodiff_chunk<__VA_ARGS__>()>; \
    kind template class typegrad::train::Evaluator<__VA_ARGS__>;                                                 \
    kind template void typegrad::train::AnyOptimizer::step<__VA_ARGS__>(                                         \
        __VA_ARGS__&, const typegrad::Gradients<__VA_ARGS__>&, const typegrad::train::Step&);                   \
    kind template void typegrad::train::AnyOptimizer::begin_step<__VA_ARGS__>(__VA_ARGS__&,                      \
                                                                              const typegrad::train::Step&);    \
    kind template void typegrad::train::AnyOptimizer::step_slice<__VA_ARGS__>(                                   \
        __VA_ARGS__&, const typegrad::Gradients<__VA_ARGS__>&, const typegrad::train::Step&, typegrad::train::Slice) noexcept
// part 1: the training driver with Engines, alone
#define TYPEGRAD_DEFINE_TRAINING_PART(Engines, ...) \
    TYPEGRAD_PLUGIN_CHECKPOINTS(extern, __VA_ARGS__);                                                      \
    TYPEGRAD_PLUGIN_PROGRAMS(extern, __VA_ARGS__);                                                         \
    TYPEGRAD_PLUGIN_TRAIN_DECLARATION;                                                                     \
    int typegrad_plugin_train(const typegrad::cli::TrainOptions& o, const typegrad::io::CheckpointImage* r) { \
        return typegrad::cli::train_network<__VA_ARGS__, Engines>(o, r);                                   \
    }
// part 2: the programs, the checkpoints and the table, its training entry from part 1
#define TYPEGRAD_DEFINE_TABLE_PART(Engines, ...) \
    TYPEGRAD_PLUGIN_CHECKPOINTS(, __VA_ARGS__);                                                            \
    TYPEGRAD_PLUGIN_PROGRAMS(, __VA_ARGS__);                                                               \
    TYPEGRAD_PLUGIN_TRAIN_DECLARATION;                                                                     \
    extern "C" const typegrad::cli::PluginApi* typegrad_plugin() {                                         \
        return typegrad::cli::plugin_api<__VA_ARGS__, typegrad::cli::Entries::training, Engines,           \
                                         &typegrad_plugin_train>();                                        \
    }
// the training plugin in one unit (one compiler: TYPEGRAD_COMPILE_JOBS=1, or one core)
#define TYPEGRAD_DEFINE_TABLE(Engines, ...) \
    extern "C" const typegrad::cli::PluginApi* typegrad_plugin() {                                         \
        return typegrad::cli::plugin_api<__VA_ARGS__, typegrad::cli::Entries::training, Engines>();        \
    }
// The other commands' plugin: eval, export, predict, generate, derive, gradcheck (in double);
// in two parts at once as well: part 1 the commands that run the network forward (eval, predict,
// generate: function templates that are not inline, so extern template keeps part 2 from
// instantiating them), part 2 the others, the checkpoint reader and the table.
#define TYPEGRAD_DEFINE_COMMANDS_PLUGIN(...) \
    extern "C" const typegrad::cli::PluginApi* typegrad_plugin() {                                         \
        return typegrad::cli::plugin_api<__VA_ARGS__, typegrad::cli::Entries::all_but_training>();         \
    }
#define TYPEGRAD_PLUGIN_FORWARD_COMMANDS(kind, ...) \
    kind template int typegrad::cli::evaluate_network<__VA_ARGS__>(const typegrad::cli::EvalOptions&,                 \
                                                                   const typegrad::io::CheckpointImage&);         \
    kind template int typegrad::cli::predict_network<__VA_ARGS__>(const typegrad::cli::PredictOptions&,               \
                                                                  const typegrad::io::CheckpointImage&);          \
    kind template int typegrad::cli::generate_network<__VA_ARGS__>(const typegrad::cli::GenerateOptions&,             \
                                                                   const typegrad::io::CheckpointImage&)
#define TYPEGRAD_DEFINE_FORWARD_PART(...) \
    TYPEGRAD_PLUGIN_RESTORE(extern, __VA_ARGS__);                                                          \
    TYPEGRAD_PLUGIN_FORWARD_COMMANDS(, __VA_ARGS__);
#define TYPEGRAD_DEFINE_COMMANDS_TABLE_PART(...) \
    TYPEGRAD_PLUGIN_RESTORE(, __VA_ARGS__);                                                                \
    TYPEGRAD_PLUGIN_FORWARD_COMMANDS(extern, __VA_ARGS__);                                                 \
    TYPEGRAD_DEFINE_COMMANDS_PLUGIN(__VA_ARGS__)
#define TYPEGRAD_DEFINE_CHECK_PLUGIN(...) \
    extern "C" const typegrad::cli::PluginApi* typegrad_plugin() {                                         \
        return typegrad::cli::plugin_api<__VA_ARGS__, typegrad::cli::Entries::checking>();                 \
    }
#define TYPEGRAD_DEFINE_DEFAULT_ENGINE_PLUGIN(...) TYPEGRAD_DEFINE_TABLE(typegrad::cli::default_engines, __VA_ARGS__)
#define TYPEGRAD_DEFINE_PLUGIN(...) TYPEGRAD_DEFINE_TABLE(typegrad::cli::engines, __VA_ARGS__)
#endif
