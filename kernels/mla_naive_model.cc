// The naive MLA path on the CPU, step for step: per chunk of sequences the gather of the latent
// rows into bf16 (fp8 dequantised), the up-projection to per-head K nope and V rounded to bf16
// (cuBLAS in the kernel), and the attention kernel's token groups as kernels/decode_model.cc runs
// them for the decode kernel: 16 lanes per K row (8 nope dims, then 4 RoPE dims each, one fma
// chain), the xor butterfly, per-group online softmax in base 2, the CTA merge in group order, the
// chunk's schedule of pieces (kernels/split_schedule.h) and the per-sequence combine.
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

constexpr int kSteps = decode::kTokensPerStep;
constexpr int kElems = kNaiveTiling.elems_per_lane, kLanes = kNaiveTiling.lanes_per_token;

struct Chunk {
  const MlaParams& p;
  MlaFault fault;
  int first;                          // first sequence of the chunk
  int sequences;
  ScheduleView schedule;              // the chunk's, sequences numbered from 0 in the chunk
  std::vector<float> gathered;        // [sequences * max_seq_len, 576] bf16 values
  std::vector<float> kv_up;           // [sequences * max_seq_len, n_heads, 256] bf16 values

  std::size_t token(int b_local, int t) const { return static_cast<std::size_t>(b_local) * p.max_seq_len + t; }

  void gather_and_project() {
    const std::size_t tokens = static_cast<std::size_t>(sequences) * p.max_seq_len;
    gathered.assign(tokens * kRowDim, 0.0f);
    kv_up.assign(tokens * p.n_heads * kUpRows, 0.0f);
    std::vector<float> w(static_cast<std::size_t>(kLatentDim));
    for (int b = 0; b < sequences; ++b) {
      for (int t = 0; t < p.seq_lens[first + b]; ++t) {
        const std::uint8_t* row = mla_row(p, first + b, t);
        float* out = &gathered[token(b, t) * kRowDim];
        for (int c = 0; c < kLatentDim; ++c) out[c] = mla_latent(row, c, p.cache);
        for (int i = 0; i < kRopeDim; ++i) out[kLatentDim + i] = fault == MlaFault::no_rope ? 0.0f : mla_rope(row, i, p.cache);
      }
    }
    for (int h = 0; h < p.n_heads; ++h) {
      for (int r = 0; r < kUpRows; ++r) {
        for (int c = 0; c < kLatentDim; ++c) w[static_cast<std::size_t>(c)] = mla_w(p, h, r, c);
        for (int b = 0; b < sequences; ++b) {
          for (int t = 0; t < p.seq_lens[first + b]; ++t) {
            kv_up[(token(b, t) * p.n_heads + h) * kUpRows + r] =
                cublas_dot_bf16(&gathered[token(b, t) * kRowDim], w.data(), kLatentDim);
          }
        }
      }
    }
  }

  struct GroupState {
    float m = -INFINITY, l = 0;
    std::vector<float> o = std::vector<float>(kVDim, 0.0f);
  };

  void run_group(const WorkPiece& piece, int h, int group, const std::vector<float>& q, GroupState& state) const {
    const int b = piece.seq, start = piece.begin, end = piece.end;
    const float score_scale = p.softmax_scale * kLog2e;
    for (int base = start; base < end; base += kNaiveTiling.tokens_per_iter) {
      const int t0 = base + group * kSteps;
      if (t0 >= end) continue;
      float s[kSteps];
      for (int j = 0; j < kSteps; ++j) {
        s[j] = -INFINITY;
        if (t0 + j >= end) continue;
        const float* k = &kv_up[(token(b, t0 + j) * p.n_heads + h) * kUpRows];
        const float* rope = &gathered[token(b, t0 + j) * kRowDim + kLatentDim];
        std::vector<float> partial(kLanes);
        for (int lane = 0; lane < kLanes; ++lane) {
          float acc = 0;
          for (int e = 0; e < kElems; ++e) acc = std::fma(q[static_cast<std::size_t>(lane * kElems + e)], k[lane * kElems + e], acc);
          for (int e = 0; e < kNaiveRopePerLane; ++e) {
            const int i = lane * kNaiveRopePerLane + e;
            acc = std::fma(q[static_cast<std::size_t>(kNopeDim + i)], rope[i], acc);
          }
          partial[static_cast<std::size_t>(lane)] = acc;
        }
        s[j] = butterfly_sum(partial) * score_scale;
      }
      float m_new = state.m;
      for (int j = 0; j < kSteps; ++j) m_new = std::max(m_new, s[j]);
      const float alpha = std::exp2(state.m - m_new);
      float p_step[kSteps];
      for (int j = 0; j < kSteps; ++j) p_step[j] = std::exp2(s[j] - m_new);
      state.l *= alpha;
      for (int j = 0; j < kSteps; ++j) state.l += p_step[j];
      for (int i = 0; i < kVDim; ++i) {
        float& o = state.o[static_cast<std::size_t>(i)];
        if (fault != MlaFault::no_rescale) o *= alpha;
        for (int j = 0; j < kSteps && t0 + j < end; ++j) {
          o = std::fma(p_step[j], kv_up[(token(b, t0 + j) * p.n_heads + h) * kUpRows + kNopeDim + i], o);
        }
      }
      state.m = m_new;
    }
  }

