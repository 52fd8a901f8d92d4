// What the KV cache (and the weights beside it) depend on, named after the Hugging Face
// config.json field each value comes from.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/weight_quantization.h"

namespace kvplan {

struct Checkpoint;

// What one layer caches: every token (full), the last sliding_window tokens (sliding), the
// tokens of the current attention_chunk_size chunk (chunked local attention, Llama-4), a
// per-sequence state of constant size (state: Mamba-2, Gated DeltaNet or KDA mixers), or nothing
// (none: Nemotron-H's MLP- and MoE-only layers, Gemma-4's layers that read an earlier layer's cache).
enum class LayerAttention { full, sliding, chunked, state, none };

// The recurrent mixer of a state layer. Each keeps, per sequence, a convolution window over the
// last conv_kernel - 1 inputs and a recurrent state; the shapes are vLLM's
// MambaStateShapeCalculator (docs/model.md, "State layers").
// KDA (Kimi Delta Attention, Kimi-Linear) is Gated DeltaNet's shape with as many key heads as
// value heads and one head width for both (MambaStateShapeCalculator.kda_state_shape). Mamba-1
// (Jamba) has no heads or groups (mamba1_state_shape).
enum class StateMixer { mamba2, gated_deltanet, kda, mamba1 };

struct StateDims {
  StateMixer mixer = StateMixer::mamba2;
  // Mamba-2 field / Gated DeltaNet field / KDA field (in linear_attn_config).
  std::uint32_t num_heads = 0;    // mamba_num_heads / linear_num_value_heads / num_heads
  std::uint32_t head_dim = 0;     // mamba_head_dim / linear_value_head_dim / head_dim
  std::uint32_t n_groups = 0;     // n_groups (B and C groups) / linear_num_key_heads / num_heads
  std::uint32_t state_size = 0;   // ssm_state_size / linear_key_head_dim / head_dim (Mamba-1: mamba_d_state)
  std::uint32_t conv_kernel = 0;  // conv_kernel / linear_conv_kernel_dim / short_conv_kernel_size (Mamba-1: mamba_d_conv)
  // Mamba-1's conv window and SSM state run over mamba_expand x hidden_size channels.
  std::uint32_t channels = 0;
  std::uint32_t dt_rank = 0;  // Mamba-1's time-step projection rank (mamba_dt_rank), for the weights
  // The config's mamba_ssm_cache_dtype (Nemotron-H: float32); empty when the config does not
  // set it, so the recurrent state takes the conv state's dtype.
  std::string ssm_cache_dtype;
  // KDA: the config bounds the gate (linear_attn_config.gate_lower_bound), one of FlashKDA's
  // conditions, which decides the prefill checkpoint block (docs/engines-frontier.md).
  bool gate_bounded = false;
};

// The mixer's name and the config fields behind StateDims, for tables and --explain.
struct StateFieldNames {
  const char* mixer;
  const char* num_heads;
  const char* head_dim;
  const char* n_groups;
  const char* state_size;
  const char* conv_kernel;
};

inline StateFieldNames state_field_names(StateMixer mixer) {
  switch (mixer) {
    case StateMixer::mamba2:
      return {"Mamba-2", "mamba_num_heads", "mamba_head_dim", "n_groups", "ssm_state_size", "conv_kernel"};
    case StateMixer::gated_deltanet:
      return {"Gated DeltaNet", "linear_num_value_heads", "linear_value_head_dim", "linear_num_key_heads",
              "linear_key_head_dim", "linear_conv_kernel_dim"};
    case StateMixer::mamba1:
      return {"Mamba-1", "-", "-", "-", "mamba_d_state", "mamba_d_conv"};
    case StateMixer::kda:
      break;
  }
  return {"KDA", "linear_attn_config.num_heads", "linear_attn_config.head_dim", "linear_attn_config.num_heads",
          "linear_attn_config.head_dim", "linear_attn_config.short_conv_kernel_size"};
}

inline const char* state_mixer_name(StateMixer mixer) { return state_field_names(mixer).mixer; }

// Multi-head latent attention (DeepSeek-V2 §2.1). Per token per layer the cache holds the
// compressed latent c_KV (kv_lora_rank) and the decoupled RoPE key k_R (qk_rope_head_dim), both
// shared by all heads.
struct MlaDims {
  std::uint32_t kv_lora_rank = 0;      // d_c
  std::uint32_t qk_rope_head_dim = 0;  // d_R
  std::uint32_t qk_nope_head_dim = 0;  // per-head key part rebuilt from the latent
  std::uint32_t v_head_dim = 0;        // per-head value dim rebuilt from the latent
  std::optional<std::uint32_t> q_lora_rank;  // null in DeepSeek-V2-Lite (no query compression)
};

// DeepSeek-V3.2's lightning indexer (DeepSeek Sparse Attention): beside the MLA latent, a layer
// with an indexer caches one key per token for choosing the top-k tokens, index_head_dim fp8 values
// and one fp32 scale per 128 of them, whatever the KV cache dtype (vLLM's DeepseekV32IndexerCache).
// Every layer has one unless config.json's index_topk_freq / index_topk_pattern make some layers
// reuse an earlier layer's top-k (GLM-5.2: 21 of 78 keep one); MTP layers always have one.
struct IndexerDims {
  std::uint32_t index_head_dim = 0;
  std::uint32_t index_n_heads = 0;
  std::uint32_t index_topk = 0;
  std::vector<std::uint32_t> keyless_layers;  // hidden layers without an indexer, ascending; empty: none
  std::uint64_t bytes_per_token() const { return index_head_dim + index_head_dim / 128 * 4; }
  bool on_every_layer() const { return keyless_layers.empty(); }
  bool has_key(std::uint32_t hidden_layer) const {
    return !std::binary_search(keyless_layers.begin(), keyless_layers.end(), hidden_layer);
  }
  // Layers caching a key among `hidden_layers` hidden layers plus `mtp_layers` MTP layers.
  std::uint32_t key_layers(std::uint32_t hidden_layers, std::uint32_t mtp_layers) const {
    return hidden_layers - static_cast<std::uint32_t>(keyless_layers.size()) + mtp_layers;
  }
};

// The K/V heads one layer kind caches. Gemma-4's full-attention layers have their own:
// global_head_dim, and num_global_key_value_heads when attention_k_eq_v (transformers'
// Gemma4TextConfig per_layer_config, which vLLM's Gemma4DecoderLayer reads). MiMo-V2-Flash's full
// layers have num_key_value_heads, head_dim and v_head_dim beside the sliding layers' swa_* fields.
// A K/V head's widths as tables print them: "192", or "192/128" (K/V) where values are narrower.
inline std::string head_widths(std::uint32_t head_dim, std::uint32_t v_head_dim) {
  return v_head_dim == 0 ? std::to_string(head_dim) : std::to_string(head_dim) + "/" + std::to_string(v_head_dim);
}

struct KvGeometry {
  std::uint32_t num_key_value_heads = 0;
  std::uint32_t head_dim = 0;
  std::uint32_t v_head_dim = 0;  // 0: values as wide as keys
  // The config.json fields they come from, for tables and --explain.
  const char* heads_field = "num_global_key_value_heads";
  const char* head_dim_field = "global_head_dim";
  const char* v_head_dim_field = "v_head_dim";
};

// DeepSeek-V4's compressed sparse attention (deepseek_v4; core/compressed_mla.h): one shared K/V
// latent of head_dim, kept for a sliding window by every layer and, compressed, per group of
// compress_ratio tokens by the CSA (4) and HCA (128) layers.
struct CompressedMlaDims {
  std::uint32_t head_dim = 0;        // head_dim, the latent's width
  std::uint32_t rope_head_dim = 0;   // qk_rope_head_dim, its RoPE part
  std::uint32_t index_head_dim = 0;  // the lightning indexer's key width (CSA layers)
  std::uint64_t sliding_window = 0;  // sliding_window, every layer's window of latents
  std::vector<std::uint32_t> compress_ratio;  // per hidden layer: 1 (window only), 4 (CSA) or 128 (HCA)
  // The projections' widths, for the weights (core/deepseek_v4_weights.h); 0 when config.json omits them.
  std::uint32_t q_lora_rank = 0;    // q_lora_rank: wq_a's output, wq_b's input
  std::uint32_t o_lora_rank = 0;    // o_lora_rank: each output group's low-rank width
  std::uint32_t o_groups = 0;       // o_groups: the grouped output projection wo_a
  std::uint32_t hc_mult = 0;        // hc_mult: hyper-connection streams
  std::uint32_t index_n_heads = 0;  // index_n_heads: the indexer's query heads
  std::uint32_t num_hash_layers = 0;  // num_hash_layers: leading MoE layers routed by a token-id table
  std::string expert_dtype;         // expert_dtype: "fp4" (MXFP4 experts) or "fp8"
};

struct MoeDims {
  std::uint32_t num_experts = 0;          // routed experts: num_local_experts / n_routed_experts
  std::uint32_t num_experts_per_tok = 0;  // routed experts active per token
  std::uint32_t num_shared_experts = 0;   // n_shared_experts (DeepSeek)
  std::uint64_t moe_intermediate_size = 0;            // per expert; Mixtral uses intermediate_size
  std::uint64_t shared_expert_intermediate_size = 0;  // Qwen-MoE's one shared expert
  std::uint32_t first_dense_layers = 0;  // first_k_dense_replace: leading layers with a dense MLP
  // moe_latent_size (Nemotron-3 Super, Ultra): the routed experts work in this width, between a
  // projection down from hidden and one back up; 0 when they work in hidden itself.
  std::uint64_t latent_size = 0;
  // Layers whose MLP is the routed-expert block (hf_config_moe.cc: each family's own rule), so
  // num_experts x moe_layers experts exist. vLLM splits them over TP x DP ranks.
  std::uint32_t moe_layers = 0;
};

// One cos/sin table of vLLM's rotary embeddings (core/rope_cache.h).
struct RopeCache {
  std::uint64_t positions = 0;   // rows: the positions the table covers
  std::uint32_t rotary_dim = 0;  // values per row (cos and sin halves)
  bool fp32 = false;             // built in fp32 whatever the model's dtype (gpt-oss)
  std::string why;               // which fields gave `positions`, for --explain
};

struct ModelShape {
  std::string model_type;
  std::uint32_t num_hidden_layers = 0;
  std::uint32_t num_attention_heads = 0;
  std::uint32_t num_key_value_heads = 0;
  std::uint32_t head_dim = 0;
  // True when config.json has an explicit head_dim; otherwise head_dim = hidden_size / heads.
  bool head_dim_explicit = false;
  // The cached V heads' width where it differs from head_dim (MiMo-V2-Flash: K 192, V 128; vLLM's
  // AttentionSpec.head_size_v); 0 when values are as wide as keys. Not MLA's v_head_dim (MlaDims).
  std::uint32_t v_head_dim = 0;
  // The prefix of the config fields num_key_value_heads, head_dim and v_head_dim come from: "swa_"
  // where they are the sliding layers' (MiMo-V2-Flash), for tables and --explain.
  std::string kv_fields_prefix;
  std::optional<MlaDims> mla;
  std::optional<IndexerDims> indexer;  // sparse MLA (deepseek_v32, glm_moe_dsa): the indexer's key cache
  std::optional<StateDims> state;  // the mixer of the LayerAttention::state layers
  // Falcon-H1: every full-attention layer also runs a state mixer beside its attention, which vLLM
  // registers as a state layer of its own (falcon_h1.py: FalconH1ParallelHybrid).
  bool state_beside_attention = false;
  // Qwen3-Next and Qwen3.5 (Gated DeltaNet): every full_attention_interval-th layer is full attention
  // (the config's, else 4), the rule SGLang's Qwen3NextConfig.layers_block_type follows even where
  // the config lists layer_types; 0 for other models.
  std::uint32_t full_attention_interval = 0;
  std::optional<CompressedMlaDims> compressed_mla;  // deepseek_v4: its caches replace per-token K/V
  // Full-attention layers whose K/V heads differ from num_key_value_heads x head_dim (Gemma-4).
  std::optional<KvGeometry> full_layer_kv;
  // Learned attention sinks, per-head scalars in the softmax (MiMo-V2-Flash's add_swa_attention_sink_bias;
  // gpt-oss's are known by its model_type): weights, not cache, but some backends lack them.
  bool attention_sinks = false;
  // use_bidirectional_attention "vision" (Gemma-4): images attend both ways, so vLLM serves the model
  // with its image-mask composite backends (is_mm_prefix_lm).
  bool bidirectional_vision = false;

