// Deterministic random inputs, a pure function of (seed, element index), compiled by nvcc and g++:
// the GPU fills multi-GiB caches in place, and the host recomputes any element it checks against
// the CPU reference without copying the cache back. Values are exact in every format they are
// stored in, so host and device agree bit for bit.
#pragma once

#include <cstdint>

#include "kernels/decode_tiling.h"

namespace kvplan::kernels {

// splitmix64's finaliser: a good 64-bit mix of (seed, index).
KVPLAN_HOST_DEVICE inline std::uint64_t mix64(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + index;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// k / 128 for k in [-128, 127]: 8 significant bits, exact in bf16 and fp16.
KVPLAN_HOST_DEVICE inline float random_unit(std::uint64_t seed, std::uint64_t index) {
  int k = static_cast<int>(mix64(seed, index) & 0xffu) - 128;
  return static_cast<float>(k) / 128.0f;
}

// An fp8 E4M3 code with magnitude at most 1.875 * 2^4 = 30 and never NaN (codes 0x00..0x5f).
KVPLAN_HOST_DEVICE inline std::uint8_t random_e4m3(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t h = mix64(seed, index);
  auto magnitude = static_cast<std::uint8_t>((h & 0xffu) % 0x60u);
  return static_cast<std::uint8_t>(magnitude | ((h >> 8) & 0x80u));
}

}  // namespace kvplan::kernels
