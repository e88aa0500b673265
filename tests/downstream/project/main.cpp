// Uses the installed headers and typegrad::data: trains a small network on synthetic digits and
// exits non-zero unless it learned something.
#include <iostream>

#include <typegrad/typegrad.hpp>

int main() {
    const auto split = typegrad::data::synthetic_split(2000, 500, 1);
    typegrad::Network<float, 784, 16, 10> net{1};
    typegrad::train::Trainer<decltype(net)> trainer(net, {.epochs = 2, .batch = 10, .eta = 3.0, .seed = 1});
    trainer.epoch(split.train);
    trainer.epoch(split.train);
    const auto correct = typegrad::train::count_correct(net, split.test);
    std::cout << "downstream: " << correct << "/" << split.test.size() << " correct\n";
    return correct > split.test.size() / 2 ? 0 : 1;
}
