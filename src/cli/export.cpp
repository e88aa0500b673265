// `typegrad export` (export.hpp).
#include "export.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "export_network.hpp"
#include "jit.hpp"
#include "report.hpp"

namespace typegrad::cli {

int run_export(const ExportOptions& o) {
    const std::string ext = o.output.extension().string();
    if (ext != ".npz" && ext != ".onnx") throw UsageError(cat("-o: '", o.output.string(), "' must end in .npz or .onnx"));
    if (ext == ".onnx" && !have_onnx)
        throw RunError(cat("-o ", o.output.string(), ": this build of typegrad has no ONNX support: install Debian's "
                           "libonnx-dev and libprotobuf-dev, configure again and rebuild (or export to .npz)"));
    check_writable(o.output, cat("-o ", o.output.string()));  // a missing directory: said so, before any work
    const io::CheckpointImage image = read_model_file(o.model);
    return with_model_network(
        image, o.model, [&]<class M>() { return export_network<M>(o, image); },
        [&](const PluginApi& n) { return n.export_network(o, image); });
}

}  // namespace typegrad::cli
