// Causal prefill attention (FlashAttention-2's forward on mma.sync) for MHA/GQA/MQA and MLA's
// decompressed heads, and the MLA latent cache write. kernels/prefill_tiling.h says how the work is
// cut; kernels/prefill_model.cc is the same algorithm on the CPU, step for step.
//
// Per CTA: Q tile (128 rows) -> shared memory -> registers once (ldmatrix); K/V tiles of 64 keys
// double-buffered in shared memory by cp.async (16-byte LDGSTS, zero-filled past the sequence end);
// S = Q K^T and O += P V on the tensor cores (mma.sync m16n8k16, fp32 accumulation), P taken from
// the S accumulators in registers; online softmax in base 2 on the accumulator fragments.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "kernels/device.h"
#include "kernels/kernels.h"
#include "kernels/mla_tiling.h"
#include "kernels/prefill_tiling.h"

namespace kvplan::kernels {
namespace {

using namespace prefill;

// Two floats rounded (to nearest even) into one register of the 16-bit type, lower index low.
template <typename T>
__device__ __forceinline__ std::uint32_t pack(float lo, float hi) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    __nv_bfloat162 pair = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<std::uint32_t*>(&pair);
  } else {
    __half2 pair = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<std::uint32_t*>(&pair);
  }
}

// Eight bf16 values, each through `scaled` (a float to float map), rounded to E4M3 with saturation
// (cvt.rn.satfinite): 8 bytes.
template <typename Scaled>
__device__ __forceinline__ uint2 to_e4m3(const uint4& vec, Scaled scaled) {
  const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&vec);
  std::uint32_t words[2];
#pragma unroll
  for (int w = 0; w < 2; ++w) {
    const float2 lo = __bfloat1622float2(pairs[2 * w]), hi = __bfloat1622float2(pairs[2 * w + 1]);
    const std::uint32_t a = __nv_cvt_float2_to_fp8x2(make_float2(scaled(lo.x), scaled(lo.y)), __NV_SATFINITE, __NV_E4M3);
    const std::uint32_t b = __nv_cvt_float2_to_fp8x2(make_float2(scaled(hi.x), scaled(hi.y)), __NV_SATFINITE, __NV_E4M3);
    words[w] = a | (b << 16);
  }
  return make_uint2(words[0], words[1]);
}

// Rows [first, first + kRows) of a [tokens, heads, d] view (already offset to the sequence and
// head) into shared memory rows of kStride elements; rows at or past `len` become zeros.
template <int kRows, int kDim, int kStride, typename T>
__device__ __forceinline__ void load_rows(T* smem, const T* base, long long token_stride, int first, int len) {
  constexpr int kChunksPerRow = kDim / kVectorElems;
  for (int c = threadIdx.x; c < kRows * kChunksPerRow; c += kThreads) {
    const int row = c / kChunksPerRow, col = (c % kChunksPerRow) * kVectorElems;
    const bool valid = first + row < len;
    const T* from = base + (valid ? static_cast<long long>(first + row) * token_stride : 0) + col;
    cp_async_16(smem_address(smem + row * kStride + col), from, valid);
  }
}

