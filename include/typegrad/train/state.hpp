// What a trainer carries between epochs besides the model: saved in checkpoints.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "typegrad/train/monitor.hpp"
#include "typegrad/util/random.hpp"

namespace typegrad::train {

/// Everything besides the parameters that decides how training continues: the epochs done, the
/// shuffling generator, the optimizer's state and what the validation monitor knows (the best
/// validation accuracy and its epoch, the epochs without improvement, the halvings of η). Saved
/// in checkpoints, so that a resumed run is bit-identical and stops where an uninterrupted one
/// stops.
struct TrainerState {
    std::size_t epochs_done = 0;
    Rng::State rng = Rng(0).state();             // a valid generator (an all-zero state never changes)
    std::string optimizer = "sgd";               // Optimizer::name
    std::vector<unsigned char> optimizer_state;  // Optimizer::state()
    MonitorState monitor;                        // see monitor.hpp
    double eta = 0.0;  // the learning rate of the next epoch (informative: it follows from the options and monitor.halvings)
};

}  // namespace typegrad::train
