// The small kernels of the layer forward besides GEMMs and attention (kernels/layer_kernels.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace kvplan::kernels {

// Rotate-half RoPE in place on bf16 rows: for every token of every sequence (position = index in
// its sequence) and `heads` heads at `head_stride`, the `rot_dim` values from `offset` on: pair
// (i, i + rot_dim/2) turned by the angle position * base^(-2i / rot_dim).
struct RopeParams {
  void* data = nullptr;              // [tokens, ...] bf16
  const std::int32_t* seq_starts = nullptr;  // [batch + 1]
  int batch = 0, max_seq_len = 0;
  long long token_stride = 0, head_stride = 0;
  int heads = 0, offset = 0, rot_dim = 0;
};
void launch_rope(const RopeParams& params, cudaStream_t stream);

// MLA's keys per head: [k_nope (nope_dim, from kv at head stride kv_head_stride) | k_R (rope_dim,
// the latent row's last rope_dim values, shared by every head)], into k [tokens, heads, nope + rope].
struct AssembleKParams {
  const void* kv = nullptr;          // [tokens, heads, nope | v] bf16
  const void* latent = nullptr;      // [tokens, latent_width] bf16; k_R at latent_width - rope_dim
  void* k = nullptr;                 // [tokens, heads, nope + rope] bf16
  int tokens = 0, heads = 0, nope_dim = 0, rope_dim = 0, latent_width = 0;
  long long kv_token_stride = 0, kv_head_stride = 0;
};
void launch_assemble_k(const AssembleKParams& params, cudaStream_t stream);

}  // namespace kvplan::kernels
