// `kvplan sweep`: every combination of models, variants, cache dtypes, contexts and fleets, one
// row each. A combination that cannot run (weights too large, a dtype the variant has no layout
// for) is a row with its reason, not an error: a sweep maps where things fit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/capacity.h"
#include "core/kv_size.h"

namespace kvplan {

struct SweepModel {
  std::string name;
  const ModelShape* shape = nullptr;
};

struct SweepFleet {
  std::string label;  // "h100-sxm:8"
  std::string gpu_name;
  const GpuSpec* gpu = nullptr;
  Parallelism parallel;
};

struct SweepRequest {
  std::vector<SweepModel> models;
  std::vector<VariantRequest> variants;
  std::vector<KvDtype> kv_dtypes;
  std::vector<Tokens> contexts;
  std::vector<SweepFleet> fleets;
  EngineOptions engine;
  std::string weights_dtype = "auto";
};

struct SweepRow {
  std::string model;
  std::string variant;
  bool native = false;
  KvDtype kv_dtype = KvDtype::bf16;
  Tokens ctx;
  std::string fleet;
  Parallelism parallel;
  std::uint64_t bytes_per_token_per_layer = 0;  // whole model, one rank's view is in the fit
  std::uint64_t bytes_per_sequence = 0;
  std::optional<FitResult> fit;                 // empty when it does not fit
  std::string status;                           // "ok" or why not
};

// The rows run_sweep gives, counted without computing them: models x their usable variants x
// dtypes x contexts x fleets, plus one row per refused variant. Checked: a product of long lists
// that wraps would pass any cap.
std::uint64_t sweep_row_count(const SweepRequest& request);

// Computes the rows one at a time, in run_sweep's order, and hands each to `emit`: memory stays
// bounded however many combinations there are.
void for_each_sweep_row(const SweepRequest& request, const std::function<void(const SweepRow&)>& emit);

std::vector<SweepRow> run_sweep(const SweepRequest& request);

}  // namespace kvplan
