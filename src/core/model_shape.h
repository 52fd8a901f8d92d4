// What the KV cache (and the weights beside it) depend on, named after the Hugging Face
// config.json field each value comes from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kvplan {

struct Checkpoint;

// What one layer caches: every token (full), the last sliding_window tokens (sliding), or the
// tokens of the current attention_chunk_size chunk (chunked local attention, Llama-4).
enum class LayerAttention { full, sliding, chunked };

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

struct MoeDims {
  std::uint32_t num_experts = 0;          // routed experts: num_local_experts / n_routed_experts
  std::uint32_t num_experts_per_tok = 0;  // routed experts active per token
  std::uint32_t num_shared_experts = 0;   // n_shared_experts (DeepSeek)
  std::uint64_t moe_intermediate_size = 0;            // per expert; Mixtral uses intermediate_size
  std::uint64_t shared_expert_intermediate_size = 0;  // Qwen-MoE's one shared expert
  std::uint32_t first_dense_layers = 0;  // first_k_dense_replace: leading layers with a dense MLP
};

struct ModelShape {
  std::string model_type;
  std::uint32_t num_hidden_layers = 0;
  std::uint32_t num_attention_heads = 0;
  std::uint32_t num_key_value_heads = 0;
  std::uint32_t head_dim = 0;
  // True when config.json has an explicit head_dim; otherwise head_dim = hidden_size / heads.
  bool head_dim_explicit = false;
  std::optional<MlaDims> mla;

  std::optional<std::uint64_t> sliding_window;
  std::optional<std::uint64_t> attention_chunk_size;  // chunked layers attend within chunks of this many tokens
  std::vector<LayerAttention> layer_attention;  // one entry per hidden layer
  std::string sliding_rule;  // which convention decided layer_attention, for --explain

  std::uint32_t num_nextn_predict_layers = 0;  // MTP layers, cached only with --mtp
  std::uint64_t max_position_embeddings = 0;

  std::uint64_t hidden_size = 0;
  std::uint64_t intermediate_size = 0;
  std::uint64_t vocab_size = 0;
  bool tie_word_embeddings = false;  // output head shares the input embedding
  std::optional<MoeDims> moe;

  std::string torch_dtype;           // the checkpoint's dtype as config.json states it
  std::string weight_quantization;   // quantization_config.quant_method, empty when none

  // Parameter counts come from the model card or safetensors metadata, not config.json.
  std::optional<std::uint64_t> params_total;
  std::optional<std::uint64_t> params_active;

  // The checkpoint's tensors when the model was read from one (--model a folder or a Hugging Face
  // id): the weights are then its bytes, sharded per rank, instead of params x bytes per param.
  std::shared_ptr<const Checkpoint> checkpoint;

  // Conventions kvplan applied where the config left something implicit; --explain prints them.
  std::vector<std::string> assumptions;

  std::uint32_t layer_count(LayerAttention attention) const {
    std::uint32_t count = 0;
    for (LayerAttention kind : layer_attention) count += kind == attention;
    return count;
  }
  std::uint32_t sliding_layer_count() const { return layer_count(LayerAttention::sliding); }
};

}  // namespace kvplan
