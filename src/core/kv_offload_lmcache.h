// `fit --offload cpu:SIZE --offload-backend lmcache`: vLLM 0.33's LMCacheMPConnector
// (--kv-offloading-backend lmcache) in front of an LMCache 0.5.6 multi-process server whose CPU
// store (L1) is SIZE (lmcache server --l1-size-gb). vLLM passes the server no size; kvplan plans
// one engine per server, as `--emit vllm` launches it. docs/engines.md ("LMCache") cites each rule.
#pragma once

#include <cstdint>

#include "core/capacity.h"
#include "core/model_shape.h"

namespace kvplan {

struct LmcacheTierPlan {
  std::uint32_t chunk_tokens = 256;     // MPServerConfig.chunk_size, the server's --chunk-size default
  std::uint32_t kv_workers = 1;         // objects per chunk: every TP worker's own, one for MLA
  Bytes bytes_per_token_per_rank;       // all the rank's cached layers
  Bytes object_bytes;                   // one worker's chunk: chunk tokens x bytes per token
  Bytes aligned_object_bytes;           // rounded up to the L1's 4096-byte alignment
  std::uint64_t objects = 0;            // floor(L1 bytes / aligned object)
  std::uint64_t chunks = 0;             // objects / kv workers
  std::uint64_t tokens = 0;             // chunks x chunk tokens: the L1 full
  Bytes staging_bytes_per_gpu;          // the server's temp GPU buffer: 4 chunks of one worker
};

// Throws kvplan::Error (exit 2) naming --offload-backend lmcache for what it does not plan: a vLLM
// block that does not divide the chunk, sparse MLA, an L1 smaller than one chunk.
LmcacheTierPlan plan_lmcache_tier(Bytes l1_bytes, const ModelShape& shape, const FitRequest& request,
                                  const FitResult& result, Bytes bytes_per_token_per_rank);

}  // namespace kvplan
