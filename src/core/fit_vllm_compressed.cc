#include "core/fit_vllm_compressed.h"

#include <algorithm>
#include <string>

#include "core/checked.h"
#include "core/compressed_mla.h"
#include "core/error.h"
#include "core/fit_internal.h"
#include "core/units.h"
#include "core/variant.h"

namespace kvplan::detail {

VllmBackend choose_compressed_backend(const VllmRules& rules, const GpuSpec& gpu, const FitRequest& request,
                                      const std::string& engine_version) {
  if (!rules.kind_kv_heads) {
    throw Error("vLLM " + engine_version + ": kvplan models DeepSeek-V4's compressed sparse attention in vLLM 0.33 "
                "only; use --engine vllm");
  }
  if (request.parallel.pp > 1) {
    throw Error("--pp " + std::to_string(request.parallel.pp) + ": kvplan plans DeepSeek-V4's packed cache groups "
                "with PP 1 only");
  }
  if (request.include_mtp) {
    throw Error("--mtp: kvplan does not plan DeepSeek-V4's MTP layers (each adds a window cache to the packed "
                "groups) yet; plan without --mtp");
  }
  if (request.parallel.dcp > 1) {
    throw Error("--dcp " + std::to_string(request.parallel.dcp) + ": kvplan does not model decode context parallel "
                "for DeepSeek-V4's compressed caches");
  }
  const bool blackwell = gpu.architecture == GpuArchitecture::blackwell;
  if (gpu.architecture != GpuArchitecture::hopper && !blackwell) {
    throw Error("vLLM 0.33 serves DeepSeek-V4 with FlashMLA's DSV4 backend on Hopper and Blackwell sm_100 (kvplan does "
                "not model its SM 12.x FlashInfer class); plan it on an H100/H200/B200-class GPU");
  }
  const KvDtype asked = request.kv_dtype;
  const std::optional<std::string>& requested = request.options.attention_backend;
  if (requested && *requested == "FLASHINFER_MLA_SPARSE_DSV4") {
    if (!blackwell) {
      throw Error("--attention-backend FLASHINFER_MLA_SPARSE_DSV4 runs on Blackwell only");
    }
    if (asked != KvDtype::bf16 && asked != KvDtype::fp8_e4m3) {
      throw Error("--kv-dtype " + std::string(to_string(asked)) + ": FlashInfer's DSV4 backend stores bf16 or fp8 "
                  "latent rows");
    }
    return {"FLASHINFER_MLA_SPARSE_DSV4", 256, 256, asked,
            "--attention-backend FLASHINFER_MLA_SPARSE_DSV4 (DeepseekV4FlashInferMLAAttention): plain " +
                std::string(to_string(asked)) + " rows"};
  }
  if (requested) {
    throw Error("--attention-backend " + *requested + ": vLLM 0.33 serves DeepSeek-V4 with FLASHMLA_SPARSE_DSV4 (the "
                "default) or FLASHINFER_MLA_SPARSE_DSV4 (Blackwell)");
  }
  if (asked != KvDtype::bf16 && asked != KvDtype::fp8_e4m3 && asked != KvDtype::fp8_ds_mla) {
    throw Error("--kv-dtype " + std::string(to_string(asked)) + ": vLLM 0.33's FlashMLA DSV4 backend stores "
                "fp8_ds_mla (for auto and fp8)");
  }
  return {"FLASHMLA_SPARSE_DSV4", 256, 256, KvDtype::fp8_ds_mla,
          "the default on Hopper and Blackwell (_select_dsv4_attn_cls); it stores vLLM's auto (kvplan's default bf16) "
          "and fp8 as fp8_ds_mla, 584 B per latent row"};
}

void set_compressed_cache(const ModelShape& shape, const FitRequest& request, FitResult& result) {
  if (request.variant.name() != native_variant(shape).name()) {
    throw Error("--variant " + request.variant.name() + ": DeepSeek-V4 caches one compressed latent shared by all "
                "heads; fit plans it as it is");
  }
  const std::uint64_t row = compressed_latent_bytes(*shape.compressed_mla, result.kv_cache_dtype);
  result.kv_heads_per_rank = 1;
  result.kv_replicated = request.parallel.tp > 1;
  result.token_layer_per_rank = TokenLayerBytes{};
  result.token_layer_per_rank.scalars = shape.compressed_mla->head_dim;
  result.token_layer_per_rank.vectors = 1;
  result.token_layer_per_rank.value_bytes = row;
}

void plan_compressed_pool(const ModelShape& shape, std::uint64_t max_model_len, FitResult& result) {
  const CompressedMlaDims& dims = *shape.compressed_mla;
  const CompressedVllmPlan plan =
      plan_compressed_vllm(dims, result.kv_cache_dtype, max_model_len, result.max_in_flight_tokens);
  std::string groups_text;
  for (const CompressedVllmGroup& group : plan.groups) {
    const LayerAttention kind = group.kind == "compressed" ? LayerAttention::full : LayerAttention::sliding;
    result.groups.push_back({kind, static_cast<std::uint32_t>(group.layers), group.blocks_per_request});
    result.blocks_per_request = checked_add(result.blocks_per_request, group.blocks_per_request, "blocks per request");
    groups_text += (groups_text.empty() ? "" : " + ") + std::to_string(group.blocks_per_request) + " (" + group.kind +
                   ", " + std::to_string(group.layers) + " cache layers, block " + std::to_string(group.block) + ")";
  }
  result.blocks_rule = std::to_string(plan.groups.size()) + " packed groups: " + groups_text;
  result.page_bytes = Bytes{plan.bytes_per_block};
  result.page_rule = "the widest of the packed groups (" + std::to_string(plan.repeats_per_group) +
                     " repeats per group; pages padded to multiples of " + std::to_string(plan.alignment) +
                     " B): a block holds one page of each of its cache layers (kv_cache_planning.py::"
                     "_get_packed_kv_cache_groups, _get_kv_cache_bytes_per_block)";
  StageBudget& budget = result.stages.front();
  budget.bytes_per_block = Bytes{plan.bytes_per_block};
  budget.num_blocks = budget.kv_budget.value / plan.bytes_per_block;
  result.num_blocks = budget.num_blocks;
  result.binding_stage = 0;
  // _check_enough_kv_cache_memory: one request's blocks in every group, beside the null block.
  auto needed = [&](std::uint64_t len) {
    return checked_mul(plan.bytes_per_block,
                       plan_compressed_vllm(dims, result.kv_cache_dtype, len, result.max_in_flight_tokens).blocks_per_request,
                       "KV one request needs");
  };
  const std::uint64_t available =
      budget.kv_budget.value > plan.bytes_per_block ? budget.kv_budget.value - plan.bytes_per_block : 0;
  if (const std::uint64_t need = needed(max_model_len); need > available) {
    const std::uint64_t low = longest_fitting_context(needed, available, max_model_len);
    throw Error("not even one request of " + std::to_string(max_model_len) + " tokens fits: it needs " +
                gib_text(Bytes{need}) + " of KV cache per GPU, " + gib_text(Bytes{available}) +
                " is available after the null block; the longest context that fits is " + std::to_string(low) +
                " tokens. Lower --ctx, raise --mem-util or use a GPU with more memory (TP does not split this cache)");
  }
  result.notes.push_back("DeepSeek-V4's caches (window latents, compressed latents, indexer keys, compressor states) "
                         "are whole on every TP rank; vLLM packs them into " + std::to_string(plan.groups.size()) +
                         " groups of one block pool, " + std::to_string(plan.bytes_per_block) + " B per block");
}

}  // namespace kvplan::detail
