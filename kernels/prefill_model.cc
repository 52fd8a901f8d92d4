// The prefill kernel's algorithm on the CPU, step for step (kernels/prefill_attention.cu): the same
// CTAs and warps, key tiles from the last one down to tile 0, the diagonal tiles masked element by
// element through the accumulator fragment map, online softmax in base 2 with fmaf where the kernel
// has it, the guard for rows that have seen only masked keys, per-lane row sums in register order
// reduced across the quad at the end, P rounded to the input type before P.V, and the cache written
// from the tiles of each CTA's own rows. Where the tensor cores add 16 products in one step the model
// adds them in float in k order; the hardware's order inside an mma is not specified, so the model
// and the kernel agree to rounding, not bit for bit.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/device.h"  // kLog2e
#include "kernels/kernels.h"
#include "kernels/numeric.h"
#include "kernels/prefill_tensors.h"
#include "kernels/prefill_tiling.h"

namespace kvplan::kernels {
namespace {

using namespace prefill;

constexpr int kLanes = 32;
constexpr int kBlocksN = kBlockN / kMmaN;

// A value as the tensor cores take it: rounded to the 16-bit input type.
float round_to(KvType type, float value) {
  return type == KvType::fp16 ? fp16_to_float(float_to_fp16(value)) : bf16_to_float(float_to_bf16(value));
}

struct Cta {
  int b, q_head, q_tile, len;
};

// One warp: 16 query rows, each lane's registers kept as the kernel keeps them.
class WarpModel {
 public:
  WarpModel(const PrefillParams& p, const Cta& cta, int warp, PrefillFault fault)
      : p_(p), cta_(cta), fault_(fault), type_(query_type(p.kv_type)),
        first_row_(cta.q_tile * kBlockM + warp * kRowsPerWarp),
        rows_(std::clamp(cta.len - first_row_, 0, kRowsPerWarp)),
        q_(static_cast<std::size_t>(kRowsPerWarp * p.head_dim_qk), 0.0f),
        o_(static_cast<std::size_t>(kRowsPerWarp * p.head_dim_v), 0.0f),
        m_(kRowsPerWarp, -INFINITY),
        lane_sum_(kLanes * 2, 0.0f) {
    for (int r = 0; r < rows_; ++r) {
      const std::size_t row = token_offset(p.seq_starts, cta.b, first_row_ + r, cta.q_head, p.q_token_stride, p.q_head_stride);
      for (int i = 0; i < p.head_dim_qk; ++i) q_[idx(r, i, p.head_dim_qk)] = load_element(p.q, row + i, type_);
    }
  }

