// Running kernels on the GPU and timing them, for `kvplan bench`, the Google Benchmark binary and
// the GPU tests. No CUDA header here: the CLI includes it in every build. In a build without CUDA
// (kernels/gpu_stub.cc) and on a machine without a device, open_gpu() throws kvplan::Error with
// ExitCode::cannot_run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/decode_problem.h"
#include "kernels/element_check.h"
#include "kernels/kernels.h"
#include "kernels/mla_problem.h"
#include "kernels/prefill_problem.h"

namespace kvplan::kernels {

// True when this build has the CUDA kernels.
bool built_with_cuda();

struct GpuInfo {
  std::string name;              // "NVIDIA H100 80GB HBM3"
  std::string driver;            // "13.0" (CUDA driver API version)
  int compute_major = 0, compute_minor = 0;
  int sms = 0;
  std::uint64_t memory_bytes = 0;  // total, as cudaMemGetInfo reports it
  std::uint64_t l2_bytes = 0;
  int smem_per_block_optin = 0;    // shared memory one block may opt in to (H100: 232448 B)
};

// The ceilings of this run, measured on this device, medians of `iters` runs.
struct GpuCeilings {
  double copy_bytes_per_s = 0;      // device-to-device copy of 1 GiB, bytes read + bytes written
  double gemm_bf16_flops_per_s = 0; // cuBLAS bf16 GEMM 8192^3, fp32 accumulation: the tensor-core ceiling
  double fma_fp32_flops_per_s = 0;  // FP32 FMA microkernel (kernels/gpu_harness.cu): the CUDA-core ceiling
  double empty_launch_s = 0;        // one empty kernel, event to event
};

// Progress lines for long runs ("measuring copy bandwidth"); the CLI prints them on stderr.
using Progress = std::function<void(const std::string&)>;

// Selects device 0. Throws kvplan::Error (cannot_run) without CUDA in the build or without a device.
GpuInfo open_gpu();

GpuCeilings measure_ceilings(const GpuInfo& gpu, int iters, const Progress& progress);

struct DecodeBenchResult {
  DecodePlan plan;
  int checked_rows = 0;          // (sequence, query head) rows compared with the CPU reference
  double rel_l2_error = 0;       // over the checked rows; NaN if any output was NaN
  double threshold = 0;          // decode_error_threshold(kv_type)
  ElementCheck elements;         // every checked element against decode_element_tolerance(kv_type)
  bool correct = false;          // rel_l2_error < threshold and no element mismatch; only then timed
  std::vector<double> times_s;   // one per timed run, L2 flushed before each
  double median_s = 0;
};

// A kernel's output against the CPU reference on the rows a device problem checks.
struct KernelCheck {
  int rows = 0;               // (sequence, query head) rows compared
  double rel_l2_error = 0;    // NaN if any checked output is NaN
  ElementCheck elements;      // each element of those rows within its own tolerance
};

// A decode problem on the device: a cache of `shape` filled in place with the values of
// kernels/random_values.h (so the host can rebuild any slice of it), a shuffled block table, and
// the workspace the launcher needs. Throws kvplan::Error (cannot_run) when it does not fit.
class DeviceDecodeProblem {
 public:
  DeviceDecodeProblem(const GpuInfo& gpu, const DecodeShape& shape, std::uint64_t seed);
  ~DeviceDecodeProblem();
  DeviceDecodeProblem(const DeviceDecodeProblem&) = delete;
  DeviceDecodeProblem& operator=(const DeviceDecodeProblem&) = delete;

  const DecodePlan& plan() const;
  std::uint64_t cache_bytes() const;  // K or V

  using Check = KernelCheck;
  // Runs the kernel once with the output poisoned (NaN) and compares it with the CPU reference:
  // every row for small problems; the first and last sequence x first and last KV head otherwise.
  Check check();

  // One launch, timed by CUDA events, with L2 flushed before it.
  double time_once();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fills a cache of `shape` on the device (values from kernels/random_values.h), runs the kernel
// once with the output poisoned, checks it against the CPU reference (every row for small shapes;
// the first and last sequence x first and last KV head otherwise), and times `iters` runs only if
// it is correct.
DecodeBenchResult bench_decode(const GpuInfo& gpu, const DecodeShape& shape, int iters, std::uint64_t seed,
                               const Progress& progress);

// What `kvplan bench --phase prefill|layer` did with one kernel chain.
struct PhaseBenchResult {
  int checked_rows = 0;          // output rows compared with the CPU reference
  double rel_l2_error = 0;       // worst stage's error; NaN if any checked output was NaN
  double threshold = 0;
  ElementCheck elements;         // prefill: every checked element against prefill_element_tolerance()
  std::int64_t cache_checked = 0;      // cache elements (latent cache: bytes) compared with their inputs
  std::int64_t cache_mismatches = 0;
  bool correct = false;          // error under threshold, no element or cache mismatch; only then timed
  std::vector<double> times_s;   // one per timed run, L2 flushed before each
  double median_s = 0;
};

// Prefill on the device: random q/k/v (kernels/random_values.h) in place, one checked run (output
// and cache poisoned first; sampled rows of the first and last sequence and head against
// prefill_reference, their cache rows against the inputs bit for bit), then `iters` timed runs of
// the attention kernel (MLA: and the latent cache write). Every checked output element must lie
// within prefill_element_tolerance() as well. Throws kvplan::Error (bad input) when
// the shape does not fit in device memory.
PhaseBenchResult bench_prefill(const GpuInfo& gpu, const PrefillShape& shape, int iters, std::uint64_t seed,
                               const Progress& progress);

struct MlaBenchResult {
  MlaPlan plan;
  int checked_rows = 0;          // (sequence, head) rows compared with the CPU reference
  double rel_l2_error = 0;       // NaN if any checked output was NaN
  double threshold = 0;          // mla_error_threshold(cache)
  ElementCheck elements;         // every checked element against mla_element_tolerance()
  bool correct = false;          // rel_l2_error < threshold and no element mismatch; only then timed
  std::vector<double> times_s;
  double median_s = 0;
};

// An MLA decode problem on the device for one path: q, kv_b_proj and the latent cache filled in
// place with the values of kernels/mla_values.h, a shuffled block table (pages of 64), and the
// workspace; the naive path up-projects as many sequences per pass as fit in free memory. Throws
// kvplan::Error (cannot_run) when the problem does not fit.
class DeviceMlaProblem {
 public:
  DeviceMlaProblem(const GpuInfo& gpu, const MlaShape& shape, MlaPath path, std::uint64_t seed);
  ~DeviceMlaProblem();
  DeviceMlaProblem(const DeviceMlaProblem&) = delete;
  DeviceMlaProblem& operator=(const DeviceMlaProblem&) = delete;

  const MlaPlan& plan() const;

  // One run with the output poisoned (NaN), compared with the CPU reference: every row for small
  // problems; the first and last sequence x first and last head otherwise.
  KernelCheck check();
  double time_once();  // one run of the whole path, CUDA events, L2 flushed before it

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// DeviceMlaProblem, check, then `iters` timed runs if the check passed.
MlaBenchResult bench_mla(const GpuInfo& gpu, const MlaShape& shape, MlaPath path, int iters, std::uint64_t seed,
                         const Progress& progress);

// The median of `times` (which it sorts).
double median(std::vector<double> times);

}  // namespace kvplan::kernels
