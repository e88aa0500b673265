// Training: the trainer, its gradient engines and optimizers, and evaluation (one header each;
// this one includes them all).
#pragma once

#include "typegrad/train/engine.hpp"
#include "typegrad/train/evaluate.hpp"
#include "typegrad/train/example.hpp"
#include "typegrad/train/optimizer.hpp"
#include "typegrad/train/parallel.hpp"
#include "typegrad/train/trainer.hpp"