  std::optional<std::uint64_t> sliding_window;
  std::optional<std::uint64_t> attention_chunk_size;  // chunked layers attend within chunks of this many tokens
  std::vector<LayerAttention> layer_attention;  // one entry per hidden layer
  // Gemma-4: the kinds (layer_types) of the last num_kv_shared_layers layers, which read an earlier
  // layer's cache and are none in layer_attention. SGLang's pools still give each its own rows.
  std::vector<LayerAttention> kv_shared_layer_kinds;
  std::string sliding_rule;  // which convention decided layer_attention, for --explain

  std::uint32_t num_nextn_predict_layers = 0;  // MTP layers, cached only with --mtp
  std::uint64_t max_position_embeddings = 0;
  // vLLM's rotary cos/sin tables, allocated while the model loads (core/rope_cache.h).
  std::vector<RopeCache> rope_caches;

  std::uint64_t hidden_size = 0;
  std::uint64_t intermediate_size = 0;
  std::uint64_t vocab_size = 0;
  bool tie_word_embeddings = false;  // output head shares the input embedding
  std::optional<MoeDims> moe;

  std::string torch_dtype;           // the checkpoint's dtype as config.json states it
  std::string weight_quantization;   // quantization_config.quant_method, empty when none
  WeightQuantization quantization;   // what quantization_config says about each weight's bytes

