// config.json resolvers for the layer kinds beside plain attention: sparse MLA's indexer
// (DeepSeek-V3.2), state layers (Qwen3-Next, Qwen3.5, Nemotron-H, Granite-4.0-H, Falcon-H1, Jamba) and full-attention layers with
// their own K/V heads (Gemma-4). Used by hf_config.cc.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/config_fields.h"
#include "core/model_shape.h"

namespace kvplan::detail {

inline bool is_one_of(std::string_view value, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), value) != options.end();
}

// Sets shape.indexer for deepseek_v32 and glm_moe_dsa (needs shape.mla resolved; hf_config_dsa.cc).
void resolve_indexer(const ConfigFields& fields, ModelShape& shape);
// Sets shape.state, the mixer of the state layers, for the hybrid families.
void resolve_state_dims(const ConfigFields& fields, ModelShape& shape);
// Granite-4.0-H (granitemoehybrid) and Falcon-H1 (falcon_h1): shape.state from the mamba_*
// fields; Granite's attention head_dim as vLLM takes it (hidden_size / num_attention_heads);
// Falcon-H1's state mixer beside every attention layer. Needs head_dim resolved.
void resolve_mamba2_fields(const ConfigFields& fields, ModelShape& shape);
// Jamba (jamba): shape.state for its Mamba-1 mixers (mamba_d_state, mamba_d_conv, mamba_expand,
// mamba_dt_rank) and the attention head_dim vLLM uses; then which layers are attention
// (attn_layer_period, attn_layer_offset), once the layer list exists.
void resolve_jamba_state(const ConfigFields& fields, ModelShape& shape);
void resolve_jamba_layers(const ConfigFields& fields, ModelShape& shape);
// Granite-4.0-H's and Jamba's attention layers take head_dim = hidden_size / num_attention_heads,
// whatever the config says; an assumption line says so when they differ.
void use_hidden_over_heads_head_dim(ModelShape& shape);
// Nemotron-H (nemotron_h): one character per layer, M Mamba-2, * attention, - MLP, E MoE, from
// layers_block_type or the legacy hybrid_override_pattern (hf_config_nemotron_h.cc); its length
// is the layer count.
std::string nemotron_h_pattern(const ConfigFields& fields);
// Marks the state layers in shape.layer_attention when layer_types did not (needs
// resolve_state_dims and the layer list).
void resolve_state_layers(const ConfigFields& fields, ModelShape& shape);

// DeepSeek-V4 (deepseek_v4): shape.compressed_mla from head_dim, qk_rope_head_dim, index_head_dim,
// sliding_window and each layer's compress ratio (layer_types, or the legacy compress_ratios).
void resolve_compressed_mla(const ConfigFields& fields, ModelShape& shape);

// Gemma-4 (gemma4_text): the full layers' K/V heads (shape.full_layer_kv), the last layer forced
// to full attention, and the layers that share an earlier layer's cache (num_kv_shared_layers)
// marked as caching nothing. Needs the layer list and head_dim resolved.
void resolve_gemma4(const ConfigFields& fields, ModelShape& shape);

// MiMo-V2-Flash (mimo_v2_flash; hf_config_mimo.cc): the layers from hybrid_layer_pattern, the
// sliding layers' swa_* K/V heads and widths as the main geometry and the full layers' as
// shape.full_layer_kv, values narrower than keys (v_head_dim). Needs the layer list and head_dim.
void resolve_mimo_v2(const ConfigFields& fields, ModelShape& shape);
// Its MoE layers from the moe_layer_freq list (hf_config_moe.cc calls it).
void resolve_mimo_v2_moe(const ConfigFields& fields, const ModelShape& shape, MoeDims& moe);

// Why kvplan refuses a model_type whose vLLM model class was read (hf_config_refusals.cc), or none.
std::optional<std::string_view> refused_model_type(std::string_view model_type);

// Step-3.5 / Step-3.7 (step3p5, step3p7; hf_config_step.cc): states, as an assumption, which kind vLLM
// gives each MTP layer (mtp_layer_types, or layer_types' trailing entries) where kvplan plans them full.
void resolve_step_mtp_layers(const ConfigFields& fields, ModelShape& shape);
// Step's MoE layers: mlp_layer_types, the legacy moe_layers_enum, or transformers' default (3 on).
std::uint32_t step_moe_layers(const ConfigFields& fields, const ModelShape& shape);

// shape.moe from the routed-expert fields (num_local_experts, n_routed_experts or num_experts),
// with the layers that hold experts counted by the family's rule (hf_config_moe.cc). Needs the
// layer list resolved (Nemotron-H's pattern).
void resolve_moe(const ConfigFields& fields, ModelShape& shape);

}  // namespace kvplan::detail
