// The device side of `kvplan bench`: finding the GPU and measuring the ceilings of this run (copy
// bandwidth, cuBLAS bf16 GEMM rate, FP32 FMA rate, empty-kernel launch time) as docs/kernels.md
// describes: events, warm-up, L2 flushed, medians.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/cublas.cuh"
#include "kernels/cuda_util.cuh"
#include "kernels/gpu.h"
#include "kernels/random_values.h"

namespace kvplan::kernels {
namespace {

__global__ void empty_kernel() {}

// The FP32 FMA ceiling of the CUDA cores (what the decode kernels and the naive MLA attention do
// their arithmetic on): every thread runs kFmaChains independent chains acc = acc * a + b, enough
// independent FFMAs per warp to cover the FMA latency, for kFmaSteps steps. The sums are stored
// only when they equal a value they never reach, so that the compiler keeps every FMA but nothing
// touches memory. FLOPs: 2 per FMA.
constexpr int kFmaThreads = 256, kFmaBlocksPerSm = 4, kFmaChains = 8, kFmaSteps = 16384;

__global__ void __launch_bounds__(kFmaThreads) fma_kernel(float a, float b, float* sink) {
  float acc[kFmaChains];
#pragma unroll
  for (int i = 0; i < kFmaChains; ++i) acc[i] = static_cast<float>(threadIdx.x + i);
#pragma unroll 16
  for (int step = 0; step < kFmaSteps; ++step) {
#pragma unroll
    for (int i = 0; i < kFmaChains; ++i) acc[i] = fmaf(acc[i], a, b);
  }
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kFmaChains; ++i) sum += acc[i];
  if (sum == -1.0f) sink[threadIdx.x] = sum;
}

__global__ void fill_kernel(void* data, std::size_t count, KvType type, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    if (type == KvType::fp8_e4m3) {
      static_cast<std::uint8_t*>(data)[i] = random_e4m3(seed, i);
    } else if (type == KvType::fp16) {
      static_cast<__half*>(data)[i] = __float2half_rn(random_unit(seed, i));
    } else {
      static_cast<__nv_bfloat16*>(data)[i] = __float2bfloat16_rn(random_unit(seed, i));
    }
  }
}

}  // namespace

void gemm_bf16_abt(int m, int n, int k, float alpha, const void* a, long long lda, const void* b, long long ldb, void* c,
                   long long ldc, cudaStream_t stream) {
  const Cublas& api = cublas();
  cublasHandle_t handle = cublas_handle(stream);
  const float beta = 0.0f;
  // Row-major C = A B^T is column-major C^T = B A^T: B read transposed, A as stored.
  cublas_check(api.gemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, b, CUDA_R_16BF, static_cast<int>(ldb), a,
                        CUDA_R_16BF, static_cast<int>(lda), &beta, c, CUDA_R_16BF, static_cast<int>(ldc), CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

void fill_random_device(void* data, std::size_t count, KvType type, std::uint64_t seed) {
  fill_kernel<<<1024, 256>>>(data, count, type, seed);
  check_launch("fill_kernel");
}

bool built_with_cuda() { return true; }

GpuInfo open_gpu() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    throw Error(std::string("no CUDA device found (") + (status != cudaSuccess ? cudaGetErrorString(status) : "0 devices") +
                    "); run 'kvplan bench' on a GPU machine, or add --dry-run --gpu G for the expected cost",
                ExitCode::cannot_run);
  }
  cuda_check(cudaSetDevice(0), "cudaSetDevice");
  cudaDeviceProp prop{};
  cuda_check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  int driver = 0;
  cuda_check(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
  std::size_t free_bytes = 0, total_bytes = 0;
  cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  GpuInfo info;
  info.name = prop.name;
  info.driver = std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10);
  info.compute_major = prop.major;
  info.compute_minor = prop.minor;
  info.sms = prop.multiProcessorCount;
  info.memory_bytes = total_bytes;
  info.l2_bytes = static_cast<std::uint64_t>(prop.l2CacheSize);
  info.smem_per_block_optin = static_cast<int>(prop.sharedMemPerBlockOptin);
  // mma.sync with bf16 inputs, cp.async and ldmatrix need sm_80; the fatbin holds machine code for
  // the archs CMAKE_CUDA_ARCHITECTURES lists, and the runtime picks this device's when it loads.
  const std::string arch = "sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
  if (prop.major < 8) {
    throw Error("the kernels need sm_80 or newer (bf16 mma.sync, cp.async); " + info.name + " is " + arch,
                ExitCode::cannot_run);
  }
  cudaFuncAttributes attributes{};
  if (cudaFuncGetAttributes(&attributes, empty_kernel) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no kernel image" error
    throw Error("this build has no machine code for " + info.name + " (" + arch + "); rebuild with -DCMAKE_CUDA_ARCHITECTURES=" +
                    std::to_string(prop.major) + std::to_string(prop.minor) + "-real",
                ExitCode::cannot_run);
  }
  return info;
}

GpuCeilings measure_ceilings(const GpuInfo& gpu, int iters, const Progress& progress) {
  GpuCeilings ceilings;
  {
    progress("measuring device copy bandwidth (1 GiB device to device)");
    const std::size_t bytes = std::size_t{1} << 30;
    DeviceBuffer from(bytes), to(bytes);
    fill_random_device(from.get(), bytes / 2, KvType::bf16, 1);
    auto times = time_runs([&] { cuda_check(cudaMemcpyAsync(to.get(), from.get(), bytes, cudaMemcpyDeviceToDevice), "copy"); },
                           iters, gpu.l2_bytes);
    ceilings.copy_bytes_per_s = 2.0 * static_cast<double>(bytes) / median(times);
  }
  {
    progress("measuring cuBLAS bf16 GEMM rate (8192 x 8192 x 8192, random data)");
    const int n = 8192;
    const std::size_t elements = static_cast<std::size_t>(n) * n;
    DeviceBuffer a(elements * 2), b(elements * 2), c(elements * 2);
    fill_random_device(a.get(), elements, KvType::bf16, 2);
    fill_random_device(b.get(), elements, KvType::bf16, 3);
    const Cublas& api = cublas();
    cublasHandle_t handle = cublas_handle(nullptr);
    const float alpha = 1.0f, beta = 0.0f;
    auto gemm = [&] {
      cublas_check(api.gemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a.get(), CUDA_R_16BF, n, b.get(),
                                CUDA_R_16BF, n, &beta, c.get(), CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                   "cublasGemmEx");
    };
    auto times = time_runs(gemm, iters, gpu.l2_bytes);
    ceilings.gemm_bf16_flops_per_s = 2.0 * n * static_cast<double>(n) * n / median(times);
  }
  {
    progress("measuring the FP32 FMA rate (CUDA cores, no memory traffic)");
    DeviceBuffer sink(kFmaThreads * sizeof(float));
    const unsigned blocks = static_cast<unsigned>(gpu.sms * kFmaBlocksPerSm);
    // a just under 1 and b small keep every chain finite and away from -1 in sum.
    auto times = time_runs([&] { fma_kernel<<<blocks, kFmaThreads>>>(0.999999f, 1e-3f, sink.as<float>()); }, iters, gpu.l2_bytes);
    ceilings.fma_fp32_flops_per_s = 2.0 * kFmaChains * kFmaSteps * kFmaThreads * static_cast<double>(blocks) / median(times);
  }
  progress("measuring an empty kernel's launch");
  ceilings.empty_launch_s = median(time_runs([] { empty_kernel<<<1, 32>>>(); }, std::max(iters, 100), gpu.l2_bytes));
  return ceilings;
}

}  // namespace kvplan::kernels
