// Initialisers, L2 regularisation and the optimizers of Nielsen's chapter 3 and after (issue 11):
// each against its formula, step by step, and resumed from its saved state bit for bit.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "typegrad/autodiff/gradcheck.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/train/sgd.hpp"

using namespace typegrad;

namespace {

template <class Tensor>
double standard_deviation(const Tensor& t) {
    double s = 0, s2 = 0;
    for (auto v : t) {
        s += double(v);
        s2 += double(v) * double(v);
    }
    const double n = double(t.size()), mean = s / n;
    return std::sqrt(s2 / n - mean * mean);
}
template <class Tensor>
double largest_magnitude(const Tensor& t) {
    double m = 0;
    for (auto v : t) m = std::max(m, std::abs(double(v)));
    return m;
}

using Mlp = Network<double, 784, 100, 10>;
using Cnn = Model<double, decltype(input<3, 12, 12> | conv2d<8, 3> | relu | flatten | dense<10> | softmax), cost::LogLikelihood>;

// The gradient the engine takes on the first m examples, summed.
template <class M>
Gradients<M> summed_gradient(const M& net, const data::Dataset& d, std::size_t m) {
    std::vector<std::size_t> ex(m);
    for (std::size_t i = 0; i < m; ++i) ex[i] = i;
    Gradients<M> g;
    train::AutodiffEngine<M> engine;
    engine.gradient(net, d, ex, g);
    return g;
}

}  // namespace

TEST_CASE("initialisers: the article's, network2's, Glorot's, He's, PyTorch's, by their spread", "[train][init]") {
    const Mlp article{1, init::Scheme::article};
    CHECK(standard_deviation(article.weights<0>()) == Approx(1.0).epsilon(0.02));
    const Mlp network2{1, init::Scheme::network2};  // N(0, 1/n_in) weights, N(0, 1) biases
    CHECK(standard_deviation(network2.weights<0>()) == Approx(1.0 / std::sqrt(784.0)).epsilon(0.02));
    CHECK(standard_deviation(network2.weights<1>()) == Approx(1.0 / std::sqrt(100.0)).epsilon(0.1));
    CHECK(standard_deviation(network2.biases<0>()) == Approx(1.0).epsilon(0.25));
    const Mlp he{1, init::Scheme::he};  // N(0, 2/n_in), biases 0
    CHECK(standard_deviation(he.weights<0>()) == Approx(std::sqrt(2.0 / 784.0)).epsilon(0.02));
    CHECK(largest_magnitude(he.biases<0>()) == 0.0);
    const Mlp glorot{1, init::Scheme::glorot};  // U(±√(6/(n_in + n_out)))
    const double bound = std::sqrt(6.0 / (784.0 + 100.0));
    CHECK(largest_magnitude(glorot.weights<0>()) <= bound);
    CHECK(largest_magnitude(glorot.weights<0>()) > 0.99 * bound);
    CHECK(standard_deviation(glorot.weights<0>()) == Approx(bound / std::sqrt(3.0)).epsilon(0.02));
    // a convolution: fan_in = C_in·K·K = 27, fan_out = C_out·K·K = 72
    const Cnn conv{2, init::Scheme::glorot};
    const double conv_bound = std::sqrt(6.0 / (27.0 + 72.0));
    CHECK(largest_magnitude(conv.weights<0>()) <= conv_bound);
    CHECK(largest_magnitude(conv.weights<0>()) > 0.95 * conv_bound);
    const Cnn pytorch{2};  // automatic: a network of images starts as PyTorch's
    CHECK(largest_magnitude(pytorch.weights<0>()) <= 1.0 / std::sqrt(27.0));
    CHECK(largest_magnitude(pytorch.weights<1>()) <= 1.0 / std::sqrt(8.0 * 10.0 * 10.0));
    CHECK(init::scheme_name(init::Scheme::network2) == "network2");
}

TEST_CASE("L2 with SGD is network2.py's rule: W ← (1 − ηλ/n) W − (η/m) Σ ∂W, biases not decayed", "[train][l2]") {
    const auto d = data::synthetic_split(50, 10, 3);
    Mlp net{4, init::Scheme::network2};
    const Mlp before = net;
    const auto g = summed_gradient(before, d.train, 5);
    train::Trainer<Mlp> trainer(net, {.batch = 5, .eta = 0.5, .seed = 5, .lambda = 5.0});
    trainer.step(d.train, std::vector<std::size_t>{0, 1, 2, 3, 4});
    const double shrink = 1.0 - 0.5 * 5.0 / 50.0;
    for (std::size_t i : {0ul, 1000ul, 78399ul}) {
        CHECK(net.weights<0>().data()[i] ==
              Approx(shrink * before.weights<0>().data()[i] - 0.5 / 5.0 * g.weights<0>().data()[i]).epsilon(1e-12));
    }
    for (std::size_t j : {0ul, 7ul})
        CHECK(net.biases<1>()[j] == Approx(before.biases<1>()[j] - 0.5 / 5.0 * g.biases<1>()[j]).epsilon(1e-12));
}

