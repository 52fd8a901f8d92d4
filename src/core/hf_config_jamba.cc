// Jamba (jamba): Mamba-1 state layers with an attention layer every attn_layer_period layers, as
// transformers' JambaConfig fills the config and vLLM 0.33's jamba.py reads it (docs/engines.md,
// "State layers").
#include <optional>
#include <string>

#include "core/checked.h"
#include "core/hf_config_hybrid.h"

namespace kvplan::detail {
namespace {

std::uint32_t dim_or_default(const ConfigFields& fields, ModelShape& shape, const char* key, std::uint32_t fallback) {
  if (std::optional<std::uint32_t> value = fields.optional_dim(key)) return *value;
  shape.assumptions.push_back(std::string(key) + " is absent: transformers' JambaConfig default " + std::to_string(fallback));
  return fallback;
}

}  // namespace

void resolve_jamba_state(const ConfigFields& fields, ModelShape& shape) {
  if (shape.hidden_size == 0) fields.fail(nullptr, "jamba needs hidden_size (the Mamba width is mamba_expand x hidden_size)");
  StateDims state;
  state.mixer = StateMixer::mamba1;
  state.state_size = dim_or_default(fields, shape, "mamba_d_state", 16);
  state.conv_kernel = dim_or_default(fields, shape, "mamba_d_conv", 4);
  const std::uint32_t expand = dim_or_default(fields, shape, "mamba_expand", 2);
  // JambaForCausalLM.get_mamba_state_shape_from_config: mamba1_state_shape over
  // mamba_expand x hidden_size channels.
  const std::uint64_t channels = checked_mul(expand, shape.hidden_size, "mamba_expand x hidden_size");
  if (channels > kMaxDim) fields.fail(fields.get("mamba_expand"), "mamba_expand x hidden_size is too large");
  state.channels = static_cast<std::uint32_t>(channels);
  // JambaConfig: mamba_dt_rank "auto" (or absent) is ceil(hidden_size / 16).
  const ConfigNode* dt_rank = fields.get("mamba_dt_rank");
  if (dt_rank == nullptr || (dt_rank->as_string() != nullptr && *dt_rank->as_string() == "auto")) {
    state.dt_rank = static_cast<std::uint32_t>((shape.hidden_size + 15) / 16);
  } else {
    state.dt_rank = fields.required_dim("mamba_dt_rank");
  }
  if (state.conv_kernel < 2) {
    fields.fail(fields.get("mamba_d_conv"), "mamba_d_conv must be at least 2 (the conv state keeps mamba_d_conv - 1 inputs)");
  }
  shape.state = state;
  use_hidden_over_heads_head_dim(shape);  // JambaAttentionDecoderLayer
}

// JambaConfig.layers_block_type, which JambaModel.get_layer reads: layer i is attention when
// i % attn_layer_period == attn_layer_offset, Mamba-1 otherwise (a layer_types in the file is
// not what vLLM reads).
void resolve_jamba_layers(const ConfigFields& fields, ModelShape& shape) {
  const std::uint32_t period = dim_or_default(fields, shape, "attn_layer_period", 8);
  const std::uint32_t offset = fields.has("attn_layer_offset") ? fields.dim_or_zero("attn_layer_offset")
                                                               : dim_or_default(fields, shape, "attn_layer_offset", 4);
  if (offset >= period) {
    fields.fail(fields.get("attn_layer_offset"), "attn_layer_offset (" + std::to_string(offset) +
                                                     ") must be smaller than attn_layer_period (" + std::to_string(period) +
                                                     "), as transformers' JambaConfig requires");
  }
  std::uint32_t attention = 0;
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    const bool is_attention = layer % period == offset;
    shape.layer_attention[layer] = is_attention ? LayerAttention::full : LayerAttention::state;
    attention += is_attention;
  }
  if (attention == 0) {
    fields.fail(fields.get("attn_layer_period"), "attn_layer_period and attn_layer_offset leave no attention layer in " +
                                                     std::to_string(shape.num_hidden_layers) +
                                                     " layers; kvplan plans hybrids with attention only");
  }
  shape.sliding_rule = "jamba: layer i is attention when i % attn_layer_period (" + std::to_string(period) +
                       ") == attn_layer_offset (" + std::to_string(offset) + "), Mamba-1 otherwise";
}

}  // namespace kvplan::detail
