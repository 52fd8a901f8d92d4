// config.json -> the layer kinds beside plain attention, each as vLLM 0.33's model class reads it
// (docs/model.md): sparse MLA's indexer, state layers, Gemma-4's full layers, DeepSeek-V4's compression.
#include "core/hf_config_hybrid.h"

#include <algorithm>
#include <optional>
#include <string>
#include <variant>

#include "core/units.h"

namespace kvplan::detail {
namespace {

// The Gated DeltaNet families: Qwen3-Next and Qwen3.5 (whose multimodal config nests the text
// model as qwen3_5_text / qwen3_5_moe_text).
bool gated_deltanet_family(const std::string& type) {
  return is_one_of(type, {"qwen3_next", "qwen3_5_text", "qwen3_5_moe_text"});
}

// Kimi-Linear (vLLM 0.33 configs/kimi_linear.py:is_kda_layer): layer i is KDA when i + 1 is in
// linear_attn_config.kda_layers (1-based); every other layer is MLA.
void resolve_kda_layers(const ConfigFields& fields, ModelShape& shape) {
  ConfigFields kda(*fields.get("linear_attn_config"), "linear_attn_config");
  const ConfigNode* layers_node = kda.get("kda_layers");
  const ConfigNode::List* layers = layers_node != nullptr ? layers_node->as_list() : nullptr;
  if (layers == nullptr) kda.fail(layers_node, "kda_layers must be a list of 1-based layer numbers");
  for (const ConfigNode& entry : *layers) {
    const std::int64_t* number = std::get_if<std::int64_t>(&entry.value);
    if (number == nullptr || *number < 1 || *number > static_cast<std::int64_t>(shape.num_hidden_layers)) {
      kda.fail(&entry, "kda_layers entries are 1-based layer numbers from 1 to num_hidden_layers (" +
                           std::to_string(shape.num_hidden_layers) + ")");
    }
    shape.layer_attention[static_cast<std::size_t>(*number - 1)] = LayerAttention::state;
  }
  shape.sliding_rule = "kimi_linear: the layers numbered (from 1) in linear_attn_config.kda_layers are KDA state "
                       "layers, the others MLA";
}

}  // namespace

// The state layers' mixer dims (vLLM's get_mamba_state_shape_from_config of each model class):
// Gated DeltaNet (qwen3_next.py, qwen3_5.py), Nemotron-H's Mamba-2 (nemotron_h.py), and
// Granite-4.0-H's and Falcon-H1's (granitemoehybrid.py, falcon_h1.py; hf_config_mamba2.cc), and
// Jamba's Mamba-1 (jamba.py; hf_config_jamba.cc).
void resolve_state_dims(const ConfigFields& fields, ModelShape& shape) {
  StateDims state;
  if (gated_deltanet_family(shape.model_type)) {
    state.mixer = StateMixer::gated_deltanet;
    state.num_heads = fields.required_dim("linear_num_value_heads");
    state.head_dim = fields.required_dim("linear_value_head_dim");
    state.n_groups = fields.required_dim("linear_num_key_heads");
    state.state_size = fields.required_dim("linear_key_head_dim");
    state.conv_kernel = fields.required_dim("linear_conv_kernel_dim");
    // Qwen3_5ForConditionalGenerationConfig: the config's mamba_ssm_dtype sets the recurrent state's
    // dtype (float32 in Qwen3.5's configs); Qwen3-Next has no such field.
    if (std::optional<std::string> dtype = fields.optional_string("mamba_ssm_dtype")) state.ssm_cache_dtype = *dtype;
  } else if (shape.model_type == "kimi_linear") {
    // vLLM 0.33 kimi_k3/nvidia/kda.py: KDA reads linear_attn_config; kda_state_shape gives it
    // Gated DeltaNet's shapes with num_heads key and value heads of head_dim each, and
    // kda_state_dtype keeps the recurrent state in float32 unless mamba_ssm_cache_dtype says bfloat16.
    const ConfigNode* linear = fields.get("linear_attn_config");
    if (linear == nullptr || linear->as_map() == nullptr) {
      fields.fail(linear, "kimi_linear needs linear_attn_config (the KDA layers' num_heads, head_dim, "
                          "short_conv_kernel_size and kda_layers)");
    }
    ConfigFields kda(*linear, "linear_attn_config");
    state.mixer = StateMixer::kda;
    state.num_heads = kda.required_dim("num_heads");
    state.head_dim = kda.required_dim("head_dim");
    state.n_groups = state.num_heads;
    state.state_size = state.head_dim;
    state.conv_kernel = kda.required_dim("short_conv_kernel_size");
    state.gate_bounded = kda.has("gate_lower_bound");
    state.ssm_cache_dtype = "float32";
    shape.assumptions.push_back("kimi_linear: vLLM keeps the KDA recurrent state in float32 (kda_state_dtype's "
                                "\"auto\"); --mamba-ssm-cache-dtype bfloat16 halves it");
  } else if (is_one_of(shape.model_type, {"granitemoehybrid", "falcon_h1"})) {
    resolve_mamba2_fields(fields, shape);
    return;
  } else if (shape.model_type == "jamba") {
    resolve_jamba_state(fields, shape);
    return;
  } else if (shape.model_type == "nemotron_h") {
    state.mixer = StateMixer::mamba2;
    state.num_heads = fields.required_dim("mamba_num_heads");
    state.head_dim = fields.required_dim("mamba_head_dim");
    state.n_groups = fields.required_dim("n_groups");
    state.state_size = fields.required_dim("ssm_state_size");
    state.conv_kernel = fields.required_dim("conv_kernel");
    // NemotronHForCausalLMConfig.update_mamba_ssm_cache_dtype: the config's value, else float32.
    if (std::optional<std::string> dtype = fields.optional_string("mamba_ssm_cache_dtype")) {
      state.ssm_cache_dtype = *dtype;
    } else {
      state.ssm_cache_dtype = "float32";
      shape.assumptions.push_back("mamba_ssm_cache_dtype is absent: vLLM keeps Nemotron-H's SSM state in float32");
    }
  } else {
    return;
  }
  if (!state.ssm_cache_dtype.empty() && !is_one_of(state.ssm_cache_dtype, {"float32", "bfloat16", "float16"})) {
    const char* field = fields.has("mamba_ssm_dtype") ? "mamba_ssm_dtype" : "mamba_ssm_cache_dtype";
    fields.fail(fields.get(field), std::string(field) + " must be float32, bfloat16 or float16; got '" +
                                       state.ssm_cache_dtype + "'");
  }
  if (state.conv_kernel < 2) {
    fields.fail(nullptr, "the convolution kernel of the state layers must be at least 2 (it keeps kernel - 1 inputs)");
  }
  shape.state = state;
}

// Which layers are state layers, when layer_types did not say. Qwen3-Next (transformers'
// Qwen3NextConfig): every full_attention_interval-th layer is full attention, the others Gated
// DeltaNet. Nemotron-H: nemotron_h_pattern has one character per layer, M a Mamba-2 layer,
// * attention, - an MLP and E an MoE layer (the last two cache nothing).
void resolve_state_layers(const ConfigFields& fields, ModelShape& shape) {
  if (shape.model_type == "jamba") {
    resolve_jamba_layers(fields, shape);
    return;
  }
  if (shape.state && gated_deltanet_family(shape.model_type)) {
    shape.full_attention_interval =
        static_cast<std::uint32_t>(fields.optional_bounded("full_attention_interval", kMaxDim, true).value_or(4));
  }
  // Falcon-H1's state mixers sit beside its attention layers (resolve_mamba2_fields).
  if (!shape.state || shape.state_beside_attention || fields.has("layer_types")) return;
  if (shape.state->mixer == StateMixer::kda) {
    resolve_kda_layers(fields, shape);
    return;
  }
  if (gated_deltanet_family(shape.model_type)) {
    const std::uint32_t interval = shape.full_attention_interval;
    for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
      if ((layer + 1) % interval != 0) shape.layer_attention[layer] = LayerAttention::state;
    }
    shape.sliding_rule = shape.model_type + ": every " + std::to_string(interval) +
                         "th layer is full attention (full_attention_interval), the others Gated DeltaNet state layers";
    return;
  }
  const std::string pattern = nemotron_h_pattern(fields);
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    if (pattern[layer] == 'M') shape.layer_attention[layer] = LayerAttention::state;
    else if (pattern[layer] == '*') shape.layer_attention[layer] = LayerAttention::full;
    else shape.layer_attention[layer] = LayerAttention::none;  // '-' MLP, 'E' MoE
  }
  shape.sliding_rule = "nemotron_h: layers_block_type or hybrid_override_pattern names each layer (M Mamba-2 state, * attention, "
                       "- and E no cache)";
}

