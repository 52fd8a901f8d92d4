// One attention layer's forward over whole prompts, per variant (docs/kernels.md, `kvplan bench --phase
// layer`): the projections through cuBLAS (bf16 in, fp32 accumulation, bf16 out), RoPE, the prefill
// attention kernel writing the cache, and the output projection.
//   MHA/GQA/MQA: qkv = x W_qkv^T (fused); RoPE on q and k; attention on q/k/v views of qkv; y = o W_o^T.
//   MLA (DeepSeek-V2 §2.1, without the RMSNorms of the latents): q = (x W_dq^T) W_uq^T, or x W_q^T
//   without q_lora_rank; c = x W_dkv^T (kv_lora_rank latent | rope dims of k_R); RoPE on q's rope
//   dims and on k_R; the latent row c written to the cache; kv = c_latent W_ukv^T (k_nope | v per
//   head); K assembled as [k_nope | k_R] per head; attention (192/128); y = o W_o^T.
// Weights are random values in [-1, 1] and each GEMM scales by 1/sqrt(its K), so activations stay
// near unit size; RoPE is the rotate-half form with base 10000 over positions within each prompt.
#pragma once

#include <cstdint>

#include "kernels/gpu.h"
#include "kernels/prefill_problem.h"

namespace kvplan::kernels {

struct LayerBenchShape {
  PrefillShape attention;   // prompts, heads, head dims, cache; MLA: latent_width = kv_lora_rank + rope
  int hidden_size = 0;      // d_model
  bool mla = false;
  int q_lora_rank = 0;      // MLA: 0 = one q projection
  int rope_dim = 0;         // MLA: qk_rope_head_dim (the last rope_dim of each q head and of the latent row)
};

inline constexpr double kRopeBase = 10000.0;

// Device memory the layer bench allocates: x, weights, intermediates, output, caches.
std::uint64_t layer_device_bytes(const LayerBenchShape& shape);

// Runs the layer once with every output poisoned, checks each stage on sampled elements against
// double-precision host arithmetic on the stage's inputs copied back (each GEMM with its RoPE,
// MLA's assembled K, attention via prefill_reference; the cache write is the prefill bench's
// check), then times `iters` runs of the whole layer.
PhaseBenchResult bench_layer(const GpuInfo& gpu, const LayerBenchShape& shape, int iters, std::uint64_t seed,
                             const Progress& progress);

}  // namespace kvplan::kernels
