// CPU oracles for the kernels in kernels.h: the textbook formula in double, no tiling, no online
// softmax, so that they share no rounding and no indexing shortcut with the kernels they check.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/host_tensors.h"
#include "kernels/kernels.h"
#include "kernels/mla_tensors.h"
#include "kernels/prefill_tensors.h"

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

std::vector<double> prefill_reference(const PrefillParams& p, const std::vector<PrefillRow>& wanted) {
  check_prefill_params(p);
  std::vector<PrefillRow> rows = wanted;
  if (rows.empty()) {
    for (int b = 0; b < p.batch; ++b) {
      const int len = prefill_seq_len(p.seq_starts, p.max_seq_len, b);
      for (int t = 0; t < len; ++t) {
        for (int h = 0; h < p.n_q_heads; ++h) rows.push_back({b, t, h});
      }
    }
  }
  const KvType type = query_type(p.kv_type);
  const std::size_t d_qk = static_cast<std::size_t>(p.head_dim_qk), d_v = static_cast<std::size_t>(p.head_dim_v);
  std::vector<double> out(rows.size() * d_v);
  std::vector<double> scores;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto [b, t, h] = rows[r];
    if (t < 0 || t >= prefill_seq_len(p.seq_starts, p.max_seq_len, b)) throw Error("prefill_reference: no such token");
    const int kv_head = h / p.group_size();
    const std::size_t q_row = token_offset(p.seq_starts, b, t, h, p.q_token_stride, p.q_head_stride);
    // softmax over keys 0..t (causal) of q . k_j * scale, then the weighted sum of v_j.
    scores.assign(static_cast<std::size_t>(t) + 1, 0.0);
    double max_score = -INFINITY;
    for (int j = 0; j <= t; ++j) {
      const std::size_t k_row = token_offset(p.seq_starts, b, j, kv_head, p.k_token_stride, p.k_head_stride);
      double dot = 0;
      for (std::size_t i = 0; i < d_qk; ++i) {
        dot += double{load_element(p.q, q_row + i, type)} * double{load_element(p.k, k_row + i, type)};
      }
      scores[static_cast<std::size_t>(j)] = dot * p.softmax_scale;
      max_score = std::max(max_score, scores[static_cast<std::size_t>(j)]);
    }
    double sum = 0;
    for (double& score : scores) sum += (score = std::exp(score - max_score));
    double* o = &out[r * d_v];
    for (int j = 0; j <= t; ++j) {
      const std::size_t v_row = token_offset(p.seq_starts, b, j, kv_head, p.v_token_stride, p.v_head_stride);
      const double weight = scores[static_cast<std::size_t>(j)] / sum;
      for (std::size_t i = 0; i < d_v; ++i) o[i] += weight * double{load_element(p.v, v_row + i, type)};
    }
  }
  return out;
}

void encode_latent_row(const LatentCacheParams& p, const std::uint16_t* input, std::uint8_t* row) {
  if (p.kv_type != KvType::fp8_e4m3) {
    std::memcpy(row, input, static_cast<std::size_t>(latent_row_bytes(p)));
    return;
  }
  for (int tile = 0; tile < mla::kLatentDim / mla::kFp8ScaleTile; ++tile) {
    const int first = tile * mla::kFp8ScaleTile;
    float amax = 0;
    for (int c = first; c < first + mla::kFp8ScaleTile; ++c) amax = std::max(amax, std::fabs(bf16_to_float(input[c])));
    const float scale = mla::fp8_ds_mla_tile_scale(amax);
    for (int c = first; c < first + mla::kFp8ScaleTile; ++c) row[c] = float_to_e4m3(bf16_to_float(input[c]) / scale);
    std::memcpy(row + mla::kFp8ScaleOffset + 4 * tile, &scale, 4);
  }
  std::memcpy(row + mla::kFp8RopeOffset, input + mla::kLatentDim, 2 * mla::kRopeDim);
}

void latent_cache_reference(const LatentCacheParams& p) {
  check_latent_cache_params(p);
  const DecodeParams view = cache_view(p);  // one "head" `width` wide: row (page * page_size + slot) * width
  const auto row_bytes = static_cast<std::size_t>(latent_row_bytes(p));
  std::vector<std::uint16_t> input(static_cast<std::size_t>(p.width));
  for (int b = 0; b < p.batch; ++b) {
    const int len = prefill_seq_len(p.seq_starts, p.max_seq_len, b);
    for (int t = 0; t < len; ++t) {
      const std::size_t from = token_offset(p.seq_starts, b, t, 0, p.token_stride, 0);
      std::memcpy(input.data(), static_cast<const std::uint16_t*>(p.latent) + from, 2 * input.size());
      const std::size_t row = kv_row_offset(view, b, t, 0) / static_cast<std::size_t>(p.width);
      encode_latent_row(p, input.data(), static_cast<std::uint8_t*>(p.cache) + row * row_bytes);
    }
  }
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
