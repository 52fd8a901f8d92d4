// Random decode shapes for the kernel tests: ragged lengths that are no multiple of any tile,
// group sizes below, at and above the heads one CTA holds, paged (odd page sizes too) and
// contiguous caches, every built head dim.
#pragma once

#include <random>

#include "kernels/decode_problem.h"

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
