#include "report/charts/svg.h"

#include <fmt/format.h>

#include <cmath>

namespace kvplan::report::svg {
namespace {

// Light by default; GitHub shows SVGs as images, where prefers-color-scheme follows the viewer's
// theme, so the dark rules keep text and axes readable on a dark page. Series colours are the
// Okabe-Ito palette, distinguishable with colour-vision deficiencies and on both backgrounds.
constexpr std::string_view kStyle =
    ".bg{fill:#ffffff}.fg{fill:#1f2328}.muted{fill:#59636e}.axis{stroke:#1f2328;stroke-width:1}"
    ".grid{stroke:#d1d9e0;stroke-width:1}.guide{stroke:#59636e;stroke-width:1;stroke-dasharray:4 3}"
    "@media (prefers-color-scheme:dark){.bg{fill:#0d1117}.fg{fill:#e6edf3}.muted{fill:#9198a1}"
    ".axis{stroke:#e6edf3}.grid{stroke:#3d444d}.guide{stroke:#9198a1}}"
    "text{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif}";

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double value) {
  double rounded = std::round(value * 10) / 10;
  if (rounded == 0) rounded = 0;  // no "-0.0"
  std::string text = fmt::format("{:.1f}", rounded);
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text;
}

Document::Document(double width, double height, std::string title) : width_(width), height_(height) {
  body_ += "<title>" + escape(title) + "</title>\n";
  rect(0, 0, width, height, "bg");
}

void Document::rect(double x, double y, double width, double height, std::string_view css_class, std::string_view fill,
                    double opacity) {
  body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"", num(x), num(y), num(width), num(height));
  if (!css_class.empty()) body_ += fmt::format(" class=\"{}\"", css_class);
  if (!fill.empty()) body_ += fmt::format(" fill=\"{}\"", fill);
  if (opacity < 1) body_ += fmt::format(" fill-opacity=\"{:.2f}\"", opacity);
  body_ += "/>\n";
}

void Document::line(Point from, Point to, std::string_view css_class, std::string_view stroke) {
  body_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{}\"", num(from.x), num(from.y), num(to.x),
                       num(to.y), css_class);
  if (!stroke.empty()) body_ += fmt::format(" stroke=\"{}\" stroke-width=\"2\"", stroke);
  body_ += "/>\n";
}

void Document::polyline(const std::vector<Point>& points, std::string_view stroke, double width) {
  std::string coordinates;
  for (const Point& point : points) coordinates += (coordinates.empty() ? "" : " ") + num(point.x) + "," + num(point.y);
  body_ += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\"/>\n",
                       coordinates, stroke, num(width));
}

void Document::circle(Point center, double radius, std::string_view fill) {
  body_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"/>\n", num(center.x), num(center.y), num(radius), fill);
}

void Document::text(Point at, std::string_view content, Anchor anchor, double size, std::string_view css_class, bool bold) {
  static constexpr std::string_view anchors[] = {"start", "middle", "end"};
  body_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" class=\"{}\"{}>{}</text>\n", num(at.x),
                       num(at.y), num(size), anchors[static_cast<int>(anchor)], css_class,
                       bold ? " font-weight=\"bold\"" : "", escape(content));
}

void Document::vertical_text(Point at, std::string_view content, double size) {
  body_ += fmt::format(
      "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" class=\"fg\" transform=\"rotate(-90 {} {})\">{}</text>\n",
      num(at.x), num(at.y), num(size), num(at.x), num(at.y), escape(content));
}

std::string Document::str() const {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\">\n"
      "<style>{}</style>\n{}</svg>\n",
      num(width_), num(height_), num(width_), num(height_), kStyle, body_);
}

}  // namespace kvplan::report::svg
