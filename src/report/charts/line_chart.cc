// Line charts on log-log axes. KV cache per sequence against context length: each variant is a
// straight line (the cache grows linearly with context), parallel to the others, and the vertical
// gaps are the variants' ratios; sliding windows bend their line flat once the window is full.
// The prefill:decode GPU ratio against ISL: prefill grows faster than linearly (attention), the
// decode side's cost per request about linearly, so the ratio climbs with the prompt.
#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "report/charts/axes.h"
#include "report/charts/charts.h"
#include "report/charts/svg.h"

namespace kvplan::report::charts {
namespace {
constexpr double kWidth = 760, kHeight = 440;
constexpr double kLeft = 86, kRight = 590, kTop = 52, kBottom = 372;

struct LineAxes {
  std::string x_title;
  std::string y_title;
  double y_base = 10;                             // the y ticks are powers of it
  std::function<std::string(double)> y_label;     // a y tick's text
};

std::string log_log_lines(const std::string& title, const std::vector<LineSeries>& series, const LineAxes& axes) {
  double x_low = 1e300, x_high = 0, y_low = 1e300, y_high = 0;
  for (const LineSeries& line : series) {
    for (double x : line.x) x_low = std::min(x_low, x), x_high = std::max(x_high, x);
    for (double y : line.y) y_low = std::min(y_low, y), y_high = std::max(y_high, y);
  }
  svg::Document svg(kWidth, kHeight, title);
  svg.text({20, 30}, title, svg::Anchor::start, 16, "fg", true);
  if (series.empty() || x_high <= 0 || y_high <= 0) return svg.str();

  LogAxis x(x_low, x_high, 2, kLeft, kRight);
  LogAxis y(y_low, y_high, axes.y_base, kBottom, kTop);
  for (double tick : x.ticks(11)) {
    double px = x.pixel(tick);
    svg.line({px, kTop}, {px, kBottom}, "grid");
    svg.text({px, kBottom + 18}, token_label(tick), svg::Anchor::middle, 11);
  }
  for (double tick : y.ticks(9)) {
    double py = y.pixel(tick);
    svg.line({kLeft, py}, {kRight, py}, "grid");
    svg.text({kLeft - 6, py + 4}, axes.y_label(tick), svg::Anchor::end, 11);
  }
  svg.line({kLeft, kBottom}, {kRight, kBottom}, "axis");
  svg.line({kLeft, kTop}, {kLeft, kBottom}, "axis");
  svg.text({(kLeft + kRight) / 2, kBottom + 40}, axes.x_title, svg::Anchor::middle, 12);
  svg.vertical_text({22, (kTop + kBottom) / 2}, axes.y_title, 12);

  for (std::size_t s = 0; s < series.size(); ++s) {
    const std::string& colour = palette()[s % palette().size()];
    std::vector<svg::Point> points;
    for (std::size_t i = 0; i < series[s].x.size(); ++i) points.push_back({x.pixel(series[s].x[i]), y.pixel(series[s].y[i])});
    svg.polyline(points, colour);
    for (const svg::Point& point : points) svg.circle(point, 3, colour);
    double legend_y = kTop + 8 + 22.0 * static_cast<double>(s);
    svg.line({kRight + 18, legend_y}, {kRight + 40, legend_y}, "", colour);
    svg.text({kRight + 46, legend_y + 4}, series[s].label, svg::Anchor::start, 12);
  }
  return svg.str();
}

}  // namespace

const std::vector<std::string>& palette() {
  static const std::vector<std::string> colours = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                   "#E69F00", "#56B4E9", "#F0E442", "#999999"};
  return colours;
}

std::string cache_vs_context(const std::string& title, const std::vector<LineSeries>& series, UnitSystem units) {
  return log_log_lines(title, series,
                       {"context length (tokens, log scale)", "KV cache per sequence (log scale)",
                        units == UnitSystem::iec ? 4.0 : 10.0, [units](double bytes) { return byte_label(bytes, units); }});
}

std::string pd_ratio_vs_isl(const std::string& title, const std::vector<LineSeries>& series) {
  return log_log_lines(title, series,
                       {"prompt length, ISL (tokens, log scale)", "prefill GPUs per decode GPU (log scale)", 2.0,
                        [](double ratio) { return fmt::format("{:g}", ratio); }});
}

}  // namespace kvplan::report::charts
