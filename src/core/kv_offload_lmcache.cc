#include "core/kv_offload_lmcache.h"

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {
namespace {

// LMCache 0.5.6: v1/multiprocess/config.py:MPServerConfig.chunk_size; v1/distributed/config.py
// (--l1-align-bytes, L1MemoryManagerConfig.align_bytes); v1/platform/devices/cuda/cache_context.py
// (_TempGPUBuffer's max_batch_size).
constexpr std::uint32_t kChunkTokens = 256;
constexpr std::uint64_t kL1Alignment = 4096;
constexpr std::uint64_t kStagingChunks = 4;
constexpr std::string_view kWhat = "--offload-backend lmcache";

}  // namespace

LmcacheTierPlan plan_lmcache_tier(Bytes l1_bytes, const ModelShape& shape, const FitRequest& request,
                                  const FitResult& result, Bytes bytes_per_token_per_rank) {
  // vllm_multi_process_adapter.py:LMCacheMPWorkerAdapter.register_kv_caches: "LMCache chunk size
  // must be a multiple of engine group tokens_per_block".
  if (kChunkTokens % result.block_size != 0) {
    throw Error("--offload-backend lmcache: LMCache's chunk of 256 tokens is not a multiple of vLLM's block of " +
                std::to_string(result.block_size) + " tokens, which LMCache refuses; pick another --block-size");
  }
  if (shape.indexer || request.kv_dtype == KvDtype::fp8_ds_mla) {
    throw Error("--offload-backend lmcache: kvplan has not read how LMCache lays out sparse MLA's fp8_ds_mla pages and "
                "indexer keys; use native");
  }
  LmcacheTierPlan plan;
  plan.chunk_tokens = kChunkTokens;
  // lmcache_mp_connector.py:extract_world_size_and_kv_rank: an MLA latent is stored once per TP
  // group (world_size // tp_size), every other cache once per worker (custom_types.py keys each
  // object by worker_id).
  plan.kv_workers = shape.mla ? 1 : request.parallel.tp;
  plan.bytes_per_token_per_rank = bytes_per_token_per_rank;
  // cache_context.py:_get_shape_for_kernel_group: (kv_size, layers, chunk tokens, heads x head size)
  // per kernel group, all in one object group: the chunk's bytes of every layer on the worker.
  plan.object_bytes = Bytes{checked_mul(bytes_per_token_per_rank.value, kChunkTokens, kWhat)};
  plan.aligned_object_bytes = Bytes{checked_round_up(plan.object_bytes.value, kL1Alignment, kWhat)};
  // memory_allocators: batched_allocate takes compute_aligned_size(raw size) per object.
  plan.objects = l1_bytes.value / plan.aligned_object_bytes.value;
  plan.chunks = plan.objects / plan.kv_workers;
  if (plan.chunks == 0) {
    throw Error("--offload cpu: LMCache's L1 of " + std::to_string(l1_bytes.value) + " bytes holds no chunk of " +
                std::to_string(plan.kv_workers) + " x " + std::to_string(plan.aligned_object_bytes.value) + " bytes");
  }
  plan.tokens = checked_mul(plan.chunks, kChunkTokens, kWhat);
  plan.staging_bytes_per_gpu = Bytes{checked_mul(plan.object_bytes.value, kStagingChunks, kWhat)};
  return plan;
}

}  // namespace kvplan
