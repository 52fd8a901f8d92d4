// What the MLA launcher (kernels/mla_launch.cu) calls in the kernel files: each path's device work
// after the arguments are checked and the workspace laid out, and the PTX the kernels share.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/mla.h"
#include "kernels/mla_workspace.h"

namespace kvplan::kernels {

// q W_UK (cuBLAS), the attention kernel, the split combine, W_UV o (cuBLAS).
void run_mla_absorbed(const MlaParams& params, const MlaPlan& plan, const MlaWorkspace& workspace, cudaStream_t stream);
// Per chunk of sequences: the gather, the up-projection (cuBLAS), the attention kernel, the combine.
void run_mla_naive(const MlaParams& params, int num_sms, const MlaPlan& plan, const MlaWorkspace& workspace,
                   cudaStream_t stream);

// cuBLAS bf16 GEMMs with fp32 accumulation, column-major as cuBLAS sees them (kernels/mla_launch.cu).
struct GemmOperand {
  const void* data;
  int ld;
  long long stride;  // between the batched GEMMs
};
void gemm_bf16(bool transpose_a, int m, int n, int k, GemmOperand a, GemmOperand b, void* c, int ldc, long long stride_c,
               int batch, cudaStream_t stream);

void check_mla_launch(const char* what);

// ---- PTX shared by the kernels ----------------------------------------------------------------
__device__ __forceinline__ unsigned smem_address(const void* pointer) {
  return static_cast<unsigned>(__cvta_generic_to_shared(pointer));
}
// 16 bytes global -> shared, bypassing L1; with `valid` false it reads nothing and writes zeros.
__device__ __forceinline__ void cp_async_16(unsigned dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

}  // namespace kvplan::kernels