  // One key tile: S = Q K^T, the mask if the tile crosses the diagonal, the softmax update, O += P V.
  void tile(int key_tile, const std::vector<float>& k, const std::vector<float>& v, bool masked_tile) {
    if (rows_ == 0) return;
    const int d_qk = p_.head_dim_qk, d_v = p_.head_dim_v;
    std::vector<float> s(kRowsPerWarp * kBlockN, 0.0f);
    for (int r = 0; r < rows_; ++r) {
      for (int c = 0; c < kBlockN; ++c) {
        float acc = 0;
        for (int kk = 0; kk < d_qk; kk += kMmaK) {  // one mma k-step: 16 products, then the accumulator
          float step = 0;
          for (int i = kk; i < kk + kMmaK; ++i) step = std::fma(q_[idx(r, i, d_qk)], k[idx(c, i, d_qk)], step);
          acc += step;
        }
        s[idx(r, c, kBlockN)] = acc;
      }
    }
    if (masked_tile && fault_ != PrefillFault::no_mask) {
      for (int lane = 0; lane < kLanes; ++lane) {
        for (int nb = 0; nb < kBlocksN; ++nb) {
          for (int reg = 0; reg < 4; ++reg) {
            const int r = acc_row(lane, reg), c = nb * kMmaN + acc_col(lane, reg);
            const int row = first_row_ + r, key = key_tile * kBlockN + c;
            const bool hide = fault_ == PrefillFault::mask_off_by_one ? key >= row : masked(row, key);
            if (hide) s[idx(r, c, kBlockN)] = -INFINITY;
          }
        }
      }
    }
    const float scale_log2 = p_.softmax_scale * kLog2e;
    std::vector<float> m_use(kRowsPerWarp), alpha(kRowsPerWarp);
    for (int r = 0; r < kRowsPerWarp; ++r) {
      float m_new = m_[r];
      for (int c = 0; c < kBlockN; ++c) m_new = std::max(m_new, s[idx(r, c, kBlockN)]);
      // A row that has seen only masked keys keeps m = -inf; 0 stands in so no inf - inf appears.
      m_use[r] = m_new == -INFINITY && fault_ != PrefillFault::no_masked_row_guard ? 0.0f : m_new;
      alpha[r] = fault_ == PrefillFault::no_rescale ? 1.0f : std::exp2((m_[r] - m_use[r]) * scale_log2);
      m_[r] = m_new;
    }
    // P in the accumulator registers, and each lane's row sums in its register order.
    std::vector<float> prob(kRowsPerWarp * kBlockN);
    for (int lane = 0; lane < kLanes; ++lane) {
      for (int half = 0; half < 2; ++half) {
        float& l = lane_sum_[static_cast<std::size_t>(lane * 2 + half)];
        const int r = acc_row(lane, 2 * half);
        bool first = true;
        for (int nb = 0; nb < kBlocksN; ++nb) {
          for (int reg = 2 * half; reg < 2 * half + 2; ++reg) {
            const int c = nb * kMmaN + acc_col(lane, reg);
            const float m_scaled = m_use[r] * scale_log2;
            const float pv = std::exp2(std::fma(s[idx(r, c, kBlockN)], scale_log2, -m_scaled));
            prob[idx(r, c, kBlockN)] = pv;
            l = first ? std::fma(l, alpha[r], pv) : l + pv;
            first = false;
          }
        }
      }
    }
    for (int r = 0; r < rows_; ++r) {
      for (int i = 0; i < d_v; ++i) o_[idx(r, i, d_v)] *= alpha[r];
      for (int i = 0; i < d_v; ++i) {
        float acc = o_[idx(r, i, d_v)];
        for (int kk = 0; kk < kBlockN; kk += kMmaK) {
          float step = 0;
          for (int c = kk; c < kk + kMmaK; ++c) step = std::fma(round_to(type_, prob[idx(r, c, kBlockN)]), v[idx(c, i, d_v)], step);
          acc += step;
        }
        o_[idx(r, i, d_v)] = acc;
      }
    }
  }

  // The quad reduction of the row sums (xor 1, then xor 2), O / l, rounded to the output type.
  void store() const {
    for (int r = 0; r < rows_; ++r) {
      const int half = r / 8, first_lane = (r % 8) * 4;
      float sums[4];
      for (int i = 0; i < 4; ++i) sums[i] = lane_sum_[static_cast<std::size_t>((first_lane + i) * 2 + half)];
      const float l = (sums[0] + sums[1]) + (sums[2] + sums[3]);
      const float inverse = 1.0f / l;
      const std::size_t row = token_offset(p_.seq_starts, cta_.b, first_row_ + r, cta_.q_head, p_.out_token_stride, p_.out_head_stride);
      for (int i = 0; i < p_.head_dim_v; ++i) store_element(p_.out, row + i, type_, o_[idx(r, i, p_.head_dim_v)] * inverse);
    }
  }

 private:
  static std::size_t idx(int r, int c, int width) { return static_cast<std::size_t>(r) * width + c; }

