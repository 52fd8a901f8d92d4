// The layer bench's buffers, counted on the host (the CLI checks a shape fits before it runs).
#include "kernels/layer.h"

namespace kvplan::kernels {

std::uint64_t layer_device_bytes(const LayerBenchShape& s) {
  const PrefillShape& a = s.attention;
  const std::uint64_t tokens = static_cast<std::uint64_t>(a.tokens()) + 1, d = static_cast<std::uint64_t>(s.hidden_size);
  const std::uint64_t h = static_cast<std::uint64_t>(a.n_q_heads);
  const std::uint64_t q_width = h * static_cast<std::uint64_t>(a.head_dim_qk), o_width = h * static_cast<std::uint64_t>(a.head_dim_v);
  std::uint64_t weights = o_width * d, activations = 2 * d + o_width;  // w_o; x, y, o
  if (!s.mla) {
    const std::uint64_t qkv = q_width + 2ull * a.n_kv_heads * a.head_dim_qk;
    weights += d * qkv;
    activations += qkv;
  } else {
    const std::uint64_t latent = static_cast<std::uint64_t>(a.latent_width), rank = latent - static_cast<std::uint64_t>(s.rope_dim);
    const std::uint64_t q_lora = static_cast<std::uint64_t>(s.q_lora_rank);
    const std::uint64_t nope_v = h * (static_cast<std::uint64_t>(a.head_dim_qk - s.rope_dim) + static_cast<std::uint64_t>(a.head_dim_v));
    weights += (q_lora ? d * q_lora + q_lora * q_width : d * q_width) + d * latent + rank * nope_v;
    activations += q_lora + q_width + latent + nope_v + q_width;  // cq, q, c, kv, assembled K
  }
  // The layer's attention keeps the prefill bench's buffers (caches, indices, and its own q/k/v/out).
  return 2 * (weights + tokens * activations) + prefill_device_bytes(a);
}

}  // namespace kvplan::kernels
