// Which attention backend vLLM picks for a model on a GPU, and the KV block size that follows
// from it (platforms/cuda.py's priority lists and each backend's supported cache dtypes, compute
// capabilities and kernel block sizes). The block size decides the page, so it moves the block
// count and the concurrency line. docs/engines.md lists the table with its sources.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/dtype.h"
#include "core/gpu_spec.h"
#include "core/vllm_rules.h"

namespace kvplan {

struct VllmBackendQuery {
  GpuArchitecture architecture = GpuArchitecture::other;
  bool mla = false;
  bool sparse_mla = false;  // MLA with a top-k indexer (DeepSeek-V3.2): only the sparse backends serve it
  KvDtype kv_dtype = KvDtype::bf16;
  std::optional<std::string> requested;         // --attention-backend, vLLM's name
  std::optional<std::uint32_t> user_block_size;  // --block-size: vLLM keeps it if the backend accepts it
  std::uint32_t heads_per_rank = 0;  // query heads per TP rank: Blackwell's sparse MLA priorities depend on it
  bool dcp = false;  // --decode-context-parallel-size > 1: only backends whose impl supports_dcp are valid
};

struct VllmBackend {
  std::string name;            // vLLM's AttentionBackendEnum name
  std::uint32_t block_size = 0;
  std::uint32_t kernel_block = 16;  // the smallest block its kernels take
  KvDtype cache_dtype = KvDtype::bf16;  // what it stores: FLASHMLA_SPARSE turns fp8 into fp8_ds_mla
  std::string why;             // how it was chosen, for --explain
};

// Throws kvplan::Error (exit 2) when no backend of that release serves the combination (e.g.
// fp8_ds_mla for a dense MLA model), for an unknown or unsuitable --attention-backend, for a
// --block-size the backend's kernels cannot take, and for a DCP combination the chosen backend's
// implementation refuses when it starts.
VllmBackend choose_vllm_backend(const VllmRules& rules, const VllmBackendQuery& query);

// A model served with images attending both ways (Gemma-4's use_bidirectional_attention "vision",
// vLLM's is_mm_prefix_lm): platforms/cuda.py puts the image-mask composites first,
// TRITON_FLASH_ATTN (Triton for image masks, FlashAttention otherwise; kernels take multiples of
// 16) on Hopper and TRITON_FLASHINFER (kernel_block_sizes 64) on Blackwell (sm_100). Throws
// kvplan::Error (exit 2) on other GPUs, for --attention-backend (not modelled for these models)
// and for a --block-size the composite cannot take.
VllmBackend choose_vllm_mm_prefix_backend(const VllmRules& rules, const VllmBackendQuery& query);

// Layers whose values are narrower than their keys (MiMo-V2-Flash: K 192, V 128) get a DiffKV
// backend from the model itself (mimo_v2.py:MiMoV2Attention): FLASH_ATTN_DIFFKV where FlashAttention
// 3 or 4 runs (Hopper, Blackwell), TRITON_ATTN_DIFFKV elsewhere; both take multiples of 16 tokens.
// A --attention-backend other than these two is ignored by vLLM and refused here. Throws
// kvplan::Error (exit 2) off NVIDIA GPUs, for cache dtypes the chosen backend refuses and for a
// --block-size it cannot take.
VllmBackend choose_vllm_diffkv_backend(const VllmRules& rules, const VllmBackendQuery& query);

// "FLASH_ATTN, FLASHINFER, ...": the names --attention-backend accepts.
std::string known_vllm_backends();

}  // namespace kvplan
