// Steps the host models of the decode and MLA families share, done as the kernels do them: the xor
// butterfly that finishes a dot product across the lanes of a row, and the split combine of a
// schedule's pieces (kernels/lse_combine.cuh on the GPU).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/split_schedule.h"

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

// The combine of a schedule's split sequences: output row (b, h) is the log-sum-exp weighted sum of
// its pieces' partial outputs, in piece order; a sequence of one piece was written directly and is
// skipped. partial_o: [partial groups * heads, dim], group-major; partial_lse: [partial groups * heads].
// store(row, i, value) writes row b * heads + h.
template <typename Store>
void combine_pieces(const ScheduleView& schedule, int heads, int dim, const std::vector<float>& partial_o,
                    const std::vector<float>& partial_lse, Store&& store) {
  for (int b = 0; b < schedule.batch(); ++b) {
    const int first = schedule.first_partial(b), count = schedule.first_partial(b + 1) - first;
    for (int h = 0; h < heads && count > 0; ++h) {
      auto at = [&](int s) { return static_cast<std::size_t>(first + s) * heads + h; };
      float lse_max = -INFINITY;
      for (int s = 0; s < count; ++s) lse_max = std::max(lse_max, partial_lse[at(s)]);
      for (int i = 0; i < dim; ++i) {
        float l = 0, o = 0;
        for (int s = 0; s < count; ++s) {
          if (partial_lse[at(s)] == -INFINITY) continue;
          const float w = std::exp2(partial_lse[at(s)] - lse_max);
          l += w;
          o = std::fma(partial_o[at(s) * static_cast<std::size_t>(dim) + i], w, o);
        }
        store(static_cast<std::size_t>(b) * heads + h, i, o / l);
      }
    }
  }
}

}  // namespace kvplan::kernels
