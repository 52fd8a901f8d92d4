#include "report/charts/axes.h"

#include <cmath>

namespace kvplan::report::charts {

LogAxis::LogAxis(double low, double high, double base, double pixel_low, double pixel_high)
    : base_(base), pixel_low_(pixel_low), pixel_high_(pixel_high) {
  low_ = std::pow(base, std::floor(std::log(low) / std::log(base) + 1e-9));
  high_ = std::pow(base, std::ceil(std::log(high) / std::log(base) - 1e-9));
  if (high_ <= low_) high_ = low_ * base;
}

double LogAxis::pixel(double value) const {
  double fraction = (std::log(value) - std::log(low_)) / (std::log(high_) - std::log(low_));
  return pixel_low_ + fraction * (pixel_high_ - pixel_low_);
}

std::vector<double> LogAxis::ticks(std::size_t max_ticks) const {
  int steps = static_cast<int>(std::lround(std::log(high_ / low_) / std::log(base_)));
  int stride = 1;
  while (steps / stride + 1 > static_cast<int>(max_ticks)) ++stride;
  std::vector<double> result;
  for (int i = 0; i <= steps; i += stride) result.push_back(low_ * std::pow(base_, i));
  return result;
}

std::string token_label(double tokens) {
  auto whole = static_cast<unsigned long long>(std::llround(tokens));
  if (whole >= (1ull << 20) && whole % (1ull << 20) == 0) return std::to_string(whole >> 20) + "M";
  if (whole >= 1024 && whole % 1024 == 0) return std::to_string(whole >> 10) + "k";
  return std::to_string(whole);
}

std::string byte_label(double bytes, UnitSystem units) {
  static const char* iec[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  static const char* si[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  const double step = units == UnitSystem::iec ? 1024 : 1000;
  int unit = 0;
  while (bytes >= step && unit < 5) {
    bytes /= step;
    ++unit;
  }
  return std::to_string(std::llround(bytes)) + " " + (units == UnitSystem::iec ? iec : si)[unit];
}

std::string count_label(double count) {
  auto whole = std::llround(count);
  if (whole >= 1000000 && whole % 1000000 == 0) return std::to_string(whole / 1000000) + "M";
  if (whole >= 1000 && whole % 1000 == 0) return std::to_string(whole / 1000) + "k";
  return std::to_string(whole);
}

}  // namespace kvplan::report::charts
