// Prefix sharing (`fit --shared-prefix P --prefixes K`): K distinct prefixes of P tokens, each
// shared by every request that starts with it. Each engine holds a shared prefix once per
// distinct prefix, in whole blocks (pages) only; what one full-length request holds beyond them
// is its own. docs/engines.md ("Prefix sharing") and docs/engines-sglang.md cite the rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/capacity.h"

namespace kvplan {

struct SharedPrefix {
  std::uint64_t tokens = 0;    // P, tokens in each prefix
  std::uint64_t prefixes = 1;  // K, distinct prefixes
};

// One group of the pool (a vLLM KV-cache group; SGLang's token pool as one full group).
struct PrefixGroupShare {
  LayerAttention attention = LayerAttention::full;
  std::uint64_t blocks_per_request = 0;  // what a full-length request charges the group, unshared
  std::uint64_t shared_per_prefix = 0;   // of those, the blocks it shares with the prefix's other users
};

// What the planner needs besides the prefix: the pool and the groups of one fit.
struct PrefixPlanQuery {
  SharedPrefix prefix;
  std::uint64_t max_model_len = 0;   // L
  std::uint32_t block_size = 0;      // tokens per block (vLLM) or page (SGLang)
  std::uint32_t full_block_size = 0; // vLLM, Gemma-4: the full layers' block after page unification; 0 = block_size
  std::uint64_t pool_blocks = 0;     // blocks (pages) in one pool
  std::vector<KvGroup> groups;       // kind and blocks per request of each group
  std::optional<std::uint64_t> sliding_window;
  std::optional<std::uint64_t> attention_chunk_size;
  bool caching = true;               // vLLM --no-enable-prefix-caching: nothing is shared
  std::uint32_t pools_per_replica = 1;  // SGLang --dp-attention: one pool (and prefix cache) per rank
  std::uint32_t replicas = 1;           // DP replicas, each with its own pools
};

struct PrefixSharing {
  SharedPrefix prefix;
  bool caching = true;
  std::uint32_t block_size = 0;
  std::uint64_t shared_tokens_per_prefix = 0;  // floor(P / block) x block: the tokens in shared blocks
  std::vector<PrefixGroupShare> groups;
  std::uint64_t pool_blocks = 0;
  std::uint64_t shared_blocks = 0;              // K x sum of shared_per_prefix, held once per prefix
  std::uint64_t blocks_per_request = 0;         // sum over groups, unshared
  std::uint64_t unique_blocks_per_request = 0;  // blocks_per_request - shared per prefix
  double max_concurrency = 0;                   // (pool_blocks - shared_blocks) / unique_blocks_per_request
  std::uint64_t requests_per_replica = 0;       // floor(max_concurrency) x pools per replica
  std::uint64_t fleet_requests = 0;             // requests_per_replica x replicas
};

// Throws kvplan::Error (exit 2) naming --prefixes when the shared blocks leave no room for one
// request, and the overflow error when K x blocks per prefix passes 2^64.
PrefixSharing plan_prefix_sharing(const PrefixPlanQuery& query);

// The plan for one fit, by its engine's rules. Throws kvplan::Error (exit 2) for P = 0, P >= L,
// and for an engine or release whose prefix cache kvplan has not read (TensorRT-LLM, vLLM
// before 0.33).
PrefixSharing share_prefix(const SharedPrefix& prefix, const ModelShape& shape, const FitRequest& request,
                           const FitResult& result);

}  // namespace kvplan
