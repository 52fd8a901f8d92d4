// What the planner needs to know about one GPU.
#pragma once

#include <optional>

#include "core/units.h"

namespace kvplan {

struct GpuSpec {
  Bytes memory_total;                       // total memory as CUDA reports it (cudaMemGetInfo)
  double hbm_bandwidth_bytes_per_s = 0;     // datasheet peak
  double bf16_dense_flops_per_s = 0;        // dense tensor-core peak, datasheet
  std::optional<double> fp8_dense_flops_per_s;  // none on GPUs without fp8 tensor cores
};

}  // namespace kvplan
