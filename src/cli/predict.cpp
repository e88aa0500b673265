// `typegrad predict` (predict.hpp).
#include "predict.hpp"

#include <string>

#include "jit.hpp"
#include "predict_network.hpp"

namespace typegrad::cli {
namespace {

template <class... Ms>
bool predict_menu(const PredictOptions& o, const io::CheckpointImage& image, int& rc, type_list<Ms...>) {
    return ((io::holds<Ms>(image.header) ? (rc = predict_network<Ms>(o, image), true) : false) || ...);
}

}  // namespace

int run_predict(const PredictOptions& o) {
    const io::CheckpointImage image = read_model_file(o.model);
    int rc = -1;
    if (predict_menu(o, image, rc, networks<float>{}) || predict_menu(o, image, rc, networks<double>{})) return rc;
    // not in the menu: compiled on first use
    return load_network(checkpoint_request(image.header, cat("--model ", o.model.string()))).predict(o, image);
}

}  // namespace typegrad::cli
