// `typegrad predict`: the class of 28×28 grayscale images, by a saved network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace typegrad::cli {

struct PredictOptions {
    std::filesystem::path model;               // --model: the checkpoint
    std::vector<std::filesystem::path> images;  // PGM or PNG files
    bool invert = false;                        // --invert: 255 − b, for dark digits on a light ground
};

/// `typegrad generate`: a text network's continuation of a prompt.
struct GenerateOptions {
    std::filesystem::path model;  // --model: the checkpoint of a network that reads text (seqT)
    std::string prompt;           // --prompt TEXT (UTF-8, every character in the model's vocabulary)
    std::size_t tokens = 100;     // --tokens N: characters to generate
    double temperature = 1.0;     // --temperature: 0 greedy (deterministic), else p^(1/T) sampled
    std::uint64_t seed = 42;      // --seed of the sampling
};

/// Loads the checkpoint, then generates o.tokens characters one at a time: the network reads the
/// last T characters so far (fewer at the start: the rest of its window is padding, which the
/// causal mask keeps from the positions before it), and the next character is the most likely
/// one at the last position (temperature 0) or drawn from its probabilities raised to
/// 1/temperature. Prints the continuation (control characters but newline and tab escaped) and a
/// newline. UsageError for a prompt with a character outside the vocabulary; RunError naming the
/// checkpoint for one whose network reads no text.
int run_generate(const GenerateOptions& o);

/// Loads the checkpoint (whichever menu network, float or double, it holds; its input must be
/// 784 or 1×28×28), reads every image (image.hpp) and only then prints, per image, its file, the
/// predicted class and the network's outputs. The first bad image stops the run before anything
/// is printed. Throws RunError naming the checkpoint or the image.
int run_predict(const PredictOptions& o);

}  // namespace typegrad::cli
