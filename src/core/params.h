// Parameter counts estimated from config.json shapes, for models imported with --config (whose
// config.json states no parameter count). Counts the weight matrices, embeddings and norms of a
// gated-MLP decoder; biases are ignored (< 0.1% for the models kvplan knows).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/model_shape.h"

namespace kvplan {

struct ParamEstimate {
  std::uint64_t total = 0;   // every weight, all experts
  std::uint64_t active = 0;  // weights one token passes through (routed experts per token)
};

// Why the shapes cannot give a parameter count (a field missing, a layout the count does not
// model), or nullopt when estimate_params can count them.
std::optional<std::string> params_estimate_gap(const ModelShape& shape);

// Needs hidden_size, intermediate_size and vocab_size. `tie_word_embeddings` shares the input
// embedding with the output head. Throws kvplan::Error for a gap above, or a count past 64 bits.
ParamEstimate estimate_params(const ModelShape& shape, bool tie_word_embeddings);

// The routed experts' weights: moe_layers x num_experts gated MLPs of hidden x moe_intermediate
// (shared experts, routers and dense MLPs are not among them). 0 for a dense model. Checked.
std::uint64_t routed_expert_params(const ModelShape& shape);

}  // namespace kvplan
