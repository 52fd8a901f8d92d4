// The random contents of an MLA cache row, a pure function of (seed, row index), compiled by nvcc
// and g++: the GPU fills multi-GiB caches in place and the host rebuilds any row it checks (as
// kernels/random_values.h does for the decode family). bf16 rows are random_unit values, exact in
// bf16; fp8_ds_mla rows hold e4m3 codes, fp32 scales with a full mantissa and bf16 RoPE dims.
#pragma once

#include <cstdint>

#include "kernels/mla_tiling.h"
#include "kernels/random_values.h"

namespace kvplan::kernels::mla {

// q is random_unit; kv_b_proj is random_unit / 4 (exact in bf16), so that scores spread over a few
// units as real ones do, rather than tens.
KVPLAN_HOST_DEVICE inline float w_value(std::uint64_t seed, std::uint64_t index) { return random_unit(seed, index) * 0.25f; }

// bf16 cache: element c (0..575) of row `row` is random_unit(seed, row * 576 + c).
KVPLAN_HOST_DEVICE inline std::uint64_t bf16_row_index(std::uint64_t row, int c) { return row * kRowDim + c; }

// fp8_ds_mla: code c (0..511), scale k (0..3) and RoPE dim i (0..63) of a row. Codes reach 30 in
// magnitude; scales in [1/32, 1/16) bring the latent back to about [-1, 1], as a per-128 amax / 448
// scale does for real activations.
KVPLAN_HOST_DEVICE inline std::uint8_t fp8_code(std::uint64_t seed, std::uint64_t row, int c) {
  return random_e4m3(seed, row * kLatentDim + c);
}
KVPLAN_HOST_DEVICE inline float fp8_scale(std::uint64_t seed, std::uint64_t row, int k) {
  const std::uint64_t bits = mix64(seed + 1, row * (kLatentDim / kFp8ScaleTile) + k) & 0xfffffu;
  return (1.0f + static_cast<float>(bits) * 0x1p-20f) * 0x1p-5f;
}
KVPLAN_HOST_DEVICE inline float fp8_rope(std::uint64_t seed, std::uint64_t row, int i) {
  return random_unit(seed + 2, row * kRopeDim + i);
}

}  // namespace kvplan::kernels::mla
