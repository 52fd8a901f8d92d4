#include "report/format.h"

#include <fmt/format.h>

#include <array>

namespace kvplan::report {

std::string format_bytes(Bytes bytes, UnitSystem units) {
  static constexpr std::array<const char*, 5> iec = {"B", "KiB", "MiB", "GiB", "TiB"};
  static constexpr std::array<const char*, 5> si = {"B", "kB", "MB", "GB", "TB"};
  const double step = units == UnitSystem::iec ? 1024.0 : 1000.0;
  const auto& names = units == UnitSystem::iec ? iec : si;
  if (static_cast<double>(bytes.value) < step) return fmt::format("{} B", bytes.value);
  double value = static_cast<double>(bytes.value);
  std::size_t unit = 0;
  while (value >= step && unit + 1 < names.size()) {
    value /= step;
    ++unit;
  }
  return fmt::format("{:.2f} {}", value, names[unit]);
}

std::string format_bytes_both(Bytes bytes, UnitSystem first) {
  UnitSystem second = first == UnitSystem::iec ? UnitSystem::si : UnitSystem::iec;
  std::string a = format_bytes(bytes, first), b = format_bytes(bytes, second);
  return a == b ? a : a + " (" + b + ")";
}

std::string format_ratio(double ratio) { return fmt::format("{:.2f}x", ratio); }

std::string format_count(std::uint64_t count) { return std::to_string(count); }

std::string format_thousands(std::uint64_t count) {
  std::string digits = std::to_string(count), text;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string describe_units(UnitSystem units) {
  return units == UnitSystem::iec ? "IEC: KiB = 2^10 B, MiB = 2^20 B, GiB = 2^30 B (as vLLM and SGLang log)"
                                  : "SI: kB = 10^3 B, MB = 10^6 B, GB = 10^9 B (as datasheets print)";
}

std::string escape_controls(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n') || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      escaped += "\\x";
      escaped += kHex[byte >> 4];
      escaped += kHex[byte & 0xf];
    } else {
      escaped += c;
    }
  }
  return escaped;
}

}  // namespace kvplan::report
