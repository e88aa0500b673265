// LeNet-5's training driver, in its own translation unit (it compiles in parallel with train.cpp).
#include "drive.hpp"

namespace typegrad::cli {

template int train_network<lenet::network<float>>(const TrainOptions&, const io::CheckpointImage*);
template bool network_holds<lenet::network<float>>(const io::CheckpointHeader&);

}  // namespace typegrad::cli
