// `typegrad train`: the compiled-in menus of network shapes and gradient engines, and the
// training run. Every template instantiation lives in train.cpp.
#pragma once

#include <string>
#include <vector>

#include "options.hpp"

namespace typegrad::cli {

/// The compiled-in network shapes ("784-30-10", ...), in menu order.
[[nodiscard]] const std::vector<std::string>& network_names();

/// The gradient engines ("reference", ...), in menu order.
[[nodiscard]] const std::vector<std::string>& engine_names();

/// Loads the data, checks it against the network, trains and reports. Returns the exit code;
/// throws UsageError, OutputError, data::DataError (or another std::exception) on failure.
int run_train(const TrainOptions& options);

}  // namespace typegrad::cli
