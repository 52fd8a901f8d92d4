#include "core/vllm_groups.h"

#include <algorithm>

#include "core/checked.h"

namespace kvplan::detail {

std::vector<VllmGroup> vllm_kv_groups(const std::vector<LayerAttention>& layer_kinds, VllmGrouping grouping) {
  std::vector<std::uint32_t> full, sliding;
  for (std::uint32_t layer = 0; layer < layer_kinds.size(); ++layer) {
    bool is_sliding = grouping != VllmGrouping::none && layer_kinds[layer] == LayerAttention::sliding;
    (is_sliding ? sliding : full).push_back(layer);
  }
  if (full.empty() || sliding.empty()) {
    // is_kv_cache_spec_uniform / UniformTypeKVCacheSpecs: every layer in one group.
    return {{full.empty() ? LayerAttention::sliding : LayerAttention::full, full.empty() ? sliding : full}};
  }
  // _get_kv_cache_groups_uniform_page_size (0.10: _get_kv_cache_config_uniform_page_size).
  const std::size_t fewest = std::min(full.size(), sliding.size());
  const std::size_t most = std::max(full.size(), sliding.size());
  const bool pad_to_most = grouping == VllmGrouping::strided && static_cast<double>(most) < 1.5 * static_cast<double>(fewest);
  const std::size_t group_size = pad_to_most ? most : fewest;
  std::vector<VllmGroup> groups;
  for (auto& [attention, layers] : {std::pair{LayerAttention::full, &full}, std::pair{LayerAttention::sliding, &sliding}}) {
    const std::size_t count = ceil_div(layers->size(), group_size);
    for (std::size_t g = 0; g < count; ++g) {
      VllmGroup group{attention, {}};
      if (grouping == VllmGrouping::strided) {
        for (std::size_t i = g; i < layers->size(); i += count) group.layers.push_back((*layers)[i]);
      } else {
        for (std::size_t i = g * group_size; i < std::min(layers->size(), (g + 1) * group_size); ++i) {
          group.layers.push_back((*layers)[i]);
        }
      }
      groups.push_back(std::move(group));
    }
  }
  return groups;
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
  if (attention == LayerAttention::full || !demand.sliding_window) return ceil_div(max_model_len, demand.block_size);
  // SlidingWindowSpec.max_admission_blocks_per_request.
  const std::uint64_t held = checked_add(*demand.sliding_window - 1, demand.tokens_in_flight, "sliding-window tokens");
  return ceil_div(std::min(held, max_model_len), demand.block_size) + 1;
}

}  // namespace kvplan::detail
