// The split combine of the decode kernels on the host, as kernels/lse_combine.cuh does it on the GPU:
// each output row is the log-sum-exp weighted sum of its splits' partial outputs, in split order.
// Shared by the host models of the decode and MLA families.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace kvplan::kernels {

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
