// `typegrad predict` (predict.hpp).
#include "predict.hpp"

#include <string>

#include "checkpoints.hpp"
#include "compiled_in.hpp"

namespace typegrad::cli {

int run_predict(const PredictOptions& o) {
    const io::CheckpointImage image = read_model_file(o.model);
    return network_of_checkpoint(image, cat("--model ", o.model.string())).predict(o, image);
}

int run_generate(const GenerateOptions& o) {
    const io::CheckpointImage image = read_model_file(o.model);
    return network_of_checkpoint(image, cat("--model ", o.model.string())).generate(o, image);
}

}  // namespace typegrad::cli
