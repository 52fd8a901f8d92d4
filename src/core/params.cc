#include "core/params.h"

#include <string>

#include "core/checked.h"
#include "core/config_fields.h"
#include "core/deepseek_v4_weights.h"
#include "core/error.h"

namespace kvplan {
namespace {

// Every dimension is bounded when read (kMaxDim), but their products are not: a config with
// several at the limit would wrap, so every product and sum here is checked.
constexpr std::string_view kWhat = "the parameter count estimated from config.json";
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }

// q, k, v and o projections of one layer of K/V heads; values narrower than keys (MiMo-V2-Flash)
// shrink v_proj and o_proj.
std::uint64_t kv_attention_params(std::uint64_t hidden, std::uint64_t heads, const KvGeometry& kv) {
  const std::uint64_t v_dim = kv.v_head_dim != 0 ? kv.v_head_dim : kv.head_dim;
  const std::uint64_t q_k = add(mul(heads, kv.head_dim), mul(kv.num_key_value_heads, kv.head_dim));
  const std::uint64_t v_o = add(mul(kv.num_key_value_heads, v_dim), mul(heads, v_dim));
  return mul(hidden, add(q_k, v_o));
}

// One layer's attention parameters (the sliding layers' where the kinds differ).
std::uint64_t attention_params(const ModelShape& shape) {
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t heads = shape.num_attention_heads;
  if (const auto& mla = shape.mla) {
    // DeepSeek-V2 §2.1: queries through an optional low-rank q_a/q_b pair; keys and values through
    // kv_a (to the latent plus the RoPE key) and kv_b (latent -> per-head nope key and value).
    const std::uint64_t q_head = std::uint64_t{mla->qk_nope_head_dim} + mla->qk_rope_head_dim;
    const std::uint64_t q = mla->q_lora_rank
                                ? add(add(mul(hidden, *mla->q_lora_rank), *mla->q_lora_rank),
                                      mul(mul(*mla->q_lora_rank, heads), q_head))
                                : mul(mul(hidden, heads), q_head);
    const std::uint64_t kv_a = add(mul(hidden, std::uint64_t{mla->kv_lora_rank} + mla->qk_rope_head_dim), mla->kv_lora_rank);
    const std::uint64_t kv_b = mul(mul(mla->kv_lora_rank, heads), std::uint64_t{mla->qk_nope_head_dim} + mla->v_head_dim);
    const std::uint64_t o = mul(mul(heads, mla->v_head_dim), hidden);
    return add(add(q, kv_a), add(kv_b, o));
  }
  return kv_attention_params(hidden, heads, KvGeometry{shape.num_key_value_heads, shape.head_dim, shape.v_head_dim});
}

// Sparse MLA's lightning indexers (DeepSeek-V3.2, GLM-5; vLLM's DeepseekV32Indexer) on the hidden
// layers that build one: wq_b from the query latent to index_n_heads x index_head_dim, wk and
// weights_proj from hidden, k_norm's weight and bias.
std::uint64_t indexer_params(const ModelShape& shape) {
  const auto& index = shape.indexer;
  if (!index || !shape.mla || !shape.mla->q_lora_rank) return 0;
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t one = add(add(mul(mul(*shape.mla->q_lora_rank, index->index_n_heads), index->index_head_dim),
                                    mul(hidden, index->index_head_dim)),
                                add(mul(2, index->index_head_dim), mul(hidden, index->index_n_heads)));
  return mul(index->key_layers(shape.num_hidden_layers, 0), one);
}

// One Mamba-2 mixer (vLLM's MambaMixer2, without biases): in_proj to the gate z, x, B, C and dt
// (width + conv width + heads), the depthwise conv1d and its bias over the conv width, A, D and
// dt_bias per head, the gated norm over the width, out_proj back to hidden.
std::uint64_t mamba2_params(std::uint64_t hidden, const StateDims& state) {
  const std::uint64_t width = mul(state.num_heads, state.head_dim);
  const std::uint64_t conv_width = add(width, mul(mul(2, state.n_groups), state.state_size));
  const std::uint64_t in_proj = mul(hidden, add(add(width, conv_width), state.num_heads));
  const std::uint64_t conv = mul(conv_width, std::uint64_t{state.conv_kernel} + 1);
  return add(add(in_proj, conv), add(add(mul(3, state.num_heads), width), mul(width, hidden)));
}

// One Mamba-1 mixer (vLLM's MambaMixer as Jamba builds it): in_proj to x and the gate (2 x the
// channels), the conv1d and its bias, x_proj to dt, B and C (dt_rank + 2 x d_state), dt_proj back
// to the channels with its bias, A (channels x d_state) and D, the dt/B/C norms, out_proj.
std::uint64_t mamba1_params(std::uint64_t hidden, const StateDims& state) {
  const std::uint64_t channels = state.channels;
  const std::uint64_t dt_b_c = add(state.dt_rank, mul(2, state.state_size));
  const std::uint64_t projections = add(add(mul(hidden, mul(2, channels)), mul(channels, dt_b_c)),
                                        add(mul(add(state.dt_rank, 1), channels), mul(channels, hidden)));
  const std::uint64_t conv = mul(channels, std::uint64_t{state.conv_kernel} + 1);
  return add(add(projections, conv), add(mul(channels, add(state.state_size, 1)), dt_b_c));
}

// A gated MLP (gate, up, down projections).
std::uint64_t mlp_params(std::uint64_t hidden, std::uint64_t intermediate) { return mul(mul(3, hidden), intermediate); }

// nemotron_h.py (vLLM 0.33; transformers' NemotronHForCausalLM has the same parameters): each
// layer is one norm and one mixer of its own kind. Mamba-2 (MambaMixer2); attention without
// biases; an MLP of up and down projections (relu2, no gate); an MoE block of a router over
// hidden, routed relu2 experts in the latent width (or hidden), the latent projections down and
// up, and one shared relu2 MLP. e_score_correction_bias is a buffer, not a parameter.
ParamEstimate nemotron_h_params(const ModelShape& shape, bool tie_word_embeddings) {
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t mlp_layers = shape.layer_count(LayerAttention::none) - (shape.moe ? shape.moe->moe_layers : 0);
  std::uint64_t total = add(add(mul(mul(shape.vocab_size, hidden), tie_word_embeddings ? 1 : 2), hidden),
                            mul(shape.num_hidden_layers, hidden));
  total = add(total, mul(shape.attention_layer_count(), attention_params(shape)));
  if (shape.state) total = add(total, mul(shape.layer_count(LayerAttention::state), mamba2_params(hidden, *shape.state)));
  total = add(total, mul(mlp_layers, mul(mul(2, hidden), shape.intermediate_size)));
  ParamEstimate estimate{total, total};
  if (const auto& moe = shape.moe) {
    const std::uint64_t width = moe->latent_size ? moe->latent_size : hidden;
    const std::uint64_t expert = mul(mul(2, width), moe->moe_intermediate_size);
    const std::uint64_t latent = moe->latent_size ? mul(mul(2, hidden), moe->latent_size) : 0;
    const std::uint64_t fixed = add(add(mul(hidden, moe->num_experts), latent),
                                    mul(mul(2, hidden), moe->shared_expert_intermediate_size));
    estimate.total = add(total, mul(moe->moe_layers, add(fixed, mul(moe->num_experts, expert))));
    estimate.active = add(total, mul(moe->moe_layers, add(fixed, mul(moe->num_experts_per_tok, expert))));
  }
  return estimate;
}

}  // namespace

