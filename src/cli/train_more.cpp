// The menu's other MLPs — network2.py's cross-entropy networks and the ReLU classifier — in their
// own translation unit (it compiles in parallel with train.cpp).
#include "drive.hpp"

namespace typegrad::cli {

template int train_network<sigmoid_net<cost::CrossEntropy, 784, 30, 10>::network<float>>(const TrainOptions&,
                                                                                        const io::CheckpointImage*);
template bool network_holds<sigmoid_net<cost::CrossEntropy, 784, 30, 10>::network<float>>(const io::CheckpointHeader&);
template int train_network<sigmoid_net<cost::CrossEntropy, 784, 100, 10>::network<float>>(const TrainOptions&,
                                                                                         const io::CheckpointImage*);
template bool network_holds<sigmoid_net<cost::CrossEntropy, 784, 100, 10>::network<float>>(const io::CheckpointHeader&);
template int train_network<relu_classifier::network<float>>(const TrainOptions&, const io::CheckpointImage*);
template bool network_holds<relu_classifier::network<float>>(const io::CheckpointHeader&);

}  // namespace typegrad::cli
