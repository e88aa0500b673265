// `typegrad export`: a checkpoint's network for other frameworks.
#pragma once

#include <filesystem>

namespace typegrad::cli {

struct ExportOptions {
    std::filesystem::path model;   // --model: the checkpoint
    std::filesystem::path output;  // -o: OUT.npz
};

/// Loads the checkpoint (whichever menu network, float or double, it holds) and writes OUT.npz
/// (io/export.hpp: the parameters in PyTorch's layout and names, the architecture as JSON).
/// Throws UsageError (another suffix), RunError (an unusable checkpoint), OutputError.
int run_export(const ExportOptions& o);

}  // namespace typegrad::cli
