// Reading the MLA decode problem's tensors on the host, in the layouts kernels/mla.h documents.
// Shared by the CPU reference, the host models and the random problems.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/mla.h"
#include "kernels/mla_tiling.h"
#include "kernels/numeric.h"

namespace kvplan::kernels {

// Row index (page * page_size + slot) of token t of sequence b.
inline std::size_t mla_row_index(const MlaParams& p, int b, int t) {
  if (!p.block_table) return static_cast<std::size_t>(b) * p.page_size + t;
  const std::int32_t page = p.block_table[static_cast<std::size_t>(b) * p.max_pages_per_seq + t / p.page_size];
  return static_cast<std::size_t>(page) * p.page_size + t % p.page_size;
}

inline const std::uint8_t* mla_row(const MlaParams& p, int b, int t) {
  return static_cast<const std::uint8_t*>(p.kv_cache) + mla_row_index(p, b, t) * mla_row_bytes(p.cache);
}

inline float bf16_at(const std::uint8_t* bytes, std::size_t index) {
  std::uint16_t bits;
  std::memcpy(&bits, bytes + 2 * index, 2);
  return bf16_to_float(bits);
}

inline float fp8_ds_mla_scale(const std::uint8_t* row, int tile) {
  float scale;
  std::memcpy(&scale, row + mla::kFp8ScaleOffset + 4 * tile, 4);
  return scale;
}

// Latent dim c (0..511) of a cached row as the kernels use it: bf16, or for fp8_ds_mla the code
// times its tile's scale rounded to bf16 (the kernels dequantise into bf16 tiles).
inline float mla_latent(const std::uint8_t* row, int c, MlaCache cache) {
  if (cache == MlaCache::bf16) return bf16_at(row, static_cast<std::size_t>(c));
  return bf16_to_float(float_to_bf16(e4m3_to_float(row[c]) * fp8_ds_mla_scale(row, c / mla::kFp8ScaleTile)));
}

// The same value as the cache means it (code x scale, unrounded), for the reference.
inline double mla_latent_exact(const std::uint8_t* row, int c, MlaCache cache) {
  if (cache == MlaCache::bf16) return bf16_at(row, static_cast<std::size_t>(c));
  return double{e4m3_to_float(row[c])} * fp8_ds_mla_scale(row, c / mla::kFp8ScaleTile);
}

// RoPE dim i (0..63): bf16 in both layouts.
inline float mla_rope(const std::uint8_t* row, int i, MlaCache cache) {
  const int offset = cache == MlaCache::bf16 ? 2 * mla::kLatentDim : mla::kFp8RopeOffset;
  return bf16_at(row + offset, static_cast<std::size_t>(i));
}

// q dim i (0..191) of (b, h); W_UK (r < 128) or W_UV (r >= 128) row r, column c of head h.
inline float mla_q(const MlaParams& p, int b, int h, int i) {
  return bf16_at(static_cast<const std::uint8_t*>(p.q), (static_cast<std::size_t>(b) * p.n_heads + h) * mla::kQDim + i);
}
inline float mla_w(const MlaParams& p, int h, int r, int c) {
  return bf16_at(static_cast<const std::uint8_t*>(p.w_kv_b),
                 (static_cast<std::size_t>(h) * mla::kUpRows + r) * mla::kLatentDim + c);
}

}  // namespace kvplan::kernels
