// Random decode and MLA decode shapes for the kernel tests: ragged lengths that are no multiple of
// any tile, head counts below, at and above what one CTA holds, paged (odd page sizes too) and
// contiguous caches.
#pragma once

#include <algorithm>
#include <random>

#include "kernels/decode_problem.h"
#include "kernels/mla_problem.h"

namespace kvplan::testing {

inline kernels::DecodeShape random_decode_shape(std::mt19937& rng, kernels::KvType type, int max_len) {
  const int group_sizes[] = {1, 2, 3, 4, 5, 8, 12, 16, 32};
  const int page_sizes[] = {0, 1, 7, 16};
  kernels::DecodeShape shape;
  shape.batch = 1 + static_cast<int>(rng() % 3);
  shape.n_kv_heads = 1 + static_cast<int>(rng() % 2);
  shape.n_q_heads = shape.n_kv_heads * group_sizes[rng() % 9];
  shape.head_dim = kernels::kDecodeHeadDims[rng() % 3];
  shape.kv_type = type;
  shape.page_size = page_sizes[rng() % 4];
  for (int b = 0; b < shape.batch; ++b) shape.seq_lens.push_back(1 + static_cast<int>(rng() % max_len));
  return shape;
}

}  // namespace kvplan::testing

namespace kvplan::testing {

// Random MLA decode shapes: every head count the kernels build in steps that change the CTA's head
// count (16, 32, 48, 64, 96, 128), ragged lengths, FlashMLA's page of 64 and odd pages, contiguous
// caches. Lengths shrink with heads x batch so that the host models stay fast: at most about
// `head_tokens` (heads x tokens) per shape.
inline kernels::MlaShape random_mla_shape(std::mt19937& rng, kernels::MlaCache cache, int head_tokens) {
  const int heads[] = {16, 32, 48, 64, 96, 128};
  const int page_sizes[] = {64, 64, 16, 1, 0};
  kernels::MlaShape shape;
  shape.batch = 1 + static_cast<int>(rng() % 3);
  shape.n_heads = heads[rng() % 6];
  shape.cache = cache;
  shape.page_size = page_sizes[rng() % 5];
  const int max_len = std::max(2, head_tokens / (shape.n_heads * shape.batch));
  for (int b = 0; b < shape.batch; ++b) shape.seq_lens.push_back(1 + static_cast<int>(rng() % max_len));
  return shape;
}

}  // namespace kvplan::testing