  // One piece of the CTA of head h: every token group, then the merge in group order.
  void run_cta(const WorkPiece& piece, int h, std::vector<float>& partial_o, std::vector<float>& partial_lse) const {
    const int b = piece.seq;
    std::vector<float> q(kQDim);
    for (int i = 0; i < kQDim; ++i) q[static_cast<std::size_t>(i)] = mla_q(p, first + b, h, i);
    std::vector<GroupState> groups(static_cast<std::size_t>(kNaiveTiling.token_groups));
    for (int g = 0; g < kNaiveTiling.token_groups; ++g) run_group(piece, h, g, q, groups[static_cast<std::size_t>(g)]);
    float m_max = -INFINITY;
    for (const GroupState& state : groups) m_max = std::max(m_max, state.m);
    const std::size_t row = static_cast<std::size_t>(piece.partial) * p.n_heads + h;
    for (int i = 0; i < kVDim; ++i) {
      float l = 0, o = 0;
      for (const GroupState& state : groups) {
        if (state.m == -INFINITY) continue;
        const float w = std::exp2(state.m - m_max);
        l = std::fma(state.l, w, l);
        o = std::fma(state.o[static_cast<std::size_t>(i)], w, o);
      }
      if (piece.partial < 0) {
        store_bf16(p.out, (static_cast<std::size_t>(first + b) * p.n_heads + h) * kVDim + i, o / l);
      } else {
        partial_o[row * kVDim + i] = m_max == -INFINITY ? 0.0f : o / l;
        if (i == 0) partial_lse[row] = m_max == -INFINITY ? -INFINITY : m_max + std::log2(l);
      }
    }
  }

  void run() {
    gather_and_project();
    const std::size_t rows = static_cast<std::size_t>(schedule.partial_groups()) * p.n_heads;
    std::vector<float> partial_o(rows * kVDim), partial_lse(rows);
    // The grid: x = head, y = part; each CTA runs its part's pieces in order.
    for (int part = 0; part < schedule.parts(); ++part) {
      for (int h = 0; h < p.n_heads; ++h) {
        for (int i = schedule.first_piece(part); i < schedule.first_piece(part + 1); ++i) {
          run_cta(schedule.piece(i), h, partial_o, partial_lse);
        }
      }
    }
    const std::size_t out_first = static_cast<std::size_t>(first) * p.n_heads;
    combine_pieces(schedule, p.n_heads, kVDim, partial_o, partial_lse,
                   [&](std::size_t row, int i, float value) { store_bf16(p.out, (out_first + row) * kVDim + i, value); });
  }
};

}  // namespace

void mla_naive_model(const MlaParams& p, int num_sms, MlaFault fault) {
  const MlaPlan plan = plan_mla(p, p.seq_lens, MlaPath::naive, num_sms);
  for (int c = 0; c * plan.chunk_sequences < p.batch; ++c) {
    const int first = c * plan.chunk_sequences;
    Chunk chunk{p, fault, first, std::min(plan.chunk_sequences, p.batch - first), plan.schedules[static_cast<std::size_t>(c)].view(),
                {}, {}};
    chunk.run();
  }
}

}  // namespace kvplan::kernels
