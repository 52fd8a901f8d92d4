#include "core/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {
namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Splits "32k" into the leading digits and the rest. Rejects a sign, since "-5" is never valid.
std::uint64_t leading_whole_number(std::string_view text, std::string_view what,
                                   std::string_view example, std::string_view* rest) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw Error(std::string(what) + ": " + quoted(text) + " is too large");
  }
  if (ec != std::errc() || text.empty()) {
    throw Error(std::string(what) + ": expected " + std::string(example) + ", got " +
                quoted(text));
  }
  *rest = text.substr(static_cast<std::size_t>(end - text.data()));
  return value;
}

}  // namespace

[[noreturn]] void throw_overflow(std::string_view what) {
  throw Error(std::string(what) + " does not fit in 64 bits; use smaller numbers");
}

Tokens parse_tokens(std::string_view text, std::string_view what) {
  constexpr std::string_view example = "a whole number of tokens such as 4096, 32k or 1M";
  std::string_view suffix;
  std::uint64_t value = leading_whole_number(text, what, example, &suffix);
  std::uint64_t multiplier = 1;
  if (suffix == "k" || suffix == "K") {
    multiplier = kKiB;
  } else if (suffix == "m" || suffix == "M") {
    multiplier = kMiB;
  } else if (!suffix.empty()) {
    throw Error(std::string(what) + ": expected " + std::string(example) + ", got " +
                quoted(text) + " (suffixes: k = 1024, M = 1048576)");
  }
  if (value == 0) throw Error(std::string(what) + ": must be at least 1 token, got " + quoted(text));
  const std::uint64_t tokens = checked_mul(value, multiplier, std::string(what) + " " + quoted(text));
  if (tokens > kMaxTokens) {
    throw Error(std::string(what) + ": " + quoted(text) + " is " + std::to_string(tokens) +
                " tokens, more than kvplan plans for (at most " + std::to_string(kMaxTokens) + ")");
  }
  return Tokens{tokens};
}

std::uint64_t parse_count(std::string_view text, std::string_view what) {
  std::string_view rest;
  std::uint64_t value = leading_whole_number(text, what, "a whole number such as 8", &rest);
  if (!rest.empty()) {
    throw Error(std::string(what) + ": expected a whole number such as 8, got " + quoted(text));
  }
  if (value == 0) throw Error(std::string(what) + ": must be at least 1, got " + quoted(text));
  return value;
}

Bytes parse_bytes(std::string_view text, std::string_view what) {
  constexpr std::string_view example = "a size such as 80GiB, 80GB, 512MiB or 1073741824";
  std::size_t unit_start = 0;
  while (unit_start < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_start])) || text[unit_start] == '.')) {
    ++unit_start;
  }
  std::string_view number = text.substr(0, unit_start);
  std::string_view unit = text.substr(unit_start);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);

  struct Unit {
    std::string_view name;
    double multiplier;
  };
  static constexpr Unit units[] = {
      {"", 1},         {"B", 1},         {"KiB", 0x1p10}, {"MiB", 0x1p20}, {"GiB", 0x1p30},
      {"TiB", 0x1p40}, {"kB", 1e3},      {"KB", 1e3},     {"MB", 1e6},     {"GB", 1e9},
      {"TB", 1e12},
  };
  const Unit* found = nullptr;
  for (const Unit& candidate : units) {
    if (candidate.name == unit) found = &candidate;
  }
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      number.find('.') != number.rfind('.')) {
    throw Error(std::string(what) + ": expected " + std::string(example) + ", got " + quoted(text));
  }
  if (found == nullptr) {
    if (unit == "G" || unit == "M" || unit == "K" || unit == "T" || unit == "k") {
      throw Error(std::string(what) + ": " + quoted(text) + " is ambiguous; write " +
                  std::string(number) + std::string(unit) + "iB (powers of 2) or " +
                  std::string(number) + std::string(unit) + "B (powers of 10)");
    }
    throw Error(std::string(what) + ": unknown unit in " + quoted(text) + "; expected " +
                std::string(example));
  }
  if (number.find('.') == std::string_view::npos) {
    std::string_view rest;
    std::uint64_t whole = leading_whole_number(number, what, example, &rest);
    auto multiplier = static_cast<std::uint64_t>(found->multiplier);
    return Bytes{checked_mul(whole, multiplier, std::string(what) + " " + quoted(text))};
  }
  // A decimal such as 79.19GiB: exact to the byte is not possible, so round to the nearest byte.
  double decimal = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), decimal);
  const double value = decimal * found->multiplier;
  if (ec == std::errc::result_out_of_range || !(value < 0x1p64)) {
    throw Error(std::string(what) + ": " + quoted(text) + " is too large");
  }
  if (ec != std::errc() || end != number.data() + number.size()) {
    throw Error(std::string(what) + ": expected " + std::string(example) + ", got " + quoted(text));
  }
  return Bytes{static_cast<std::uint64_t>(std::round(value))};
}

std::string gib_text(Bytes bytes) {
  char text[48];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes.value) / static_cast<double>(kGiB));
  return text;
}

UnitSystem parse_unit_system(std::string_view text) {
  if (text == "iec") return UnitSystem::iec;
  if (text == "si") return UnitSystem::si;
  throw Error("--units: expected iec (GiB = 2^30 B) or si (GB = 10^9 B), got " + quoted(text));
}

}  // namespace kvplan
