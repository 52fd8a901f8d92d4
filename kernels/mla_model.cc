// The absorbed MLA kernel's algorithm on the CPU, step for step (kernels/mla_tiling.h): the CTAs of
// the grid and their schedule's pieces (kernels/split_schedule.h), the tiles of 64 latent rows (fp8
// dequantised into bf16 as the kernel does), S and O accumulated one m16n8k16 step at a time in the
// kernel's k order, each warp's score slice, the row max taken across slices, p = exp2(s - m) in
// fp32 with each lane's partial row sums (the columns acc_col() gives it), P rounded to bf16 before
// P V, the quad and slice reductions of the sums at the end, the per-sequence combine, and the
// cuBLAS steps (q W_UK, W_UV o) as float sums rounded to bf16. Tested against the double reference,
// it catches wrong indexing and rescaling before a GPU ever runs the kernel.
#include <cmath>
#include <vector>

#include "kernels/device.h"  // kLog2e
#include "kernels/model_steps.h"
#include "kernels/mla.h"
#include "kernels/mla_model.h"
#include "kernels/mla_tensors.h"
#include "kernels/mla_tiling.h"

namespace kvplan::kernels {
namespace {

using namespace mla;

// One tensor-core step: 16 products of bf16 values (exact in fp32) summed, then added to the fp32
// accumulator and rounded once. The 16 products sum exactly in double whatever the order, so a
// pairwise tree (fast on the host) stands for the hardware's adder.
float mma_step(float acc, const float* a, const float* b) {
  double sum[kMmaK];
  for (int k = 0; k < kMmaK; ++k) sum[k] = double{a[k]} * b[k];
  for (int width = kMmaK / 2; width > 0; width /= 2) {
    for (int k = 0; k < width; ++k) sum[k] += sum[k + width];
  }
  return static_cast<float>(acc + sum[0]);
}

float round_bf16(float value) { return bf16_to_float(float_to_bf16(value)); }

struct Absorbed {
  const MlaParams& p;
  MlaPlan plan;
  AbsorbedTiling t;
  MlaFault fault;
  std::vector<float> q_latent;           // [batch, n_heads, 512], bf16 values
  std::vector<float> o_latent;           // [batch, n_heads, 512], bf16 values
  std::vector<float> partial_o, partial_lse;

