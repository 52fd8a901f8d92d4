#include "kernels/layer_kernels.cuh"

#include <cuda_bf16.h>

#include <cmath>

#include "kernels/cuda_util.cuh"
#include "kernels/layer.h"

namespace kvplan::kernels {
namespace {

// Grid: x over (token, head, pair) of one sequence, y = sequence.
__global__ void rope_kernel(const RopeParams p) {
  const int b = blockIdx.y, start = p.seq_starts[b], len = p.seq_starts[b + 1] - start;
  const int half = p.rot_dim / 2;
  const long long index = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (index >= static_cast<long long>(len) * p.heads * half) return;
  const int i = static_cast<int>(index % half), h = static_cast<int>(index / half % p.heads);
  const int t = static_cast<int>(index / half / p.heads);
  // The angle in double, reduced to [0, 2 pi) before the float sine: positions reach 10^5 and more.
  const double angle = fmod(t * pow(kRopeBase, -2.0 * i / p.rot_dim), 6.283185307179586);
  float sine, cosine;
  sincosf(static_cast<float>(angle), &sine, &cosine);
  __nv_bfloat16* row = static_cast<__nv_bfloat16*>(p.data) + (start + t) * p.token_stride + h * p.head_stride + p.offset;
  const float x1 = __bfloat162float(row[i]), x2 = __bfloat162float(row[i + half]);
  row[i] = __float2bfloat16_rn(x1 * cosine - x2 * sine);
  row[i + half] = __float2bfloat16_rn(x2 * cosine + x1 * sine);
}

// One thread per 8 values (16 bytes) of a key row.
__global__ void assemble_k_kernel(const AssembleKParams p) {
  const int width = p.nope_dim + p.rope_dim, vectors = width / 8;
  const long long index = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (index >= static_cast<long long>(p.tokens) * p.heads * vectors) return;
  const int c = static_cast<int>(index % vectors) * 8, h = static_cast<int>(index / vectors % p.heads);
  const long long t = index / vectors / p.heads;
  const uint4* from = c < p.nope_dim
      ? reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(p.kv) + t * p.kv_token_stride + h * p.kv_head_stride + c)
      : reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(p.latent) + t * p.latent_width +
                                       (p.latent_width - p.rope_dim) + (c - p.nope_dim));
  *reinterpret_cast<uint4*>(static_cast<__nv_bfloat16*>(p.k) + (t * p.heads + h) * width + c) = *from;
}

}  // namespace

void launch_rope(const RopeParams& p, cudaStream_t stream) {
  const long long threads = static_cast<long long>(p.max_seq_len) * p.heads * (p.rot_dim / 2);
  dim3 grid(static_cast<unsigned>((threads + 255) / 256), static_cast<unsigned>(p.batch));
  rope_kernel<<<grid, 256, 0, stream>>>(p);
  check_launch("rope_kernel");
}

void launch_assemble_k(const AssembleKParams& p, cudaStream_t stream) {
  const long long threads = static_cast<long long>(p.tokens) * p.heads * ((p.nope_dim + p.rope_dim) / 8);
  assemble_k_kernel<<<static_cast<unsigned>((threads + 255) / 256), 256, 0, stream>>>(p);
  check_launch("assemble_k_kernel");
}

}  // namespace kvplan::kernels
