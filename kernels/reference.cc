// CPU oracles for the kernels in kernels.h: the textbook formula in double, no tiling, no online
// softmax, so that they share no rounding and no indexing shortcut with the kernels they check.
#include <cmath>
#include <vector>

#include "kernels/host_tensors.h"
#include "kernels/kernels.h"

namespace kvplan::kernels {

std::vector<double> decode_reference(const DecodeParams& p, const std::vector<DecodeRow>& wanted) {
  check_decode_params(p);
  std::vector<DecodeRow> rows = wanted;
  if (rows.empty()) {
    for (int b = 0; b < p.batch; ++b) {
      for (int h = 0; h < p.n_q_heads; ++h) rows.push_back({b, h});
    }
  }
  const KvType q_type = query_type(p.kv_type);
  const std::size_t d = static_cast<std::size_t>(p.head_dim);
  std::vector<double> out(rows.size() * d);
  std::vector<double> scores;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int b = rows[r].batch_index, h = rows[r].q_head;
    const int kv_head = h / p.group_size();
    const int len = p.seq_lens[b];
    const std::size_t q_row = q_row_offset(p, b, h);
    // softmax(q . k_t * scale) over t, with K and V dequantised (stored value * scale).
    scores.assign(static_cast<std::size_t>(len), 0.0);
    double max_score = -INFINITY;
    for (int t = 0; t < len; ++t) {
      const std::size_t k_row = kv_row_offset(p, b, t, kv_head);
      double dot = 0;
      for (std::size_t i = 0; i < d; ++i) {
        dot += double{load_element(p.q, q_row + i, q_type)} *
               (double{load_element(p.k_cache, k_row + i, p.kv_type)} * p.k_scale);
      }
      scores[static_cast<std::size_t>(t)] = dot * p.softmax_scale;
      max_score = std::max(max_score, scores[static_cast<std::size_t>(t)]);
    }
    double sum = 0;
    for (double& score : scores) sum += (score = std::exp(score - max_score));
    double* o = &out[r * d];
    for (int t = 0; t < len; ++t) {
      const std::size_t v_row = kv_row_offset(p, b, t, kv_head);
      const double weight = scores[static_cast<std::size_t>(t)] / sum;
      for (std::size_t i = 0; i < d; ++i) {
        o[i] += weight * (double{load_element(p.v_cache, v_row + i, p.kv_type)} * p.v_scale);
      }
    }
  }
  return out;
}

}  // namespace kvplan::kernels