TEST_CASE("L2 with momentum adds (λ/n) W to the mean gradient", "[train][l2]") {
    const auto d = data::synthetic_split(40, 10, 6);
    Mlp net{7};
    const Mlp before = net;
    const auto g = summed_gradient(before, d.train, 4);
    train::Trainer<Mlp, train::AutodiffEngine<Mlp>, train::Momentum> trainer(net, {.batch = 4, .eta = 0.1, .seed = 8, .lambda = 2.0});
    trainer.step(d.train, std::vector<std::size_t>{0, 1, 2, 3});
    const double w = before.weights<1>()(3, 4), gw = g.weights<1>()(3, 4);
    CHECK(net.weights<1>()(3, 4) == Approx(w - 0.1 * (gw / 4 + 2.0 / 40.0 * w)).epsilon(1e-12));  // v₁ = g₁ from v₀ = 0
}

TEST_CASE("Adam: two steps against the paper's formulas; its state (t, m, v) resumes a run bit for bit", "[train][adam]") {
    const auto d = data::synthetic_split(40, 10, 9);
    Mlp net{10};
    const Mlp start = net;
    train::Adam adam;
    train::Trainer<Mlp, train::AutodiffEngine<Mlp>, train::Adam> trainer(net, {.batch = 4, .eta = 0.01, .seed = 11}, adam);
    const std::vector<std::size_t> first{0, 1, 2, 3}, second{4, 5, 6, 7};
    const auto g1 = summed_gradient(start, d.train, 4);
    trainer.step(d.train, first);
    const Mlp after_one = net;
    const auto state_after_one = trainer.state();
    std::vector<std::size_t> idx(8);
    for (std::size_t i = 0; i < 8; ++i) idx[i] = i;
    Gradients<Mlp> g2;
    train::AutodiffEngine<Mlp> engine;
    engine.gradient(after_one, d.train, second, g2);
    trainer.step(d.train, second);
    // by hand for one weight
    const double eta = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double w0 = start.weights<0>()(350, 7), ga = g1.weights<0>()(350, 7) / 4, gb = g2.weights<0>()(350, 7) / 4;
    double m = (1 - b1) * ga, v = (1 - b2) * ga * ga;
    const double w1 = w0 - eta * (m / (1 - b1)) / (std::sqrt(v / (1 - b2)) + eps);
    m = b1 * m + (1 - b1) * gb;
    v = b2 * v + (1 - b2) * gb * gb;
    const double w2 = w1 - eta * (m / (1 - b1 * b1)) / (std::sqrt(v / (1 - b2 * b2)) + eps);
    REQUIRE(ga != 0.0);
    CHECK(after_one.weights<0>()(350, 7) == Approx(w1).epsilon(1e-12));
    CHECK(net.weights<0>()(350, 7) == Approx(w2).epsilon(1e-12));
    // resumed from the state after one step: the same second step, bit for bit
    Mlp resumed = after_one;
    train::Trainer<Mlp, train::AutodiffEngine<Mlp>, train::Adam> again(resumed, {.batch = 4, .eta = 0.01, .seed = 11}, adam);
    again.restore(state_after_one);
    again.step(d.train, second);
    CHECK((resumed.weights<0>() == net.weights<0>()));
    CHECK((resumed.biases<1>() == net.biases<1>()));
    CHECK(state_after_one.optimizer == "adam");
    train::Adam other;
    CHECK_THROWS_AS(other.restore(std::vector<unsigned char>{1, 2, 3}), std::invalid_argument);
}

TEST_CASE("Adam trains a ReLU softmax network from He's initialisation", "[train][adam]") {
    using M = Model<float, decltype(input<784> | dense<100> | relu | dense<10> | softmax), cost::LogLikelihood>;
    const auto d = data::synthetic_split(3000, 500, 12);
    M net{13, init::Scheme::he};
    train::Trainer<M, train::AutodiffEngine<M>, train::Adam> trainer(net, {.epochs = 2, .batch = 10, .eta = 0.001, .seed = 14});
    CHECK(trainer.run(d.train, d.test).back().accuracy > 0.8);
}

TEST_CASE("a validation set held out of the training set, evaluated every epoch; the training cost of each epoch",
          "[train][validation]") {
    using M = Network<float, 784, 30, 10>;
    const auto d = data::synthetic_split(1200, 300, 15);
    const auto validation = d.train.tail(200), train_part = d.train.head(1000);
    REQUIRE(validation.size() == 200);
    CHECK(validation.labels.front() == d.train.labels[1000]);
    CHECK(validation.image(199).data()[400] == d.train.image(1199).data()[400]);
    M net{16};
    const auto history = train::Trainer<M>(net, {.epochs = 3, .batch = 10, .eta = 3.0, .seed = 17}).run(train_part, validation, d.test);
    REQUIRE(history.size() == 3);
    for (const auto& s : history) {
        CHECK(s.validated == 200);
        CHECK(s.validation_accuracy == Approx(double(s.validation_correct) / 200.0));
        CHECK(s.training_cost > 0.0);
        CHECK(s.eta == 3.0);
    }
    CHECK(history.back().training_cost < history.front().training_cost);  // it learns
    train::Evaluator<M> evaluator;
    CHECK(evaluator.count_correct(net, validation) == history.back().validation_correct);
    // without a validation set nothing is evaluated for it
    M other{16};
    CHECK(train::Trainer<M>(other, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 17}).run(train_part, d.test).back().validated == 0);
}
