// What the options of `typegrad train` make before a run starts: the optimizer, the initialisation,
// the data (held-out validation set included), the --resume checkpoint, and the checks that batch
// norm's options need. Not templates over the network, except for whole_batch_of.
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
inline init::Scheme init_scheme(const std::string& name) {
    if (name == "normal") return init::Scheme::article;
    if (name == "network2") return init::Scheme::network2;
    if (name == "glorot") return init::Scheme::glorot;
    if (name == "he") return init::Scheme::he;
    if (name == "pytorch") return init::Scheme::pytorch;
    return init::Scheme::automatic;
}

/// --optimizer with --momentum.
inline train::AnyOptimizer make_optimizer(const TrainOptions& o) {
    if (o.optimizer == "adam") return train::Adam{};
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") {
        train::Momentum m;
        m.mu = o.momentum;
        m.nesterov = o.optimizer == "nesterov";
        return m;
    }
    return train::Sgd{};
}

/// ", nesterov 0.9, lambda 5, init network2": what differs from the article's SGD, for the
/// header (and, without the initialisation, for the training note).
inline std::string optimizer_text(const TrainOptions& o, bool with_init) {
    std::string s;
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") s += cat(", ", o.optimizer, " ", format_real(o.momentum));
    else if (o.optimizer != "sgd") s += cat(", ", o.optimizer);
    if (o.lambda != 0) s += cat(", lambda ", format_real(o.lambda));
    if (with_init && o.init != "default") s += cat(", init ", o.init);
    return s;
}

/// The data of a run, loaded, cut to --limit/--test-limit, the last --validation examples of
/// the training set held out, and checked against the network. A text without --test holds its
/// last --validation windows out as its test set instead.
inline LoadedData prepare(const TrainOptions& o, std::size_t n_in, std::size_t n_out, data::Dataset& validation) {
    LoadedData p = load_data({o.data_dir, o.data_from_environment, o.seed, o.test_file, o.target, o.target_given, o.text,
                              o.vocabulary.empty() ? nullptr : &o.vocabulary, o.validation},
                             o.limit, o.test_limit, n_in, n_out, true);
    if (o.text && !o.test_file) {  // the last --validation windows of the text are its test set
        if (o.validation >= p.split.train.size())
            throw UsageError(cat("--validation: ", std::to_string(o.validation), " held-out windows leave none of the ",
                                 std::to_string(p.split.train.size()), " windows of ", o.data_dir->string(), " to train on"));
        p.split.test = p.split.train.tail(o.validation);
        p.split.train = p.split.train.head(p.split.train.size() - o.validation);
    } else if (o.validation > 0) {
        if (o.validation >= p.split.train.size())
            throw UsageError(cat("--validation: ", std::to_string(o.validation), " held-out examples leave none of the ",
                                 std::to_string(p.split.train.size()), " training examples to train on"));
        validation = p.split.train.tail(o.validation);
        p.split.train = p.split.train.head(p.split.train.size() - o.validation);
    }
    if (o.batch > p.split.train.size())
        throw UsageError(cat("--batch: ", std::to_string(o.batch), " is larger than the number of training examples (",
                             std::to_string(p.split.train.size()), ")"));
    return p;
}

/// The --resume checkpoint, parsed; errors name the option.
inline io::CheckpointImage read_resume(const std::filesystem::path& file) {
    try {
        return io::read_checkpoint_file(file);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--resume ", e.what()));
    }
}

/// The batch size an engine trains a network with batch norm with (0: it cannot).
template <class E>
constexpr std::size_t whole_batch_of() {
    if constexpr (requires { E::whole_batch; }) return E::whole_batch;
    else return 0;
}

/// A network with batch norm normalises over the whole mini-batch, which one process and one
/// thread run as one program of --batch examples (compiled for that size: `whole`).
inline void check_batch_norm_options(const TrainOptions& o, std::size_t whole) {
    const std::string why = "batch norm normalises over the whole mini-batch";
    if (whole == 0)
        throw UsageError(cat("--grad ", o.grad, ": the engine computes the gradient one example at a time, and ", why,
                             " (use --grad autodiff)"));
    if (o.batch < 2) throw UsageError(cat("--batch ", o.batch, ": ", why, ", which needs at least 2 examples"));
    if (o.batch != whole)
        throw RunError(cat("--batch ", o.batch, ": this network was compiled for batches of ", whole,
                           " (batch norm's mini-batch is one program of that size)"));
    if (o.threads > 1) throw UsageError(cat("--threads ", o.threads, ": ", why, ", which one thread computes (use --threads 1)"));
    if (processes().size() > 1)
        throw UsageError(cat("mpirun -np ", processes().size(), ": ", why,
                             ", which one process computes; each process would normalise its own share"));
}

/// The η of --optimizer when --eta is not given, from the network's SGD default `sgd_eta`: Adam's
/// 1e-3 (PyTorch's and Keras' default); momentum and Nesterov sgd_eta · (1 − μ), whose steps once
/// the velocity has built up (η/(1 − μ)) are SGD's; SGD sgd_eta.
inline double optimizer_eta(const TrainOptions& o, double sgd_eta) {
    if (o.optimizer == "adam") return 1e-3;
    if (o.optimizer == "momentum" || o.optimizer == "nesterov") return sgd_eta * (1.0 - o.momentum);
    return sgd_eta;
}

}  // namespace typegrad::cli