  const PrefillParams& p_;
  Cta cta_;
  PrefillFault fault_;
  KvType type_;
  int first_row_, rows_;
  std::vector<float> q_, o_, m_, lane_sum_;
};

// A key tile as the CTA's shared memory holds it: rows past the sequence end are zeros.
void load_tile(const PrefillParams& p, const Cta& cta, int key_tile, int kv_head, std::vector<float>& k, std::vector<float>& v) {
  const KvType type = query_type(p.kv_type);
  k.assign(static_cast<std::size_t>(kBlockN * p.head_dim_qk), 0.0f);
  v.assign(static_cast<std::size_t>(kBlockN * p.head_dim_v), 0.0f);
  for (int c = 0; c < kBlockN; ++c) {
    const int key = key_tile * kBlockN + c;
    if (key >= cta.len) break;
    const std::size_t k_row = token_offset(p.seq_starts, cta.b, key, kv_head, p.k_token_stride, p.k_head_stride);
    const std::size_t v_row = token_offset(p.seq_starts, cta.b, key, kv_head, p.v_token_stride, p.v_head_stride);
    for (int i = 0; i < p.head_dim_qk; ++i) k[static_cast<std::size_t>(c * p.head_dim_qk + i)] = load_element(p.k, k_row + i, type);
    for (int i = 0; i < p.head_dim_v; ++i) v[static_cast<std::size_t>(c * p.head_dim_v + i)] = load_element(p.v, v_row + i, type);
  }
}

// The CTA of the group's first query head copies its own rows' K and V into the cache.
void write_cache(const PrefillParams& p, const Cta& cta, int key_tile, int kv_head, const std::vector<float>& k,
                 const std::vector<float>& v) {
  const DecodeParams view = cache_view(p);
  const int d = p.head_dim_v;
  for (int c = 0; c < kBlockN; ++c) {
    const int key = key_tile * kBlockN + c;
    if (key >= cta.len) break;
    const std::size_t at = kv_row_offset(view, cta.b, key, kv_head);
    for (int i = 0; i < d; ++i) {
      store_cache_element(p.k_cache, at + i, p.kv_type, k[static_cast<std::size_t>(c * d + i)], 1.0f / p.k_scale);
      store_cache_element(p.v_cache, at + i, p.kv_type, v[static_cast<std::size_t>(c * d + i)], 1.0f / p.v_scale);
    }
  }
}

void run_cta(const PrefillParams& p, const Cta& cta, PrefillFault fault) {
  const int kv_head = cta.q_head / p.group_size();
  const bool writes_cache = p.k_cache != nullptr && cta.q_head % p.group_size() == 0;
  std::vector<WarpModel> warps;
  for (int w = 0; w < kWarps; ++w) warps.emplace_back(p, cta, w, fault);
  const int end = key_tiles_end(cta.q_tile, cta.len), first_masked = first_masked_tile(cta.q_tile);
  const int last = fault == PrefillFault::skip_last_tile ? 1 : 0;
  std::vector<float> k, v;
  for (int j = end - 1; j >= last; --j) {
    load_tile(p, cta, j, kv_head, k, v);
    if (writes_cache && writes_tile(cta.q_tile, j)) write_cache(p, cta, j, kv_head, k, v);
    for (WarpModel& warp : warps) warp.tile(j, k, v, j >= first_masked);
  }
  for (const WarpModel& warp : warps) warp.store();
}

}  // namespace

void prefill_host_model(const PrefillParams& p, PrefillFault fault) {
  check_prefill_params(p);
  const PrefillPlan plan = plan_prefill(p);
  for (int b = 0; b < plan.sequences; ++b) {
    const int len = prefill_seq_len(p.seq_starts, p.max_seq_len, b);
    for (int h = 0; h < plan.heads; ++h) {
      for (int tile = 0; tile < plan.query_tiles; ++tile) {
        if (tile * kBlockM >= len) continue;  // the kernel's CTA returns at once
        run_cta(p, {b, h, tile, len}, fault);
      }
    }
  }
}

}  // namespace kvplan::kernels