  // One piece of the CTA of head block hb: tokens [piece.begin, piece.end) of sequence piece.seq.
  void run_piece(int hb, const WorkPiece& piece) {
    const int hpc = t.heads_per_cta, first_head = hb * hpc, b = piece.seq;
    const int start = piece.begin, end = piece.end;
    auto partial_row = [&](int r) { return static_cast<std::size_t>(piece.partial) * p.n_heads + first_head + r; };
    // Q: the bf16 q W_UK, then q_rope.
    std::vector<float> q(static_cast<std::size_t>(hpc) * kRowDim);
    for (int r = 0; r < hpc; ++r) {
      const int h = first_head + r;
      for (int c = 0; c < kLatentDim; ++c) {
        q[static_cast<std::size_t>(r) * kRowDim + c] = q_latent[(static_cast<std::size_t>(b) * p.n_heads + h) * kLatentDim + c];
      }
      for (int i = 0; i < kRopeDim; ++i) q[static_cast<std::size_t>(r) * kRowDim + kLatentDim + i] = mla_q(p, b, h, kNopeDim + i);
    }
    const int slices = t.score_slices;
    std::vector<float> m(static_cast<std::size_t>(hpc), -INFINITY);
    std::vector<float> lane_l(static_cast<std::size_t>(hpc) * slices * 4, 0.0f);  // [row][slice][lane % 4]
    std::vector<float> o(static_cast<std::size_t>(hpc) * kLatentDim, 0.0f);
    std::vector<float> latent(static_cast<std::size_t>(kTileTokens) * kRowDim), s(static_cast<std::size_t>(hpc) * kTileTokens);
    std::vector<float> v_columns(static_cast<std::size_t>(kLatentDim) * kTileTokens);  // V transposed: [c][n]
    std::vector<float> p_bf16(static_cast<std::size_t>(hpc) * kTileTokens), alpha(static_cast<std::size_t>(hpc));
    const float scale_log2 = p.softmax_scale * kLog2e;
    for (int tile = start; tile < end; tile += kTileTokens) {
      if (fault == MlaFault::skip_last_tile && tile + kTileTokens >= end && tile > start) break;
      // The tile in bf16; rows past the end are zero (cp.async zero-fills them).
      for (int n = 0; n < kTileTokens; ++n) {
        float* row = &latent[static_cast<std::size_t>(n) * kRowDim];
        if (tile + n >= end) {
          std::fill(row, row + kRowDim, 0.0f);
          continue;
        }
        const std::uint8_t* cached = mla_row(p, b, tile + n);
        for (int c = 0; c < kLatentDim; ++c) row[c] = mla_latent(cached, c, p.cache);
        for (int i = 0; i < kRopeDim; ++i) row[kLatentDim + i] = fault == MlaFault::no_rope ? 0.0f : mla_rope(cached, i, p.cache);
      }
      // S = Q K^T, one k step at a time; masked columns -inf.
      for (int r = 0; r < hpc; ++r) {
        for (int n = 0; n < kTileTokens; ++n) {
          float acc = 0;
          for (int kk = 0; kk < kRowDim / kMmaK; ++kk) {
            acc = mma_step(acc, &q[static_cast<std::size_t>(r) * kRowDim + kk * kMmaK],
                           &latent[static_cast<std::size_t>(n) * kRowDim + kk * kMmaK]);
          }
          s[static_cast<std::size_t>(r) * kTileTokens + n] = tile + n < end ? acc * scale_log2 : -INFINITY;
        }
      }
      for (int r = 0; r < hpc; ++r) {
        float tile_max = -INFINITY;  // the max of the slices' maxima: any order gives the same
        for (int n = 0; n < kTileTokens; ++n) tile_max = std::max(tile_max, s[static_cast<std::size_t>(r) * kTileTokens + n]);
        const float m_new = std::max(m[static_cast<std::size_t>(r)], tile_max);
        alpha[static_cast<std::size_t>(r)] = std::exp2(m[static_cast<std::size_t>(r)] - m_new);
        m[static_cast<std::size_t>(r)] = m_new;
        // Lane (row % 8) * 4 + x of slice j holds columns acc_col(x, 0..1) of each of its n8 tiles.
        for (int j = 0; j < slices; ++j) {
          for (int x = 0; x < 4; ++x) {
            float& l = lane_l[(static_cast<std::size_t>(r) * slices + j) * 4 + x];
            l *= alpha[static_cast<std::size_t>(r)];
            for (int nt = 0; nt < t.score_tokens / kMmaN; ++nt) {
              for (int i = 0; i < 2; ++i) {
                const int n = j * t.score_tokens + nt * kMmaN + acc_col(x, i);
                const float pv = std::exp2(s[static_cast<std::size_t>(r) * kTileTokens + n] - m_new);
                l += pv;
                p_bf16[static_cast<std::size_t>(r) * kTileTokens + n] = round_bf16(pv);
              }
            }
          }
        }
      }
      // O = O * alpha + P V, one k step (16 tokens) at a time.
      for (int n = 0; n < kTileTokens; ++n) {
        for (int c = 0; c < kLatentDim; ++c) {
          v_columns[static_cast<std::size_t>(c) * kTileTokens + n] = latent[static_cast<std::size_t>(n) * kRowDim + c];
        }
      }
      for (int r = 0; r < hpc; ++r) {
        for (int c = 0; c < kLatentDim; ++c) {
          float& acc = o[static_cast<std::size_t>(r) * kLatentDim + c];
          if (fault != MlaFault::no_rescale) acc *= alpha[static_cast<std::size_t>(r)];
          for (int kk = 0; kk < kTileTokens / kMmaK; ++kk) {
            acc = mma_step(acc, &p_bf16[static_cast<std::size_t>(r) * kTileTokens + kk * kMmaK],
                           &v_columns[static_cast<std::size_t>(c) * kTileTokens + kk * kMmaK]);
          }
        }
      }
    }
    // Sums: the quad's lanes ((x0 + x1) + (x2 + x3), as two xor shuffles give), then slices in order.
    for (int r = 0; r < hpc; ++r) {
      float l = 0;
      for (int j = 0; j < slices; ++j) {
        const float* x = &lane_l[(static_cast<std::size_t>(r) * slices + j) * 4];
        l += (x[0] + x[1]) + (x[2] + x[3]);
      }
      const int h = first_head + r;
      for (int c = 0; c < kLatentDim; ++c) {
        const float value = o[static_cast<std::size_t>(r) * kLatentDim + c] / l;
        if (piece.partial < 0) {
          o_latent[(static_cast<std::size_t>(b) * p.n_heads + h) * kLatentDim + c] = round_bf16(value);
        } else {
          partial_o[partial_row(r) * kLatentDim + c] = value;
        }
      }
      if (piece.partial >= 0) partial_lse[partial_row(r)] = m[static_cast<std::size_t>(r)] + std::log2(l);
    }
  }
};

}  // namespace

float cublas_dot_bf16(const float* a, const float* b, int n) {
  float partial[kGemmLanes] = {};
  for (int i = 0; i < n; ++i) partial[i % kGemmLanes] += a[i] * b[i];
  for (int width = kGemmLanes / 2; width > 0; width /= 2) {
    for (int i = 0; i < width; ++i) partial[i] += partial[i + width];
  }
  return round_bf16(partial[0]);
}

void mla_absorbed_model(const MlaParams& p, int num_sms, MlaFault fault) {
  Absorbed model{p, plan_mla(p, p.seq_lens, MlaPath::absorbed, num_sms), {}, fault, {}, {}, {}, {}};
  model.t = absorbed_tiling(model.plan.heads_per_cta);
  const std::size_t rows = static_cast<std::size_t>(p.batch) * p.n_heads;
  // q W_UK: per head a [batch, 128] x [128, 512] GEMM (cuBLAS, strided over heads).
  model.q_latent.resize(rows * kLatentDim);
  std::vector<float> q(kNopeDim), w(static_cast<std::size_t>(kNopeDim) * kLatentDim);  // W_UK^T: [c][r]
  for (int h = 0; h < p.n_heads; ++h) {
    for (int r = 0; r < kNopeDim; ++r) {
      for (int c = 0; c < kLatentDim; ++c) w[static_cast<std::size_t>(c) * kNopeDim + r] = mla_w(p, h, r, c);
    }
    for (int b = 0; b < p.batch; ++b) {
      for (int r = 0; r < kNopeDim; ++r) q[static_cast<std::size_t>(r)] = mla_q(p, b, h, r);
      for (int c = 0; c < kLatentDim; ++c) {
        model.q_latent[(static_cast<std::size_t>(b) * p.n_heads + h) * kLatentDim + c] =
            cublas_dot_bf16(q.data(), &w[static_cast<std::size_t>(c) * kNopeDim], kNopeDim);
      }
    }
  }
  model.o_latent.resize(rows * kLatentDim);
  const ScheduleView schedule = model.plan.schedules.front().view();
  const std::size_t partial_rows = static_cast<std::size_t>(schedule.partial_groups()) * p.n_heads;
  model.partial_o.resize(partial_rows * kLatentDim);
  model.partial_lse.resize(partial_rows);
  // The grid: x = head block, y = part; each CTA runs its part's pieces in order.
  for (int part = 0; part < schedule.parts(); ++part) {
    for (int hb = 0; hb < model.plan.head_blocks; ++hb) {
      for (int i = schedule.first_piece(part); i < schedule.first_piece(part + 1); ++i) model.run_piece(hb, schedule.piece(i));
    }
  }
  combine_pieces(schedule, p.n_heads, kLatentDim, model.partial_o, model.partial_lse,
                 [&](std::size_t row, int c, float value) { model.o_latent[row * kLatentDim + c] = round_bf16(value); });
  // W_UV o: per head a [batch, 512] x [512, 128] GEMM.
  for (int h = 0; h < p.n_heads; ++h) {
    for (int v = 0; v < kVDim; ++v) {
      for (int c = 0; c < kLatentDim; ++c) w[static_cast<std::size_t>(c)] = mla_w(p, h, kNopeDim + v, c);
      for (int b = 0; b < p.batch; ++b) {
        const std::size_t row = static_cast<std::size_t>(b) * p.n_heads + h;
        const float value = cublas_dot_bf16(&model.o_latent[row * kLatentDim], w.data(), kLatentDim);
        store_bf16(p.out, row * kVDim + v, value);
      }
    }
  }
}

void mla_host_model(const MlaParams& p, MlaPath path, int num_sms, MlaFault fault) {
  check_mla_params(p);
  if (path == MlaPath::absorbed) mla_absorbed_model(p, num_sms, fault);
  else mla_naive_model(p, num_sms, fault);
}

}  // namespace kvplan::kernels
