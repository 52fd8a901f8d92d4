// The "Disaggregated prefill/decode" section of `kvplan report`: for each model, the plan
// `kvplan disagg` prints at each ISL of the default sweep, as a table, a chart of the
// prefill:decode GPU ratio against ISL (one line per model) and JSON rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/links.h"
#include "core/sweep.h"
#include "report/capacity_report.h"

namespace kvplan::report {

// Markdown for report.md; adds disagg_pd_ratio.svg to `files` and the rows to `json`.
std::string disagg_section(const std::vector<ReportModel>& models, const ReportDisagg& disagg, KvDtype kv_dtype,
                           UnitSystem units, ReportFiles& files, nlohmann::ordered_json& json);

}  // namespace kvplan::report