std::optional<std::string> params_estimate_gap(const ModelShape& shape) {
  if (shape.model_type == "llama4" || shape.model_type == "llama4_text") {
    // Interleaved MoE layers with a shared expert and a second MLP width (intermediate_size_mlp):
    // a gated-MLP count would be far off.
    return "cannot estimate the parameter count of a " + shape.model_type +
           " model from config.json (interleaved MoE layers with a shared expert)";
  }
  if (shape.model_type == "deepseek_v4") {
    const std::string gap = deepseek_v4_shape_gap(shape);
    if (gap.empty()) return std::nullopt;
    return "cannot estimate the parameter count of " + gap;
  }
  if (shape.model_type == "kimi_linear") {
    // KDA layers project q, k, v, the gate and beta (plus its low-rank gate), not attention's q/k/v/o;
    // the experts take num_experts_per_token.
    return "cannot estimate the parameter count of a kimi_linear model from config.json (KDA layers' "
           "projections)";
  }
  if (shape.model_type == "gemma4_text") {
    // Full layers with their own head dims and shared K/V projections, per-layer input embeddings
    // (E2B, E4B), an optional MoE block beside the MLP, a vision encoder of its own.
    return "cannot estimate the parameter count of a gemma4_text model from config.json (per-kind attention "
           "widths, per-layer embeddings, its vision encoder)";
  }
  if (shape.hidden_size == 0 || shape.intermediate_size == 0 || shape.vocab_size == 0) {
    return "cannot estimate the parameter count: config.json needs hidden_size, intermediate_size and vocab_size";
  }
  return std::nullopt;
}

