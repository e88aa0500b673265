// `typegrad eval`.
#include "eval.hpp"

#include <string>

#include "commands.hpp"
#include "jit.hpp"

namespace typegrad::cli {

int run_eval(const EvalOptions& o) {
    const io::CheckpointImage image = read_model_file(o.model);
    return with_model_network(
        image, o.model, [&]<class M>() { return evaluate_network<M>(o, image); },
        [&](const PluginApi& n) { return n.eval(o, image); });
}

}  // namespace typegrad::cli
