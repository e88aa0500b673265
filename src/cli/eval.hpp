// `typegrad eval`: the test accuracy of a saved checkpoint.
#pragma once

#include "options.hpp"

namespace typegrad::cli {

/// Loads the checkpoint (its network is whichever menu network, float or double, it holds),
/// loads the test data and prints "test accuracy 0.XXXX (correct/tested)". Returns the exit
/// code; throws RunError, data::DataError (or another std::exception) on failure.
int run_eval(const EvalOptions& options);

}  // namespace typegrad::cli
