// `kvplan report`: a self-contained capacity report (Markdown with SVG charts, plus the same
// data as CSV and JSON), built in memory so that writing it out can be all-or-nothing.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/bench_results.h"
#include "core/links.h"
#include "core/sweep.h"
#include "core/units.h"
#include "report/model_label.h"

namespace kvplan::report {

struct ReportModel {
  ModelLabel label;
  const ModelShape* shape = nullptr;
};

// `--disagg-prefill`/`--disagg-decode`: the two pools of a disaggregated deployment, charted over ISL.
struct ReportDisagg {
  SweepFleet prefill;
  SweepFleet decode;
  Link link;
  std::uint64_t osl = 0;
};

struct ReportRequest {
  std::string command_line;  // how to regenerate it, quoted in the report
  std::vector<ReportModel> models;
  std::vector<SweepFleet> fleets;
  std::vector<VariantRequest> variants;
  std::vector<KvDtype> kv_dtypes;
  std::vector<Tokens> contexts;
  EngineOptions engine;
  UnitSystem units = UnitSystem::iec;
  std::optional<BenchResults> bench;
  std::optional<ReportDisagg> disagg;  // the P:D section, when asked
};

struct ReportFiles {
  std::vector<std::pair<std::string, std::string>> files;  // file name -> contents; report.md first
};

// Throws kvplan::Error (exit 2) for an empty selection.
ReportFiles build_report(const ReportRequest& request);

}  // namespace kvplan::report
