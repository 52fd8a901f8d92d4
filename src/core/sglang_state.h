// SGLang 0.5.23's state pool for hybrid linear-attention models (Qwen3-Next's Gated DeltaNet,
// Nemotron-H's Mamba-2): before the full-attention KV pool is sized, 0.9 / 1.9 of the pool memory
// goes to per-request state slots (max_mamba_cache_size), and those slots cap the running
// requests. docs/engines-sglang.md ("State pools") cites each rule.
#pragma once

#include <cstdint>
#include <string>

#include "core/capacity.h"
#include "core/state_bytes.h"

namespace kvplan::detail {

// SGLang's Qwen3NextConfig and its subclasses (configs/qwen3_5.py: Qwen3_5TextConfig,
// Qwen3_5MoeTextConfig): Qwen3-Next, Qwen3.5 and Qwen3.6.
bool sglang_qwen3_next_config(const ModelShape& shape);

// The state families whose SGLang pool kvplan plans: those and nemotron_h.
bool sglang_plans_state(const ModelShape& shape);

struct SglangStatePool {
  StateBytes per_layer;             // one request's state in one state layer on one rank
  std::uint32_t state_layers = 0;   // the state layers on the rank
  std::uint64_t bytes_per_slot = 0;  // mamba_cache_per_req: per_layer x state_layers
  double memory_gib = 0;            // the pool memory before the split, in GiB as SGLang holds it
  double state_budget_gib = 0;      // memory x 0.9 / 1.9
  std::uint64_t slots = 0;          // max_mamba_cache_size
  std::uint64_t state_bytes = 0;    // (slots + 1) x bytes_per_slot: the padding slot too
  double rest_gib = 0;              // memory - state bytes, what the KV pool gets
  std::uint32_t slots_per_request = 0;  // _calculate_mamba_ratio
  std::string dtype_rule;           // where the SSM dtype came from
};

// kv_cache_configurator.py:_handle_max_mamba_cache with its defaults (no --max-mamba-cache-size,
// radix cache on, no speculative decoding). `memory_gib` is _profile_available_bytes's
// rest_memory; `attn_tp` the ranks the state heads split over. Throws kvplan::Error (exit 2) when
// not one slot fits, as SGLang refuses to start.
SglangStatePool sglang_state_pool(const ModelShape& shape, const FitRequest& request, std::uint32_t attn_tp,
                                  double memory_gib);

// kv_cache_configurator.py:resolve_max_num_reqs without --max-running-requests: the estimate
// int(tokens / context x 512) kept within [2048, 4096], at most tokens / 2, then at most
// slots / slots_per_request.
std::uint64_t sglang_max_running_requests(std::uint64_t kv_tokens, std::uint64_t context_len,
                                          const SglangStatePool& pool);

// Python's float floor division (a // b on floats), which SGLang's pool arithmetic uses.
double python_floordiv(double a, double b);

}  // namespace kvplan::detail
