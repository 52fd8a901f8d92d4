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

// KDA's prefill (vLLM 0.33 kimi_k3/nvidia/kda.py:resolve_kda_prefill_backend with the default
// "auto"): FlashKDA on CUDA capability 9.x, 10.x or 12.x with a bfloat16 model, head_dim 128 and a
// bounded gate, Triton otherwise; FlashKDA checkpoints every 16 tokens
// (layers/mamba/kda_checkpoint.py:kda_prefill_checkpoint_alignment). kvplan's Blackwell presets
// are SM100; FlashInfer's KDA prefill is taken only when asked for, so "auto" never picks it.
constexpr std::uint32_t kFlashKdaAlignment = 16;

bool flash_kda(const StateDims& state, const VllmStateQuery& query) {
  const bool cuda_9_10_12 =
      query.architecture == GpuArchitecture::hopper || query.architecture == GpuArchitecture::blackwell;
  return cuda_9_10_12 && query.bfloat16_model && state.head_dim == 128 && state.gate_bounded;
}

}  // namespace

VllmStatePlan plan_vllm_state(const VllmStateQuery& query) {
  const StateDims& state = *query.state;
  VllmStatePlan plan;
  plan.align_mode = query.prefix_caching;
  // Checkpoint blocks: MambaMixer2 always claims one; the Gated DeltaNet layer only with
  // FlashInfer's prefill, the KDA layer only with FlashKDA's; Mamba-1's MambaMixer keeps
  // MambaBase.get_kv_cache_spec, which claims none. Read in align mode only.
  std::uint32_t checkpoint_blocks = 1;
  std::uint32_t checkpoint_alignment = 1;
  if (state.mixer == StateMixer::mamba1) checkpoint_blocks = 0;
  if (state.mixer == StateMixer::gated_deltanet) {
    const bool flashinfer = flashinfer_gdn(state, query.architecture);
    plan.gdn_prefill = flashinfer ? "FlashInfer" : "Triton";
    checkpoint_blocks = flashinfer ? 1 : 0;
    if (flashinfer) checkpoint_alignment = kFlashInferGdnAlignment;
  } else if (state.mixer == StateMixer::kda) {
    const bool flashkda = flash_kda(state, query);
    plan.gdn_prefill = flashkda ? "FlashKDA" : "Triton";
    checkpoint_blocks = flashkda ? 1 : 0;
    if (flashkda) checkpoint_alignment = kFlashKdaAlignment;
  }
  // _align_hybrid_block_size: A = max(smallest kernel block, block_size, 128 with MLA), in align mode also a
  // multiple of the prefill checkpoint alignment; block = A x cdiv(M, A x P), rounded up to the
  // backends' kernel block, never below the block the backend chose.
  plan.alignment = std::max(query.kernel_block, query.block_size);
  // With MLA attention the block is also a multiple of 128, so that the TRTLLM / FlashInfer MLA
  // decode kernels' block count stays aligned when a block splits into kernel blocks.
  if (query.mla_attention) plan.alignment = std::max<std::uint32_t>(plan.alignment, 128);
  if (plan.align_mode) plan.alignment = std::lcm(plan.alignment, checkpoint_alignment);
  const std::uint64_t unit = checked_mul(plan.alignment, query.attention_token_bytes, "attention page");
  std::uint64_t block = checked_mul(plan.alignment, ceil_div(query.state_bytes, unit), "hybrid block size");
  block = checked_mul(query.kernel_block, ceil_div(block, query.kernel_block), "hybrid block size");
  block = std::max<std::uint64_t>(block, query.block_size);
  if (block > (1u << 24)) throw_overflow("hybrid block size");
  plan.block_size = static_cast<std::uint32_t>(block);
  plan.page_bytes = checked_mul(block, query.attention_token_bytes, "hybrid page");
  // MambaSpec.max_memory_usage_bytes / page: align keeps the running state, the previous block's
  // and the checkpoints; none keeps one state. Speculative decoding adds one block per drafted
  // token in both (MambaBase.get_kv_cache_spec: num_speculative_blocks = num_speculative_tokens).
  plan.speculative_blocks = query.speculative_tokens;
  plan.blocks_per_request = (plan.align_mode ? 2 + checkpoint_blocks : 1) + std::uint64_t{query.speculative_tokens};
  plan.why = "block = " + std::to_string(plan.alignment) + " x cdiv(" + std::to_string(query.state_bytes) + " B state, " +
             std::to_string(plan.alignment) + " x " + std::to_string(query.attention_token_bytes) +
             " B per token) = " + std::to_string(plan.block_size) + " tokens (A = " +
             (plan.align_mode && checkpoint_alignment > 1
                  ? "lcm(" + std::to_string(std::max(query.kernel_block, query.block_size)) + ", " +
                        std::to_string(checkpoint_alignment) + " for " + plan.gdn_prefill + "'s checkpoints)"
                  : std::to_string(plan.alignment)) +
             "); the state page is padded from " + std::to_string(query.state_bytes) + " B to " +
             std::to_string(plan.page_bytes) + " B";
  return plan;
}

}  // namespace kvplan::detail