// The K and V rows of one tile that belong to this CTA's own query rows, into the paged cache
// (layout of DecodeParams), 16 bytes per thread and step; fp8 caches store value / scale in E4M3.
template <int kDim, int kStride, typename T>
__device__ void store_cache_tile(const PrefillParams& p, const T* k_tile, const T* v_tile, int b, int first_key, int len,
                                 int kv_head) {
  constexpr int kChunksPerRow = kDim / kVectorElems;
  const float k_inverse = 1.0f / p.k_scale, v_inverse = 1.0f / p.v_scale;
  for (int c = threadIdx.x; c < kBlockN * kChunksPerRow; c += kThreads) {
    const int row = c / kChunksPerRow, col = (c % kChunksPerRow) * kVectorElems;
    const int key = first_key + row;
    if (key >= len) continue;
    long long page = b, slot = key;
    if (p.block_table != nullptr) {
      page = p.block_table[static_cast<long long>(b) * p.max_pages_per_seq + key / p.page_size];
      slot = key % p.page_size;
    }
    const long long at = ((page * p.page_size + slot) * p.n_kv_heads + kv_head) * kDim + col;
    const uint4 k_vec = *reinterpret_cast<const uint4*>(k_tile + row * kStride + col);
    const uint4 v_vec = *reinterpret_cast<const uint4*>(v_tile + row * kStride + col);
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      if (p.kv_type == KvType::fp8_e4m3) {
        reinterpret_cast<uint2*>(static_cast<std::uint8_t*>(p.k_cache) + at)[0] = to_e4m3(k_vec, [k_inverse](float x) { return x * k_inverse; });
        reinterpret_cast<uint2*>(static_cast<std::uint8_t*>(p.v_cache) + at)[0] = to_e4m3(v_vec, [v_inverse](float x) { return x * v_inverse; });
        continue;
      }
    }
    *reinterpret_cast<uint4*>(static_cast<T*>(p.k_cache) + at) = k_vec;
    *reinterpret_cast<uint4*>(static_cast<T*>(p.v_cache) + at) = v_vec;
  }
}

