// vLLM with its hybrid KV cache manager off (--disable-hybrid-kv-cache-manager, or a KV connector
// that does not support it): sliding and chunked layers are allocated like full attention, so they
// keep every token although they read only a window. docs/engines.md, "The hybrid allocator off",
// cites each rule.
#pragma once

#include <cstdint>
#include <vector>

#include "core/capacity.h"
#include "core/model_shape.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// What vLLM refuses, or kvplan does not plan, with the hybrid allocator off. Throws kvplan::Error
// (exit 2) for V0 (which has no hybrid allocator to turn off), state layers (vLLM needs the
// allocator for them), decode context parallelism, and layer kinds other than full, sliding and
// chunked attention.
void check_hybrid_allocator_off(const VllmRules& rules, const ModelShape& shape, const FitRequest& request);

// kv_cache_planning.py:_promote_local_kv_cache_specs: when the model also has full-attention
// layers, every sliding and chunked layer becomes a full-attention one (same page, the full layers'
// block size). Returns how many layers it promoted; 0 for a model of one kind, which vLLM leaves
// as it is.
std::uint32_t promote_local_layers(std::vector<LayerAttention>& layer_kinds);

}  // namespace kvplan::detail
