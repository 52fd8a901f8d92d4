// cuBLAS, opened with dlopen at the first GEMM instead of linked: loading libcublasLt (~0.5 GB) at
// start made every kvplan command, `kvplan size` too, take ~80 ms instead of ~3 ms. Used for the
// GEMM ceiling (kernels/gpu_harness.cu) and the projections of the MLA paths (kernels/mla_launch.cu).
#pragma once

#include <cublas_v2.h>

namespace kvplan::kernels {

struct Cublas {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  // cublasGemmEx and cublasGemmStridedBatchedEx, the overloads taking a compute type.
  cublasStatus_t (*gemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*,
                         cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int,
                         cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
  cublasStatus_t (*gemm_strided_batched)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                         const void*, const void*, cudaDataType, int, long long, const void*,
                                         cudaDataType, int, long long, const void*, void*, cudaDataType, int,
                                         long long, int, cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
};

// Throws kvplan::Error (cannot_run) when libcublas cannot be opened.
const Cublas& cublas();

// The process's handle, created at first use (cuBLAS handles are meant to be reused), on `stream`.
cublasHandle_t cublas_handle(void* stream);

void cublas_check(cublasStatus_t status, const char* what);

}  // namespace kvplan::kernels
