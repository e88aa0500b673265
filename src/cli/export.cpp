// `typegrad export` (export.hpp).
#include "export.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "checkpoints.hpp"
#include "menu.hpp"
#include "options.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/io/export.hpp"
#include "typegrad/train/sgd.hpp"

namespace typegrad::cli {
namespace {

template <class M>
int export_network(const ExportOptions& o, const io::CheckpointImage& image) {
    M net;
    try {
        io::restore_checkpoint(image, net, o.model.string());
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--model ", e.what()));
    }
    if (!train::parameters_finite(net)) throw RunError(cat("--model ", o.model.string(), ": ", non_finite_parameters));
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
    if (ext == ".onnx") throw UsageError(cat("-o: '", o.output.string(), "': ONNX export is not implemented yet; use .npz"));
    if (ext != ".npz") throw UsageError(cat("-o: '", o.output.string(), "' must end in .npz"));
    io::CheckpointImage image;
    try {
        image = io::read_checkpoint_file(o.model);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--model ", e.what()));
    }
    int rc = -1;
    if (export_menu(o, image, rc, networks<float>{}) || export_menu(o, image, rc, networks<double>{})) return rc;
    throw RunError(cat("--model ", o.model.string(), ": holds a ", describe_checkpoint(image.header),
                       ", not one of the compiled-in networks: ", join(shape_names_of(networks<float>{})),
                       " (float or double)"));
}

}  // namespace typegrad::cli
