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

/// Which entry points a table holds: all of them; all but training (the compiled-in networks in
/// double: training in double compiles on first use, as for any other network); or derive and
/// gradcheck only (a network compiled for gradcheck alone, JitRequest::checking: gradcheck
/// compiles the network in double beside the float one that trains, and without the training
/// driver, the checkpoint readers, export and predict that second compile takes about 40 % of a
/// whole plugin's time; docs/benchmarks.md, "Compile on first use").
enum class Entries { all, all_but_training, checking };

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
    if constexpr (E == Entries::all) {
        if constexpr (std::is_same_v<decltype(Train), std::nullptr_t>) train = &train_network<M, Engines>;
        else train = Train;
    }
    if constexpr (E != Entries::checking) {
        holds = &io::holds<M>;
        eval = &evaluate_network<M>;
        exporter = &export_network<M>;
        predict = &predict_network<M>;
        generate = &generate_network<M>;
    }
    static const PluginApi api{
        plugin_abi, cost.c_str(), std::is_same_v<typename M::value_type, float> ? "float" : "double",
        train,      holds,        eval,
        &derive_network<M>,       gradcheck_entry<M>(),
        exporter,   predict,      generate,
    };
    return &api;
}

}  // namespace typegrad::cli

// A generated unit that trains is compiled as two parts at once, one compiler per core (jit.cpp),
// chosen by TYPEGRAD_PLUGIN_PART in the generated source (not here: a macro tested in this header
// would make the precompiled prelude unusable for one of the parts): part 1 instantiates only
// the training driver (about half of the compile) as typegrad_plugin_train, part 2 everything
// else and the table, which names part 1's function; the two objects are linked into one library.
#define TYPEGRAD_PLUGIN_TRAIN_DECLARATION \
    extern "C" __attribute__((visibility("hidden"))) int typegrad_plugin_train(                         \
        const typegrad::cli::TrainOptions&, const typegrad::io::CheckpointImage*)
// The checkpoint writer and reader of the network, which the training driver calls: instantiated
// in part 2 (kind empty) and declared in part 1 (kind extern), which so compiles 0.7 s less of the
// longer part (Zen 3, MLP: 8.0 -> 7.3 s; part 2 5.8 -> 6.1 s). Each is named with its own type
// (decltype), so the signatures are written once, in io/checkpoint.hpp.
#define TYPEGRAD_PLUGIN_CHECKPOINTS(kind, ...) \
    kind template decltype(typegrad::io::save_checkpoint<__VA_ARGS__>) typegrad::io::save_checkpoint<__VA_ARGS__>; \
    kind template decltype(typegrad::io::restore_checkpoint<__VA_ARGS__>) typegrad::io::restore_checkpoint<__VA_ARGS__>
// part 1: the training driver with Engines, alone
#define TYPEGRAD_DEFINE_TRAINING_PART(Engines, ...) \
    TYPEGRAD_PLUGIN_CHECKPOINTS(extern, __VA_ARGS__);                                                      \
    TYPEGRAD_PLUGIN_TRAIN_DECLARATION;                                                                     \
    int typegrad_plugin_train(const typegrad::cli::TrainOptions& o, const typegrad::io::CheckpointImage* r) { \
        return typegrad::cli::train_network<__VA_ARGS__, Engines>(o, r);                                   \
    }
// part 2: the table, its training entry from part 1
#define TYPEGRAD_DEFINE_TABLE_PART(Engines, ...) \
    TYPEGRAD_PLUGIN_CHECKPOINTS(, __VA_ARGS__);                                                            \
    TYPEGRAD_PLUGIN_TRAIN_DECLARATION;                                                                     \
    extern "C" const typegrad::cli::PluginApi* typegrad_plugin() {                                         \
        return typegrad::cli::plugin_api<__VA_ARGS__, typegrad::cli::Entries::all, Engines,                \
                                         &typegrad_plugin_train>();                                        \
    }
// the whole plugin in one unit
#define TYPEGRAD_DEFINE_TABLE(Engines, ...) \
    extern "C" const typegrad::cli::PluginApi* typegrad_plugin() {                                         \
        return typegrad::cli::plugin_api<__VA_ARGS__, typegrad::cli::Entries::all, Engines>();             \
    }
#define TYPEGRAD_DEFINE_CHECK_PLUGIN(...) \
    extern "C" const typegrad::cli::PluginApi* typegrad_plugin() {                                         \
        return typegrad::cli::plugin_api<__VA_ARGS__, typegrad::cli::Entries::checking>();                 \
    }
#define TYPEGRAD_DEFINE_DEFAULT_ENGINE_PLUGIN(...) TYPEGRAD_DEFINE_TABLE(typegrad::cli::default_engines, __VA_ARGS__)
#define TYPEGRAD_DEFINE_PLUGIN(...) TYPEGRAD_DEFINE_TABLE(typegrad::cli::engines, __VA_ARGS__)
#endif
