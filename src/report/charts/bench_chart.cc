// Measured kernel time beside its roofline floor: one bar per benchmark row, the floor as a
// tick, the ratio as a label, so the distance to the hardware limit is visible at a glance.
#include <algorithm>

#include <fmt/format.h>

#include "report/charts/charts.h"
#include "report/charts/svg.h"

namespace kvplan::report::charts {
namespace {
constexpr double kWidth = 760, kLeft = 250, kRight = 660, kTop = 56, kRow = 26;
}  // namespace

std::string bench_bars(const std::string& title, const std::vector<BenchBar>& bars) {
  const double height = kTop + kRow * static_cast<double>(bars.size()) + 60;
  svg::Document svg(kWidth, height, title);
  svg.text({20, 30}, title, svg::Anchor::start, 16, "fg", true);
  double high = 0;
  for (const BenchBar& bar : bars) high = std::max({high, bar.floor_s, bar.measured_s.value_or(0)});
  if (high <= 0) return svg.str();
  const double scale = (kRight - kLeft) / (high * 1.05);
  const double bottom = kTop + kRow * static_cast<double>(bars.size());
  svg.line({kLeft, kTop - 6}, {kLeft, bottom}, "axis");
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const BenchBar& bar = bars[i];
    double y = kTop + kRow * static_cast<double>(i);
    svg.text({kLeft - 8, y + 13}, bar.label, svg::Anchor::end, 11);
    if (bar.measured_s) {
      svg.rect(kLeft, y + 3, *bar.measured_s * scale, kRow - 8, "", palette()[0]);
      std::string label = fmt::format("{:.1f} us", *bar.measured_s * 1e6);
      if (bar.floor_s > 0) label += fmt::format(" ({:.0f}% of floor speed)", 100 * bar.floor_s / *bar.measured_s);
      svg.text({kLeft + *bar.measured_s * scale + 6, y + 14}, label, svg::Anchor::start, 10);
    } else {
      svg.text({kLeft + bar.floor_s * scale + 6, y + 14}, fmt::format("floor {:.1f} us (not measured)", bar.floor_s * 1e6),
               svg::Anchor::start, 10, "muted");
    }
    double floor_x = kLeft + bar.floor_s * scale;
    svg.line({floor_x, y + 1}, {floor_x, y + kRow - 3}, "", palette()[1]);
  }
  svg.line({kLeft, bottom}, {kRight, bottom}, "axis");
  svg.text({kLeft, bottom + 22}, "bar: median time; orange tick: roofline floor max(bytes / bandwidth, FLOPs / peak)",
           svg::Anchor::start, 11, "muted");
  return svg.str();
}

}  // namespace kvplan::report::charts
