// `typegrad export` of one network type M: shared by the compiled-in menu (export.cpp) and by
// networks compiled on first use (plugin.hpp). TYPEGRAD_HAVE_ONNX says whether this build writes
// ONNX (the compile of a network on first use gets the same definition).
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "checkpoints.hpp"
#include "export.hpp"
#include "menu.hpp"
#include "options.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/io/export.hpp"
#include "typegrad/io/onnx.hpp"
#if TYPEGRAD_HAVE_ONNX
#include "../io/onnx_writer.hpp"
#endif

namespace typegrad::cli {

/// Writes net as FILE.onnx (o.target: run_export has checked and locked it).
template <class M>
int export_onnx(const ExportOptions& o, const M& net) {
    io::OnnxGraph g;
    try {
        g = io::onnx_graph(net);
    } catch (const std::invalid_argument& e) {
        throw RunError(cat("--model ", io::printable_text(o.model.string()), ": ", e.what()));
    }
#if TYPEGRAD_HAVE_ONNX
    try {
        io::write_onnx(o.target, g, typegrad_version());
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat("-o ", io::printable_text(e.what())));
    }
#endif
    std::string input = "batch";
    for (const auto d : g.input_shape) input += cat(", ", d);
    std::printf("typegrad export: %s (%s) -> %s: ONNX opset %d, %zu nodes, %zu initializers; input \"%s\" [%s], "
                "output \"%s\" (the network's output activation)\n",
                io::printable_text(o.model.string()).c_str(), network_description<M>().c_str(),
                io::printable_text(o.output.string()).c_str(), static_cast<int>(io::onnx_opset),
                g.nodes.size(), g.initializers.size(), io::onnx_input, input.c_str(), io::onnx_output);
    return exit_ok;
}

/// `typegrad export` of a checkpoint holding network M, to .npz or .onnx by -o's suffix, written
/// to o.target (run_export has checked and locked it).
template <class M>
int export_network(const ExportOptions& o, const io::CheckpointImage& image) {
    M net;
    restore_model(image, net, o.model);
    if (o.output.extension() == ".onnx") return export_onnx(o, net);
    std::vector<io::NpyArray> arrays;
    try {
        arrays = io::torch_arrays(net);
    } catch (const std::invalid_argument& e) {
        throw RunError(cat("--model ", io::printable_text(o.model.string()), ": ", e.what()));
    }
    try {
        io::write_npz(o.target, arrays);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat("-o ", io::printable_text(e.what())));
    }
    std::printf("typegrad export: %s (%s) -> %s: %zu arrays, PyTorch's layout (load with scripts/npz_to_torch.py)\n",
                io::printable_text(o.model.string()).c_str(), network_description<M>().c_str(),
                io::printable_text(o.output.string()).c_str(), arrays.size());
    return exit_ok;
}

}  // namespace typegrad::cli
