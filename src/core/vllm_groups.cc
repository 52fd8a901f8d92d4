#include "core/vllm_groups.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan::detail {

std::vector<VllmGroup> vllm_kv_groups(const std::vector<LayerAttention>& layer_kinds, VllmGrouping grouping,
                                      bool chunked_as_full) {
  // Layers by kind, kinds in the order they first appear (vLLM buckets specs in layer order).
  std::vector<std::pair<LayerAttention, std::vector<std::uint32_t>>> buckets;
  for (std::uint32_t layer = 0; layer < layer_kinds.size(); ++layer) {
    LayerAttention kind = layer_kinds[layer];
    if (grouping == VllmGrouping::none || (kind == LayerAttention::chunked && chunked_as_full)) kind = LayerAttention::full;
    auto bucket = std::find_if(buckets.begin(), buckets.end(), [&](const auto& entry) { return entry.first == kind; });
    if (bucket == buckets.end()) bucket = buckets.insert(buckets.end(), {kind, {}});
    bucket->second.push_back(layer);
  }
  if (buckets.size() == 1) {
    // is_kv_cache_spec_uniform / UniformTypeKVCacheSpecs: every layer in one group.
    return {{buckets.front().first, buckets.front().second}};
  }
  // _get_kv_cache_groups_uniform_page_size (0.10: _get_kv_cache_config_uniform_page_size).
  std::size_t fewest = layer_kinds.size(), most = 0;
  for (const auto& [kind, layers] : buckets) {
    fewest = std::min(fewest, layers.size());
    most = std::max(most, layers.size());
  }
  const bool pad_to_most = grouping == VllmGrouping::strided && static_cast<double>(most) < 1.5 * static_cast<double>(fewest);
  const std::size_t group_size = pad_to_most ? most : fewest;
  std::vector<VllmGroup> groups;
  for (const auto& [attention, layers] : buckets) {
    const std::size_t count = ceil_div(layers.size(), group_size);
    for (std::size_t g = 0; g < count; ++g) {
      VllmGroup group{attention, {}};
      if (grouping == VllmGrouping::strided) {
        for (std::size_t i = g; i < layers.size(); i += count) group.layers.push_back(layers[i]);
      } else {
        for (std::size_t i = g * group_size; i < std::min(layers.size(), (g + 1) * group_size); ++i) {
          group.layers.push_back(layers[i]);
        }
      }
      groups.push_back(std::move(group));
    }
  }
  return groups;
}

namespace {

// "1 full + 2 sliding": the groups' kinds and counts, in the order unify_kv_cache_configs sorts
// them (by spec type name: FullAttentionSpec, then the others).
std::string group_census(const std::vector<VllmGroup>& groups) {
  std::string text;
  const std::pair<LayerAttention, const char*> kinds[] = {
      {LayerAttention::full, "full"}, {LayerAttention::chunked, "chunked"}, {LayerAttention::sliding, "sliding"}};
  for (const auto& entry : kinds) {
    const LayerAttention kind = entry.first;
    const auto count = std::count_if(groups.begin(), groups.end(), [&](const VllmGroup& g) { return g.attention == kind; });
    if (count == 0) continue;
    if (!text.empty()) text += " + ";
    text += std::to_string(count) + " " + entry.second;
  }
  return text;
}

}  // namespace

std::vector<VllmGroup> vllm_kv_groups_per_stage(const std::vector<LayerAttention>& layer_kinds,
                                                const std::vector<std::uint32_t>& stage_of_layer, std::uint32_t pp,
                                                bool chunked_as_full, std::size_t* first_stage_groups) {
  std::vector<VllmGroup> all;
  std::string first_census;
  for (std::uint32_t stage = 0; stage < pp; ++stage) {
    std::vector<LayerAttention> kinds;
    std::vector<std::uint32_t> model_index;
    for (std::uint32_t layer = 0; layer < layer_kinds.size(); ++layer) {
      if (stage_of_layer[layer] != stage) continue;
      kinds.push_back(layer_kinds[layer]);
      model_index.push_back(layer);
    }
    std::vector<VllmGroup> groups = vllm_kv_groups(kinds, VllmGrouping::fewest_in_runs, chunked_as_full);
    const std::string census = group_census(groups);
    if (stage == 0) {
      first_census = census;
      *first_stage_groups = groups.size();
    } else if (census != first_census) {
      throw Error("vLLM 0.10 groups each PP worker's layers on their own, and here the stages form different KV "
                  "cache groups (stage 0: " + first_census + ", stage " + std::to_string(stage) + ": " + census +
                  "), which its unify_kv_cache_configs does not accept; plan it with another --pp, or with --engine "
                  "vllm@0.19 or newer, which groups the whole model");
    }
    for (VllmGroup& group : groups) {
      for (std::uint32_t& layer : group.layers) layer = model_index[layer];
      all.push_back(std::move(group));
    }
  }
  return all;
}

std::uint32_t widest_group_on_stage(const std::vector<VllmGroup>& groups, const std::vector<std::uint32_t>& stage_of_layer,
                                    std::uint32_t stage) {
  std::uint32_t widest = 0;
  for (const VllmGroup& group : groups) {
    std::uint32_t here = 0;
    for (std::uint32_t layer : group.layers) here += stage_of_layer[layer] == stage;
    widest = std::max(widest, here);
  }
  return widest;
}

std::uint64_t blocks_per_request(LayerAttention attention, std::uint64_t max_model_len, const BlockDemand& demand) {
  if (attention == LayerAttention::state) return demand.state_blocks;
  if (attention == LayerAttention::chunked && demand.attention_chunk_size) {
    // ChunkedLocalAttentionSpec.max_admission_blocks_per_request: one chunk and the tokens in flight.
    const std::uint64_t held = checked_add(*demand.attention_chunk_size, demand.tokens_in_flight, "chunked tokens");
    return ceil_div(std::min(held, max_model_len), demand.block_size);
  }
  const std::uint32_t block = demand.block_for(attention);
  if (attention != LayerAttention::sliding || !demand.sliding_window) {
    // FullAttentionSpec.max_memory_usage_bytes: a DCP rank holds cdiv(max_model_len, dcp) of the
    // tokens, token i on rank i mod dcp (cp_kv_cache_interleave_size 1), so the request takes
    // cdiv(max_model_len, block x dcp) blocks, max_num_blocks_per_req's width of its block table.
    return ceil_div(ceil_div(max_model_len, demand.dcp), block);
  }
  // SlidingWindowSpec.max_admission_blocks_per_request.
  const std::uint64_t held = checked_add(*demand.sliding_window - 1, demand.tokens_in_flight, "sliding-window tokens");
  return ceil_div(std::min(held, max_model_len), block) + 1;
}

}  // namespace kvplan::detail
