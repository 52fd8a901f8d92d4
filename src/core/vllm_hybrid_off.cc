#include "core/vllm_hybrid_off.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace kvplan::detail {

void check_hybrid_allocator_off(const VllmRules& rules, const ModelShape& shape, const FitRequest& request) {
  if (request.options.hybrid_allocator) return;
  const std::string flag = "--disable-hybrid-kv-cache-manager: ";
  if (rules.grouping == VllmGrouping::none) {
    throw Error(flag + "vLLM " + std::string(rules.version) +
                " (V0) has no hybrid allocator to turn off; it caches every layer like full attention already");
  }
  if (shape.layer_count(LayerAttention::state) > 0) {
    // config/vllm.py:VllmConfig.__post_init__ warns that hybrid SSM models fail at start-up without it.
    throw Error(flag + "vLLM needs the hybrid allocator for state layers (Mamba, Gated DeltaNet, KDA): the model "
                       "would not start; drop the flag");
  }
  if (request.parallel.dcp > 1) throw Error(flag + "kvplan does not plan it with --dcp; drop one of them");
  if (shape.indexer || shape.compressed_mla || shape.full_layer_kv) {
    throw Error(flag + "kvplan plans it for models of full, sliding and chunked attention layers; this model's "
                       "caches (an indexer, compressed latents or per-kind heads) are not among them");
  }
}

std::uint32_t promote_local_layers(std::vector<LayerAttention>& layer_kinds) {
  if (std::find(layer_kinds.begin(), layer_kinds.end(), LayerAttention::full) == layer_kinds.end()) return 0;
  std::uint32_t promoted = 0;
  for (LayerAttention& kind : layer_kinds) {
    if (kind != LayerAttention::sliding && kind != LayerAttention::chunked) continue;
    kind = LayerAttention::full;
    ++promoted;
  }
  return promoted;
}

}  // namespace kvplan::detail
