#include "core/kv_offload.h"

#include <optional>

#include "core/checked.h"
#include "core/error.h"
#include "core/prefill_bound.h"
#include "core/units.h"
#include "core/vllm_rules.h"

namespace kvplan {
namespace {

// mmap.PAGESIZE on the x86-64 and aarch64 hosts vLLM runs on with 4 KiB pages:
// CPUOffloadingSpec.BLOCK_SIZE_ALIGNMENT = SharedOffloadRegion.BLOCK_SIZE_ALIGNMENT.
constexpr std::uint64_t kChunkAlignment = 4096;

}  // namespace

OffloadTiers parse_offload_tiers(std::string_view text) {
  std::optional<Bytes> cpu;
  std::optional<Bytes> disk;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view tier = text.substr(0, comma);
    const std::size_t colon = tier.find(':');
    if (colon == std::string_view::npos) {
      throw Error("--offload: expected cpu:SIZE[,disk:SIZE] such as cpu:512GiB, got '" + std::string(tier) + "'");
    }
    const std::string kind(tier.substr(0, colon));
    if (kind != "cpu" && kind != "disk") throw Error("--offload: unknown tier '" + kind + "' (cpu, disk)");
    std::optional<Bytes>& size = kind == "cpu" ? cpu : disk;
    if (size) throw Error("--offload: " + kind + " given twice");
    size = parse_bytes(tier.substr(colon + 1), "--offload " + kind);
    if (size->value == 0) throw Error("--offload " + kind + ": the size must be more than 0 bytes");
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  // TieringOffloadingSpec is a CPUOffloadingSpec: cpu_bytes_to_use is required and every
  // secondary tier reads and writes through the CPU tier.
  if (!cpu) throw Error("--offload disk: vLLM 0.33's file-system tier sits behind a CPU tier; give cpu:SIZE too");
  return {*cpu, disk};
}

OffloadBackend parse_offload_backend(std::string_view backend) {
  if (backend == "native") return OffloadBackend::native;
  if (backend == "lmcache") return OffloadBackend::lmcache;
  throw Error("--offload-backend: expected native or lmcache, got '" + std::string(backend) + "'");
}

OffloadPlan plan_offload(const OffloadRequest& offload, const ModelShape& shape, const GpuSpec& gpu,
                         const FitRequest& request, const FitResult& result) {
  if (result.engine != Engine::vllm || !newest_vllm_release(result.engine_version)) {
    throw Error("--offload: kvplan plans vLLM 0.33's CPU offloading only (native, or LMCache behind it); use --engine "
                "vllm@0.33");
  }
  const Parallelism& parallel = request.parallel;
  if (parallel.pp > 1 || parallel.dcp > 1) {
    throw Error("--offload: kvplan does not plan offloading with --pp or --dcp (each stage's chunk differs); drop them");
  }
  const bool lmcache = offload.backend == OffloadBackend::lmcache;
  if (result.groups.size() != 1 || result.groups.front().attention != LayerAttention::full) {
    // LMCache 0.5.6's own LMCacheMPConnector keeps the hybrid allocator (SupportsHMA); vLLM's
    // built-in fallback (LMCACHE_USE_UPSTREAM_MP=1) turns it off, which the user can plan.
    throw Error("--offload: kvplan plans offloading for models with one full-attention KV-cache group only; " +
                std::to_string(result.groups.size()) + " groups here" +
                (lmcache ? " (LMCache 0.5.6's connector keeps vLLM's hybrid allocator on; with vLLM's built-in "
                           "connector, LMCACHE_USE_UPSTREAM_MP=1, it is off: plan that with "
                           "--disable-hybrid-kv-cache-manager)"
                         : ""));
  }
  if (lmcache && offload.disk) {
    throw Error("--offload disk: kvplan plans a disk tier behind vLLM's native offloading only; LMCache's L2 adapters "
                "are its server's own");
  }
  if (result.indexer_page_bytes.value > 0) {
    throw Error("--offload: the model caches indexer keys on some layers only (index_topk_freq / index_topk_pattern), "
                "so its layers' bytes differ, which kvplan's offload chunks do not model");
  }
  if (!lmcache && shape.mla && parallel.tp > 1) {
    throw Error("--offload: MLA with TP > 1 may use vLLM's single-copy replicated layout, which kvplan does not plan");
  }

  OffloadPlan plan;
  plan.cpu_bytes = offload.cpu;
  plan.world_size = parallel.tp;
  plan.block_size = result.block_size;
  // OffloadingConnector's config (offloading/config.py): worker_kv_bytes_per_block is one GPU
  // block of every layer on one worker; blocks_per_chunk is 1 unless extra_config says otherwise.
  plan.page_bytes = result.page_bytes;
  plan.layers = result.stage_layers.front();
  plan.worker_bytes_per_block = Bytes{checked_mul(plan.page_bytes.value, plan.layers, "--offload: bytes per block")};
  // CPUOffloadingSpec.__init__: every worker's copy of a chunk sits side by side in one buffer of
  // cpu_bytes_to_use bytes, the chunk rounded up to the page size.
  plan.chunk_bytes = Bytes{checked_mul(plan.worker_bytes_per_block.value, plan.world_size, "--offload: chunk bytes")};
  plan.aligned_chunk_bytes =
      Bytes{checked_round_up(plan.chunk_bytes.value, kChunkAlignment, "--offload: aligned chunk bytes")};
  if (lmcache) {
    plan.lmcache = plan_lmcache_tier(plan.cpu_bytes, shape, request, result,
                                     Bytes{plan.worker_bytes_per_block.value / plan.block_size});
  } else {
    plan.cpu_chunks = plan.cpu_bytes.value / plan.aligned_chunk_bytes.value;
    if (plan.cpu_chunks == 0) {
      throw Error("--offload cpu: " + std::to_string(plan.cpu_bytes.value) + " bytes hold no chunk of " +
                  std::to_string(plan.aligned_chunk_bytes.value) + " bytes");
    }
  }
  // cpu/common.py:_kv_cache_size_tokens, the figure vLLM reports like the GPU's "KV cache size":
  // chunks x max_model_len // chunks one max_model_len request needs.
  plan.request_tokens = request.max_model_len.value;
  plan.chunks_per_request = ceil_div(plan.request_tokens, plan.block_size);
  plan.cpu_tokens = plan.lmcache ? plan.lmcache->tokens
                                 : checked_mul(plan.cpu_chunks, plan.request_tokens, "--offload: CPU tokens") /
                                       plan.chunks_per_request;
  plan.replicas = parallel.dp;
  plan.cpu_tokens_fleet = checked_mul(plan.cpu_tokens, plan.replicas, "--offload: CPU tokens in the fleet");
  plan.gpu_tokens = result.kv_tokens;
  // A request comes back in whole chunks: vLLM blocks (native) or LMCache's chunks of 256 tokens,
  // each worker reading its own object (the one shared latent for MLA).
  plan.request_bytes_per_rank =
      plan.lmcache ? Bytes{checked_mul(ceil_div(plan.request_tokens, plan.lmcache->chunk_tokens),
                                       plan.lmcache->object_bytes.value, "--offload: request bytes")}
                   : Bytes{checked_mul(plan.chunks_per_request, plan.worker_bytes_per_block.value,
                                       "--offload: request bytes")};
  plan.link = offload.link;
  plan.reload_s = static_cast<double>(plan.request_bytes_per_rank.value) / plan.link.bytes_per_s;

  const PrefillBound recompute = prefill_bound(shape, request.variant, gpu, plan.request_tokens, parallel.tp,
                                               "--offload: the recompute bound");
  plan.attention_flops_per_token2 = recompute.attention_flops_per_token2;
  plan.active_params = recompute.active_params;
  plan.embedding_params = recompute.embedding_params;
  plan.matmul_params = recompute.matmul_params;
  plan.attention_flops = recompute.attention_flops;
  plan.recompute_flops = recompute.flops;
  plan.peak_flops_per_s = recompute.peak_flops_per_s;
  plan.recompute_s = recompute.seconds;
  const double matmul = static_cast<double>(plan.matmul_params);
  plan.bytes_per_token_per_rank =
      static_cast<double>(plan.worker_bytes_per_block.value) / static_cast<double>(plan.block_size);
  plan.break_even_tokens = (plan.bytes_per_token_per_rank * plan.peak_flops_per_s / plan.link.bytes_per_s -
                            2.0 * matmul) /
                           plan.attention_flops_per_token2;
  if (offload.disk) {
    plan.disk = plan_disk_tier(*offload.disk, offload.disk_read, plan.aligned_chunk_bytes, plan.chunks_per_request,
                               plan.request_tokens, plan.reload_s);
  }
  return plan;
}

}  // namespace kvplan
