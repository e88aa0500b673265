// `typegrad predict`: the class of 28×28 grayscale images, by a saved network.
#pragma once

#include <filesystem>
#include <vector>

namespace typegrad::cli {

struct PredictOptions {
    std::filesystem::path model;               // --model: the checkpoint
    std::vector<std::filesystem::path> images;  // PGM or PNG files
    bool invert = false;                        // --invert: 255 − b, for dark digits on a light ground
};

/// Loads the checkpoint (whichever menu network, float or double, it holds; its input must be
/// 784 or 1×28×28), reads every image (image.hpp) and only then prints, per image, its file, the
/// predicted class and the network's outputs. The first bad image stops the run before anything
/// is printed. Throws RunError naming the checkpoint or the image.
int run_predict(const PredictOptions& o);

}  // namespace typegrad::cli
