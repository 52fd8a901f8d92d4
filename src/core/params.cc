#include "core/params.h"

#include "core/error.h"

namespace kvplan {
namespace {

std::uint64_t attention_params(const ModelShape& shape) {
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t heads = shape.num_attention_heads;
  if (const auto& mla = shape.mla) {
    // DeepSeek-V2 §2.1: queries through an optional low-rank q_a/q_b pair; keys and values through
    // kv_a (to the latent plus the RoPE key) and kv_b (latent -> per-head nope key and value).
    const std::uint64_t q_head = std::uint64_t{mla->qk_nope_head_dim} + mla->qk_rope_head_dim;
    std::uint64_t q = mla->q_lora_rank
                          ? hidden * *mla->q_lora_rank + *mla->q_lora_rank + *mla->q_lora_rank * heads * q_head
                          : hidden * heads * q_head;
    std::uint64_t kv_a = hidden * (std::uint64_t{mla->kv_lora_rank} + mla->qk_rope_head_dim) + mla->kv_lora_rank;
    std::uint64_t kv_b = std::uint64_t{mla->kv_lora_rank} * heads * (std::uint64_t{mla->qk_nope_head_dim} + mla->v_head_dim);
    std::uint64_t o = heads * mla->v_head_dim * hidden;
    return q + kv_a + kv_b + o;
  }
  const std::uint64_t q_width = heads * shape.head_dim;
  const std::uint64_t kv_width = std::uint64_t{shape.num_key_value_heads} * shape.head_dim;
  return hidden * q_width + 2 * hidden * kv_width + q_width * hidden;
}

// A gated MLP (gate, up, down projections).
std::uint64_t mlp_params(std::uint64_t hidden, std::uint64_t intermediate) { return 3 * hidden * intermediate; }

}  // namespace

ParamEstimate estimate_params(const ModelShape& shape, bool tie_word_embeddings) {
  if (shape.model_type == "llama4" || shape.model_type == "llama4_text") {
    // Interleaved MoE layers with a shared expert and a second MLP width (intermediate_size_mlp):
    // a gated-MLP count would be far off.
    throw Error("cannot estimate the parameter count of a " + shape.model_type +
                " model from config.json (interleaved MoE layers with a shared expert)");
  }
  if (shape.hidden_size == 0 || shape.intermediate_size == 0 || shape.vocab_size == 0) {
    throw Error("cannot estimate the parameter count: config.json needs hidden_size, intermediate_size and "
                "vocab_size");
  }
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t embeddings = shape.vocab_size * hidden * (tie_word_embeddings ? 1 : 2);
  const std::uint64_t norms_per_layer = 2 * hidden;
  const std::uint64_t layers = shape.num_hidden_layers;
  const std::uint64_t attention = attention_params(shape);

  ParamEstimate estimate;
  estimate.total = embeddings + hidden + layers * (attention + norms_per_layer);
  estimate.active = estimate.total;
  if (!shape.moe) {
    std::uint64_t mlp = layers * mlp_params(hidden, shape.intermediate_size);
    estimate.total += mlp;
    estimate.active += mlp;
    return estimate;
  }
  const MoeDims& moe = *shape.moe;
  const std::uint64_t dense_layers = moe.first_dense_layers;
  const std::uint64_t moe_layers = layers - dense_layers;
  const std::uint64_t expert = mlp_params(hidden, moe.moe_intermediate_size);
  const std::uint64_t shared = moe.num_shared_experts * expert + mlp_params(hidden, moe.shared_expert_intermediate_size);
  const std::uint64_t router = hidden * moe.num_experts;
  const std::uint64_t dense = dense_layers * mlp_params(hidden, shape.intermediate_size);
  estimate.total += dense + moe_layers * (moe.num_experts * expert + shared + router);
  estimate.active += dense + moe_layers * (moe.num_experts_per_tok * expert + shared + router);
  return estimate;
}

}  // namespace kvplan
