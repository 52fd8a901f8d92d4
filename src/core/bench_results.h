// One measured (or dry-run) kernel benchmark row, as `kvplan bench --out` writes it and
// bench/compare_torch.py writes its torch rows: the data `kvplan report --bench` charts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvplan {

struct BenchRow {
  std::string impl;     // "kvplan", "torch-sdpa-flash", ...
  std::string model;
  std::string variant;
  std::string kv_dtype;
  std::uint64_t batch = 0;
  std::uint64_t ctx_tokens = 0;
  std::optional<double> kv_bytes;       // the planner's analytic KV bytes
  double floor_s = 0;                   // roofline floor
  std::optional<double> time_median_s;  // none in a dry run
  std::string check;                    // correctness check result
};

struct BenchResults {
  std::string device;
  std::vector<BenchRow> rows;
};

}  // namespace kvplan
