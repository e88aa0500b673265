// The work of `eval`, `derive` and `gradcheck` on one network type M: templates shared by the
// compiled-in menu (eval.cpp, derive.cpp) and by networks compiled on first use (plugin.hpp).
#pragma once

#include <cstdio>
#include <string>

#include "checkpoints.hpp"
#include "data.hpp"
#include "derive.hpp"
#include "menu.hpp"
#include "options.hpp"
#include "predict_network.hpp"
#include "report.hpp"
#include "text.hpp"
#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/layers/embedding.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/sgd.hpp"
#include "typegrad/util/thread_pool.hpp"

namespace typegrad::cli {

/// `typegrad eval` of a checkpoint holding network M.
template <class M>
int evaluate_network(const EvalOptions& o, const io::CheckpointImage& image) {
    const std::string file = o.model.string();
    M net;
    // As --resume: an accuracy of a diverged network says nothing.
    const train::TrainerState state = restore_model(image, net, o.model);
    constexpr std::size_t V = embedding_vocabulary_v<typename M::composition::template layer_at<0>>;
    std::u32string vocabulary;
    if constexpr (V > 0) vocabulary = checkpoint_vocabulary(image, o.model, V);
    const LoadedData d = load_data({o.data_dir, o.data_from_environment, o.seed, std::nullopt, o.target, o.target_given, V > 0,
                                    V > 0 ? &vocabulary : nullptr},
                                   0, o.test_limit, M::input_width, M::output_width, false);
    const auto& h = image.header;
    // Text from the file (a note could hold terminal escapes) and the file's name are escaped by say().
    say(stdout, "typegrad eval: %s: %s, %s cost, %s, %zu epoch%s trained, %zu test (%s)", file.c_str(),
                network_description<M>().c_str(), io::printable_text(h.cost).c_str(), io::printable_text(h.element_type).c_str(),
                state.epochs_done, state.epochs_done == 1 ? "" : "s", d.split.test.size(), d.description.c_str());
    if (!h.training.empty()) say(stdout, "trained with %s", h.training.c_str());
    train::Scores s;
    if (o.threads > 1) {
        ThreadPool pool(o.threads);
        s = train::ParallelEvaluator<M>(pool).evaluate(net, d.split.test);
    } else {
        s = train::evaluate(net, d.split.test);
    }
    if (d.split.test.is_text())
        std::printf("test loss %.4f nats/token  accuracy %.4f (%zu/%zu tokens)  (%zu windows of %zu)\n", s.mean_loss(),
                    s.accuracy(), s.correct, s.count * s.positions, s.count, s.positions);
    else if (d.split.test.task == data::Task::regression)
        std::printf("test mse %.6g  mae %.6g  cost %.6g (%zu examples)\n", s.mse(), s.mae(), s.mean_loss(), s.count);
    else
        std::printf("test accuracy %.4f (%zu/%zu)  cost %.4f\n", s.accuracy(), s.correct, s.count, s.mean_loss());
    (void)flush_stdout();
    return exit_ok;
}

/// `typegrad derive` of network M.
template <class M>
int derive_network() {
    std::printf("typegrad derive: %s, %s cost; derived from the network's type\n", network_description<M>().c_str(),
                std::string(M::cost_type::name).c_str());
    for (const auto& line : autodiff::derivation<M>()) std::printf("%s\n", line.c_str());
    return exit_ok;
}

// The thresholds gradcheck reports against: autodiff and reference run the same kernels in the
// same order, so they agree to rounding; central differences with h = 1e-6 in double are good
// to about 1e-9 relative.
inline constexpr double gradcheck_ad_vs_ref_limit = 1e-12;
inline constexpr double gradcheck_fd_limit = 1e-6;

/// `typegrad gradcheck` of network M (in double).
template <class M>
int gradcheck_network(const GradcheckOptions& o) {
    M net{o.seed};
    // a realistic input: a synthetic digit, and its one-hot label as the target; for a network that
    // reads text, random tokens and the next token at every position
    constexpr std::size_t V = embedding_vocabulary_v<typename M::composition::template layer_at<0>>;
    const auto digits = data::synthetic_digits(1, o.seed);
    typename M::input_type x;
    typename M::output_type y;
    y.fill(0.0);
    std::string input;
    if constexpr (V > 0 && M::output_width == M::input_width * V) {
        Rng rng(o.seed);
        std::size_t next = static_cast<std::size_t>(rng.below(V));
        for (std::size_t t = 0; t < M::input_width; ++t) {
            x.data()[t] = static_cast<double>(next);
            next = static_cast<std::size_t>(rng.below(V));
            y.data()[t * V + next] = 1.0;
        }
        input = cat(M::input_width + 1, " random tokens of ", V, " as input and targets");
    } else {
        for (std::size_t i = 0; i < M::input_width; ++i) x.data()[i] = digits.pixel(0, i % 784);
        y[digits.labels[0] % M::output_width] = 1.0;
        input = cat("a synthetic digit ", int(digits.labels[0]), " as input");
    }
    const auto r = gradcheck(net, x, y, {.step = o.step, .samples_per_tensor = o.samples});
    std::printf("typegrad gradcheck: %s, double, seed %llu, %s, h = %g, %zu of %zu parameters by central differences\n",
                o.net.c_str(), static_cast<unsigned long long>(o.seed), input.c_str(), o.step, r.fd_entries,
                M::parameter_count);
    std::printf("J = %.10g\n", r.cost);
    std::printf("max relative error, ‖a − b‖∞ / max(‖a‖∞, ‖b‖∞) per tensor:\n");
    if (r.reference)
        std::printf("  autodiff vs reference             %.3e  (limit %.0e)\n", r.autodiff_vs_reference, gradcheck_ad_vs_ref_limit);
    else
        std::printf("  autodiff vs reference             none: a layer has no hand-written rule (reference::rule), so autodiff "
                    "is checked against finite differences only\n");
    std::printf("  autodiff vs finite differences    %.3e  (limit %.0e)\n", r.autodiff_vs_fd, gradcheck_fd_limit);
    if (r.reference)
        std::printf("  reference vs finite differences   %.3e  (limit %.0e)\n", r.reference_vs_fd, gradcheck_fd_limit);
    if (r.activation_points > 0)
        std::printf("  activations: f' vs differences of f  %.3e  (limit %.0e, at %zu points of [-4, 4])\n", r.activations_vs_fd,
                    gradcheck_fd_limit, r.activation_points);
    const bool ok = (!r.reference || (r.autodiff_vs_reference <= gradcheck_ad_vs_ref_limit && r.reference_vs_fd <= gradcheck_fd_limit)) &&
                    r.autodiff_vs_fd <= gradcheck_fd_limit && r.activations_vs_fd <= gradcheck_fd_limit;
    std::printf("%s\n", ok ? "gradients agree" : "GRADIENTS DISAGREE");
    return ok ? exit_ok : exit_failure;
}

}  // namespace typegrad::cli
