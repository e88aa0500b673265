// What a trainer carries between epochs besides the model: saved in checkpoints.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "typegrad/util/random.hpp"

namespace typegrad::train {

/// Everything besides the parameters that decides how training continues: the epochs done, the
/// shuffling generator and the optimizer's state. Saved in checkpoints, so that a resumed run is
/// bit-identical.
struct TrainerState {
    std::size_t epochs_done = 0;
    Rng::State rng = Rng(0).state();             // a valid generator (an all-zero state never changes)
    std::string optimizer = "sgd";               // Optimizer::name
    std::vector<unsigned char> optimizer_state;  // Optimizer::state()
};

}  // namespace typegrad::train
