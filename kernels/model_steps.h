// Steps the host models of the decode and MLA families share, done as the kernels do them: the xor
// butterfly that finishes a dot product across the lanes of a row, and the split combine
// (kernels/lse_combine.cuh on the GPU).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace kvplan::kernels {

// Lane partial sums, then the butterfly: lane i adds lane i^offset for offset = lanes/2 .. 1. Float
// addition commutes, so every lane ends with the same sum, computed as here.
inline float butterfly_sum(std::vector<float> partial) {
  for (std::size_t offset = partial.size() / 2; offset > 0; offset /= 2) {
    std::vector<float> next(partial.size());
    for (std::size_t lane = 0; lane < partial.size(); ++lane) next[lane] = partial[lane] + partial[lane ^ offset];
    partial = next;
  }
  return partial[0];
}

// Each output row is the log-sum-exp weighted sum of its splits' partial outputs, in split order.
// partial_o: [rows * splits, dim] normalised partial outputs; partial_lse: [rows * splits] base-2
// log-sum-exps (-inf for a split that saw no token). store(row, i, value) writes the result.
template <typename Store>
void combine_splits(std::size_t rows, int splits, int dim, const std::vector<float>& partial_o,
                    const std::vector<float>& partial_lse, Store&& store) {
  for (std::size_t row = 0; row < rows; ++row) {
    const std::size_t first = row * static_cast<std::size_t>(splits);
    float lse_max = -INFINITY;
    for (int s = 0; s < splits; ++s) lse_max = std::max(lse_max, partial_lse[first + s]);
    for (int i = 0; i < dim; ++i) {
      float l = 0, o = 0;
      for (int s = 0; s < splits; ++s) {
        if (partial_lse[first + s] == -INFINITY) continue;
        const float w = std::exp2(partial_lse[first + s] - lse_max);
        l += w;
        o = std::fma(partial_o[(first + s) * static_cast<std::size_t>(dim) + i], w, o);
      }
      store(row, i, o / l);
    }
  }
}

}  // namespace kvplan::kernels
