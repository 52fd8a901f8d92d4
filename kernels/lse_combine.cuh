// The split combine of the decode kernels (FlashDecoding): each output row is the log-sum-exp
// weighted sum of its splits' partial outputs, in split order, as kernels/model_steps.h does it on
// the host. Shared by the decode (kernels/decode_attention.cu) and MLA (kernels/mla_*.cu) families.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <type_traits>

namespace kvplan::kernels {

template <typename T>
__device__ __forceinline__ T from_float(float value) {
  if constexpr (std::is_same_v<T, __half>) return __float2half_rn(value);
  else return __float2bfloat16_rn(value);
}

inline constexpr int kCombineThreads = 128;

// Grid: x = output row. partial_o: [rows * splits, dim] fp32; partial_lse: [rows * splits] base 2,
// -inf for a split that saw no token; out: [rows, dim].
template <typename Out>
__global__ void __launch_bounds__(kCombineThreads)
    lse_combine_kernel(const float* partial_o, const float* partial_lse, int splits, int dim, Out* out) {
  const std::size_t first = static_cast<std::size_t>(blockIdx.x) * splits;
  const float* lse = partial_lse + first;
  float lse_max = -INFINITY;
  for (int s = 0; s < splits; ++s) lse_max = fmaxf(lse_max, lse[s]);
  for (int d = threadIdx.x; d < dim; d += kCombineThreads) {
    float l_sum = 0.0f, o_sum = 0.0f;
    for (int s = 0; s < splits; ++s) {
      if (lse[s] == -INFINITY) continue;
      const float w = exp2f(lse[s] - lse_max);
      l_sum += w;
      o_sum = fmaf(partial_o[(first + s) * dim + d], w, o_sum);
    }
    out[static_cast<std::size_t>(blockIdx.x) * dim + d] = from_float<Out>(o_sum / l_sum);
  }
}

template <typename Out>
void launch_lse_combine(const float* partial_o, const float* partial_lse, std::size_t rows, int splits, int dim, Out* out,
                        cudaStream_t stream) {
  lse_combine_kernel<Out><<<static_cast<unsigned>(rows), kCombineThreads, 0, stream>>>(partial_o, partial_lse, splits, dim, out);
}

}  // namespace kvplan::kernels
