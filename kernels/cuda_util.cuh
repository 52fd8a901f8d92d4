// Small CUDA runtime helpers shared by the harness files: checked calls, an owning device buffer,
// and event timing with the L2 flushed before each run.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace kvplan::kernels {

// A failed CUDA call is a bug or a broken device, not bad input: it escapes as an internal error.
inline void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

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

// Times `run` `iters` times with CUDA events around it alone. Before each run a memset over twice
// the L2 evicts what the previous run left there, so every run reads from device memory.
template <typename Run>
std::vector<double> time_runs(Run&& run, int iters, std::size_t l2_bytes, int warmup = 3) {
  DeviceBuffer flush(2 * l2_bytes);
  cudaEvent_t start, stop;
  cuda_check(cudaEventCreate(&start), "cudaEventCreate");
  cuda_check(cudaEventCreate(&stop), "cudaEventCreate");
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> times;
  for (int i = 0; i < iters; ++i) {
    cuda_check(cudaMemsetAsync(flush.get(), i & 0xff, flush.bytes()), "L2 flush");
    cuda_check(cudaEventRecord(start), "cudaEventRecord");
    run();
    cuda_check(cudaEventRecord(stop), "cudaEventRecord");
    cuda_check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    cuda_check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    times.push_back(ms * 1e-3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cuda_check(cudaGetLastError(), "timed runs");
  return times;
}

// Fills `count` elements of `type` with random_element(type, seed, i) (kernels/random_values.h).
void fill_random_device(void* data, std::size_t count, KvType type, std::uint64_t seed);

}  // namespace kvplan::kernels
