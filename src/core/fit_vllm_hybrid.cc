// Sparse MLA and state layers in vLLM 0.33's start-up accounting (fit_vllm_hybrid.h).
#include "core/fit_vllm_hybrid.h"

#include <string>

#include "core/error.h"
#include "core/state_bytes.h"
#include "core/vllm_state.h"

namespace kvplan::detail {

// A sparse MLA model (DeepSeek-V3.2) is served by the sparse backends only, and only as itself.
bool sparse_mla(const ModelShape& shape, const VllmRules& rules, const FitRequest& request, FitResult& result) {
  if (!shape.indexer) return false;
  if (!rules.sparse_mla) {
    throw Error("vLLM " + result.engine_version + ": kvplan models sparse MLA (DeepSeek-V3.2's indexer cache and "
                "sparse backends) in vLLM 0.33 only; use --engine vllm");
  }
  if (request.variant.kind != VariantKind::mla) {
    throw Error("--variant " + request.variant.name() + ": vLLM serves DeepSeek-V3.2's sparse attention with its sparse "
                "MLA backends only, so fit plans the native variant; 'kvplan size' compares the variants");
  }
  result.notes.push_back("sparse MLA: each layer caches the MLA latent and the indexer's key (" +
                         std::to_string(shape.indexer->bytes_per_token()) +
                         " B per token in any cache dtype) in blocks of 64 tokens, the indexer kernel's size");
  return true;
}

// State layers share the pool: the attention block grows until its page covers one sequence's
// state, which is padded to it (vllm_state.h). Sets the block size and returns the blocks each
// state group charges a request.
std::uint64_t align_state_layers(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                 const VllmRules& rules, const VllmBackend& backend, FitResult& result) {
  if (!rules.state_layers) {
    throw Error("vLLM " + result.engine_version + ": kvplan models the hybrid allocator for state layers (Mamba-2, "
                "Gated DeltaNet) in vLLM 0.33 only; use --engine vllm");
  }
  const StateBytes state = state_bytes_per_rank(*shape.state, shape.torch_dtype, request.parallel.tp,
                                                request.options.mamba_ssm_cache_dtype);
  VllmStateQuery query;
  query.state = &*shape.state;
  query.state_bytes = state.total();
  query.attention_token_bytes = result.token_layer_per_rank.total();
  query.block_size = result.block_size;
  query.kernel_block = backend.kernel_block;
  query.architecture = gpu.architecture;
  query.prefix_caching = request.options.prefix_caching;
  const VllmStatePlan plan = plan_vllm_state(query);
  result.block_size = plan.block_size;
  result.state_bytes_per_rank = Bytes{state.total()};
  result.state_rule = "state per sequence per rank: " + state_formula(*shape.state, state) + " = " +
                      std::to_string(state.total()) + " B; " + plan.why;
  const std::string mixer = shape.state->mixer == StateMixer::mamba2 ? "Mamba-2" : "Gated DeltaNet";
  result.notes.push_back(
      mixer + " state layers: vLLM raises the attention block to " + std::to_string(plan.block_size) +
      " tokens so that one attention page holds one sequence's state (" + std::to_string(state.total()) +
      " B per rank, padded to " + std::to_string(plan.page_bytes) + " B); mamba_cache_mode " +
      (plan.align_mode ? "align (prefix caching is on by default): each state group charges a request " +
                             std::to_string(plan.blocks_per_request) + " blocks"
                       : "none (--no-enable-prefix-caching): each state group charges a request 1 block") +
      (plan.gdn_prefill.empty() ? "" : "; GDN prefill kernel " + plan.gdn_prefill +
                                           (gpu.architecture == GpuArchitecture::blackwell && plan.gdn_prefill == "FlashInfer"
                                                ? " (vLLM picks it on Blackwell with CUDA 13; with CUDA 12 it is Triton)"
                                                : "")));
  return plan.blocks_per_request;
}

}  // namespace kvplan::detail
