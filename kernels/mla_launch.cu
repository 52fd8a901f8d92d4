// The MLA launcher: checks the arguments and the workspace, then runs a path (kernels/mla_absorbed.cu,
// kernels/mla_naive.cu); and the per-head cuBLAS GEMMs of the absorbed path.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "kernels/cublas.cuh"
#include "kernels/mla_kernels.cuh"

namespace kvplan::kernels {

void gemm_bf16_batched(bool transpose_a, int m, int n, int k, GemmOperand a, GemmOperand b, void* c, int ldc,
                       long long stride_c, int batch, cudaStream_t stream) {
  const float alpha = 1.0f, beta = 0.0f;
  cublas_check(cublas().gemm_strided_batched(cublas_handle(stream), transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, m, n,
                                             k, &alpha, a.data, CUDA_R_16BF, a.ld, a.stride, b.data, CUDA_R_16BF, b.ld,
                                             b.stride, &beta, c, CUDA_R_16BF, ldc, stride_c, batch, CUBLAS_COMPUTE_32F,
                                             CUBLAS_GEMM_DEFAULT),
               "cublasGemmStridedBatchedEx");
}

void launch_mla(const MlaParams& p, MlaPath path, const MlaPlan& plan, void* stream) {
  check_mla_params(p);
  for (const void* tensor : {p.q, p.kv_cache, p.w_kv_b, static_cast<const void*>(p.workspace)}) {
    if (reinterpret_cast<std::uintptr_t>(tensor) % 16 != 0) {
      throw Error("MLA decode: q, kv_cache, w_kv_b and workspace must be 16-byte aligned (the kernels load 16-byte vectors)");
    }
  }
  int planned = 0;  // sequences the plan's schedules cover
  for (const SplitSchedule& schedule : plan.schedules) planned += schedule.view().batch();
  if (p.schedule == nullptr || planned != p.batch) {
    throw Error("MLA decode: params.schedule must hold plan_mla()'s packed_schedules() for this batch (" +
                std::to_string(p.batch) + " sequences)");
  }
  const MlaWorkspace workspace = mla_workspace(p, path, plan);
  if (p.workspace == nullptr) {
    throw Error("MLA decode: the " + std::string(to_string(path)) + " path needs mla_workspace_bytes() = " +
                std::to_string(workspace.total) + " bytes of workspace");
  }
  auto cuda_stream = static_cast<cudaStream_t>(stream);
  if (path == MlaPath::absorbed) run_mla_absorbed(p, plan, workspace, cuda_stream);
  else run_mla_naive(p, plan, workspace, cuda_stream);
}

}  // namespace kvplan::kernels
