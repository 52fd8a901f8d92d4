// `fit --concurrency N`: the layouts that hold N requests side by side as rows of the fit table
// (plain TP x PP, vLLM's decode context parallel, vLLM's DP attention with expert parallel), each
// with its requests per deployment, KV per request per rank and the GPUs the target needs, and
// the smallest fleet as a note.
#pragma once

#include <cstdint>
#include <string>

#include "core/fleet.h"
#include "core/units.h"
#include "report/document.h"

namespace kvplan::report {

struct FleetView {
  std::uint64_t concurrency = 0;
  std::uint32_t fleet_gpus = 0;  // the fit's own GPUs: layouts of this size are always shown
  std::string gpu_name;
  std::uint64_t max_model_len = 0;
  bool explain = false;          // every layout tried and every rejection, not only the fleet's size
  UnitSystem units = UnitSystem::iec;
};

void add_fleet_rows(Document& document, const FleetSearch& search, const FleetView& view);

}  // namespace kvplan::report
