#include "core/vllm_state.h"

#include <algorithm>
#include <numeric>

#include "core/checked.h"

namespace kvplan::detail {
namespace {

// FlashInfer's Gated DeltaNet prefill writes its checkpoints every 64 tokens
// (FLASHINFER_GDN_CHECKPOINT_ALIGNMENT); _resolve_gdn_prefill_backend picks it on Hopper, and on
// Blackwell when the key heads are 128 wide (with CUDA 13, which kvplan assumes), Triton otherwise.
constexpr std::uint32_t kFlashInferGdnAlignment = 64;

bool flashinfer_gdn(const StateDims& state, GpuArchitecture architecture) {
  if (architecture == GpuArchitecture::hopper) return true;
  return architecture == GpuArchitecture::blackwell && state.state_size == 128;
}

}  // namespace

VllmStatePlan plan_vllm_state(const VllmStateQuery& query) {
  const StateDims& state = *query.state;
  VllmStatePlan plan;
  plan.align_mode = query.prefix_caching;
  // Checkpoint blocks: MambaMixer2 always claims one; the Gated DeltaNet layer only with
  // FlashInfer's prefill; Mamba-1's MambaMixer keeps MambaBase.get_kv_cache_spec, which claims
  // none. Read in align mode only.
  std::uint32_t checkpoint_blocks = 1;
  std::uint32_t checkpoint_alignment = 1;
  if (state.mixer == StateMixer::mamba1) checkpoint_blocks = 0;
  if (state.mixer == StateMixer::gated_deltanet) {
    const bool flashinfer = flashinfer_gdn(state, query.architecture);
    plan.gdn_prefill = flashinfer ? "FlashInfer" : "Triton";
    checkpoint_blocks = flashinfer ? 1 : 0;
    if (flashinfer) checkpoint_alignment = kFlashInferGdnAlignment;
  }
  // _align_hybrid_block_size: A = max(smallest kernel block, block_size), in align mode also a
  // multiple of the prefill checkpoint alignment; block = A x cdiv(M, A x P), rounded up to the
  // backends' kernel block, never below the block the backend chose.
  plan.alignment = std::max(query.kernel_block, query.block_size);
  if (plan.align_mode) plan.alignment = std::lcm(plan.alignment, checkpoint_alignment);
  const std::uint64_t unit = checked_mul(plan.alignment, query.attention_token_bytes, "attention page");
  std::uint64_t block = checked_mul(plan.alignment, ceil_div(query.state_bytes, unit), "hybrid block size");
  block = checked_mul(query.kernel_block, ceil_div(block, query.kernel_block), "hybrid block size");
  block = std::max<std::uint64_t>(block, query.block_size);
  if (block > (1u << 24)) throw_overflow("hybrid block size");
  plan.block_size = static_cast<std::uint32_t>(block);
  plan.page_bytes = checked_mul(block, query.attention_token_bytes, "hybrid page");
  // MambaSpec.max_memory_usage_bytes / page: align keeps the running state, the previous block's
  // and the checkpoints; none keeps one state (no speculative blocks without spec decoding).
  plan.blocks_per_request = plan.align_mode ? 2 + checkpoint_blocks : 1;
  plan.why = "block = " + std::to_string(plan.alignment) + " x cdiv(" + std::to_string(query.state_bytes) + " B state, " +
             std::to_string(plan.alignment) + " x " + std::to_string(query.attention_token_bytes) +
             " B per token) = " + std::to_string(plan.block_size) + " tokens (A = " +
             (plan.align_mode && checkpoint_alignment > 1
                  ? "lcm(" + std::to_string(std::max(query.kernel_block, query.block_size)) + ", " +
                        std::to_string(checkpoint_alignment) + " for " + plan.gdn_prefill + "'s GDN checkpoints)"
                  : std::to_string(plan.alignment)) +
             "); the state page is padded from " + std::to_string(query.state_bytes) + " B to " +
             std::to_string(plan.page_bytes) + " B";
  return plan;
}

}  // namespace kvplan::detail
