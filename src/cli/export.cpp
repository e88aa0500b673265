// `typegrad export` (export.hpp).
#include "export.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "export_network.hpp"
#include "jit.hpp"
#include "report.hpp"

namespace typegrad::cli {
namespace {

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
    // not in the menu: compiled on first use
    return load_network(checkpoint_request(image.header, cat("--model ", o.model.string()))).export_network(o, image);
}

}  // namespace typegrad::cli
