// `typegrad export`: a checkpoint's network for other frameworks.
#pragma once

#include <filesystem>

namespace typegrad::cli {

/// Whether this build writes ONNX (Debian's libonnx-dev and libprotobuf-dev were found).
#if TYPEGRAD_HAVE_ONNX
inline constexpr bool have_onnx = true;
#else
inline constexpr bool have_onnx = false;
#endif

struct ExportOptions {
    std::filesystem::path model;   // --model: the checkpoint
    std::filesystem::path output;  // -o: OUT.npz or OUT.onnx
    std::filesystem::path target;  // the file written: -o with symbolic links followed (run_export's OutputFile)
};

/// Loads the checkpoint (whichever menu network, float or double, it holds) and writes OUT.npz
/// (io/export.hpp: the parameters in PyTorch's layout and names, the architecture as JSON) or
/// OUT.onnx (io/onnx.hpp, written by src/io/onnx.cpp when the build has ONNX support). OUT
/// follows the rules of every output (outputs.hpp): checked and locked before the checkpoint is
/// read, written through a link, never a device, a FIFO or the --model checkpoint itself.
/// Throws UsageError (another suffix), RunError (an unusable checkpoint, no ONNX support in this
/// build), OutputError.
int run_export(const ExportOptions& o);

/// "0.1.0": typegrad's version, as the ONNX files it writes name their producer. A function of
/// the executable, so that a network compiled on first use names the typegrad that loads it and
/// its source needs no macro before its first, precompiled, header (plugin_prelude.hpp).
[[nodiscard]] const char* typegrad_version() noexcept;

}  // namespace typegrad::cli
