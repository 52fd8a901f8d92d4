#include "core/hf_config.h"

#include <algorithm>
#include <array>
#include <string>

#include "core/checked.h"
#include "core/config_fields.h"
#include "core/error.h"
#include "core/hf_config_hybrid.h"
#include "core/units.h"
#include "core/rope_cache.h"
#include "core/vision_tower.h"
#include "core/weight_quantization.h"

namespace kvplan {
namespace {

using detail::is_one_of;

// glm4_moe and minimax_m2 have GQA on every layer, no window (vLLM 0.33's Glm4MoeAttention and
// MiniMaxM2Attention build a plain Attention without a per-layer sliding window). llama4 layers
// attend in chunks or globally (resolve_chunked_attention).
// qwen3_next, qwen3_5, nemotron_h, granitemoehybrid, falcon_h1, jamba and kimi_linear (KDA beside
// MLA) mix attention layers with state layers (resolve_state_layers); deepseek_v32 and glm_moe_dsa add an indexer
// cache to MLA (resolve_indexer); gemma4_text and mimo_v2_flash: full layers with their own K/V heads (resolve_gemma4).
// step3p5 / step3p7 (Step-3.5, Step-3.7-Flash) name sliding and full layers in layer_types, with the same
// K/V heads on both (vLLM's Step3p5DecoderLayer; resolve_heads, resolve_layer_types).
// qwen3_vl_text and qwen3_vl_moe_text are Qwen3-VL's language models: vLLM 0.33's
// Qwen3LLMForCausalLM / Qwen3MoeLLMForCausalLM build Qwen3's and Qwen3-MoE's decoder layers (M-RoPE
// changes the positions, not the cache).
constexpr std::array<std::string_view, 42> kKnownModelTypes = {
    "llama",    "mistral",     "mixtral",     "qwen2",       "qwen2_moe",
    "qwen3",    "qwen3_moe",   "gemma",       "gemma2",      "gemma3",
    "gemma3_text", "deepseek_v2", "deepseek_v3", "kimi_k2",  "phi3",
    "granite",  "olmo2",       "starcoder2",  "cohere",      "internlm2",
    "glm4_moe", "minimax_m2",  "llama4",      "llama4_text", "gpt_oss",
    "qwen3_next", "qwen3_5_text", "qwen3_5_moe_text", "nemotron_h", "deepseek_v32",
    "gemma4_text", "deepseek_v4", "kimi_linear", "granitemoehybrid", "falcon_h1", "jamba",
    "glm_moe_dsa", "step3p5", "step3p7", "qwen3_vl_text", "qwen3_vl_moe_text", "mimo_v2_flash",
};

void resolve_heads(const ConfigFields& fields, ModelShape& shape) {
  shape.num_attention_heads = fields.required_dim("num_attention_heads");
  if (std::optional<std::uint32_t> kv_heads = fields.optional_dim("num_key_value_heads")) {
    shape.num_key_value_heads = *kv_heads;
  } else if (std::optional<std::uint32_t> groups = fields.optional_dim("num_attention_groups");
             groups && is_one_of(shape.model_type, {"step3p5", "step3p7"})) {
    // Step3p5DecoderLayer: num_kv_heads = config.num_attention_groups on every layer (transformers'
    // Step3p7TextConfig maps it to num_key_value_heads).
    shape.num_key_value_heads = *groups;
  } else if (is_one_of(shape.model_type, {"falcon_h1", "jamba"})) {
    // FalconH1Config and JambaConfig default to 8 K/V heads, not to MHA.
    shape.num_key_value_heads = 8;
    shape.assumptions.push_back("num_key_value_heads is absent: transformers' " + shape.model_type + " default 8");
  } else {
    shape.num_key_value_heads = shape.num_attention_heads;
    shape.assumptions.push_back(
        "num_key_value_heads is absent: one K/V head per query head (MHA), as transformers "
        "assumes");
  }
  if (shape.num_attention_heads % shape.num_key_value_heads != 0) {
    fields.fail(fields.get("num_key_value_heads"),
                "num_key_value_heads must divide num_attention_heads (" +
                    std::to_string(shape.num_attention_heads) + "); got " +
                    std::to_string(shape.num_key_value_heads));
  }
}

void resolve_mla(const ConfigFields& fields, ModelShape& shape) {
  std::optional<std::uint32_t> kv_lora_rank = fields.optional_dim("kv_lora_rank");
  if (!kv_lora_rank) return;
  MlaDims mla;
  mla.kv_lora_rank = *kv_lora_rank;
  mla.qk_rope_head_dim = fields.required_dim("qk_rope_head_dim");
  mla.qk_nope_head_dim = fields.required_dim("qk_nope_head_dim");
  mla.v_head_dim = fields.required_dim("v_head_dim");
  mla.q_lora_rank = fields.optional_dim("q_lora_rank");
  shape.mla = mla;
}

// The per-head dim d_h of the cached K/V heads. An explicit head_dim wins: Gemma-2-27B
// (128 != 4608 / 32) and Qwen3-32B (128 != 5120 / 64) would be wrong otherwise.
void resolve_head_dim(const ConfigFields& fields, ModelShape& shape) {
  if (shape.mla) {
    // docs/model.md: the MHA/GQA/MQA counterfactuals of an MLA model use d_h = v_head_dim, the
    // comparison the DeepSeek-V2 paper makes (hidden_size / heads = 5120 / 128 = 40 means nothing).
    shape.head_dim = shape.mla->v_head_dim;
    shape.assumptions.push_back("MLA model: MHA/GQA/MQA counterfactuals use d_h = v_head_dim = " +
                                std::to_string(shape.head_dim) +
                                ", the DeepSeek-V2 paper's comparison");
    return;
  }
  if (std::optional<std::uint32_t> head_dim = fields.optional_dim("head_dim")) {
    shape.head_dim = *head_dim;
    shape.head_dim_explicit = true;
    return;
  }
  if (shape.hidden_size == 0) {
    fields.fail(nullptr, "config needs head_dim, or hidden_size to derive it from");
  }
  if (shape.hidden_size % shape.num_attention_heads != 0) {
    fields.fail(fields.get("hidden_size"),
                "hidden_size (" + std::to_string(shape.hidden_size) +
                    ") is not a multiple of num_attention_heads (" +
                    std::to_string(shape.num_attention_heads) + "); add an explicit head_dim");
  }
  shape.head_dim = static_cast<std::uint32_t>(shape.hidden_size / shape.num_attention_heads);
}

void mark_layers(ModelShape& shape, std::string rule, auto is_sliding) {
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    shape.layer_attention[layer] = is_sliding(layer) ? LayerAttention::sliding : LayerAttention::full;
  }
  shape.sliding_rule = std::move(rule);
}

void resolve_layer_types(const ConfigFields& fields, const ConfigNode& layer_types,
                         ModelShape& shape) {
  const ConfigNode::List* list = layer_types.as_list();
  // Step's hub configs pad layer_types with one entry per MTP layer; transformers' Step3p7TextConfig
  // moves them to mtp_layer_types (hf_config_step.cc reads them).
  const bool mtp_padded = list != nullptr && is_one_of(shape.model_type, {"step3p5", "step3p7"}) &&
                          list->size() == std::size_t{shape.num_hidden_layers} + shape.num_nextn_predict_layers;
  if (list == nullptr || (list->size() != shape.num_hidden_layers && !mtp_padded)) {
    fields.fail(&layer_types, "layer_types must list one entry per layer (num_hidden_layers = " +
                                  std::to_string(shape.num_hidden_layers) + ")");
  }
  for (std::size_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    const std::string* type = (*list)[layer].as_string();
    // transformers 5 renames the legacy kinds Granite-4.0-H's configs write (remap_legacy_layer_types):
    // "attention" is full_attention, "mamba" linear_attention.
    if (type != nullptr && (*type == "full_attention" || *type == "attention")) {
      shape.layer_attention[layer] = LayerAttention::full;
      continue;
    }
    if (type != nullptr && *type == "chunked_attention") {
      if (!shape.attention_chunk_size) {
        fields.fail(&layer_types, "layer_types has chunked_attention layers but attention_chunk_size is not set");
      }
      shape.layer_attention[layer] = LayerAttention::chunked;
      continue;
    }
    if (type != nullptr && (*type == "linear_attention" || *type == "mamba") && shape.state) {
      // Gated DeltaNet (Qwen3-Next, Qwen3.5) or Mamba-2 (Granite-4.0-H).
      shape.layer_attention[layer] = LayerAttention::state;
      continue;
    }
    if (type != nullptr && *type == "sliding_attention") {
      if (!shape.sliding_window) {
        fields.fail(&layer_types, "layer_types has sliding_attention layers but sliding_window "
                                  "is not set");
      }
      shape.layer_attention[layer] = LayerAttention::sliding;
      continue;
    }
    fields.fail(&(*list)[layer], "layer_types[" + std::to_string(layer) + "] = " +
                                     (*list)[layer].describe() +
                                     " is not supported; kvplan knows full_attention, sliding_attention, "
                                     "chunked_attention, linear_attention (Qwen3-Next, Qwen3.5, Granite-4.0-H) and the "
                                     "legacy attention and mamba");
  }
  shape.sliding_rule = "layer_types lists each layer's attention";
}

// Llama-4 (transformers' Llama4TextConfig, vLLM's llama4.py): layers that use RoPE attend within
// chunks of attention_chunk_size tokens; the NoPE layers (no_rope_layers[i] == 0, by default
// every no_rope_layer_interval-th layer) attend globally. An absent attention_chunk_size means
// transformers' default 8192; null turns chunking off.
void resolve_chunked_attention(const ConfigFields& fields, ModelShape& shape) {
  if (fields.is_null("attention_chunk_size")) {
    shape.sliding_rule = "attention_chunk_size is null: every layer caches the whole context";
    return;
  }
  shape.attention_chunk_size = fields.optional_bounded("attention_chunk_size", kMaxTokens, true);
  if (!shape.attention_chunk_size) {
    shape.attention_chunk_size = 8192;
    shape.assumptions.push_back("attention_chunk_size is absent: transformers' Llama-4 default 8192");
  }
  const ConfigNode* no_rope = fields.get("no_rope_layers");
  const ConfigNode::List* list = no_rope != nullptr ? no_rope->as_list() : nullptr;
  if (list != nullptr && !list->empty()) {
    if (list->size() < shape.num_hidden_layers) {
      fields.fail(no_rope, "no_rope_layers must have an entry per layer (num_hidden_layers = " +
                               std::to_string(shape.num_hidden_layers) + ")");
    }
    for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
      const std::int64_t* uses_rope = std::get_if<std::int64_t>(&(*list)[layer].value);
      if (uses_rope == nullptr || (*uses_rope != 0 && *uses_rope != 1)) {
        fields.fail(&(*list)[layer], "no_rope_layers[" + std::to_string(layer) + "] must be 0 or 1");
      }
      if (*uses_rope == 1) shape.layer_attention[layer] = LayerAttention::chunked;
    }
    shape.sliding_rule = "llama4: layers with no_rope_layers[i] = 1 attend within chunks of attention_chunk_size, "
                         "the NoPE layers globally";
    return;
  }
  const std::uint64_t interval = fields.optional_bounded("no_rope_layer_interval", kMaxTokens, true).value_or(4);
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    if ((layer + 1) % interval != 0) shape.layer_attention[layer] = LayerAttention::chunked;
  }
  shape.sliding_rule = "llama4: every " + std::to_string(interval) +
                       "th layer is a global NoPE layer, the others attend within chunks of attention_chunk_size";
}

