// Weights as a quantized checkpoint stores them (fp8 blocks, compressed-tensors int4 groups, ...):
// which linear layers are quantized, what their scales cost, and what stays in 16 bits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model_shape.h"

namespace kvplan {

// One linear module of one layer, named as in the checkpoint (expert 0 stands for every expert
// of its layer), with its shape and how many such matrices the layer holds.
struct LinearModule {
  std::string name;        // model.layers.3.mlp.experts.0.gate_proj
  std::string part;        // attention, dense MLP, routed experts, shared experts
  std::uint64_t rows = 0;  // output features
  std::uint64_t cols = 0;  // input features
  std::uint64_t count = 1;
};

// Every linear weight matrix of the decoder (not the embeddings, LM head, norms or routers).
std::vector<LinearModule> linear_modules(const ModelShape& shape);

// Bytes of one part of the weights, for --explain.
struct WeightPart {
  std::string what;       // "routed experts", "attention", "embeddings, LM head, norms, routers"
  std::uint64_t params = 0;
  std::string format;     // "int4, a bf16 scale per 32", "bf16"
  double bytes = 0;
};

// The weights of a checkpoint whose quantization_config kvplan can size (shape.quantization),
// part by part. Throws kvplan::Error when it cannot (the reason), or when params.total is below
// the linear layers' parameters.
std::vector<WeightPart> checkpoint_weight_parts(const ModelShape& shape);

}  // namespace kvplan
