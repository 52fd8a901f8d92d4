// Overflow-checked unsigned arithmetic. Cache sizes multiply four user-controlled numbers
// (ctx x layers x bytes x batch); a wrapped product would be a silent wrong number.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.h"

namespace kvplan {

[[noreturn]] void throw_overflow(std::string_view what);

inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::string_view what) {
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) throw_overflow(what);
  return product;
}

inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, std::string_view what) {
  std::uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) throw_overflow(what);
  return sum;
}

inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); }

// `value` rounded up to a multiple of `step` (kernel tiles, allocator alignments).
inline std::uint64_t checked_round_up(std::uint64_t value, std::uint64_t step, std::string_view what) {
  return checked_mul(ceil_div(value, step), step, what);
}

}  // namespace kvplan
