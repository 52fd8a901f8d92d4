// Sparse MLA, state layers and Gemma-4's full layers in vLLM 0.33's start-up accounting
// (fit_vllm_hybrid.h).
#include "core/fit_vllm_hybrid.h"

#include <algorithm>
#include <string>

#include "core/checked.h"
#include "core/kv_bytes.h"
#include "core/variant.h"

#include "core/error.h"
#include "core/fit_internal.h"
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
  const std::string keys = shape.indexer->on_every_layer()
                               ? "each layer caches the MLA latent and the indexer's key"
                               : "each layer caches the MLA latent, " +
                                     std::to_string(shape.indexer->key_layers(shape.num_hidden_layers, 0)) + " of the " +
                                     std::to_string(shape.num_hidden_layers) +
                                     " (and every MTP layer) also the indexer's key";
  result.notes.push_back("sparse MLA: " + keys + " (" + std::to_string(shape.indexer->bytes_per_token()) +
                         " B per token in any cache dtype) in blocks of 64 tokens, the indexer kernel's size");
  return true;
}

// vLLM 0.33 model_executor/models/config.py:GlmMoeDsaForCausalLM.verify_and_update_config: with the
// cache dtype "auto" on CUDA capability family 10.x it sets fp8_e4m3 ("Using fp8 kv-cache for
// GlmMoeDsaForCausalLM on SM10x"); DeepSeek-V3.2's own class keeps auto. kvplan's default bf16 is
// vLLM's auto, so it follows; an explicit vLLM --kv-cache-dtype bfloat16 (kept as it is) has no kvplan flag.
KvDtype served_cache_dtype(const ModelShape& shape, const GpuSpec& gpu, KvDtype requested, FitResult& result) {
  if (shape.model_type != "glm_moe_dsa" || gpu.architecture != GpuArchitecture::blackwell || requested != KvDtype::bf16) {
    return requested;
  }
  result.notes.push_back("GLM-5 on Blackwell: vLLM turns the default cache dtype (auto, kvplan's bf16) into fp8_e4m3 "
                         "(GlmMoeDsaForCausalLM.verify_and_update_config), so the latent is stored in fp8");
  return KvDtype::fp8_e4m3;
}

