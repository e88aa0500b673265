// `typegrad predict` (predict.hpp).
#include "predict.hpp"

#include <string>

#include "jit.hpp"
#include "predict_network.hpp"

namespace typegrad::cli {

int run_predict(const PredictOptions& o) {
    const io::CheckpointImage image = read_model_file(o.model);
    return with_model_network(
        image, o.model, [&]<class M>() { return predict_network<M>(o, image); },
        [&](const PluginApi& n) { return n.predict(o, image); });
}

}  // namespace typegrad::cli
