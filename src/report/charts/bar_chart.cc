// Grouped bars on a log axis: concurrency spans orders of magnitude between MHA and MLA, so a
// linear axis would flatten all but the largest bars.
#include <algorithm>
#include <cmath>

#include "report/charts/axes.h"
#include "report/charts/charts.h"
#include "report/charts/svg.h"

namespace kvplan::report::charts {
namespace {
constexpr double kHeight = 460;
constexpr double kLeft = 70, kTop = 52, kBottom = 372, kLegendWidth = 190;
}  // namespace

std::string grouped_bars(const std::string& title, const std::string& y_label, const std::vector<BarSeries>& series,
                         const std::vector<BarGroup>& groups) {
  const double bar = 12, gap = 14;
  const double group_width = bar * static_cast<double>(series.size()) + gap;
  const double plot_right = kLeft + std::max(360.0, group_width * static_cast<double>(groups.size()) + gap);
  const double width = plot_right + kLegendWidth;
  svg::Document svg(width, kHeight, title);
  svg.text({20, 30}, title, svg::Anchor::start, 16, "fg", true);
  double high = 1;
  for (const BarGroup& group : groups) {
    for (const auto& value : group.values) {
      if (value) high = std::max(high, *value);
    }
  }
  LogAxis y(1, high * 1.5, 10, kBottom, kTop);
  for (double tick : y.ticks(8)) {
    double py = y.pixel(tick);
    svg.line({kLeft, py}, {plot_right, py}, "grid");
    svg.text({kLeft - 6, py + 4}, count_label(tick), svg::Anchor::end, 11);
  }
  svg.line({kLeft, kBottom}, {plot_right, kBottom}, "axis");
  svg.line({kLeft, kTop}, {kLeft, kBottom}, "axis");
  svg.vertical_text({20, (kTop + kBottom) / 2}, y_label, 12);

  for (std::size_t g = 0; g < groups.size(); ++g) {
    double x0 = kLeft + gap + group_width * static_cast<double>(g);
    for (std::size_t s = 0; s < series.size() && s < groups[g].values.size(); ++s) {
      double bx = x0 + bar * static_cast<double>(s);
      const std::string& colour = palette()[series[s].colour % palette().size()];
      const auto& value = groups[g].values[s];
      if (!value || *value < 1) {
        // Not even one request fits: a cross on the baseline, not an invisible bar.
        svg.line({bx + 2, kBottom - 8}, {bx + bar - 2, kBottom - 2}, "", colour);
        svg.line({bx + 2, kBottom - 2}, {bx + bar - 2, kBottom - 8}, "", colour);
        continue;
      }
      // A single request sits on the axis minimum; keep a stub visible so it reads as 1, not 0.
      double top = std::min(y.pixel(*value), kBottom - 3);
      svg.rect(bx + 1, top, bar - 2, kBottom - top, "", colour, series[s].opacity);
    }
    svg.text({x0 + (group_width - gap) / 2, kBottom + 16}, groups[g].label, svg::Anchor::middle, 10);
  }
  svg.text({(kLeft + plot_right) / 2, kBottom + 62}, "x: does not hold one request", svg::Anchor::middle, 11, "muted");
  for (std::size_t s = 0; s < series.size(); ++s) {
    double ly = kTop + 4 + 18.0 * static_cast<double>(s);
    svg.rect(plot_right + 16, ly - 9, 12, 12, "", palette()[series[s].colour % palette().size()], series[s].opacity);
    svg.text({plot_right + 34, ly + 1}, series[s].label, svg::Anchor::start, 11);
  }
  return svg.str();
}

}  // namespace kvplan::report::charts