  // Parameter counts come from the model card or safetensors metadata, not config.json.
  std::optional<std::uint64_t> params_total;
  std::optional<std::uint64_t> params_active;
  // A multimodal checkpoint's vision tower and projector (Gemma-3's SigLIP), read from
  // vision_config: no cache, but weights vLLM loads. A preset's params_total already includes them.
  std::uint64_t vision_params = 0;

  // A config that nests the language model in text_config (a multimodal model): SGLang's defaults
  // read its architecture and its vision tower's size (docs/engines-sglang.md, "Multimodal models").
  struct Multimodal {
    std::string architecture;             // architectures[0], "" when absent
    bool vision_config = false;           // the config has a vision_config
    std::uint64_t vision_layers = 24;     // vision_config.num_hidden_layers (SGLang's default 24)
    std::uint64_t vision_hidden = 1024;   // vision_config.hidden_size (SGLang's default 1024)
  };
  std::optional<Multimodal> multimodal;

  // The checkpoint's tensors when the model was read from one (--model a folder or a Hugging Face
  // id): the weights are then its bytes, sharded per rank, instead of params x bytes per param.
  std::shared_ptr<const Checkpoint> checkpoint;

  // Conventions kvplan applied where the config left something implicit; --explain prints them.
  std::vector<std::string> assumptions;

  // The layers that keep this kind of cache; with state_beside_attention a full layer also counts
  // as a state layer.
  std::uint32_t layer_count(LayerAttention attention) const {
    std::uint32_t count = 0;
    for (LayerAttention kind : layer_attention) {
      count += kind == attention || (attention == LayerAttention::state && state_beside_attention && kind == LayerAttention::full);
    }
    return count;
  }
  std::uint32_t sliding_layer_count() const { return layer_count(LayerAttention::sliding); }
  // Layers with a per-token K/V cache (full, sliding, chunked).
  std::uint32_t attention_layer_count() const {
    return layer_count(LayerAttention::full) + layer_count(LayerAttention::sliding) + layer_count(LayerAttention::chunked);
  }
};

}  // namespace kvplan
