// What the options of `typegrad train` make before a run starts: the optimizer, the initialisation,
// the data (held-out validation set included), the --resume checkpoint, and the checks that batch
// norm's options need. Not templates over the network, except for whole_batch_of: defined in
// run_setup.cpp, compiled once in the typegrad executable instead of in every network's plugin.
#pragma once

#include <charconv>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>

#include "data.hpp"
#include "distributed.hpp"
#include "options.hpp"
#include "text.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/optimizer.hpp"

namespace typegrad::cli {

/// The shortest text that reads back as the same double: 3, 0.1, 1e+40.
inline std::string format_real(double v) {
    char text[64];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, v);
    return ec == std::errc{} ? std::string(text, end) : std::string();
}

/// --init as a scheme ("default": the network's own, init::Scheme::automatic).
init::Scheme init_scheme(const std::string& name);

/// --optimizer with --momentum.
train::AnyOptimizer make_optimizer(const TrainOptions& o);

/// ", nesterov 0.9, lambda 5, init network2": what differs from the article's SGD, for the
/// header (and, without the initialisation, for the training note).
std::string optimizer_text(const TrainOptions& o, bool with_init);

/// The data of a run, loaded, cut to --limit/--test-limit, the last --validation examples of
/// the training set held out, and checked against the network. A text without --test holds its
/// last --validation windows out as its test set instead.
LoadedData prepare(const TrainOptions& o, std::size_t n_in, std::size_t n_out, data::Dataset& validation);

/// The --resume checkpoint, parsed; errors name the option.
io::CheckpointImage read_resume(const std::filesystem::path& file);

/// The batch size an engine trains a network with batch norm with (0: it cannot).
template <class E>
constexpr std::size_t whole_batch_of() {
    if constexpr (requires { E::whole_batch; }) return E::whole_batch;
    else return 0;
}

/// A network with batch norm normalises over the whole mini-batch, which one process and one
/// thread run as one program of --batch examples (compiled for that size: `whole`).
void check_batch_norm_options(const TrainOptions& o, std::size_t whole);

/// The η of --optimizer when --eta is not given, from the network's SGD default `sgd_eta`: Adam's
/// 1e-3 (PyTorch's and Keras' default); momentum and Nesterov sgd_eta · (1 − μ), whose steps once
/// the velocity has built up (η/(1 − μ)) are SGD's; SGD sgd_eta.
double optimizer_eta(const TrainOptions& o, double sgd_eta);

}  // namespace typegrad::cli