// transformers' Gemma4TextConfig.__post_init__ and vLLM 0.33's gemma4.py.
void resolve_gemma4(const ConfigFields& fields, ModelShape& shape) {
  if (shape.model_type != "gemma4_text") return;
  if (const ConfigNode* explicit_layers = fields.get("per_layer_config")) {
    fields.fail(explicit_layers, "per_layer_config is not read by kvplan; remove it to let global_head_dim, "
                                 "num_global_key_value_heads and attention_k_eq_v describe the full layers");
  }
  if (shape.num_hidden_layers > 0 && shape.layer_attention.back() != LayerAttention::full) {
    shape.layer_attention.back() = LayerAttention::full;
    shape.assumptions.push_back("gemma4_text: the last layer is full attention whatever layer_types says "
                                "(transformers forces it)");
  }
  // "all" makes sliding layers bidirectional: transformers halves the window (the kernels' bounds
  // are exclusive). The released checkpoints say "vision", which leaves it as it is.
  if (fields.optional_string("use_bidirectional_attention") == "all" && shape.sliding_window) {
    const std::uint64_t window = *shape.sliding_window / 2 + 1;
    shape.assumptions.push_back("use_bidirectional_attention is \"all\": transformers sets the window to " +
                                std::to_string(*shape.sliding_window) + " / 2 + 1 = " + std::to_string(window));
    shape.sliding_window = window;
  }
  shape.bidirectional_vision = fields.optional_string("use_bidirectional_attention") == "vision";
  KvGeometry full{shape.num_key_value_heads, shape.head_dim};
  if (std::optional<std::uint32_t> global_head_dim = fields.optional_dim("global_head_dim")) {
    full.head_dim = *global_head_dim;
  } else {
    full.head_dim = 512;
    shape.assumptions.push_back("global_head_dim is absent: transformers' Gemma-4 default 512 for the full layers");
  }
  // The global K/V head count applies only with attention_k_eq_v (the full layers' values are
  // their keys); without it they keep num_key_value_heads. Either way vLLM caches K and V.
  if (fields.optional_bool("attention_k_eq_v").value_or(false)) {
    if (std::optional<std::uint32_t> global_heads = fields.optional_dim("num_global_key_value_heads")) {
      full.num_key_value_heads = *global_heads;
    }
  }
  if (shape.num_attention_heads % full.num_key_value_heads != 0) {
    fields.fail(fields.get("num_global_key_value_heads"),
                "num_global_key_value_heads must divide num_attention_heads (" +
                    std::to_string(shape.num_attention_heads) + "); got " + std::to_string(full.num_key_value_heads));
  }
  if (full.num_key_value_heads != shape.num_key_value_heads || full.head_dim != shape.head_dim) {
    shape.full_layer_kv = full;
  }
  // The last num_kv_shared_layers layers attend over the cache of the last earlier layer of their
  // kind (kv_sharing_target_layer_name): vLLM gives them no cache of their own.
  const std::uint32_t shared = fields.dim_or_zero("num_kv_shared_layers");
  if (shared >= shape.num_hidden_layers) {
    fields.fail(fields.get("num_kv_shared_layers"), "num_kv_shared_layers must be below num_hidden_layers (" +
                                                        std::to_string(shape.num_hidden_layers) + ")");
  }
  for (std::uint32_t layer = shape.num_hidden_layers - shared; layer < shape.num_hidden_layers; ++layer) {
    shape.kv_shared_layer_kinds.push_back(shape.layer_attention[layer]);
    shape.layer_attention[layer] = LayerAttention::none;
  }
  if (shared > 0) {
    shape.sliding_rule += "; the last " + std::to_string(shared) +
                          " layers read earlier layers' caches (num_kv_shared_layers) and cache nothing";
  }
}

