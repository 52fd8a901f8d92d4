#include "core/kv_offload_disk.h"

#include <string>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {

DiskTierPlan plan_disk_tier(Bytes disk_bytes, const Link& disk_read, Bytes aligned_chunk_bytes,
                            std::uint64_t chunks_per_request, std::uint64_t request_tokens, double host_reload_s) {
  DiskTierPlan plan;
  plan.disk_bytes = disk_bytes;
  // FileSystemTierManager.__init__ takes its block size from the CPU tier's view, strides[0]: the
  // aligned row that holds every rank's slice of one chunk, and batch_store_block writes exactly
  // that many bytes to one file per chunk. A multiple of 4096, so no partial file-system block.
  plan.file_bytes = aligned_chunk_bytes;
  plan.disk_chunks = disk_bytes.value / plan.file_bytes.value;
  if (plan.disk_chunks == 0) {
    throw Error("--offload disk: " + std::to_string(disk_bytes.value) + " bytes hold no chunk file of " +
                std::to_string(plan.file_bytes.value) + " bytes");
  }
  // The same count as cpu/common.py:_kv_cache_size_tokens; vLLM reports none for the fs tier.
  plan.disk_tokens = checked_mul(plan.disk_chunks, request_tokens, "--offload disk: tokens") / chunks_per_request;
  plan.request_bytes =
      Bytes{checked_mul(chunks_per_request, plan.file_bytes.value, "--offload disk: one request's files")};
  plan.disk_read = disk_read;
  // The scheduler process reads whole rows (every rank's slice) into the CPU tier: secondary
  // tiers cannot reach GPU memory (TieringOffloadingSpec), so the CPU -> GPU load follows.
  plan.disk_read_s = static_cast<double>(plan.request_bytes.value) / disk_read.bytes_per_s;
  plan.host_reload_s = host_reload_s;
  plan.disk_to_gpu_s = plan.disk_read_s + host_reload_s;
  return plan;
}

}  // namespace kvplan
