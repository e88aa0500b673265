// `typegrad eval`.
#include "eval.hpp"

#include <string>

#include "checkpoints.hpp"
#include "compiled_in.hpp"

namespace typegrad::cli {

int run_eval(const EvalOptions& o) {
    const io::CheckpointImage image = read_model_file(o.model);
    return network_of_checkpoint(image, cat("--model ", o.model.string())).eval(o, image);
}

}  // namespace typegrad::cli
