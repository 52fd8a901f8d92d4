// What the MLA launcher (kernels/mla_launch.cu) calls in the kernel files: each path's device work
// after the arguments are checked and the workspace laid out, and the fp8_ds_mla dequantisation both kernels share (the PTX wrappers
// are kernels/device.h's).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/device.h"
#include "kernels/mla.h"
#include "kernels/mla_workspace.h"

namespace kvplan::kernels {

// q W_UK (cuBLAS), the attention kernel, the split combine, W_UV o (cuBLAS).
void run_mla_absorbed(const MlaParams& params, const MlaPlan& plan, const MlaWorkspace& workspace, cudaStream_t stream);
// Per chunk of sequences: the gather, the up-projection (cuBLAS), the attention kernel, the combine.
void run_mla_naive(const MlaParams& params, const MlaPlan& plan, const MlaWorkspace& workspace, cudaStream_t stream);

// `batch` cuBLAS bf16 GEMMs (one per head) with fp32 accumulation, column-major as cuBLAS sees them:
// C_i = op(A_i) B_i, each operand `stride` elements after the previous one (kernels/mla_launch.cu).
struct GemmOperand {
  const void* data;
  int ld;
  long long stride;
};
void gemm_bf16_batched(bool transpose_a, int m, int n, int k, GemmOperand a, GemmOperand b, void* c, int ldc,
                       long long stride_c, int batch, cudaStream_t stream);


// Four fp8_ds_mla codes (one 32-bit word, lowest byte first) times their tile's scale, rounded to
// bf16 as two packed pairs: the dequantisation kernels/mla_tensors.h's mla_latent() does on the host.
__device__ __forceinline__ uint2 dequantize_e4m3x4(unsigned word, float scale) {
  unsigned packed[2];
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const __half2_raw pair = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(word >> (16 * half)), __NV_E4M3);
    const float2 values = __half22float2(*reinterpret_cast<const __half2*>(&pair));
    const __nv_bfloat162 out = __floats2bfloat162_rn(values.x * scale, values.y * scale);
    packed[half] = *reinterpret_cast<const unsigned*>(&out);
  }
  return make_uint2(packed[0], packed[1]);
}

}  // namespace kvplan::kernels
