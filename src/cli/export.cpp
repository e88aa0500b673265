// `typegrad export` (export.hpp).
#include "export.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "checkpoints.hpp"
#include "menu.hpp"
#include "options.hpp"
#include "report.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/io/export.hpp"
#include "typegrad/io/onnx.hpp"
#if TYPEGRAD_HAVE_ONNX
#include "../io/onnx_writer.hpp"
#endif

namespace typegrad::cli {
namespace {

#if TYPEGRAD_HAVE_ONNX
constexpr bool have_onnx = true;
#else
constexpr bool have_onnx = false;
#endif

template <class M>
int export_onnx(const ExportOptions& o, const M& net) {
    io::OnnxGraph g;
    try {
        g = io::onnx_graph(net);
    } catch (const std::invalid_argument& e) {
        throw RunError(cat("--model ", o.model.string(), ": ", e.what()));
    }
#if TYPEGRAD_HAVE_ONNX
    try {
        io::write_onnx(o.output, g, TYPEGRAD_VERSION);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat("-o ", e.what()));
    }
#endif
    std::string input = "batch";
    for (const auto d : g.input_shape) input += cat(", ", d);
    std::printf("typegrad export: %s (%s) -> %s: ONNX opset %d, %zu nodes, %zu initializers; input \"%s\" [%s], "
                "output \"%s\" (the network's output activation)\n",
                o.model.c_str(), network_description<M>().c_str(), o.output.c_str(), static_cast<int>(io::onnx_opset),
                g.nodes.size(), g.initializers.size(), io::onnx_input, input.c_str(), io::onnx_output);
    return exit_ok;
}

template <class M>
int export_network(const ExportOptions& o, const io::CheckpointImage& image) {
    M net;
    restore_model(image, net, o.model);
    if (o.output.extension() == ".onnx") return export_onnx(o, net);
    std::vector<io::NpyArray> arrays;
    try {
        arrays = io::torch_arrays(net);
    } catch (const std::invalid_argument& e) {
        throw RunError(cat("--model ", o.model.string(), ": ", e.what()));
    }
    try {
        io::write_npz(o.output, arrays);
    } catch (const io::CheckpointError& e) {
        throw OutputError(cat("-o ", e.what()));
    }
    std::printf("typegrad export: %s (%s) -> %s: %zu arrays, PyTorch's layout (load with scripts/npz_to_torch.py)\n",
                o.model.c_str(), network_description<M>().c_str(), o.output.c_str(), arrays.size());
    return exit_ok;
}

template <class... Ms>
bool export_menu(const ExportOptions& o, const io::CheckpointImage& image, int& rc, type_list<Ms...>) {
    return ((io::holds<Ms>(image.header) ? (rc = export_network<Ms>(o, image), true) : false) || ...);
}

}  // namespace

int run_export(const ExportOptions& o) {
    const std::string ext = o.output.extension().string();
    if (ext != ".npz" && ext != ".onnx") throw UsageError(cat("-o: '", o.output.string(), "' must end in .npz or .onnx"));
    if (ext == ".onnx" && !have_onnx)
        throw RunError(cat("-o ", o.output.string(), ": this build of typegrad has no ONNX support: install Debian's "
                           "libonnx-dev and libprotobuf-dev, configure again and rebuild (or export to .npz)"));
    check_writable(o.output, cat("-o ", o.output.string()));  // a missing directory: said so, before any work
    const io::CheckpointImage image = read_model_file(o.model);
    int rc = -1;
    if (export_menu(o, image, rc, networks<float>{}) || export_menu(o, image, rc, networks<double>{})) return rc;
    throw not_on_the_menu(o.model, image.header);
}

}  // namespace typegrad::cli
