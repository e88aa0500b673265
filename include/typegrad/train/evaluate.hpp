// Evaluation: the predicted class of every example of a dataset, through the forward sweep of
// the model's expression, Chunk examples at a time (one workspace, kept). It runs the very
// programs the autodiff engine differentiates (forward sweep only, against a zero target), so a
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

/// Predictions of a model, Chunk examples per forward sweep; the workspace is made once.
template <AnyModel M, std::size_t Chunk = 10>
class Evaluator {
public:
    using T = typename M::value_type;
    static constexpr std::size_t chunk = Chunk;

    /// Number of examples of d whose predicted class equals the label.
    std::size_t count_correct(const M& net, const data::Dataset& d) { return count_correct(net, d, 0, d.size()); }

    /// The same over examples [first, last) of d (last ≤ d.size()): Chunk at a time from first,
    /// the rest one at a time.
    std::size_t count_correct(const M& net, const data::Dataset& d, std::size_t first, std::size_t last) {
        std::size_t correct = 0;
        std::size_t i = first;
        for (; i + Chunk <= last; i += Chunk) {
            for (std::size_t b = 0; b < Chunk; ++b)
                load_example<M>(d, i + b, x_chunk_.data() + b * M::input_width, y_scratch_.data());
            const T* out = run<Chunk>(chunk_->program, net, x_chunk_.data());
            for (std::size_t b = 0; b < Chunk; ++b)
                correct += predicted_class<M::output_width>(out + b * M::output_width) == d.labels[i + b];
        }
        for (; i < last; ++i) {
            load_example<M>(d, i, x_chunk_.data(), y_scratch_.data());
            correct += predicted_class<M::output_width>(run<1>(one_->program, net, x_chunk_.data())) == d.labels[i];
        }
        return correct;
    }

private:
    template <std::size_t B, class P>
    const T* run(P& p, const M& net, const T* x) noexcept {
        using E = ModelExpression<M, B>;
        p.bind_all(ad::bind(typename E::x{}, x), ad::bind(typename E::y{}, y_.data()));
        bind_parameters<E>(p, net);
        p.forward();
        return p.template value<typename E::output>();
    }

    std::unique_ptr<autodiff::Workspace<M, 1>> one_ = std::make_unique<autodiff::Workspace<M, 1>>();
    std::unique_ptr<autodiff::Workspace<M, Chunk>> chunk_ = std::make_unique<autodiff::Workspace<M, Chunk>>();
    std::vector<T> x_chunk_ = std::vector<T>(Chunk * M::input_width);
    std::vector<T> y_ = std::vector<T>(Chunk * M::output_width);  // the target the cost is computed against: 0
    std::vector<T> y_scratch_ = std::vector<T>(M::output_width);
};

/// Number of examples of d whose predicted class equals the label.
template <AnyModel M>
std::size_t count_correct(const M& net, const data::Dataset& d) {
    auto e = std::make_unique<Evaluator<M>>();
    return e->count_correct(net, d);
}

}  // namespace typegrad::train
