// Reading and writing the prefill problem's tensors on the host, in the layout kernels/prefill.h
// documents. Shared by the CPU references, the host model and the tests.
#pragma once

#include <cstddef>
#include <string>

#include "core/error.h"
#include "kernels/host_tensors.h"
#include "kernels/kernels.h"

namespace kvplan::kernels {

// Sequence b's length from the host copy of seq_starts, checked against max_seq_len.
inline int prefill_seq_len(const std::int32_t* seq_starts, int max_seq_len, int b) {
  const int len = seq_starts[b + 1] - seq_starts[b];
  if (len < 0 || len > max_seq_len) {
    throw Error("prefill: sequence " + std::to_string(b) + " has " + std::to_string(len) +
                " tokens; seq_starts must grow by at most max_seq_len");
  }
  return len;
}

// First element of (sequence b, token t, head h) in a [tokens, heads, dim] view with these strides.
inline std::size_t token_offset(const std::int32_t* seq_starts, int b, int t, int h, long long token_stride,
                                long long head_stride) {
  return static_cast<std::size_t>((static_cast<long long>(seq_starts[b]) + t) * token_stride + h * head_stride);
}

// The cache fields of a prefill problem as the DecodeParams that reads them, for kv_row_offset.
inline DecodeParams cache_view(const PrefillParams& p) {
  DecodeParams view;
  view.block_table = p.block_table;
  view.n_kv_heads = p.n_kv_heads;
  view.head_dim = p.head_dim_v;
  view.page_size = p.page_size;
  view.max_pages_per_seq = p.max_pages_per_seq;
  return view;
}

// The latent cache as one KV "head" `width` wide.
inline DecodeParams cache_view(const LatentCacheParams& p) {
  DecodeParams view;
  view.block_table = p.block_table;
  view.n_kv_heads = 1;
  view.head_dim = p.width;
  view.page_size = p.page_size;
  view.max_pages_per_seq = p.max_pages_per_seq;
  return view;
}

// One cache element from a 16-bit input value, as the kernels store it: the same 16-bit value, or
// for fp8 the input times 1/scale (a float product) rounded to E4M3 with saturation.
inline void store_cache_element(void* cache, std::size_t index, KvType type, float value, float inverse_scale) {
  if (type == KvType::fp8_e4m3) {
    static_cast<std::uint8_t*>(cache)[index] = float_to_e4m3(value * inverse_scale);
  } else {
    store_element(cache, index, type, value);
  }
}

}  // namespace kvplan::kernels
