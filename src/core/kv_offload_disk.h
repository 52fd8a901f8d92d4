// `fit --offload cpu:SIZE,disk:SIZE --disk-read BW`: vLLM 0.33's file-system tier behind the CPU
// tier (TieringOffloadingSpec with secondary_tiers [{"type": "fs"}]). vLLM gives that tier no size:
// it writes one file per chunk under root_dir and never evicts, so SIZE is the free space the user
// gives the directory, and kvplan counts the chunks and tokens that space holds by the CPU tier's
// own chunk arithmetic. docs/engines.md ("KV offloading (vLLM 0.33)") cites every rule.
#pragma once

#include <cstdint>

#include "core/links.h"
#include "core/units.h"

namespace kvplan {

struct DiskTierPlan {
  Bytes disk_bytes;                        // --offload disk:SIZE, the space under root_dir
  Bytes file_bytes;                        // one chunk's file: the CPU tier's aligned row, all ranks
  std::uint64_t disk_chunks = 0;           // floor(disk bytes / file bytes)
  // chunks x L // chunks per request. One store for every DP replica given the same root_dir:
  // FileMapper names the folder by model and layout, not by engine_id.
  std::uint64_t disk_tokens = 0;
  Bytes request_bytes;                     // chunks per request x file bytes: one request's files
  Link disk_read;                          // --disk-read, no default: drives differ too much
  double disk_read_s = 0;                  // request bytes / disk read bandwidth
  double host_reload_s = 0;                // then CPU -> GPU, the CPU tier's reload
  double disk_to_gpu_s = 0;                // the two in series: a promotion lands in CPU first
};

// Throws kvplan::Error (exit 2) naming --offload disk when SIZE holds no file of one chunk.
DiskTierPlan plan_disk_tier(Bytes disk_bytes, const Link& disk_read, Bytes aligned_chunk_bytes,
                            std::uint64_t chunks_per_request, std::uint64_t request_tokens, double host_reload_s);

}  // namespace kvplan
