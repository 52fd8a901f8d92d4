// The cos/sin table vLLM builds for rotary position embeddings. It is a buffer, not a weight, but
// it is allocated while the model loads, so vLLM's "Model loading took" line includes it and the
// KV cache gets that much less memory. One table per distinct rotary embedding (get_rope caches
// them by their parameters, so every layer of one kind shares it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_fields.h"
#include "core/model_shape.h"

namespace kvplan {

// The tables of the language model described by `fields` (its config or text_config), from
// max_position_embeddings, rope_scaling (or rope_parameters), partial_rotary_factor and the head
// dims already resolved in `shape`. Empty for a model without rotary embeddings.
std::vector<RopeCache> read_rope_caches(const ConfigFields& fields, const ModelShape& shape);

// Bytes of every table: positions x rotary_dim values (cos and sin, rotary_dim / 2 each), in
// fp32 when the model builds it so, else in the model's dtype (`model_dtype_bytes`). Checked.
std::uint64_t rope_cache_bytes(const std::vector<RopeCache>& caches, std::uint32_t model_dtype_bytes);

// "131072 positions x 128 x 2 B (llama3: max_position_embeddings) + ...", for --explain.
std::string rope_cache_rule(const std::vector<RopeCache>& caches, std::uint32_t model_dtype_bytes);

}  // namespace kvplan
