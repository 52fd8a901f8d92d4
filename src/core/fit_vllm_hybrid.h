// The layer kinds vLLM 0.33 plans beside plain attention, as fit_vllm.cc applies them: sparse
// MLA (DeepSeek-V3.2's indexer and sparse backends), state layers sharing the block pool (Mamba-2,
// Gated DeltaNet) and full layers with their own K/V heads (Gemma-4). docs/engines.md, "Sparse
// MLA", "State layers" and "Layers with their own K/V heads".
#pragma once

#include <cstdint>

#include "core/gpu_spec.h"

#include "core/capacity.h"
#include "core/vllm_backend.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// True when the model is sparse MLA; refuses what vLLM cannot serve (other releases, variants)
// and notes the indexer cache in `result`.
bool sparse_mla(const ModelShape& shape, const VllmRules& rules, const FitRequest& request, FitResult& result);

// The cache dtype vLLM serves a model with when kvplan's --kv-dtype is `requested`: GLM-5
// (glm_moe_dsa) on Blackwell turns the default into fp8_e4m3, noted in `result`; otherwise `requested`.
KvDtype served_cache_dtype(const ModelShape& shape, const GpuSpec& gpu, KvDtype requested, FitResult& result);

// State layers share the pool: the attention block grows until its page covers one sequence's
// state, which is padded to it (vllm_state.h). Sets the block size and returns the blocks each
// state group charges a request.
std::uint64_t align_state_layers(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                 const VllmRules& rules, const VllmBackend& backend, FitResult& result);

// Gemma-4's full layers cache other K/V heads than its sliding layers, so their pages differ.
// vLLM 0.33 unifies them (kv_cache_planning.py::unify_kv_cache_spec_page_size): the larger page
// stays, the other kind's block grows by the ratio when its page divides the larger one, else its
// page is padded. Sets result's full-layer fields, page_bytes and page_rule; returns the blocks
// of the two kinds in a BlockDemand's full_block_size / sliding_block_size.
// Per-kind K/V heads as vLLM serves them: in 0.33 only, and Gemma-4 with its images attending both
// ways (the composite backends); throws kvplan::Error (exit 2) otherwise.
void check_kind_kv_heads(const ModelShape& shape, const VllmRules& rules, const FitResult& result);

struct KindBlocks {
  std::uint32_t full = 0;
  std::uint32_t sliding = 0;
};
KindBlocks unify_kind_pages(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& cached, FitResult& result);

}  // namespace kvplan::detail
