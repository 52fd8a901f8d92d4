// The report's charts, as SVG text. Inputs are plain numbers so each chart can be tested alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/units.h"

namespace kvplan::report::charts {

// One line of a log-log chart; every value positive.
struct LineSeries {
  std::string label;
  std::vector<double> x;  // tokens
  std::vector<double> y;  // bytes, or a ratio
};
// KV cache per sequence against context length, one line per variant.
std::string cache_vs_context(const std::string& title, const std::vector<LineSeries>& series, UnitSystem units);
// Disaggregated serving's prefill:decode GPU ratio against ISL, one line per model.
std::string pd_ratio_vs_isl(const std::string& title, const std::vector<LineSeries>& series);

// Grouped bars on a log axis: concurrent requests per (fleet, context) group, one bar per
// (variant, dtype). A missing value is a request that does not fit, drawn as a cross.
struct BarSeries {
  std::string label;
  int colour = 0;        // palette index (one per variant)
  double opacity = 1;    // lighter for the second dtype
};
struct BarGroup {
  std::string label;
  std::vector<std::optional<double>> values;  // one per series
};
std::string grouped_bars(const std::string& title, const std::string& y_label, const std::vector<BarSeries>& series,
                         const std::vector<BarGroup>& groups);

// Measured kernel time beside the roofline floor, one horizontal bar per benchmark row.
struct BenchBar {
  std::string label;
  std::optional<double> measured_s;  // none in a dry run
  double floor_s = 0;
};
std::string bench_bars(const std::string& title, const std::vector<BenchBar>& bars);

// The palette (Okabe-Ito), shared with legends in Markdown.
const std::vector<std::string>& palette();

}  // namespace kvplan::report::charts
