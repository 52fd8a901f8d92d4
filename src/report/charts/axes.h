// Log-scale axes for the charts: value <-> pixel, and tick positions with readable labels.
#pragma once

#include <string>
#include <vector>

#include "core/units.h"

namespace kvplan::report::charts {

class LogAxis {
 public:
  // Maps [low, high] (positive values, widened to whole powers of `base`) onto [pixel_low, pixel_high].
  LogAxis(double low, double high, double base, double pixel_low, double pixel_high);
  double pixel(double value) const;
  // Every power of the base in range, thinned to at most `max_ticks`.
  std::vector<double> ticks(std::size_t max_ticks) const;
  double low() const { return low_; }
  double high() const { return high_; }

 private:
  double base_, low_, high_, pixel_low_, pixel_high_;
};

// "4k", "128k", "1M": contexts as users type them.
std::string token_label(double tokens);
// "64 MiB", "1 GiB" (IEC) or "10 GB" (SI) for a tick on a byte axis.
std::string byte_label(double bytes, UnitSystem units);
// "1", "10", "1k" for counts.
std::string count_label(double count);

}  // namespace kvplan::report::charts