// Which layers keep only the last `sliding_window` tokens. Each family states it differently;
// these are the rules transformers and vLLM apply.
void resolve_sliding_window(const ConfigFields& fields, ModelShape& shape) {
  shape.layer_attention.assign(shape.num_hidden_layers, LayerAttention::full);
  if (shape.compressed_mla) return;  // resolve_compressed_mla described every layer
  if (shape.model_type == "falcon_h1") {
    // FalconH1AttentionDecoderLayer builds a plain Attention on every layer: no window, and the
    // config's layers_block_type ("hybrid" for each layer) says nothing more.
    shape.sliding_rule = "falcon_h1: every layer runs full attention and a Mamba-2 mixer side by side";
    return;
  }
  if (shape.model_type == "jamba") return;  // no window (JambaAttentionDecoderLayer); resolve_jamba_layers
  shape.sliding_window = fields.optional_bounded("sliding_window", kMaxTokens, true);
  if (is_one_of(shape.model_type, {"llama4", "llama4_text"})) {
    resolve_chunked_attention(fields, shape);
    if (!fields.get("layer_types")) return;
  }
  if (const ConfigNode* layer_types = fields.get("layer_types")) {
    resolve_layer_types(fields, *layer_types, shape);
    return;
  }
  if (!shape.sliding_window) {
    shape.sliding_rule = "no sliding_window: every layer caches the whole context";
    return;
  }
  if (fields.optional_bool("use_sliding_window") == false) {
    shape.sliding_window.reset();
    shape.sliding_rule =
        "use_sliding_window is false, so sliding_window is ignored (transformers and vLLM do the "
        "same): every layer caches the whole context";
    return;
  }
  const std::string& type = shape.model_type;
  if (type == "gemma2") {
    mark_layers(shape, "gemma2: layers 0, 2, 4, ... use the sliding window, odd layers are global",
                [](std::uint32_t layer) { return layer % 2 == 0; });
  } else if (type == "gemma3" || type == "gemma3_text") {
    // Configs saved before layer_types existed (google/gemma-3-*-it) name at most the pattern:
    // transformers' Gemma3TextConfig.__post_init__ makes layer i sliding when (i + 1) % pattern
    // != 0 (pattern 6 by default), and vLLM 0.33's Gemma3Attention.__init__ reads that layer_types.
    std::uint64_t pattern = fields.optional_bounded("sliding_window_pattern", kMaxDim, true).value_or(6);
    mark_layers(shape,
                type + ": every " + std::to_string(pattern) +
                    "th layer is global, the others use the sliding window",
                [pattern](std::uint32_t layer) { return (layer + 1) % pattern != 0; });
  } else if (type == "gemma4_text") {
    // Gemma4TextConfig.__post_init__ without layer_types: 5 sliding layers to 1 full.
    mark_layers(shape, "gemma4_text: every 6th layer is full attention, the others use the sliding window",
                [](std::uint32_t layer) { return (layer + 1) % 6 != 0; });
  } else if (is_one_of(type, {"qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "qwen3_vl_text", "qwen3_vl_moe_text"})) {
    std::uint64_t first = fields.optional_non_negative("max_window_layers").value_or(0);
    mark_layers(shape,
                type + ": layers from max_window_layers (" + std::to_string(first) +
                    ") on use the sliding window",
                [first](std::uint32_t layer) { return layer >= first; });
  } else {
    mark_layers(shape, "sliding_window applies to every layer (Mistral convention)", [](std::uint32_t) { return true; });
  }
}

}  // namespace

std::span<const std::string_view> known_model_types() { return kKnownModelTypes; }

namespace {

// `fields` is the language model's map: the config itself, or its text_config. `outer` is the
// whole config, for fields a multimodal config keeps at the top (torch_dtype, quantization).
ModelShape shape_from_fields(const ConfigFields& fields, const ConfigFields& outer) {
  ModelShape shape;
  shape.model_type = fields.required_string("model_type");
  if (std::optional<std::string_view> reason = detail::refused_model_type(shape.model_type)) {
    fields.fail(fields.get("model_type"), "model_type '" + shape.model_type + "' is not planned: " + std::string(*reason));
  }
  if (std::find(kKnownModelTypes.begin(), kKnownModelTypes.end(), shape.model_type) ==
      kKnownModelTypes.end()) {
    std::string known;
    for (std::string_view type : kKnownModelTypes) known += (known.empty() ? "" : ", ") + std::string(type);
    fields.fail(fields.get("model_type"),
                "model_type '" + shape.model_type +
                    "' is not one whose attention conventions kvplan knows (" + known +
                    "); describe the model in a YAML preset with a known model_type");
  }
  // Nemotron-H's layer count is the length of its layer list (Nemotron-3-Ultra states no other).
  shape.num_hidden_layers = shape.model_type == "nemotron_h"
                                ? static_cast<std::uint32_t>(detail::nemotron_h_pattern(fields).size())
                                : fields.required_dim("num_hidden_layers");
  shape.hidden_size = fields.optional_dim("hidden_size").value_or(0);
  shape.intermediate_size = fields.optional_dim("intermediate_size").value_or(0);
  shape.vocab_size = fields.optional_dim("vocab_size").value_or(0);
  shape.max_position_embeddings = fields.optional_bounded("max_position_embeddings", kMaxTokens, true).value_or(0);
  shape.num_nextn_predict_layers = fields.dim_or_zero("num_nextn_predict_layers");
  // vLLM builds the Qwen3-Next and Qwen3.5 MTP modules with one layer when their configs leave the
  // count out (qwen3_next_mtp.py:Qwen3NextMTP reads num_nextn_predict_layers, qwen3_5_mtp.py reads
  // mtp_num_hidden_layers, both defaulting to 1); the checkpoints ship that layer's weights.
  if (shape.model_type == "qwen3_next" && !fields.has("num_nextn_predict_layers")) shape.num_nextn_predict_layers = 1;
  if (shape.model_type == "qwen3_5_text" || shape.model_type == "qwen3_5_moe_text") {
    shape.num_nextn_predict_layers = fields.has("mtp_num_hidden_layers") ? fields.dim_or_zero("mtp_num_hidden_layers") : 1;
  }
  resolve_heads(fields, shape);
  resolve_mla(fields, shape);
  detail::resolve_indexer(fields, shape);
  resolve_head_dim(fields, shape);
  detail::resolve_compressed_mla(fields, shape);
  detail::resolve_state_dims(fields, shape);
  resolve_sliding_window(fields, shape);
  detail::resolve_state_layers(fields, shape);
  detail::resolve_gemma4(fields, shape);
  detail::resolve_mimo_v2(fields, shape);
  detail::resolve_step_mtp_layers(fields, shape);
  detail::resolve_moe(fields, shape);
  shape.rope_caches = read_rope_caches(fields, shape);
  // transformers' default is true for Gemma (shared embedding), false for the other families.
  bool tie_default = shape.model_type.rfind("gemma", 0) == 0;
  shape.tie_word_embeddings = fields.optional_bool("tie_word_embeddings").value_or(tie_default);
  // transformers >= 4.56 writes `dtype`; older configs write `torch_dtype`.
  for (const ConfigFields* source : {&fields, &outer}) {
    if (shape.torch_dtype.empty()) {
      shape.torch_dtype = source->optional_string("torch_dtype").value_or(source->optional_string("dtype").value_or(""));
    }
  }
  for (const ConfigFields* source : {&fields, &outer}) {
    if (const ConfigNode* quantization = source->get("quantization_config"); quantization && shape.weight_quantization.empty()) {
      ConfigFields quant(*quantization, "quantization_config");
      shape.weight_quantization = quant.optional_string("quant_method").value_or("");
      shape.quantization = read_weight_quantization(quant, shape.torch_dtype == "float32" ? 4 : 2);
    }
  }
  return shape;
}

// transformers saves a nested config as its difference from the config class's defaults, so a
// LLaVA text_config omits every field equal to LlamaConfig's. These are those defaults.
struct ClassDefault {
  std::string_view model_type;
  std::string_view field;
  std::int64_t value;
};
constexpr ClassDefault kClassDefaults[] = {
    {"llama", "vocab_size", 32000},           {"llama", "hidden_size", 4096},
    {"llama", "intermediate_size", 11008},    {"llama", "num_hidden_layers", 32},
    {"llama", "num_attention_heads", 32},     {"llama", "max_position_embeddings", 2048},
    {"mistral", "vocab_size", 32000},         {"mistral", "hidden_size", 4096},
    {"mistral", "intermediate_size", 14336},  {"mistral", "num_hidden_layers", 32},
    {"mistral", "num_attention_heads", 32},   {"mistral", "num_key_value_heads", 8},
    {"mistral", "max_position_embeddings", 131072}, {"mistral", "sliding_window", 4096},
    {"qwen2", "vocab_size", 151936},          {"qwen2", "hidden_size", 4096},
    {"qwen2", "intermediate_size", 22016},    {"qwen2", "num_hidden_layers", 32},
    {"qwen2", "num_attention_heads", 32},     {"qwen2", "num_key_value_heads", 32},
    {"qwen2", "max_position_embeddings", 32768},
    // Gemma3TextConfig: google/gemma-3-12b-it's text_config states no head_dim, so it is 256 (not
    // 3840 / 16 = 240), and no vocab_size (262208: 262144 + the image and special tokens).
    {"gemma3_text", "vocab_size", 262208},    {"gemma3_text", "hidden_size", 2304},
    {"gemma3_text", "intermediate_size", 9216}, {"gemma3_text", "num_hidden_layers", 26},
    {"gemma3_text", "num_attention_heads", 8}, {"gemma3_text", "num_key_value_heads", 4},
    {"gemma3_text", "head_dim", 256},         {"gemma3_text", "max_position_embeddings", 131072},
    {"gemma3_text", "sliding_window", 4096},
};

// A copy of a nested config with the class defaults it omits filled in, each one stated.
ConfigNode with_class_defaults(const ConfigNode& nested, std::vector<std::string>& assumptions) {
  ConfigNode filled = nested;
  const ConfigNode* type = nested.find("model_type");
  if (type == nullptr || type->as_string() == nullptr) return filled;
  auto& map = std::get<ConfigNode::Map>(filled.value);
  for (const ClassDefault& entry : kClassDefaults) {
    if (entry.model_type != *type->as_string() || nested.find(entry.field) != nullptr) continue;
    map.push_back(ConfigEntry{std::string(entry.field),
                              ConfigNode{entry.value, nested.where + " (" + std::string(entry.field) + ": transformers default)", ""}});
    assumptions.push_back("text_config omits " + std::string(entry.field) + ": transformers' " +
                          std::string(entry.model_type) + " default " + std::to_string(entry.value));
  }
  return filled;
}

}  // namespace

ModelShape shape_from_hf_config(const ConfigNode& config) {
  ConfigFields outer(config, "config");
  const ConfigNode* text_config = outer.get("text_config");
  if (text_config == nullptr || outer.has("num_hidden_layers")) return shape_from_fields(outer, outer);
  // Multimodal configs (LLaVA, Mistral-3, Gemma-3) nest the language model; only it has a KV cache.
  std::vector<std::string> defaults_used;
  ConfigNode filled = with_class_defaults(*text_config, defaults_used);
  ModelShape shape = shape_from_fields(ConfigFields(filled, "text_config"), outer);
  shape.assumptions.insert(shape.assumptions.begin(), defaults_used.begin(), defaults_used.end());
  add_vision_tower(outer, shape);
  shape.multimodal = multimodal_config(outer);
  shape.assumptions.insert(shape.assumptions.begin(),
                           "multimodal config (model_type " + outer.optional_string("model_type").value_or("?") +
                               "): the KV cache is the language model's, read from text_config");
  return shape;
}

}  // namespace kvplan