// State layers share the pool: the attention block grows until its page covers one sequence's
// state, which is padded to it (vllm_state.h). Sets the block size and returns the blocks each
// state group charges a request.
std::uint64_t align_state_layers(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                 const VllmRules& rules, const VllmBackend& backend, FitResult& result) {
  if (!rules.state_layers) {
    throw Error("vLLM " + result.engine_version + ": kvplan models the hybrid allocator for state layers (Mamba-1, "
                "Mamba-2, Gated DeltaNet) in vLLM 0.33 only; use --engine vllm");
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
  query.bfloat16_model = shape.torch_dtype.empty() || shape.torch_dtype == "bfloat16";
  query.mla_attention = shape.mla.has_value();
  // vllm_config.num_speculative_tokens: --speculative's k, or for --mtp one per MTP layer.
  query.speculative_tokens = request.speculative.method != SpeculativeMethod::none ? request.speculative.num_speculative_tokens
                             : request.include_mtp                                 ? shape.num_nextn_predict_layers
                                                                                   : 0;
  const VllmStatePlan plan = plan_vllm_state(query);
  result.block_size = plan.block_size;
  result.state_bytes_per_rank = Bytes{state.total()};
  result.state_align_mode = plan.align_mode;
  result.state_speculative_blocks = plan.speculative_blocks;
  result.state_rule = "state per sequence per rank: " + state_formula(*shape.state, state) + " = " +
                      std::to_string(state.total()) + " B; " + plan.why;
  const std::string mixer = state_field_names(shape.state->mixer).mixer;
  result.notes.push_back(
      mixer + " state layers: vLLM raises the attention block to " + std::to_string(plan.block_size) +
      " tokens so that one attention page holds one sequence's state (" + std::to_string(state.total()) +
      " B per rank, padded to " + std::to_string(plan.page_bytes) + " B); mamba_cache_mode " +
      (plan.align_mode ? "align (prefix caching is on by default): each state group charges a request " +
                             std::to_string(plan.blocks_per_request) + " blocks"
                       : "none (--no-enable-prefix-caching): each state group charges a request " +
                             std::to_string(plan.blocks_per_request) + " block" + (plan.blocks_per_request == 1 ? "" : "s")) +
      (plan.speculative_blocks == 0 ? "" : ", " + std::to_string(plan.speculative_blocks) +
                                               " of them for the drafted tokens (num_speculative_blocks)") +
      (plan.gdn_prefill.empty() ? "" : "; " + mixer + " prefill kernel " + plan.gdn_prefill +
                                           (gpu.architecture == GpuArchitecture::blackwell && plan.gdn_prefill == "FlashInfer"
                                                ? " (vLLM picks it on Blackwell with CUDA 13; with CUDA 12 it is Triton)"
                                                : "")));
  return plan.blocks_per_request;
}

void check_kind_kv_heads(const ModelShape& shape, const VllmRules& rules, const FitResult& result) {
  if (!rules.kind_kv_heads) {
    throw Error("vLLM " + result.engine_version + ": kvplan models full layers with their own K/V heads (Gemma-4, "
                "MiMo-V2-Flash) in vLLM 0.33 only; use --engine vllm");
  }
  if (shape.model_type == "gemma4_text" && !shape.bidirectional_vision) {
    throw Error("kvplan plans Gemma-4 in vLLM as its released configs are served (use_bidirectional_attention: "
                "vision, the image-mask composite backends); this config does not say so, and vLLM's backend and "
                "block size would differ");
  }
}

KindBlocks unify_kind_pages(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& cached, FitResult& result) {
  const std::uint32_t tp = cached.parallel.tp;
  const KvGeometry& full = *shape.full_layer_kv;
  if (full.num_key_value_heads % tp != 0 && tp % full.num_key_value_heads != 0) {
    throw Error("--tp " + std::to_string(tp) + " and the " + std::to_string(full.num_key_value_heads) +
                " K/V heads of the full layers (" + full.heads_field + ") do not divide one another");
  }
  set_full_layer_cache(shape, cached, result);

  const std::uint32_t block = result.block_size;
  const std::uint64_t sliding_page = checked_mul(block, result.token_layer_per_rank.total(), "page size");
  const std::uint64_t full_page = checked_mul(block, result.full_token_layer_per_rank->total(), "page size");
  const std::uint64_t page = std::max(sliding_page, full_page);
  KindBlocks blocks{block, block};
  auto grow = [&](std::uint32_t& kind_block, std::uint64_t kind_page, const char* kind) {
    if (kind_page == page) return std::string();
    if (page % kind_page != 0) {
      // Non-MLA attention pages that do not divide the larger one are padded to it.
      return std::string("; the ") + kind + " page " + std::to_string(kind_page) + " B is padded to " +
             std::to_string(page) + " B";
    }
    const std::uint64_t grown = checked_mul(kind_block, page / kind_page, "block size");
    if (grown > 0xffffffffull) throw Error("the unified block size does not fit in 32 bits");
    kind_block = static_cast<std::uint32_t>(grown);
    return std::string("; the ") + kind + " layers' block grows " + std::to_string(page / kind_page) + "x to " +
           std::to_string(kind_block) + " tokens";
  };
  std::string rule = "pages at block " + std::to_string(block) + ": sliding " + std::to_string(block) + " x " +
                     std::to_string(result.token_layer_per_rank.total()) + " B = " + std::to_string(sliding_page) +
                     " B, full " + std::to_string(block) + " x " + std::to_string(result.full_token_layer_per_rank->total()) +
                     " B = " + std::to_string(full_page) + " B";
  rule += grow(blocks.full, full_page, "full");
  rule += grow(blocks.sliding, sliding_page, "sliding");
  result.page_rule = rule + " (vLLM 0.33 kv_cache_planning.py::unify_kv_cache_spec_page_size)";
  result.page_bytes = Bytes{page};
  result.block_size = blocks.sliding;
  result.full_block_size = blocks.full;
  // On Hopper an fp8 cache sends 512-wide full layers (Gemma-4) to FA4, whose fp8 kernels take blocks
  // of exactly 64 tokens (FlashAttentionBackend._get_sm90_fa4_fp8_kv_block_size); a full block that
  // is not a multiple of 64 makes the worker fail (select_common_block_size).
  if (gpu.architecture == GpuArchitecture::hopper && cached.kv_dtype == KvDtype::fp8_e4m3 && full.head_dim == 512 &&
      blocks.full % 64 != 0) {
    throw Error("--kv-dtype fp8 on Hopper: vLLM 0.33's FA4 fp8 kernels for the full layers take blocks of 64 tokens, "
                "but page unification makes the full layers' block " + std::to_string(blocks.full) +
                " (the worker fails with 'No common block size'); add --block-size 64");
  }
  result.notes.push_back(
      "full layers with their own K/V heads: " + std::to_string(result.full_kv_heads_per_rank) + " x " +
      head_widths(full.head_dim, full.v_head_dim) + " per rank beside the sliding layers' " +
      std::to_string(result.kv_heads_per_rank) + " x " + head_widths(shape.head_dim, shape.v_head_dim) + "; vLLM unifies their pages to " + std::to_string(page) +
      " B: blocks of " + std::to_string(blocks.sliding) + " (sliding) and " + std::to_string(blocks.full) +
      " (full) tokens");
  return blocks;
}

}  // namespace kvplan::detail
