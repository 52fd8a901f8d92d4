// How vLLM 0.33 fits state layers (Mamba-2, Gated DeltaNet, KDA) into the block pool it shares with
// attention layers: the attention block grows until one attention page covers one state page,
// the state page is padded to the attention page (Platform._align_hybrid_block_size), and each
// state group charges a request a few blocks whatever its length (MambaSpec). docs/engines.md,
// "State layers", cites each rule.
#pragma once

#include <cstdint>
#include <string>

#include "core/gpu_spec.h"
#include "core/model_shape.h"

namespace kvplan::detail {

struct VllmStateQuery {
  const StateDims* state = nullptr;
  std::uint64_t state_bytes = 0;            // one sequence's state on one rank (the real page)
  std::uint64_t attention_token_bytes = 0;  // one token of one attention layer on one rank
  std::uint32_t block_size = 16;            // the attention backend's block (or --block-size)
  std::uint32_t kernel_block = 16;          // the backend's smallest kernel block
  GpuArchitecture architecture = GpuArchitecture::other;
  bool prefix_caching = true;               // vLLM's default for hybrid models
  bool bfloat16_model = true;               // the model's dtype (KDA: FlashKDA takes bfloat16 only)
  bool mla_attention = false;               // the attention layers are MLA (Kimi-Linear)
  std::uint32_t speculative_tokens = 0;     // vLLM's num_speculative_tokens: one more state block each
};

struct VllmStatePlan {
  bool align_mode = true;            // mamba_cache_mode "align" (prefix caching) or "none"
  std::string gdn_prefill;           // "FlashInfer" or "Triton" for Gated DeltaNet, "FlashKDA" or "Triton" for KDA, "" for Mamba-2
  std::uint32_t alignment = 16;      // the unit the block is a multiple of
  std::uint32_t block_size = 16;     // the attention block after alignment
  std::uint64_t page_bytes = 0;      // block x attention bytes per token = the padded state page
  std::uint64_t blocks_per_request = 0;  // per state group
  std::uint32_t speculative_blocks = 0;  // of which held for drafted tokens
  std::string why;                   // the rule with values, for --explain
};

VllmStatePlan plan_vllm_state(const VllmStateQuery& query);

}  // namespace kvplan::detail
