// vLLM's KV cache groups: which layers share a block table, how many blocks one request needs in
// each, and how wide one block of the shared pool is on each PP stage (docs/engines.md, "Groups
// and blocks").
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/model_shape.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// One group of the whole model: its kind and its layers (indices into the model's cached layers,
// MTP layers after the hidden ones).
struct VllmGroup {
  LayerAttention attention = LayerAttention::full;
  std::vector<std::uint32_t> layers;
};

// The groups for the whole model (get_kv_cache_groups): one group when every layer has the same
// kind (or in V0, which caches sliding layers like full ones); otherwise groups of equal size per
// kind, the size being the fewest layers of a kind (strided: or the most, when that is under 1.5x
// the fewest, padding instead), with layer i of a kind in group i mod n (strided) or consecutive
// layers together (fewest_in_runs). `chunked_as_full`: the release turns the hybrid allocator off
// for chunked local attention, caching those layers like full ones.
std::vector<VllmGroup> vllm_kv_groups(const std::vector<LayerAttention>& layer_kinds, VllmGrouping grouping,
                                      bool chunked_as_full);

// vLLM 0.10 under PP (v1/engine/core.py:EngineCore._initialize_kv_caches): every PP worker
// groups only the layers it holds (get_kv_cache_config per worker, fewest in runs), and
// unify_kv_cache_configs gives every worker the smallest block count and checks that its groups
// match worker 0's, whose groups the scheduler runs. Returns each stage's groups in turn (stage 0's
// first, `first_stage_groups` of them) with the model's layer indices; throws kvplan::Error when
// the stages form different groups, where vLLM 0.10 fails its check or runs workers whose block
// tables disagree.
std::vector<VllmGroup> vllm_kv_groups_per_stage(const std::vector<LayerAttention>& layer_kinds,
                                                const std::vector<std::uint32_t>& stage_of_layer, std::uint32_t pp,
                                                bool chunked_as_full, std::size_t* first_stage_groups);

// Layers of the widest group on a stage: a block of the pool holds one page of each of them.
std::uint32_t widest_group_on_stage(const std::vector<VllmGroup>& groups, const std::vector<std::uint32_t>& stage_of_layer,
                                    std::uint32_t stage);

// Blocks one request of `max_model_len` tokens needs in a group of this kind: all its tokens for
// full attention (its 1/DCP share with decode context parallelism); for a sliding window W the
// window, the tokens still in flight and one block for a window that straddles a block boundary.
struct BlockDemand {
  std::uint32_t block_size = 16;
  std::optional<std::uint64_t> sliding_window;
  std::optional<std::uint64_t> attention_chunk_size;
  std::uint64_t tokens_in_flight = 0;  // added to W - 1 for sliding layers, to the chunk for chunked ones
  std::uint64_t state_blocks = 0;      // what a state group charges every request (VllmStatePlan)
  // Gemma-4: a kind's block when page unification raised it (unify_kind_pages); 0 = block_size.
  std::uint32_t full_block_size = 0;
  std::uint32_t sliding_block_size = 0;
  std::uint32_t dcp = 1;  // ranks each request's tokens are spread over (full-attention groups)
  std::uint32_t block_for(LayerAttention attention) const {
    if (attention == LayerAttention::full && full_block_size != 0) return full_block_size;
    if (attention == LayerAttention::sliding && sliding_block_size != 0) return sliding_block_size;
    return block_size;
  }
};
std::uint64_t blocks_per_request(LayerAttention attention, std::uint64_t max_model_len, const BlockDemand& demand);

}  // namespace kvplan::detail
