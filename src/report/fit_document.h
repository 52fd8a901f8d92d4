// `kvplan fit` results: the per-GPU budget line by line, the KV capacity per rank, the engine's
// own log lines, the decode roofline and, with --concurrency, the smallest fleet.
#pragma once

#include <optional>
#include <string>

#include "core/capacity.h"
#include "core/fleet.h"
#include "core/prefix_sharing.h"
#include "core/units.h"
#include "report/document.h"
#include "report/model_label.h"

namespace kvplan::report {

struct FitContext {
  ModelLabel model;
  std::string gpu_name;  // preset name
  bool variant_native = true;
  bool explain = false;  // show the rule column
  UnitSystem units = UnitSystem::iec;
  const PrefixSharing* prefix_sharing = nullptr;  // --shared-prefix: its rows beside the unshared ones
};

Document fit_document(const FitContext& context, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                      const FitResult& result, const DecodeBound& decode, const FleetSearch* fleet,
                      std::uint64_t target_concurrency);

// The lines the engine itself logs at start-up for this plan, so users can compare.
std::vector<std::string> engine_log_lines(const FitRequest& request, const FitResult& result);

}  // namespace kvplan::report
