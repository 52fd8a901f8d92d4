// MiMo-V2-Flash (mimo_v2_flash) as vLLM 0.33 builds it (model_executor/models/mimo_v2.py,
// docs/engines-frontier.md): sliding and full layers with their own K/V heads, and values
// narrower than keys on both.
#include <algorithm>
#include <string>
#include <vector>

#include "core/hf_config_hybrid.h"
#include "core/units.h"

namespace kvplan::detail {
namespace {

// A per-layer list of 0/1 flags (hybrid_layer_pattern, moe_layer_freq), one per hidden layer.
std::vector<bool> layer_flags(const ConfigFields& fields, std::string_view key, std::uint32_t layers) {
  const ConfigNode* node = fields.get(key);
  const ConfigNode::List* list = node != nullptr ? node->as_list() : nullptr;
  if (list == nullptr || list->size() != layers) {
    fields.fail(node, std::string(key) + " must list 0 or 1 for each of the " + std::to_string(layers) +
                          " layers (num_hidden_layers)");
  }
  std::vector<bool> flags;
  for (const ConfigNode& entry : *list) {
    const std::int64_t* flag = std::get_if<std::int64_t>(&entry.value);
    if (flag == nullptr || (*flag != 0 && *flag != 1)) {
      fields.fail(&entry, std::string(key) + " entries are 0 or 1; got " + entry.describe());
    }
    flags.push_back(*flag == 1);
  }
  return flags;
}

}  // namespace

// MiMoV2FlashDecoderLayer: hybrid_layer_pattern[i] == 1 makes layer i a sliding layer of
// swa_num_key_value_heads K/V heads, keys of swa_head_dim and values of swa_v_head_dim over a
// window of sliding_window_size tokens; the other layers attend to every token with
// num_key_value_heads, head_dim and v_head_dim. kvplan's main geometry is the sliding layers'
// (most layers), the full layers' is shape.full_layer_kv, as for Gemma-4.
void resolve_mimo_v2(const ConfigFields& fields, ModelShape& shape) {
  if (shape.model_type != "mimo_v2_flash") return;
  const std::uint32_t layers = shape.num_hidden_layers;
  const std::vector<bool> sliding = layer_flags(fields, "hybrid_layer_pattern", layers);
  const std::uint64_t window = fields.optional_bounded("sliding_window_size", kMaxTokens, true).value_or(0);
  if (window == 0 && std::find(sliding.begin(), sliding.end(), true) != sliding.end()) {
    fields.fail(fields.get("sliding_window_size"),
                "sliding_window_size must be a positive token count: hybrid_layer_pattern has sliding layers");
  }
  // vLLM reads the window from sliding_window_size and clears cache_config.sliding_window, so the
  // config's sliding_window (and attention_chunk_size) change nothing.
  shape.sliding_window = window == 0 ? std::nullopt : std::optional<std::uint64_t>(window);
  for (std::uint32_t layer = 0; layer < layers; ++layer) {
    shape.layer_attention[layer] = sliding[layer] ? LayerAttention::sliding : LayerAttention::full;
  }
  shape.sliding_rule = "mimo_v2_flash: hybrid_layer_pattern marks the sliding layers (1); the others are full attention";

  if (fields.required_dim("swa_num_attention_heads") != shape.num_attention_heads) {
    fields.fail(fields.get("swa_num_attention_heads"),
                "swa_num_attention_heads differs from num_attention_heads (" + std::to_string(shape.num_attention_heads) +
                    "); kvplan plans MiMo-V2 with one query head count on both kinds of layer");
  }
  KvGeometry full{shape.num_key_value_heads, shape.head_dim, fields.optional_dim("v_head_dim").value_or(0),
                  "num_key_value_heads", "head_dim", "v_head_dim"};
  if (full.v_head_dim == full.head_dim) full.v_head_dim = 0;
  shape.num_key_value_heads = fields.required_dim("swa_num_key_value_heads");
  shape.head_dim = fields.required_dim("swa_head_dim");
  shape.v_head_dim = fields.optional_dim("swa_v_head_dim").value_or(0);
  if (shape.v_head_dim == shape.head_dim) shape.v_head_dim = 0;
  shape.kv_fields_prefix = "swa_";
  shape.attention_sinks = fields.optional_bool("add_swa_attention_sink_bias").value_or(false) ||
                          fields.optional_bool("add_full_attention_sink_bias").value_or(false);
  if (shape.num_attention_heads % shape.num_key_value_heads != 0) {
    fields.fail(fields.get("swa_num_key_value_heads"), "swa_num_key_value_heads must divide num_attention_heads (" +
                                                           std::to_string(shape.num_attention_heads) + ")");
  }
  if ((full.v_head_dim == 0) != (shape.v_head_dim == 0)) {
    // One DiffKV backend class serves every layer, with one V width (set_head_size_v).
    fields.fail(fields.get("v_head_dim"), "v_head_dim and swa_v_head_dim must both differ from their head dims or "
                                          "both equal them (vLLM sets one V width on its DiffKV backend)");
  }
  if (full.num_key_value_heads != shape.num_key_value_heads || full.head_dim != shape.head_dim ||
      full.v_head_dim != shape.v_head_dim) {
    shape.full_layer_kv = full;
  }
}

// is_moe_layer: layer i holds the routed experts where moe_layer_freq[i] is 1 (vLLM makes every
// layer dense when it is a plain number); kvplan counts the dense layers as leading ones (MoeDims).
void resolve_mimo_v2_moe(const ConfigFields& fields, const ModelShape& shape, MoeDims& moe) {
  const std::vector<bool> flags = layer_flags(fields, "moe_layer_freq", shape.num_hidden_layers);
  const auto first_moe = std::find(flags.begin(), flags.end(), true);
  if (std::find(first_moe, flags.end(), false) != flags.end()) {
    fields.fail(fields.get("moe_layer_freq"), "moe_layer_freq has dense layers after MoE layers; kvplan plans MiMo-V2 "
                                              "with its dense layers first");
  }
  moe.first_dense_layers = static_cast<std::uint32_t>(first_moe - flags.begin());
  moe.moe_layers = shape.num_hidden_layers - moe.first_dense_layers;
}

}  // namespace kvplan::detail
