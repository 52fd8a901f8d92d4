// Reading and writing the decode problem's tensors on the host, in the layout kernels.h documents.
// Shared by the CPU reference and the host model.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/numeric.h"

namespace kvplan::kernels {

// Element `index` of a raw buffer of `type`, widened to float (fp8 without its scale).
inline float load_element(const void* base, std::size_t index, KvType type) {
  switch (type) {
    case KvType::bf16: return bf16_to_float(static_cast<const std::uint16_t*>(base)[index]);
    case KvType::fp16: return fp16_to_float(static_cast<const std::uint16_t*>(base)[index]);
    case KvType::fp8_e4m3: return e4m3_to_float(static_cast<const std::uint8_t*>(base)[index]);
  }
  return 0;
}

// Rounds to a 16-bit `type` (outputs are never fp8).
inline void store_element(void* base, std::size_t index, KvType type, float value) {
  auto* out = static_cast<std::uint16_t*>(base);
  out[index] = type == KvType::fp16 ? float_to_fp16(value) : float_to_bf16(value);
}

// First element of token `t`'s row for KV head `kv_head` of sequence `b`.
inline std::size_t kv_row_offset(const DecodeParams& p, int b, int t, int kv_head) {
  std::size_t page, slot;
  if (p.block_table) {
    page = static_cast<std::size_t>(p.block_table[static_cast<std::size_t>(b) * p.max_pages_per_seq + t / p.page_size]);
    slot = static_cast<std::size_t>(t % p.page_size);
  } else {
    page = static_cast<std::size_t>(b);
    slot = static_cast<std::size_t>(t);
  }
  return ((page * p.page_size + slot) * p.n_kv_heads + kv_head) * p.head_dim;
}

inline std::size_t q_row_offset(const DecodeParams& p, int b, int q_head) {
  return (static_cast<std::size_t>(b) * p.n_q_heads + q_head) * p.head_dim;
}

}  // namespace kvplan::kernels
