// Quantities with their unit in the type, and the one place where user text like `128k` or
// `80GiB` becomes a number. Bytes are integers; a GiB (2^30) and a GB (10^9) are never confused
// because only the writers in src/report choose a display unit.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace kvplan {

struct Bytes {
  std::uint64_t value = 0;
  auto operator<=>(const Bytes&) const = default;
};

struct Tokens {
  std::uint64_t value = 0;
  auto operator<=>(const Tokens&) const = default;
};

// How sizes are displayed: IEC (KiB/MiB/GiB, powers of 2, what vLLM and SGLang log) or
// SI (kB/MB/GB, powers of 10, what datasheets and some papers print).
enum class UnitSystem { iec, si };

inline constexpr std::uint64_t kKiB = 1ull << 10;
inline constexpr std::uint64_t kMiB = 1ull << 20;
inline constexpr std::uint64_t kGiB = 1ull << 30;
inline constexpr std::uint64_t kTiB = 1ull << 40;

// The most tokens any token flag or field may name (context, scheduler step, sliding window):
// 2^32, far beyond any model's context, and small enough that sums and products of token counts
// with per-token sizes stay inside 64 bits before the checked arithmetic has to refuse them.
inline constexpr std::uint64_t kMaxTokens = 1ull << 32;

// "4096", "32k", "32K" (x1024), "1M" (x2^20). Whole numbers only, > 0, at most kMaxTokens.
// `what` names the flag or field for the error message.
Tokens parse_tokens(std::string_view text, std::string_view what);

// "80GB" = 80e9, "80GiB" = 80 * 2^30, "512MiB", "1.5TB", "1073741824" (plain bytes). A bare
// "80G" is refused because it is ambiguous.
Bytes parse_bytes(std::string_view text, std::string_view what);

// A positive whole number ("8", "1000"), for counts such as --batch.
std::uint64_t parse_count(std::string_view text, std::string_view what);

UnitSystem parse_unit_system(std::string_view text);

// "71.27 GiB", two decimals, as vLLM logs memory; used inside explanations built by src/core.
std::string gib_text(Bytes bytes);

}  // namespace kvplan
