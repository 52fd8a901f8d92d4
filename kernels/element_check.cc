#include "kernels/element_check.h"

#include <cmath>
#include <cstdio>

namespace kvplan::kernels {

ElementTolerance decode_element_tolerance(KvType type) {
  if (type == KvType::fp16) return {0x1p-10, 0x1p-10};
  return {0x1p-7, 0x1p-7};  // bf16 output: bf16 and fp8 caches
}

ElementTolerance prefill_element_tolerance(KvType cache_type) { return decode_element_tolerance(cache_type); }

ElementTolerance mla_element_tolerance() { return {0x1p-5, 0x1p-5}; }

void check_elements(const std::vector<double>& got, const std::vector<double>& want, int row_length,
                    const std::vector<std::string>& row_names, ElementTolerance tolerance, ElementCheck& check) {
  const std::size_t length = static_cast<std::size_t>(row_length);
  for (std::size_t row = 0; row * length < want.size(); ++row) {
    double squares = 0;
    for (std::size_t i = 0; i < length; ++i) squares += want[row * length + i] * want[row * length + i];
    const double row_scale = std::sqrt(squares / static_cast<double>(length));
    for (std::size_t i = 0; i < length; ++i) {
      const std::size_t at = row * length + i;
      const double value = at < got.size() ? got[at] : NAN;
      const double allowed = tolerance.rtol * std::fabs(want[at]) + tolerance.atol * row_scale;
      ++check.elements;
      if (std::fabs(value - want[at]) <= allowed) continue;  // false for NaN
      ++check.mismatches;
      if (check.first_mismatches.size() < kReportedMismatches) {
        char line[160];
        std::snprintf(line, sizeof line, "%s element %zu: got %.6g, want %.6g (off by %.3g, allowed %.3g)",
                      row < row_names.size() ? row_names[row].c_str() : "row ?", i, value, want[at],
                      std::fabs(value - want[at]), allowed);
        check.first_mismatches.emplace_back(line);
      }
    }
  }
}

}  // namespace kvplan::kernels
