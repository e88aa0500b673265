// `typegrad export` (export.hpp).
#include "export.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "checkpoints.hpp"
#include "compiled_in.hpp"
#include "outputs.hpp"
#include "report.hpp"

namespace typegrad::cli {

int run_export(const ExportOptions& o) {
    const std::string ext = o.output.extension().string();
    const std::string output_name = io::printable_text(o.output.string());
    if (ext != ".npz" && ext != ".onnx") throw UsageError(cat("-o: '", output_name, "' must end in .npz or .onnx"));
    if (ext == ".onnx" && !have_onnx)
        throw RunError(cat("-o ", output_name, ": this build of typegrad has no ONNX support: install Debian's "
                           "libonnx-dev and libprotobuf-dev, configure again and rebuild (or export to .npz)"));
    // before any work, and held until the file is written
    const OutputFile output("-o", o.output, {{o.model, "the --model checkpoint"}});
    ExportOptions to = o;
    to.target = output.target();
    const io::CheckpointImage image = read_model_file(o.model);
    return network_of_checkpoint(image, cat("--model ", o.model.string())).export_network(to, image);
}

const char* typegrad_version() noexcept { return TYPEGRAD_VERSION; }

}  // namespace typegrad::cli