// Grid: x = query tile (longest first), y = query head, z = sequence.
template <typename T, int kDqk, int kDv>
__global__ void __launch_bounds__(kThreads, 1) prefill_kernel(const PrefillParams p) {
  constexpr int kQStride = kDqk + kSmemPad, kVStride = kDv + kSmemPad;
  constexpr int kBlocksN = kBlockN / kMmaN, kBlocksV = kDv / kMmaN;
  extern __shared__ __align__(16) unsigned char smem[];
  T* q_smem = reinterpret_cast<T*>(smem);             // [kBlockM][kQStride]
  T* k_smem = q_smem + kBlockM * kQStride;            // [2][kBlockN][kQStride]
  T* v_smem = k_smem + 2 * kBlockN * kQStride;        // [2][kBlockN][kVStride]

  const int q_tile = static_cast<int>(gridDim.x - 1 - blockIdx.x), h = blockIdx.y, b = blockIdx.z;
  const int start = p.seq_starts[b], len = p.seq_starts[b + 1] - start;
  if (q_tile * kBlockM >= len) return;
  const int group = p.n_q_heads / p.n_kv_heads, kv_head = h / group;
  const bool writes_cache = p.k_cache != nullptr && h % group == 0;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const T* q = static_cast<const T*>(p.q) + start * p.q_token_stride + h * p.q_head_stride;
  const T* k = static_cast<const T*>(p.k) + start * p.k_token_stride + kv_head * p.k_head_stride;
  const T* v = static_cast<const T*>(p.v) + start * p.v_token_stride + kv_head * p.v_head_stride;

  load_rows<kBlockM, kDqk, kQStride>(q_smem, q, p.q_token_stride, q_tile * kBlockM, len);
  cp_async_commit();
  const int end = key_tiles_end(q_tile, len), first_masked = first_masked_tile(q_tile);
  load_rows<kBlockN, kDqk, kQStride>(k_smem, k, p.k_token_stride, (end - 1) * kBlockN, len);
  load_rows<kBlockN, kDv, kVStride>(v_smem, v, p.v_token_stride, (end - 1) * kBlockN, len);
  cp_async_commit();
  cp_async_wait<1>();  // Q has landed; the first K/V tile may still be in flight
  __syncthreads();

  std::uint32_t q_frag[kDqk / kMmaK][4];
#pragma unroll
  for (int kk = 0; kk < kDqk / kMmaK; ++kk) {
    ldmatrix_x4(q_frag[kk], smem_address(q_smem + (warp * kRowsPerWarp + lane % 16) * kQStride + kk * kMmaK + (lane / 16) * 8));
  }
  float o[kBlocksV][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  const float scale_log2 = p.softmax_scale * kLog2e;
  const int first_row = q_tile * kBlockM + warp * kRowsPerWarp;

  int stage = 0;
  for (int j = end - 1; j >= 0; --j, stage ^= 1) {
    cp_async_wait<0>();
    __syncthreads();  // tile j is in `stage`, and every warp is done with the other stage
    if (j > 0) {
      load_rows<kBlockN, kDqk, kQStride>(k_smem + (stage ^ 1) * kBlockN * kQStride, k, p.k_token_stride, (j - 1) * kBlockN, len);
      load_rows<kBlockN, kDv, kVStride>(v_smem + (stage ^ 1) * kBlockN * kVStride, v, p.v_token_stride, (j - 1) * kBlockN, len);
    }
    cp_async_commit();
    const T* k_tile = k_smem + stage * kBlockN * kQStride;
    const T* v_tile = v_smem + stage * kBlockN * kVStride;
    if constexpr (kDqk == kDv) {
      if (writes_cache && writes_tile(q_tile, j)) store_cache_tile<kDv, kQStride>(p, k_tile, v_tile, b, j * kBlockN, len, kv_head);
    }

    float s[kBlocksN][4] = {};
#pragma unroll
    for (int kk = 0; kk < kDqk / kMmaK; ++kk) {
#pragma unroll
      for (int nb2 = 0; nb2 < kBlocksN / 2; ++nb2) {
        std::uint32_t kf[4];
        ldmatrix_x4(kf, smem_address(k_tile + (nb2 * 16 + (lane / 16) * 8 + lane % 8) * kQStride + kk * kMmaK + ((lane / 8) % 2) * 8));
        mma_16816<T>(s[2 * nb2], q_frag[kk], kf[0], kf[1]);
        mma_16816<T>(s[2 * nb2 + 1], q_frag[kk], kf[2], kf[3]);
      }
    }
    if (j >= first_masked) {
#pragma unroll
      for (int nb = 0; nb < kBlocksN; ++nb) {
#pragma unroll
        for (int reg = 0; reg < 4; ++reg) {
          if (masked(first_row + acc_row(lane, reg), j * kBlockN + nb * kMmaN + acc_col(lane, reg))) s[nb][reg] = -INFINITY;
        }
      }
    }

    float alpha[2];
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float m_new = m[half];
#pragma unroll
      for (int nb = 0; nb < kBlocksN; ++nb) m_new = fmaxf(m_new, fmaxf(s[nb][2 * half], s[nb][2 * half + 1]));
      m_new = fmaxf(m_new, __shfl_xor_sync(0xffffffffu, m_new, 1));
      m_new = fmaxf(m_new, __shfl_xor_sync(0xffffffffu, m_new, 2));
      // A row that has seen only masked keys keeps m = -inf; 0 stands in so no inf - inf appears.
      const float m_use = m_new == -INFINITY ? 0.0f : m_new;
      alpha[half] = exp2f((m[half] - m_use) * scale_log2);
      m[half] = m_new;
      const float m_scaled = m_use * scale_log2;
#pragma unroll
      for (int nb = 0; nb < kBlocksN; ++nb) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float pv = exp2f(fmaf(s[nb][2 * half + e], scale_log2, -m_scaled));
          s[nb][2 * half + e] = pv;
          l[half] = nb == 0 && e == 0 ? fmaf(l[half], alpha[half], pv) : l[half] + pv;
        }
      }
    }
#pragma unroll
    for (int nd = 0; nd < kBlocksV; ++nd) {
      o[nd][0] *= alpha[0];
      o[nd][1] *= alpha[0];
      o[nd][2] *= alpha[1];
      o[nd][3] *= alpha[1];
    }
