// What the planner needs to know about one GPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/units.h"

namespace kvplan {

enum class GpuArchitecture { ampere, ada, hopper, blackwell, cdna3, other };

struct GpuSpec {
  std::string device_name;                  // as CUDA prints it: "NVIDIA H100 80GB HBM3"
  GpuArchitecture architecture = GpuArchitecture::other;  // decides engine defaults (MLA block size)
  Bytes memory_total;                       // total memory as CUDA reports it (cudaMemGetInfo)
  // `nvidia-smi --query-gpu=memory.total` in MiB, a little more than CUDA's total. SGLang sizes
  // its defaults from this figure; unknown for some presets (docs/engines-sglang.md says what
  // kvplan uses then).
  std::optional<std::uint64_t> nvidia_smi_total_mib;
  // Streaming multiprocessors; vLLM's Triton top-k/top-p sampler sizes a buffer by them (none:
  // not given in the preset).
  std::optional<std::uint32_t> multiprocessors;
  double hbm_bandwidth_bytes_per_s = 0;     // datasheet peak
  double bf16_dense_flops_per_s = 0;        // dense tensor-core peak, datasheet
  std::optional<double> fp8_dense_flops_per_s;  // none on GPUs without fp8 tensor cores
  std::optional<double> fp32_flops_per_s;       // FP32 FMA on the CUDA cores, datasheet; the decode
                                                // kernels' compute ceiling (none: not given)
};

}  // namespace kvplan
