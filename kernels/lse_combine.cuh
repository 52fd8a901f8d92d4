// The split combine of the decode kernels (FlashDecoding): each output row of a sequence cut into
// pieces by its schedule (kernels/split_schedule.h) is the log-sum-exp weighted sum of the pieces'
// partial outputs, in piece order, as kernels/model_steps.h does it on the host. Shared by the
// decode (kernels/decode_attention.cu) and MLA (kernels/mla_*.cu) families.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "kernels/split_schedule.h"

namespace kvplan::kernels {

template <typename T>
__device__ __forceinline__ T from_float(float value) {
  if constexpr (std::is_same_v<T, __half>) return __float2half_rn(value);
  else return __float2bfloat16_rn(value);
}

inline constexpr int kCombineThreads = 128;

// Grid: x = output row b * heads + h. A sequence of one piece was written by the attention kernel:
// its rows return at once. partial_o: [partial groups * heads, dim], partial_lse: [partial groups * heads].
template <typename Out>
__global__ void __launch_bounds__(kCombineThreads)
    lse_combine_pieces_kernel(const float* partial_o, const float* partial_lse, const std::int32_t* schedule_words, int heads,
                              int dim, Out* out) {
  const ScheduleView schedule{schedule_words};
  const int b = blockIdx.x / heads, h = blockIdx.x % heads;
  const int first = schedule.first_partial(b), count = schedule.first_partial(b + 1) - first;
  if (count == 0) return;
  auto at = [&](int s) { return static_cast<std::size_t>(first + s) * heads + h; };
  float lse_max = -INFINITY;
  for (int s = 0; s < count; ++s) lse_max = fmaxf(lse_max, partial_lse[at(s)]);
  for (int d = threadIdx.x; d < dim; d += kCombineThreads) {
    float l_sum = 0.0f, o_sum = 0.0f;
    for (int s = 0; s < count; ++s) {
      if (partial_lse[at(s)] == -INFINITY) continue;
      const float w = exp2f(partial_lse[at(s)] - lse_max);
      l_sum += w;
      o_sum = fmaf(partial_o[at(s) * dim + d], w, o_sum);
    }
    out[static_cast<std::size_t>(blockIdx.x) * dim + d] = from_float<Out>(o_sum / l_sum);
  }
}

template <typename Out>
void launch_lse_combine_pieces(const float* partial_o, const float* partial_lse, const std::int32_t* schedule_words, int batch,
                               int heads, int dim, Out* out, cudaStream_t stream) {
  lse_combine_pieces_kernel<Out><<<static_cast<unsigned>(batch) * heads, kCombineThreads, 0, stream>>>(
      partial_o, partial_lse, schedule_words, heads, dim, out);
}

}  // namespace kvplan::kernels
