// Evaluation: the predicted class, the cost and the errors of every example of a dataset, through
// the forward sweep of the model's expression, Chunk examples at a time (one workspace, kept). It
// runs the very programs the autodiff engine differentiates (forward sweep only), so a
// training translation unit instantiates two programs, not four: compile time is a feature.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "typegrad/ad/program.hpp"
#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/nn/expression.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/example.hpp"

namespace typegrad::train {

/// What a model makes of a set of examples: its summed cost, the examples it classified
/// correctly (classification), and the summed squared and absolute errors of its outputs
/// against the targets (over every output of every example, as scikit-learn's and
/// torch.nn.MSELoss's means: mse() = squared_error / (count × width)).
///
/// A text window makes `positions` predictions (one per position), and its cost is their sum: its
/// accuracy is then the fraction of positions predicted right, its mean loss per position (nats
/// per token for softmax with log-likelihood).
struct Scores {
    std::size_t count = 0;   // examples
    std::size_t width = 0;   // outputs per example
    std::size_t positions = 1;  // predictions per example
    std::size_t correct = 0;
    double loss = 0.0;
    double squared_error = 0.0;
    double absolute_error = 0.0;

    [[nodiscard]] double accuracy() const noexcept { return count ? double(correct) / double(count * positions) : 0.0; }
    [[nodiscard]] double mean_loss() const noexcept { return count ? loss / double(count * positions) : 0.0; }
    [[nodiscard]] double mse() const noexcept { return count ? squared_error / double(count * width) : 0.0; }
    [[nodiscard]] double mae() const noexcept { return count ? absolute_error / double(count * width) : 0.0; }
    Scores& operator+=(const Scores& o) noexcept {
        count += o.count;
        width = o.width ? o.width : width;
        positions = o.count ? o.positions : positions;
        correct += o.correct;
        loss += o.loss;
        squared_error += o.squared_error;
        absolute_error += o.absolute_error;
        return *this;
    }
};

/// Predictions of a model, Chunk examples per forward sweep; the workspace is made once.
template <AnyModel M, std::size_t Chunk = 10>
class Evaluator {
public:
    using T = typename M::value_type;
    static constexpr std::size_t chunk = Chunk;

    /// Number of examples of d whose predicted class equals the label.
    std::size_t count_correct(const M& net, const data::Dataset& d) { return evaluate(net, d).correct; }
    /// The same over examples [first, last) of d.
    std::size_t count_correct(const M& net, const data::Dataset& d, std::size_t first, std::size_t last) {
        return evaluate(net, d, first, last).correct;
    }

    /// The scores of d.
    Scores evaluate(const M& net, const data::Dataset& d) { return evaluate(net, d, 0, d.size()); }

    /// The scores of examples [first, last) of d (last ≤ d.size()): Chunk at a time from first,
    /// the rest one at a time. The cost is that of the forward sweep against the targets.
    Scores evaluate(const M& net, const data::Dataset& d, std::size_t first, std::size_t last);

private:
    template <std::size_t B, class P>
    const T* run(P& p, const M& net, Scores& s) noexcept {
        using E = ModelExpression<M, B>;
        p.bind_all(ad::bind(typename E::x{}, x_.data()), ad::bind(typename E::y{}, y_.data()));
        bind_parameters<E>(p, net);
        s.loss += static_cast<double>(p.forward());
        return p.template value<typename E::output>();
    }

    static void tally(const data::Dataset& d, std::size_t i, const T* out, const T* y, Scores& s) noexcept {
        ++s.count;
        s.correct += predicts<M::output_width>(d, i, out);
        for (std::size_t k = 0; k < M::output_width; ++k) {
            const double e = static_cast<double>(out[k]) - static_cast<double>(y[k]);
            s.squared_error += e * e;
            s.absolute_error += std::abs(e);
        }
    }

    std::unique_ptr<autodiff::Workspace<M, 1>> one_ = std::make_unique<autodiff::Workspace<M, 1>>();
    std::unique_ptr<autodiff::Workspace<M, Chunk>> chunk_ = std::make_unique<autodiff::Workspace<M, Chunk>>();
    std::vector<T> x_ = std::vector<T>(Chunk * M::input_width);
    std::vector<T> y_ = std::vector<T>(Chunk * M::output_width);  // the targets the cost is computed against
};

// Defined out of the class, so not inline: a plugin compiled in two parts instantiates it in one
// part only (the engine's sum, train/engine.hpp, says why).
template <AnyModel M, std::size_t Chunk>
Scores Evaluator<M, Chunk>::evaluate(const M& net, const data::Dataset& d, std::size_t first, std::size_t last) {
    Scores s;
    s.width = M::output_width;
    s.positions = d.positions();
    std::size_t i = first;
    for (; i + Chunk <= last; i += Chunk) {
        for (std::size_t b = 0; b < Chunk; ++b)
            load_example<M>(d, i + b, x_.data() + b * M::input_width, y_.data() + b * M::output_width);
        const T* out = run<Chunk>(chunk_->program, net, s);
        for (std::size_t b = 0; b < Chunk; ++b) tally(d, i + b, out + b * M::output_width, y_.data() + b * M::output_width, s);
    }
    for (; i < last; ++i) {
        load_example<M>(d, i, x_.data(), y_.data());
        tally(d, i, run<1>(one_->program, net, s), y_.data(), s);
    }
    return s;
}

/// Number of examples of d whose predicted class equals the label.
template <AnyModel M>
std::size_t count_correct(const M& net, const data::Dataset& d) {
    auto e = std::make_unique<Evaluator<M>>();
    return e->count_correct(net, d);
}

/// The scores of net on d (one thread).
template <AnyModel M>
Scores evaluate(const M& net, const data::Dataset& d) {
    auto e = std::make_unique<Evaluator<M>>();
    return e->evaluate(net, d);
}

}  // namespace typegrad::train
