// A minimal SVG document builder: the elements kvplan's charts use, with every number printed
// at a fixed precision so that the same data always gives byte-identical files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kvplan::report::svg {

struct Point {
  double x = 0;
  double y = 0;
};

enum class Anchor { start, middle, end };

class Document {
 public:
  Document(double width, double height, std::string title);

  // `css_class` names a class of the embedded style sheet (see svg.cc): "fg", "axis", "grid"...
  void rect(double x, double y, double width, double height, std::string_view css_class, std::string_view fill = "",
            double opacity = 1);
  void line(Point from, Point to, std::string_view css_class, std::string_view stroke = "");
  void polyline(const std::vector<Point>& points, std::string_view stroke, double width = 2);
  void circle(Point center, double radius, std::string_view fill);
  void text(Point at, std::string_view content, Anchor anchor = Anchor::start, double size = 12,
            std::string_view css_class = "fg", bool bold = false);
  // Text rotated 90 degrees counter-clockwise around its anchor, for a y-axis label.
  void vertical_text(Point at, std::string_view content, double size = 12);

  std::string str() const;

 private:
  double width_, height_;
  std::string body_;
};

// Escapes &, <, >, " for text and attribute values.
std::string escape(std::string_view text);

// "12.5": one decimal, no "-0.0"; SVG coordinates need no more.
std::string num(double value);

}  // namespace kvplan::report::svg
