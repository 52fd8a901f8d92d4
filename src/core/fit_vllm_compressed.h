// DeepSeek-V4's compressed sparse attention in vLLM 0.33's start-up accounting: the backend and
// cache dtype it picks, and the packed block pool (core/compressed_mla.h) that replaces per-layer
// pages. docs/engines.md, "Compressed sparse attention".
#pragma once

#include <cstdint>

#include "core/capacity.h"
#include "core/vllm_backend.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// attention.py:_select_dsv4_attn_cls and _resolve_dsv4_kv_cache_dtype: FlashMLA's DSV4 classes on
// Hopper and Blackwell (sm_100) store fp8_ds_mla for auto (kvplan's default bf16) and fp8;
// --attention-backend FLASHINFER_MLA_SPARSE_DSV4 on Blackwell stores bf16 or fp8 rows. Throws
// kvplan::Error (exit 2) for other releases, GPUs, dtypes, PP and DCP.
VllmBackend choose_compressed_backend(const VllmRules& rules, const GpuSpec& gpu, const FitRequest& request,
                                      const std::string& engine_version);

// The per-rank cache fields fit shows: one latent row per token, whole on every rank.
void set_compressed_cache(const ModelShape& shape, const FitRequest& request, FitResult& result);

// Groups, blocks per request, the block's bytes and the block count for requests of
// `max_model_len` tokens; then vLLM's check that one such request fits beside the null block.
void plan_compressed_pool(const ModelShape& shape, std::uint64_t max_model_len, FitResult& result);

}  // namespace kvplan::detail