ParamEstimate estimate_params(const ModelShape& shape, bool tie_word_embeddings) {
  if (std::optional<std::string> gap = params_estimate_gap(shape)) throw Error(*gap);
  if (shape.model_type == "nemotron_h") {
    ParamEstimate estimate = nemotron_h_params(shape, tie_word_embeddings);
    if (estimate.total > kMaxParams) {
      throw Error("config.json describes " + std::to_string(estimate.total) +
                  " parameters, more than kvplan plans for (limit " + std::to_string(kMaxParams) + ")");
    }
    return estimate;
  }
  if (shape.model_type == "deepseek_v4") {
    // The parameters of the parts vLLM allocates at TP 1 (core/deepseek_v4_weights.h); a token
    // passes through num_experts_per_tok of the routed experts.
    ParamEstimate estimate;
    std::uint64_t routed = 0;
    for (const WeightPart& part : deepseek_v4_weight_parts(shape, 1)) {
      estimate.total = add(estimate.total, part.params);
      if (part.what == "routed experts") routed = part.params;
    }
    estimate.active = estimate.total - routed + routed / shape.moe->num_experts * shape.moe->num_experts_per_tok;
    return estimate;
  }
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t embeddings = mul(mul(shape.vocab_size, hidden), tie_word_embeddings ? 1 : 2);
  const std::uint64_t norms_per_layer = mul(2, hidden);
  const std::uint64_t layers = shape.num_hidden_layers;
  const std::uint64_t attention = attention_params(shape);

  ParamEstimate estimate;
  estimate.total = add(add(embeddings, hidden), mul(layers, add(attention, norms_per_layer)));
  if (shape.full_layer_kv) {
    // MiMo-V2-Flash: the full layers' projections at their own K/V heads and widths.
    const std::uint64_t full_layers = shape.layer_count(LayerAttention::full);
    estimate.total = add(estimate.total - mul(full_layers, attention),
                         mul(full_layers, kv_attention_params(hidden, shape.num_attention_heads, *shape.full_layer_kv)));
  }
  const std::string& type = shape.model_type;
  if (shape.state && (type == "granitemoehybrid" || type == "falcon_h1" || type == "jamba")) {
    // The families whose mixers kvplan counts: Granite's and Jamba's Mamba layers have no
    // attention, Falcon-H1's layers have both.
    const std::uint64_t attention_layers = shape.state_beside_attention ? layers : shape.attention_layer_count();
    const std::uint64_t mixer = shape.state->mixer == StateMixer::mamba1 ? mamba1_params(hidden, *shape.state)
                                                                         : mamba2_params(hidden, *shape.state);
    estimate.total = add(add(add(embeddings, hidden), mul(layers, norms_per_layer)),
                         add(mul(attention_layers, attention), mul(shape.layer_count(LayerAttention::state), mixer)));
  }
  estimate.total = add(estimate.total, indexer_params(shape));
  estimate.active = estimate.total;
  if (!shape.moe) {
    const std::uint64_t mlp = mul(layers, mlp_params(hidden, shape.intermediate_size));
    estimate.total = add(estimate.total, mlp);
    estimate.active = estimate.total;
  } else {
    const MoeDims& moe = *shape.moe;
    // Jamba's experts sit on every expert_layer_period-th layer (MoeDims::moe_layers), the other
    // families' on every layer after the first_k_dense_replace dense ones.
    const std::uint64_t moe_layers = type == "jamba" ? moe.moe_layers : layers - moe.first_dense_layers;
    const std::uint64_t dense_layers = layers - moe_layers;
    const std::uint64_t expert = mlp_params(hidden, moe.moe_intermediate_size);
    const std::uint64_t shared = add(mul(moe.num_shared_experts, expert), mlp_params(hidden, moe.shared_expert_intermediate_size));
    const std::uint64_t router = mul(hidden, moe.num_experts);
    const std::uint64_t dense = mul(dense_layers, mlp_params(hidden, shape.intermediate_size));
    estimate.total = add(estimate.total, add(dense, mul(moe_layers, add(add(mul(moe.num_experts, expert), shared), router))));
    estimate.active =
        add(estimate.active, add(dense, mul(moe_layers, add(add(mul(moe.num_experts_per_tok, expert), shared), router))));
  }
  // A vision tower is loaded but no text token passes through it: total only.
  estimate.total = add(estimate.total, shape.vision_params);
  if (estimate.total > kMaxParams) {
    throw Error("config.json describes " + std::to_string(estimate.total) +
                " parameters, more than kvplan plans for (limit " + std::to_string(kMaxParams) + ")");
  }
  return estimate;
}

std::uint64_t routed_expert_params(const ModelShape& shape) {
  if (!shape.moe) return 0;
  const MoeDims& moe = *shape.moe;
  if (shape.model_type == "nemotron_h") {
    // nemotron_h_params: relu2 experts of up and down only, in the latent width when there is one.
    const std::uint64_t width = moe.latent_size ? moe.latent_size : shape.hidden_size;
    return mul(mul(moe.moe_layers, moe.num_experts), mul(mul(2, width), moe.moe_intermediate_size));
  }
  return mul(mul(moe.moe_layers, moe.num_experts), mlp_params(shape.hidden_size, moe.moe_intermediate_size));
}

}  // namespace kvplan
