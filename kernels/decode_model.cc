// The decode kernel's algorithm on the CPU, step for step: the same CTAs, token groups, lanes,
// 16-byte vectors, float accumulation order (fma per element, then the xor-butterfly across the
// lanes of a token group), per-group online softmax in base 2, CTA merge in group order, the
// schedule's pieces (kernels/split_schedule.h) one after the other in each CTA, the per-sequence
// combine in piece order and fp8 scales folded into the score and the output. Tested against the
// double reference, it catches wrong indexing and rescaling before a GPU ever runs the kernel.
#include <cmath>
#include <vector>

#include "kernels/device.h"  // kLog2e
#include "kernels/decode_tiling.h"
#include "kernels/host_tensors.h"
#include "kernels/kernels.h"
#include "kernels/model_steps.h"

namespace kvplan::kernels {
namespace {

// One token group's softmax state for each head of the CTA: running max m (base 2), sum l and
// the lanes' slices of o, laid out [head][lane][element] = [head][head_dim].
struct GroupState {
  std::vector<float> m, l, o;
};

// One piece of one CTA: its heads, and the tokens [begin, end) of sequence b.
struct Cta {
  int b, kv_head, first_head, n_heads;
  WorkPiece piece;
};

void run_token_group(const DecodeParams& p, const decode::Tiling& t, const Cta& cta, int group, const std::vector<float>& q,
                     float score_scale, GroupState& state) {
  const int d = p.head_dim, lanes = t.lanes_per_token, elems = t.elems_per_lane;
  const int start = cta.piece.begin, end = cta.piece.end;
  constexpr int steps = decode::kTokensPerStep;
  for (int base = start; base < end; base += t.tokens_per_iter) {
    const int first = base + group * steps;
    if (first >= end) continue;  // the kernel computes this step too, all masked, and skips the update
    std::vector<float> s(static_cast<std::size_t>(cta.n_heads * steps), -INFINITY);
    for (int j = 0; j < steps && first + j < end; ++j) {
      const std::size_t k_row = kv_row_offset(p, cta.b, first + j, cta.kv_head);
      for (int g = 0; g < cta.n_heads; ++g) {
        std::vector<float> partial(static_cast<std::size_t>(lanes));
        for (int lane = 0; lane < lanes; ++lane) {
          float acc = 0;
          for (int e = 0; e < elems; ++e) {
            const int i = lane * elems + e;
            acc = std::fma(q[static_cast<std::size_t>(g * d + i)], load_element(p.k_cache, k_row + i, p.kv_type), acc);
          }
          partial[static_cast<std::size_t>(lane)] = acc;
        }
        s[static_cast<std::size_t>(g * steps + j)] = butterfly_sum(partial) * score_scale;
      }
    }
    for (int g = 0; g < cta.n_heads; ++g) {
      float& m = state.m[static_cast<std::size_t>(g)];
      float& l = state.l[static_cast<std::size_t>(g)];
      float m_new = m;
      for (int j = 0; j < steps; ++j) m_new = std::max(m_new, s[static_cast<std::size_t>(g * steps + j)]);
      const float alpha = std::exp2(m - m_new);
      float p_step[steps];
      for (int j = 0; j < steps; ++j) p_step[j] = std::exp2(s[static_cast<std::size_t>(g * steps + j)] - m_new);
      l *= alpha;
      for (int j = 0; j < steps; ++j) l += p_step[j];
      for (int i = 0; i < d; ++i) {
        float& o = state.o[static_cast<std::size_t>(g * d + i)];
        o *= alpha;
        for (int j = 0; j < steps && first + j < end; ++j) {
          const std::size_t v_row = kv_row_offset(p, cta.b, first + j, cta.kv_head);
          o = std::fma(p_step[j], load_element(p.v_cache, v_row + i, p.kv_type), o);
        }
      }
      m = m_new;
    }
  }
}

// One piece of a CTA: every token group, then the merge of their states in group order. Writes the
// final output (a sequence of one piece) or this piece's normalised partial o and its base-2
// log-sum-exp.
void run_cta(const DecodeParams& p, const decode::Tiling& t, const Cta& cta, std::vector<float>& partial_o,
             std::vector<float>& partial_lse) {
  const int d = p.head_dim;
  const KvType q_type = query_type(p.kv_type);
  const bool fp8 = p.kv_type == KvType::fp8_e4m3;
  const float score_scale = p.softmax_scale * kLog2e * (fp8 ? p.k_scale : 1.0f);
  const float out_scale = fp8 ? p.v_scale : 1.0f;
  std::vector<float> q(static_cast<std::size_t>(cta.n_heads * d));
  for (int g = 0; g < cta.n_heads; ++g) {
    const std::size_t row = q_row_offset(p, cta.b, cta.first_head + g);
    for (int i = 0; i < d; ++i) q[static_cast<std::size_t>(g * d + i)] = load_element(p.q, row + i, q_type);
  }
  std::vector<GroupState> groups(static_cast<std::size_t>(t.token_groups));
  for (int group = 0; group < t.token_groups; ++group) {
    GroupState& state = groups[static_cast<std::size_t>(group)];
    state.m.assign(static_cast<std::size_t>(cta.n_heads), -INFINITY);
    state.l.assign(static_cast<std::size_t>(cta.n_heads), 0.0f);
    state.o.assign(static_cast<std::size_t>(cta.n_heads * d), 0.0f);
    run_token_group(p, t, cta, group, q, score_scale, state);
  }
  for (int g = 0; g < cta.n_heads; ++g) {
    float m_max = -INFINITY;
    for (const GroupState& state : groups) m_max = std::max(m_max, state.m[static_cast<std::size_t>(g)]);
    const int h = cta.first_head + g;
    const std::size_t row = static_cast<std::size_t>(cta.piece.partial) * p.n_q_heads + h;
    for (int i = 0; i < d; ++i) {
      float l = 0, o = 0;
      for (const GroupState& state : groups) {
        if (state.m[static_cast<std::size_t>(g)] == -INFINITY) continue;
        const float w = std::exp2(state.m[static_cast<std::size_t>(g)] - m_max);
        l = std::fma(state.l[static_cast<std::size_t>(g)], w, l);
        o = std::fma(state.o[static_cast<std::size_t>(g * d + i)], w, o);
      }
      if (cta.piece.partial < 0) {
        store_element(p.out, q_row_offset(p, cta.b, h) + i, q_type, o / l * out_scale);
      } else {
        partial_o[row * d + i] = m_max == -INFINITY ? 0.0f : o / l * out_scale;
        if (i == 0) partial_lse[row] = m_max == -INFINITY ? -INFINITY : m_max + std::log2(l);
      }
    }
  }
}

}  // namespace

void decode_host_model(const DecodeParams& p, int num_sms) {
  check_decode_params(p);
  const decode::Tiling t = decode::tiling(element_bytes(p.kv_type), p.head_dim, p.group_size());
  const DecodePlan plan = plan_decode(p, p.seq_lens, num_sms);
  const ScheduleView schedule = plan.schedule.view();
  const std::size_t rows = static_cast<std::size_t>(schedule.partial_groups()) * p.n_q_heads;
  std::vector<float> partial_o(rows * p.head_dim), partial_lse(rows);
  // The grid: x = KV head x head chunk, y = part; each CTA runs its part's pieces in order.
  for (int part = 0; part < schedule.parts(); ++part) {
    for (int kv_head = 0; kv_head < p.n_kv_heads; ++kv_head) {
      for (int chunk = 0; chunk < plan.head_chunks; ++chunk) {
        const int first = chunk * t.heads_per_cta;
        for (int i = schedule.first_piece(part); i < schedule.first_piece(part + 1); ++i) {
          const WorkPiece piece = schedule.piece(i);
          const Cta cta{piece.seq, kv_head, kv_head * p.group_size() + first,
                        std::min(t.heads_per_cta, p.group_size() - first), piece};
          run_cta(p, t, cta, partial_o, partial_lse);
        }
      }
    }
  }
  const KvType q_type = query_type(p.kv_type);
  combine_pieces(schedule, p.n_q_heads, p.head_dim, partial_o, partial_lse,
                 [&](std::size_t row, int i, float value) { store_element(p.out, row * p.head_dim + i, q_type, value); });
}

}  // namespace kvplan::kernels
