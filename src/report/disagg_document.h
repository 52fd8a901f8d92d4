// `kvplan disagg`: the plan at the requested ISL as facts, one row per ISL of the sweep (CSV and
// JSON carry every number of every row), and with --explain each formula with its values.
#pragma once

#include <string>
#include <vector>

#include "core/disagg.h"
#include "report/document.h"

namespace kvplan::report {

struct DisaggContext {
  std::string model;
  std::string prefill_fleet;  // "h200:8"
  std::string decode_fleet;
  bool explain = false;
  UnitSystem units = UnitSystem::iec;
};

// `chosen` is the plan at --isl; `sweep` holds it too, in ISL order. `skipped` are notes for
// sweep ISLs that could not be planned.
Document disagg_document(const DisaggContext& context, const DisaggPlan& chosen, const std::vector<DisaggPlan>& sweep,
                         const std::vector<std::string>& skipped);

}  // namespace kvplan::report