#pragma unroll
    for (int kk = 0; kk < kBlockN / kMmaK; ++kk) {
      // The S accumulators of n-blocks 2kk and 2kk+1 are exactly the A fragment of keys 16kk..16kk+15.
      const std::uint32_t a[4] = {pack<T>(s[2 * kk][0], s[2 * kk][1]), pack<T>(s[2 * kk][2], s[2 * kk][3]),
                                  pack<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int nd2 = 0; nd2 < kBlocksV / 2; ++nd2) {
        std::uint32_t vf[4];
        ldmatrix_x4_trans(vf, smem_address(v_tile + (kk * kMmaK + ((lane / 8) % 2) * 8 + lane % 8) * kVStride + nd2 * 16 + (lane / 16) * 8));
        mma_16816<T>(o[2 * nd2], a, vf[0], vf[1]);
        mma_16816<T>(o[2 * nd2 + 1], a, vf[2], vf[3]);
      }
    }
  }

  T* out = static_cast<T*>(p.out) + start * p.out_token_stride + h * p.out_head_stride;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    l[half] += __shfl_xor_sync(0xffffffffu, l[half], 1);
    l[half] += __shfl_xor_sync(0xffffffffu, l[half], 2);
    const float inverse = 1.0f / l[half];
    const int row = first_row + acc_row(lane, 2 * half);
    if (row >= len) continue;
#pragma unroll
    for (int nd = 0; nd < kBlocksV; ++nd) {
      const std::uint32_t pair = pack<T>(o[nd][2 * half] * inverse, o[nd][2 * half + 1] * inverse);
      *reinterpret_cast<std::uint32_t*>(out + row * p.out_token_stride + nd * kMmaN + acc_col(lane, 2 * half)) = pair;
    }
  }
}

// One warp per token row of the latent. Grid: x = token block, y = sequence.
// bf16/fp16: 16-byte loads and stores of the row as it is. fp8 (fp8_ds_mla): lane l loads the
// 16-byte vectors at columns 8 l and 256 + 8 l, so each half-warp holds one 128-value tile per
// vector; a 16-lane max gives the tile's amax, each lane stores its 8 codes (8 bytes) and lanes 0
// and 16 the tile's scale; lanes 0-7 copy the 64 bf16 RoPE dims (128 bytes) as they are.
constexpr int kLatentWarps = 4;

__device__ __forceinline__ float amax8_bf16(const uint4& vec) {
  const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&vec);
  float amax = 0.0f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 v = __bfloat1622float2(pairs[i]);
    amax = fmaxf(amax, fmaxf(fabsf(v.x), fabsf(v.y)));
  }
  return amax;
}

__device__ __forceinline__ void write_fp8_ds_mla_row(const __nv_bfloat16* row, std::uint8_t* out, int lane) {
#pragma unroll
  for (int half = 0; half < 2; ++half) {  // columns [0, 256) then [256, 512): tiles lane / 16 and 2 + lane / 16
    const int col = half * 256 + lane * kVectorElems;
    const uint4 vec = *reinterpret_cast<const uint4*>(row + col);
    float amax = amax8_bf16(vec);
#pragma unroll
    for (int offset = 8; offset > 0; offset /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, offset));
    const float scale = mla::fp8_ds_mla_tile_scale(amax);
    // Divided, not times 1 / scale: the code vLLM writes (and the host reference) is round(value / scale).
    *reinterpret_cast<uint2*>(out + col) = to_e4m3(vec, [scale](float x) { return x / scale; });
    if (lane % 16 == 0) reinterpret_cast<float*>(out + mla::kFp8ScaleOffset)[col / mla::kFp8ScaleTile] = scale;
  }
  if (lane < 2 * mla::kRopeDim / 16) {
    reinterpret_cast<uint4*>(out + mla::kFp8RopeOffset)[lane] =
        reinterpret_cast<const uint4*>(row + mla::kLatentDim)[lane];
  }
}

template <typename T>
__global__ void __launch_bounds__(32 * kLatentWarps) latent_cache_kernel(const LatentCacheParams p, int row_bytes) {
  const int b = blockIdx.y, t = blockIdx.x * kLatentWarps + threadIdx.x / 32, lane = threadIdx.x % 32;
  const int start = p.seq_starts[b], len = p.seq_starts[b + 1] - start;
  if (t >= len) return;
  long long page = b, slot = t;
  if (p.block_table != nullptr) {
    page = p.block_table[static_cast<long long>(b) * p.max_pages_per_seq + t / p.page_size];
    slot = t % p.page_size;
  }
  std::uint8_t* out = static_cast<std::uint8_t*>(p.cache) + (page * p.page_size + slot) * row_bytes;
  const T* row = static_cast<const T*>(p.latent) + (start + t) * p.token_stride;
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    if (p.kv_type == KvType::fp8_e4m3) return write_fp8_ds_mla_row(row, out, lane);
  }
  for (int col = lane * kVectorElems; col < p.width; col += 32 * kVectorElems) {
    reinterpret_cast<uint4*>(out)[col / kVectorElems] = *reinterpret_cast<const uint4*>(row + col);
  }
}

