// `fit --offload cpu:SIZE --link L`: vLLM 0.33's CPU offloading, native (--kv-offloading-size,
// OffloadingConnector) or through LMCache (kv_offload_lmcache.h): how many tokens the CPU tier
// holds by the engine's own chunk arithmetic,
// the time to bring one request's KV back over the host link, a lower bound on the time to
// recompute it, and the context length where the two are equal. docs/engines.md ("KV offloading
// (vLLM 0.33)") cites every rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/capacity.h"
#include "core/gpu_spec.h"
#include "core/kv_offload_disk.h"
#include "core/kv_offload_lmcache.h"
#include "core/links.h"
#include "core/model_shape.h"

namespace kvplan {

struct OffloadTiers {
  Bytes cpu;                 // cpu:SIZE, vLLM's cpu_bytes_to_use (total across the TP ranks)
  std::optional<Bytes> disk; // disk:SIZE, the space under the fs tier's root_dir
};

// --offload-backend: vLLM's --kv-offloading-backend.
enum class OffloadBackend { native, lmcache };

struct OffloadRequest {
  Bytes cpu;                            // native: cpu_bytes_to_use; lmcache: the server's L1
  Link link;                            // a host link (LinkUse::host)
  std::optional<Bytes> disk;
  Link disk_read;                       // given with disk
  OffloadBackend backend = OffloadBackend::native;
};

// Throws kvplan::Error (exit 2) naming --offload: a tier other than cpu or disk, a repeated
// tier, a zero size, disk without cpu (vLLM's fs tier sits behind the CPU tier).
OffloadTiers parse_offload_tiers(std::string_view text);
// native or lmcache; throws kvplan::Error naming --offload-backend.
OffloadBackend parse_offload_backend(std::string_view backend);

struct OffloadPlan {
  std::optional<LmcacheTierPlan> lmcache;   // --offload-backend lmcache: the server's L1 in place of native's chunks
  Bytes cpu_bytes;                          // cpu_bytes_to_use = kv_offloading_size x 2^30
  std::uint32_t world_size = 1;             // workers sharing the buffer (TP; PP and DCP are refused)
  std::uint32_t block_size = 0;             // GPU block = offloaded chunk (blocks_per_chunk 1)
  Bytes page_bytes;                         // one block of one layer, one rank
  std::uint32_t layers = 0;                 // cached layers on the rank
  Bytes worker_bytes_per_block;             // page x layers: one block, all layers, one rank
  Bytes chunk_bytes;                        // worker bytes x world size
  Bytes aligned_chunk_bytes;                // rounded up to the 4 KiB page (mmap.PAGESIZE)
  std::uint64_t cpu_chunks = 0;             // native: floor(cpu bytes / aligned chunk bytes)
  std::uint64_t chunks_per_request = 0;     // ceil(max_model_len / block size)
  std::uint64_t cpu_tokens = 0;             // cpu chunks x L // chunks per request, per replica
  std::uint32_t replicas = 1;               // DP, each with its own buffer
  std::uint64_t cpu_tokens_fleet = 0;       // x DP replicas
  std::uint64_t gpu_tokens = 0;             // the GPU tier, as fit found it
  std::uint64_t request_tokens = 0;         // L, max_model_len
  Bytes request_bytes_per_rank;             // ceil(L / block) x worker bytes per block
  Link link;                // a host link (LinkUse::host)
  double reload_s = 0;                      // request bytes per rank / link (each rank its own link)
  std::uint64_t active_params = 0;
  // Embedding and output head: a lookup, and a head vLLM runs on the last token only, so they are
  // left out of the per-token matmuls to keep the bound below the real count.
  std::uint64_t embedding_params = 0;       // vocab x hidden x (tied ? 1 : 2)
  std::uint64_t matmul_params = 0;          // N = active - embedding
  double attention_flops = 0;               // causal attention of an L-token prompt, all layers
  double recompute_flops = 0;               // 2 x N x L + attention
  double peak_flops_per_s = 0;              // bf16 dense peak x TP
  double recompute_s = 0;                   // recompute FLOPs / peak: a lower bound
  // Closed form: reload(L) = b L / B is linear, recompute(L) = (2 N L + a L^2) / P is not, so
  // they meet once at L* = (b P / B - 2 N) / a; below L* recompute is faster.
  double bytes_per_token_per_rank = 0;      // b = worker bytes per block / block size
  double attention_flops_per_token2 = 0;    // a
  double break_even_tokens = 0;             // L*, 0 or less: reloading is faster at every length
  std::optional<DiskTierPlan> disk;         // --offload ...,disk:SIZE
};

// Throws kvplan::Error (exit 2) for what kvplan does not model: engines other than vLLM 0.33,
// more than one KV-cache group (hybrid models), PP or DCP, native offloading of MLA with TP > 1
// (the replicated single-copy layout), LMCache with a disk tier, a model without a parameter
// count, a buffer smaller than one chunk.
OffloadPlan plan_offload(const OffloadRequest& offload, const ModelShape& shape, const GpuSpec& gpu,
                         const FitRequest& request, const FitResult& result);

}  // namespace kvplan
