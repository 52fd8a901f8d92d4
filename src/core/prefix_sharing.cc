#include "core/prefix_sharing.h"

#include <algorithm>

#include "core/checked.h"
#include "core/error.h"
#include "core/vllm_rules.h"

namespace kvplan {
namespace {

// The tokens a windowed group no longer holds for a request of L tokens at its last step, when
// L - 1 tokens are computed (get_num_skipped_tokens of vLLM 0.33's SlidingWindowManager and
// ChunkedLocalAttentionManager); remove_skipped_blocks frees the blocks wholly before them.
std::uint64_t skipped_tokens_at_last_step(LayerAttention attention, const PrefixPlanQuery& query) {
  const std::uint64_t computed = query.max_model_len - 1;
  if (attention == LayerAttention::sliding && query.sliding_window) {
    // computed - W + 1: the window of the next token starts there.
    return computed + 1 > *query.sliding_window ? computed + 1 - *query.sliding_window : 0;
  }
  if (attention == LayerAttention::chunked && query.attention_chunk_size) {
    // The chunks before the next token's own.
    return computed / *query.attention_chunk_size * *query.attention_chunk_size;
  }
  return 0;
}

// Blocks of one prefix that a full-length request still holds, shared, in a group of this kind.
// Only whole blocks are shared: a block's hash covers block_size tokens (hash_block_tokens), and
// a prefix that ends inside a block is copied into the request's own block (copy-on-write).
std::uint64_t shared_per_prefix(LayerAttention attention, const PrefixPlanQuery& query) {
  if (!query.caching || attention == LayerAttention::state || attention == LayerAttention::none) {
    // State layers (mamba_cache_mode align) copy the cached state at the prefix boundary into
    // the request's own running-state block and later free the hit block: nothing stays shared.
    return 0;
  }
  const std::uint64_t block =
      attention == LayerAttention::full && query.full_block_size != 0 ? query.full_block_size : query.block_size;
  const std::uint64_t prefix_blocks = query.prefix.tokens / block;
  const std::uint64_t first_held = skipped_tokens_at_last_step(attention, query) / block;
  return prefix_blocks > first_held ? prefix_blocks - first_held : 0;
}

}  // namespace

PrefixSharing plan_prefix_sharing(const PrefixPlanQuery& query) {
  PrefixSharing plan;
  plan.prefix = query.prefix;
  plan.caching = query.caching;
  plan.block_size = query.block_size;
  plan.pool_blocks = query.pool_blocks;
  plan.shared_tokens_per_prefix = query.caching ? query.prefix.tokens / query.block_size * query.block_size : 0;
  std::uint64_t shared_per_request = 0;
  for (const KvGroup& group : query.groups) {
    PrefixGroupShare share{group.attention, group.blocks_per_request, shared_per_prefix(group.attention, query)};
    // A windowed group's reservation already counts the blocks it holds; never share more.
    share.shared_per_prefix = std::min(share.shared_per_prefix, share.blocks_per_request);
    plan.blocks_per_request = checked_add(plan.blocks_per_request, share.blocks_per_request, "blocks per request");
    shared_per_request += share.shared_per_prefix;
    plan.groups.push_back(share);
  }
  plan.unique_blocks_per_request = plan.blocks_per_request - shared_per_request;
  plan.shared_blocks = checked_mul(query.prefix.prefixes, shared_per_request, "--prefixes x blocks per prefix");
  const std::uint64_t left = query.pool_blocks > plan.shared_blocks ? query.pool_blocks - plan.shared_blocks : 0;
  if (plan.unique_blocks_per_request == 0 || left < plan.unique_blocks_per_request) {
    throw Error("--prefixes " + std::to_string(query.prefix.prefixes) + ": the prefixes of " +
                std::to_string(query.prefix.tokens) + " tokens hold " + std::to_string(plan.shared_blocks) +
                " blocks of the pool's " + std::to_string(query.pool_blocks) + ", leaving " + std::to_string(left) +
                ", fewer than the " + std::to_string(plan.unique_blocks_per_request) + " blocks one request of " +
                std::to_string(query.max_model_len) + " tokens needs beside them; use fewer prefixes");
  }
  plan.max_concurrency = static_cast<double>(left) / static_cast<double>(plan.unique_blocks_per_request);
  plan.requests_per_replica =
      checked_mul(left / plan.unique_blocks_per_request, query.pools_per_replica, "requests per replica");
  plan.fleet_requests = checked_mul(plan.requests_per_replica, query.replicas, "requests on the fleet");
  return plan;
}

PrefixSharing share_prefix(const SharedPrefix& prefix, const ModelShape& shape, const FitRequest& request,
                           const FitResult& result) {
  const std::uint64_t len = request.max_model_len.value;
  if (prefix.tokens == 0) throw Error("--shared-prefix must be at least 1 token");
  if (prefix.tokens >= len) {
    throw Error("--shared-prefix " + std::to_string(prefix.tokens) + " must be shorter than --ctx " +
                std::to_string(len) + ": every request continues past its shared prefix");
  }
  PrefixPlanQuery query;
  query.prefix = prefix;
  query.max_model_len = len;
  query.block_size = result.block_size;
  query.pool_blocks = result.num_blocks;
  query.replicas = request.parallel.dp;
  switch (result.engine) {
    case Engine::vllm:
      if (!newest_vllm_release(result.engine_version)) {
        throw Error("--shared-prefix: kvplan follows vLLM 0.33's prefix cache only, not vLLM " +
                    result.engine_version + "'s; use --engine vllm");
      }
      query.groups = result.groups;
      query.full_block_size = result.full_block_size;
      query.sliding_window = shape.sliding_window;
      query.attention_chunk_size = shape.attention_chunk_size;
      query.caching = request.options.prefix_caching;
      break;
    case Engine::sglang:
      // Models with state layers get SGLang's MambaRadixCache, whose state checkpoints kvplan has
      // not read; its running requests are capped by state slots as well.
      if (result.state_pool) {
        throw Error("--shared-prefix with state layers under --engine sglang: kvplan has not modelled SGLang's "
                    "MambaRadixCache; use --engine vllm");
      }
      // The radix cache shares whole pages of the one token pool that sizes SGLang's concurrency
      // (the full pool of the hybrid SWA pool).
      query.groups = {{LayerAttention::full, result.group_size, result.blocks_per_request}};
      query.pools_per_replica = result.attention_dp;
      break;
    case Engine::trtllm:
      throw Error("--shared-prefix: kvplan has not read TensorRT-LLM's KV block reuse; use --engine vllm or sglang");
  }
  return plan_prefix_sharing(query);
}

}  // namespace kvplan
