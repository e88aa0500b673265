// `typegrad eval`.
#include "eval.hpp"

#include <string>

#include "commands.hpp"
#include "jit.hpp"

namespace typegrad::cli {
namespace {

/// Calls evaluate_network<M> for the menu network M in element type T that the checkpoint holds.
template <class T, class... Ms>
bool evaluate_menu(const EvalOptions& o, const io::CheckpointImage& image, int& rc, type_list<Ms...>) {
    return ((io::holds<Ms>(image.header) ? (rc = evaluate_network<Ms>(o, image), true) : false) || ...);
}

}  // namespace

int run_eval(const EvalOptions& o) {
    io::CheckpointImage image;
    try {
        image = io::read_checkpoint_file(o.model);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--model ", e.what()));
    }
    int rc = -1;
    if (evaluate_menu<float>(o, image, rc, networks<float>{}) || evaluate_menu<double>(o, image, rc, networks<double>{}))
        return rc;
    // not in the menu: compiled on first use
    return load_network(checkpoint_request(image.header, cat("--model ", o.model.string()))).eval(o, image);
}

}  // namespace typegrad::cli
