// CPU oracles for the kernels in kernels.h: the textbook formula in double, no tiling, no online
// softmax, so that they share no rounding and no indexing shortcut with the kernels they check.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/host_tensors.h"
#include "kernels/kernels.h"
#include "kernels/mla_tensors.h"

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

namespace kvplan::kernels {

// The absorbed association of the MLA formula, in double: q_nope . (W_UK c) = (q_nope W_UK) . c and
// W_UV (sum_t p_t c_t) = sum_t p_t (W_UV c_t) are the same sums (tests/kernels/mla_model_test.cc
// checks it against the up-projected form), and this one costs 576 + 512 products per token and head
// instead of the up-projection's 256 x 512.
std::vector<double> mla_reference(const MlaParams& p, const std::vector<MlaRow>& wanted) {
  check_mla_params(p);
  std::vector<MlaRow> rows = wanted;
  if (rows.empty()) {
    for (int b = 0; b < p.batch; ++b) {
      for (int h = 0; h < p.n_heads; ++h) rows.push_back({b, h});
    }
  }
  constexpr int kC = mla::kLatentDim, kD = mla::kRowDim;
  // Four partial sums: still double, and four times faster than one chain.
  auto dot = [](const double* a, const double* b, int n) {
    double sum[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; ++i) sum[i % 4] += a[i] * b[i];
    return (sum[0] + sum[1]) + (sum[2] + sum[3]);
  };
  std::vector<double> out(rows.size() * mla::kVDim);
  std::vector<double> q(kD), o_latent(kC), w(kC), scores, cached;  // cached: [len, 576] dequantised rows
  int cached_b = -1;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int b = rows[r].batch_index, h = rows[r].head, len = p.seq_lens[b];
    if (b != cached_b) {
      cached.resize(static_cast<std::size_t>(len) * kD);
      for (int t = 0; t < len; ++t) {
        const std::uint8_t* row = mla_row(p, b, t);
        for (int c = 0; c < kC; ++c) cached[static_cast<std::size_t>(t) * kD + c] = mla_latent_exact(row, c, p.cache);
        for (int i = 0; i < mla::kRopeDim; ++i) cached[static_cast<std::size_t>(t) * kD + kC + i] = mla_rope(row, i, p.cache);
      }
      cached_b = b;
    }
    // The absorbed query: [q_nope W_UK, q_rope].
    std::fill(q.begin(), q.end(), 0.0);
    for (int i = 0; i < mla::kNopeDim; ++i) {
      const double q_i = mla_q(p, b, h, i);
      for (int c = 0; c < kC; ++c) q[static_cast<std::size_t>(c)] += q_i * mla_w(p, h, i, c);
    }
    for (int i = 0; i < mla::kRopeDim; ++i) q[static_cast<std::size_t>(kC + i)] = mla_q(p, b, h, mla::kNopeDim + i);
    scores.assign(static_cast<std::size_t>(len), 0.0);
    double max_score = -INFINITY;
    for (int t = 0; t < len; ++t) {
      scores[static_cast<std::size_t>(t)] = dot(q.data(), &cached[static_cast<std::size_t>(t) * kD], kD) * p.softmax_scale;
      max_score = std::max(max_score, scores[static_cast<std::size_t>(t)]);
    }
    double sum = 0;
    for (double& score : scores) sum += (score = std::exp(score - max_score));
    std::fill(o_latent.begin(), o_latent.end(), 0.0);
    for (int t = 0; t < len; ++t) {
      const double weight = scores[static_cast<std::size_t>(t)] / sum;
      for (int c = 0; c < kC; ++c) o_latent[static_cast<std::size_t>(c)] += weight * cached[static_cast<std::size_t>(t) * kD + c];
    }
    for (int v = 0; v < mla::kVDim; ++v) {
      for (int c = 0; c < kC; ++c) w[static_cast<std::size_t>(c)] = mla_w(p, h, mla::kNopeDim + v, c);
      out[r * mla::kVDim + v] = dot(w.data(), o_latent.data(), kC);
    }
  }
  return out;
}

}  // namespace kvplan::kernels