void require_aligned(std::initializer_list<const void*> pointers, const char* what) {
  for (const void* pointer : pointers) {
    if (reinterpret_cast<std::uintptr_t>(pointer) % 16 != 0) {
      throw Error(std::string(what) + " must be 16-byte aligned (the kernels move 16-byte vectors)");
    }
  }
}

template <typename T, int kDqk, int kDv>
void launch_typed(const PrefillParams& p, cudaStream_t stream) {
  constexpr int kSmem = smem_bytes(kDqk, kDv);
  auto kernel = prefill_kernel<T, kDqk, kDv>;
  // Once per kernel, at its first (untimed) launch: the attribute call is not part of a timed run.
  static const int allowed = [&] {
    int device = 0, optin = 0;
    cuda_check(cudaGetDevice(&device), "cudaGetDevice");
    cuda_check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "shared memory per block");
    if (kSmem <= optin) cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem), "prefill smem");
    return optin;
  }();
  if (kSmem > allowed) {
    throw Error("prefill attention: head dims " + std::to_string(kDqk) + "/" + std::to_string(kDv) + " need " +
                    std::to_string(kSmem) + " bytes of shared memory per CTA; this GPU allows " + std::to_string(allowed),
                ExitCode::cannot_run);
  }
  const PrefillPlan plan = plan_prefill(p);
  dim3 grid(static_cast<unsigned>(plan.query_tiles), static_cast<unsigned>(plan.heads), static_cast<unsigned>(plan.sequences));
  kernel<<<grid, kThreads, kSmem, stream>>>(p);
  check_launch("prefill_kernel");
}

template <typename T>
void launch_dims(const PrefillParams& p, cudaStream_t stream) {
  if (p.head_dim_qk == 64) return launch_typed<T, 64, 64>(p, stream);
  if (p.head_dim_qk == 128) return launch_typed<T, 128, 128>(p, stream);
  return launch_typed<T, 192, 128>(p, stream);
}

}  // namespace

void launch_prefill(const PrefillParams& p, void* stream) {
  check_prefill_params(p);
  require_aligned({p.q, p.k, p.v, p.out}, "prefill attention: q, k, v and out");
  if (p.k_cache) require_aligned({p.k_cache, p.v_cache}, "prefill attention: k_cache and v_cache");
  auto cuda_stream = static_cast<cudaStream_t>(stream);
  if (query_type(p.kv_type) == KvType::fp16) return launch_dims<__half>(p, cuda_stream);
  return launch_dims<__nv_bfloat16>(p, cuda_stream);
}

void launch_latent_cache_write(const LatentCacheParams& p, void* stream) {
  check_latent_cache_params(p);
  require_aligned({p.latent, p.cache}, "latent cache write: latent and cache");
  dim3 grid(static_cast<unsigned>((p.max_seq_len + kLatentWarps - 1) / kLatentWarps), static_cast<unsigned>(p.batch));
  auto cuda_stream = static_cast<cudaStream_t>(stream);
  if (query_type(p.kv_type) == KvType::fp16) {
    latent_cache_kernel<__half><<<grid, 32 * kLatentWarps, 0, cuda_stream>>>(p, latent_row_bytes(p));
  } else {
    latent_cache_kernel<__nv_bfloat16><<<grid, 32 * kLatentWarps, 0, cuda_stream>>>(p, latent_row_bytes(p));
  }
  check_launch("latent_cache_kernel");
}

}  // namespace kvplan::kernels
