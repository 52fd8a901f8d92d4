#include "core/prefill_bound.h"

#include <string>

#include "core/attention_cost.h"
#include "core/checked.h"
#include "core/error.h"

namespace kvplan {

PrefillBound prefill_bound(const ModelShape& shape, const Variant& variant, const GpuSpec& gpu, std::uint64_t tokens,
                           std::uint32_t tp, std::string_view what) {
  const std::uint64_t active = shape.params_active.value_or(shape.params_total.value_or(0));
  if (active == 0) throw Error(std::string(what) + " needs the model's parameter count, which it does not state");
  PrefillBound bound;
  bound.tokens = tokens;
  bound.tp = tp;
  PrefillAttentionShape attention;
  attention.variant = variant;
  attention.n_q_heads = shape.num_attention_heads;
  attention.ctx = Tokens{1};
  attention.qk_head_dim = shape.mla ? shape.mla->qk_nope_head_dim + shape.mla->qk_rope_head_dim : variant.head_dim;
  attention.v_head_dim = shape.mla ? shape.mla->v_head_dim : variant.head_dim;
  // prefill_attention_cost counts 2 h L^2 (d_qk + d_v) / 2; at L = 1 that is the coefficient a per layer.
  bound.attention_flops_per_token2 = prefill_attention_cost(attention).flops * shape.num_hidden_layers;
  bound.active_params = active;
  const std::string embedding = std::string(what) + ": embedding";
  bound.embedding_params = checked_mul(checked_mul(shape.vocab_size, shape.hidden_size, embedding),
                                       shape.tie_word_embeddings ? 1 : 2, embedding);
  bound.matmul_params = active > bound.embedding_params ? active - bound.embedding_params : 0;
  const double length = static_cast<double>(tokens);
  bound.attention_flops = bound.attention_flops_per_token2 * length * length;
  bound.flops = 2.0 * static_cast<double>(bound.matmul_params) * length + bound.attention_flops;
  bound.peak_flops_per_s = gpu.bf16_dense_flops_per_s * tp;
  bound.seconds = bound.flops / bound.peak_flops_per_s;
  return bound;
}

}  // namespace kvplan
