// typegrad: neural networks as C++ types. The umbrella header.
#pragma once

#include "typegrad/tensor/tensor.hpp"
#include "typegrad/simd/kernels.hpp"
#include "typegrad/nn/functions.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/costs.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/reference/backprop.hpp"
#include "typegrad/train/sgd.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/util/random.hpp"
