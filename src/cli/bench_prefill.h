// The prefill and layer rows of `kvplan bench`: which variants, their kernel shapes and analytic
// cost, the memory check, and the measurement on the GPU.
#pragma once

#include <string>
#include <vector>

#include "core/model_shape.h"
#include "kernels/gpu.h"
#include "kernels/layer.h"
#include "report/bench_document.h"

namespace kvplan::cli {

struct PrefillRowPlan {
  report::KernelRow row;             // phase, shape, head dims and cost; floor and measurement later
  kernels::LayerBenchShape kernel;   // what the GPU runs (the layer fields only matter for "layer")
  std::uint64_t device_bytes = 0;    // what that run allocates
};

// One row per variant of `variant_text` (all = mha, gqa, mqa, mla) for `phase` ("prefill" or
// "layer"). Throws kvplan::Error (exit 2) for head dims without a kernel, naming the built ones.
std::vector<PrefillRowPlan> plan_prefill_rows(const std::string& phase, const std::string& variant_text,
                                              const std::string& model_name, const ModelShape& shape, KvDtype dtype,
                                              std::uint64_t batch, Tokens ctx, std::uint32_t page_size);

// Throws kvplan::Error (exit 2) when a row's run needs more than `memory_bytes`.
void check_fits(const std::vector<PrefillRowPlan>& rows, std::uint64_t memory_bytes, const std::string& device);

report::BenchMeasurement measure_prefill_row(const kernels::GpuInfo& gpu, const PrefillRowPlan& plan, int iters,
                                             std::uint64_t seed, const kernels::Progress& progress);

}  // namespace kvplan::cli
