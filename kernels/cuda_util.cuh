// Small CUDA runtime helpers shared by the harness files: checked calls, an owning device buffer,
// and event timing with the L2 flushed before each run.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/kernels.h"

namespace kvplan::kernels {

class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes > 0) cuda_check(cudaMalloc(&data_, bytes), "cudaMalloc");
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return data_; }
  template <typename T> T* as() const { return static_cast<T*>(data_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// Times one run at a time with CUDA events around it alone. Before each run a memset over twice
// the L2 evicts what the previous run left there, so every run reads from device memory.
class EventTimer {
 public:
  explicit EventTimer(std::size_t l2_bytes) : flush_(2 * l2_bytes) {
    cuda_check(cudaEventCreate(&start_), "cudaEventCreate");
    cuda_check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~EventTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;

  template <typename Run>
  double seconds(Run&& run) {
    cuda_check(cudaMemsetAsync(flush_.get(), ++flushes_ & 0xff, flush_.bytes()), "L2 flush");
    cuda_check(cudaEventRecord(start_), "cudaEventRecord");
    run();
    cuda_check(cudaEventRecord(stop_), "cudaEventRecord");
    cuda_check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
    cuda_check(cudaGetLastError(), "timed run");
    float ms = 0;
    cuda_check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    return ms * 1e-3;
  }

 private:
  DeviceBuffer flush_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  int flushes_ = 0;
};

// `warmup` untimed runs (module load, first-touch), then `iters` timed ones.
template <typename Run>
std::vector<double> time_runs(Run&& run, int iters, std::size_t l2_bytes, int warmup = 3) {
  EventTimer timer(l2_bytes);
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> times;
  for (int i = 0; i < iters; ++i) times.push_back(timer.seconds(run));
  return times;
}

// C = alpha * A B^T for row-major bf16 A [m, k] (leading dimension lda), B [n, k] (ldb) and C [m, n]
// (ldc), fp32 accumulation, through the cuBLAS that kernels/cublas.cuh opens at its first GEMM.
void gemm_bf16_abt(int m, int n, int k, float alpha, const void* a, long long lda, const void* b, long long ldb, void* c,
                   long long ldc, cudaStream_t stream);

// Fills `count` elements of `type` with random_element(type, seed, i) (kernels/random_values.h).
void fill_random_device(void* data, std::size_t count, KvType type, std::uint64_t seed);

}  // namespace kvplan::kernels
