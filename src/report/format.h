// Human-readable numbers for table and Markdown output. CSV and JSON carry raw integers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/units.h"

namespace kvplan::report {

// "480.00 GiB" (IEC) or "515.40 GB" (SI); values below 1 KiB / 1 kB print as "656 B".
std::string format_bytes(Bytes bytes, UnitSystem units);

// "480.00 GiB (515.40 GB)": both systems, for --explain where a reader checks either.
std::string format_bytes_both(Bytes bytes, UnitSystem first);

// "56.89x".
std::string format_ratio(double ratio);

// "131072" with no separators (users paste these into flags).
std::string format_count(std::uint64_t count);

// "1,234,567", as vLLM writes token counts in its log lines.
std::string format_thousands(std::uint64_t count);

// `text` with control characters other than a newline written as \xNN, so that a name from a
// file or the command line cannot move the terminal's cursor or recolour it.
std::string escape_controls(std::string_view text);

// One line naming the unit system: "IEC: KiB = 2^10 B, MiB = 2^20 B, GiB = 2^30 B".
std::string describe_units(UnitSystem units);

}  // namespace kvplan::report