// transformers' DeepseekV4Config.__post_init__ (layer_types from compress_ratios, defaults) and
// vLLM 0.33's DeepseekV4Attention (compress_ratio = max(1, compress_rates[layer_type])).
void resolve_compressed_mla(const ConfigFields& fields, ModelShape& shape) {
  if (shape.model_type != "deepseek_v4") return;
  CompressedMlaDims dims;
  dims.head_dim = fields.required_dim("head_dim");
  dims.rope_head_dim = fields.optional_dim("qk_rope_head_dim").value_or(64);
  if (!fields.has("qk_rope_head_dim")) shape.assumptions.push_back("qk_rope_head_dim is absent: transformers' default 64");
  dims.index_head_dim = fields.optional_dim("index_head_dim").value_or(128);
  if (!fields.has("index_head_dim")) shape.assumptions.push_back("index_head_dim is absent: transformers' default 128");
  dims.sliding_window = fields.optional_bounded("sliding_window", kMaxTokens, true).value_or(128);
  if (!fields.has("sliding_window")) shape.assumptions.push_back("sliding_window is absent: transformers' default 128");
  if (dims.rope_head_dim > dims.head_dim) {
    fields.fail(fields.get("qk_rope_head_dim"), "qk_rope_head_dim must not exceed head_dim (" +
                                                    std::to_string(dims.head_dim) + ")");
  }
  if (const ConfigNode* rates = fields.get("compress_rates")) {
    ConfigFields rate_fields(*rates, "compress_rates");
    for (auto [type, expected] : {std::pair{"compressed_sparse_attention", 4u}, {"heavily_compressed_attention", 128u}}) {
      if (std::optional<std::uint32_t> rate = rate_fields.optional_dim(type); rate && *rate != expected) {
        rate_fields.fail(rate_fields.get(type), std::string(type) + " is compressed " + std::to_string(*rate) +
                                                    "x; kvplan knows vLLM's compressors for 4x (CSA) and 128x (HCA)");
      }
    }
  }
  const std::uint32_t layers = shape.num_hidden_layers;
  const ConfigNode* types = fields.get("layer_types");
  const ConfigNode* ratios = fields.get("compress_ratios");
  const ConfigNode* given = types != nullptr ? types : ratios;
  if (given == nullptr) {
    // V4-Pro's default: two HCA layers, then CSA and HCA alternating.
    for (std::uint32_t layer = 0; layer < layers; ++layer) {
      dims.compress_ratio.push_back(layer < 2 || (layer - 2) % 2 == 0 ? 128 : 4);
    }
    shape.assumptions.push_back("layer_types and compress_ratios are absent: transformers' default, two HCA layers "
                                "then CSA and HCA alternating");
  } else {
    const ConfigNode::List* list = given->as_list();
    const char* name = types != nullptr ? "layer_types" : "compress_ratios";
    // Entries past num_hidden_layers describe the MTP / draft layers: transformers drops them.
    if (list == nullptr || list->size() < layers) {
      fields.fail(given, std::string(name) + " must list at least one entry per layer (num_hidden_layers = " +
                             std::to_string(layers) + ")");
    }
    for (std::uint32_t layer = 0; layer < layers; ++layer) {
      const ConfigNode& entry = (*list)[layer];
      const std::string* type = entry.as_string();
      const std::int64_t* ratio = std::get_if<std::int64_t>(&entry.value);
      if (type != nullptr && *type == "sliding_attention") dims.compress_ratio.push_back(1);
      else if (type != nullptr && *type == "compressed_sparse_attention") dims.compress_ratio.push_back(4);
      else if (type != nullptr && *type == "heavily_compressed_attention") dims.compress_ratio.push_back(128);
      else if (ratio != nullptr && (*ratio == 0 || *ratio == 4 || *ratio == 128)) {
        dims.compress_ratio.push_back(*ratio == 0 ? 1 : static_cast<std::uint32_t>(*ratio));
      } else {
        fields.fail(&entry, std::string(name) + "[" + std::to_string(layer) + "] = " + entry.describe() +
                                " is not a DeepSeek-V4 layer kind (sliding_attention, compressed_sparse_attention, "
                                "heavily_compressed_attention, or the ratios 0, 4, 128)");
      }
    }
  }
  dims.q_lora_rank = fields.dim_or_zero("q_lora_rank");
  dims.o_lora_rank = fields.dim_or_zero("o_lora_rank");
  dims.o_groups = fields.dim_or_zero("o_groups");
  dims.hc_mult = fields.dim_or_zero("hc_mult");
  dims.index_n_heads = fields.dim_or_zero("index_n_heads");
  // transformers' default: the first three layers hash-routed (DeepseekV4Config.default_num_hash_layers).
  dims.num_hash_layers = fields.optional_dim("num_hash_layers").value_or(std::min<std::uint32_t>(3, layers));
  if (dims.num_hash_layers > layers) fields.fail(fields.get("num_hash_layers"), "num_hash_layers exceeds num_hidden_layers");
  dims.expert_dtype = fields.optional_string("expert_dtype").value_or("fp4");
  shape.compressed_mla = dims;
  std::uint32_t csa = 0, hca = 0;
  for (std::uint32_t ratio : dims.compress_ratio) {
    csa += ratio == 4;
    hca += ratio == 128;
  }
  shape.sliding_rule = "deepseek_v4: every layer keeps a window of " + std::to_string(dims.sliding_window) +
                       " latents; " + std::to_string(csa) + " CSA layers (4x) and " + std::to_string(hca) +
                       " HCA layers (128x) also keep compressed latents";
}

}  // namespace kvplan::detail
