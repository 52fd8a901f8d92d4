// Decode attention for MHA, GQA and MQA: one kernel family parameterised by group size (a runtime
// value), cache type and head dim (template parameters). kernels/decode_tiling.h and the schedule
// (kernels/split_schedule.h) say how the work is cut; kernels/decode_model.cc is the same algorithm on the CPU, step for step.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "kernels/decode_tiling.h"
#include "kernels/device.h"
#include "kernels/kernels.h"
#include "kernels/lse_combine.cuh"

namespace kvplan::kernels {
namespace {

using namespace decode;

template <KvType kType> struct Storage;
template <> struct Storage<KvType::bf16> { using Query = __nv_bfloat16; };
template <> struct Storage<KvType::fp16> { using Query = __half; };
template <> struct Storage<KvType::fp8_e4m3> { using Query = __nv_bfloat16; };

// One 16-byte vector of the cache widened to float in registers: 8 bf16/fp16 or 16 fp8 values.
template <KvType kType, int kElems>
__device__ __forceinline__ void widen(const uint4& raw, float (&out)[kElems]) {
  const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    if constexpr (kType == KvType::bf16) {
      out[2 * w] = __uint_as_float(words[w] << 16);
      out[2 * w + 1] = __uint_as_float(words[w] & 0xffff0000u);
    } else if constexpr (kType == KvType::fp16) {
      float2 pair = __half22float2(*reinterpret_cast<const __half2*>(&words[w]));
      out[2 * w] = pair.x;
      out[2 * w + 1] = pair.y;
    } else {
      // Two fp8 pairs per word, each converted by one cvt to half2, then to float.
#pragma unroll
      for (int half_word = 0; half_word < 2; ++half_word) {
        __half2_raw pair = __nv_cvt_fp8x2_to_halfraw2(
            static_cast<__nv_fp8x2_storage_t>(words[w] >> (16 * half_word)), __NV_E4M3);
        float2 values = __half22float2(*reinterpret_cast<const __half2*>(&pair));
        out[4 * w + 2 * half_word] = values.x;
        out[4 * w + 2 * half_word + 1] = values.y;
      }
    }
  }
}

// First element of token t's row for one KV head (layout in kernels.h).
__device__ __forceinline__ size_t kv_row(const DecodeParams& p, int b, int t, int kv_head) {
  size_t page, slot;
  if (p.block_table != nullptr) {
    page = static_cast<size_t>(__ldg(&p.block_table[static_cast<size_t>(b) * p.max_pages_per_seq + t / p.page_size]));
    slot = static_cast<size_t>(t % p.page_size);
  } else {
    page = static_cast<size_t>(b);
    slot = static_cast<size_t>(t);
  }
  return ((page * p.page_size + slot) * p.n_kv_heads + kv_head) * p.head_dim;
}

// Grid: x = KV head * head chunks (chunks fastest, so CTAs that read the same K/V run together
// and the repeat reads hit L2), y = part of the schedule; the CTA runs its part's pieces in order.
// The explicit minimum of 1 CTA per SM leaves ptxas every register it wants: with the bare thread
// count it aimed for some occupancy of its own on sm_80 and spilled 4 bytes in the fp16 2-head
// instances at 72 registers (85 without spill this way; reports/kernels/sm_80.md). The 1-head
// instances ask for the occupancy they had before the schedule's piece loop: 8 CTAs per SM (64
// registers) for 16-bit caches, 6 (80) for fp8, which sm_100 and sm_120 gave up at 80 and 72.
template <KvType kType>
constexpr int decode_min_ctas(int heads_per_cta) {
  return heads_per_cta > 1 ? 1 : kType == KvType::fp8_e4m3 ? 6 : 8;
}
template <KvType kType, int kHeadDim, int kHeadsPerCta>
__global__ void __launch_bounds__(kThreads, decode_min_ctas<kType>(kHeadsPerCta))
    decode_split_kernel(const DecodeParams p, const int head_chunks) {
  using Query = typename Storage<kType>::Query;
  constexpr Tiling kT = tiling(kType == KvType::fp8_e4m3 ? 1 : 2, kHeadDim, kHeadsPerCta);
  static_assert(kT.heads_per_cta == kHeadsPerCta, "an instance per head count the tiling can choose");
  constexpr int kElems = kT.elems_per_lane, kLanes = kT.lanes_per_token, kGroups = kT.token_groups;
  constexpr int kHeads = kT.heads_per_cta, kSteps = kTokensPerStep;
  static_assert(kLanes <= kWarpSize && (kLanes & (kLanes - 1)) == 0, "a K row must fit a warp");

  const int chunk = blockIdx.x % head_chunks, kv_head = blockIdx.x / head_chunks;
  const ScheduleView schedule{p.schedule};
  const int group_size = p.n_q_heads / p.n_kv_heads;
  const int first_head = kv_head * group_size + chunk * kHeads;
  const int n_heads = min(kHeads, group_size - chunk * kHeads);
  const int group = threadIdx.x / kLanes, lane = threadIdx.x % kLanes, d0 = lane * kElems;
  const bool fp8 = kType == KvType::fp8_e4m3;
  const float score_scale = p.softmax_scale * kLog2e * (fp8 ? p.k_scale : 1.0f);
  const float out_scale = fp8 ? p.v_scale : 1.0f;

  constexpr int kPaddedDim = kHeadDim + kLanes;
  __shared__ float o_shared[kGroups][kHeads][kPaddedDim];
  __shared__ float m_shared[kGroups][kHeads], l_shared[kGroups][kHeads];
  const int last_piece = schedule.first_piece(blockIdx.y + 1);
  for (int piece_index = schedule.first_piece(blockIdx.y); piece_index < last_piece; ++piece_index) {
    const WorkPiece piece = schedule.piece(piece_index);
    const int b = piece.seq;
    float q[kHeads][kElems], m[kHeads], l[kHeads], o[kHeads][kElems];
    const Query* q_base = static_cast<const Query*>(p.q) + (static_cast<size_t>(b) * p.n_q_heads + first_head) * kHeadDim + d0;
#pragma unroll
    for (int g = 0; g < kHeads; ++g) {
      m[g] = -INFINITY;
      l[g] = 0.0f;
#pragma unroll
      for (int e = 0; e < kElems; ++e) q[g][e] = o[g][e] = 0.0f;
      if (g < n_heads) {  // 16-byte loads of q too: 8 query elements each
        const uint4* q_vectors = reinterpret_cast<const uint4*>(q_base + g * kHeadDim);
#pragma unroll
        for (int i = 0; i < kElems / 8; ++i) {
          float values[8];
          widen<kType == KvType::fp16 ? KvType::fp16 : KvType::bf16>(__ldg(&q_vectors[i]), values);
#pragma unroll
          for (int e = 0; e < 8; ++e) q[g][8 * i + e] = values[e];
        }
      }
    }

    const int start = piece.begin, end = piece.end;
    const uint4* k_cache = static_cast<const uint4*>(p.k_cache);
    const uint4* v_cache = static_cast<const uint4*>(p.v_cache);
    // Every group runs the same trip count so the shuffles below see the whole warp.
    for (int base = start; base < end; base += kT.tokens_per_iter) {
      const int first = base + group * kSteps;
      uint4 k_raw[kSteps], v_raw[kSteps];
#pragma unroll
      for (int j = 0; j < kSteps; ++j) {  // all loads of the step in flight before any use
        k_raw[j] = v_raw[j] = make_uint4(0, 0, 0, 0);
        if (first + j < end) {
          const size_t row = (kv_row(p, b, first + j, kv_head) + d0) / kElems;
          k_raw[j] = __ldg(&k_cache[row]);
          v_raw[j] = __ldg(&v_cache[row]);
        }
      }
      float s[kHeads][kSteps];
#pragma unroll
      for (int j = 0; j < kSteps; ++j) {
        float k[kElems];
        widen<kType>(k_raw[j], k);
#pragma unroll
        for (int g = 0; g < kHeads; ++g) {
          float acc = 0.0f;
          if (g < n_heads) {
#pragma unroll
            for (int e = 0; e < kElems; ++e) acc = fmaf(q[g][e], k[e], acc);
#pragma unroll
            for (int offset = kLanes / 2; offset > 0; offset /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, offset);
          }
          s[g][j] = first + j < end ? acc * score_scale : -INFINITY;
        }
      }
      if (first >= end) continue;  // this group's step is past the end: nothing to add
      float v[kSteps][kElems];
#pragma unroll
      for (int j = 0; j < kSteps; ++j) widen<kType>(v_raw[j], v[j]);
#pragma unroll
      for (int g = 0; g < kHeads; ++g) {
        if (g >= n_heads) continue;
        float m_new = m[g];
#pragma unroll
        for (int j = 0; j < kSteps; ++j) m_new = fmaxf(m_new, s[g][j]);
        const float alpha = exp2f(m[g] - m_new);
        float p_step[kSteps];
#pragma unroll
        for (int j = 0; j < kSteps; ++j) p_step[j] = exp2f(s[g][j] - m_new);
        l[g] *= alpha;
#pragma unroll
        for (int j = 0; j < kSteps; ++j) l[g] += p_step[j];
#pragma unroll
        for (int e = 0; e < kElems; ++e) {
          o[g][e] *= alpha;
#pragma unroll
          for (int j = 0; j < kSteps; ++j) o[g][e] = fmaf(p_step[j], v[j][e], o[g][e]);
        }
        m[g] = m_new;
      }
    }

    // Merge the token groups' states in group order (the host model's order). Each row gets one pad
    // float per lane's kElems values, element d at d + d / kElems: the lanes of a group store kElems
    // apart, kElems + 1 floats with the pad (coprime to the 32 banks: no conflict), and the merge
    // below reads consecutive d, consecutive words but for one skip per kElems.
#pragma unroll
    for (int g = 0; g < kHeads; ++g) {
#pragma unroll
      for (int e = 0; e < kElems; ++e) o_shared[group][g][d0 + lane + e] = o[g][e];
      if (lane == 0) {
        m_shared[group][g] = m[g];
        l_shared[group][g] = l[g];
      }
    }
    __syncthreads();
    for (int index = threadIdx.x; index < n_heads * kHeadDim; index += kThreads) {
      const int g = index / kHeadDim, d = index % kHeadDim;
      float m_max = -INFINITY;
#pragma unroll
      for (int i = 0; i < kGroups; ++i) m_max = fmaxf(m_max, m_shared[i][g]);
      float l_sum = 0.0f, o_sum = 0.0f;
#pragma unroll 4
      for (int i = 0; i < kGroups; ++i) {
        if (m_shared[i][g] == -INFINITY) continue;
        const float w = exp2f(m_shared[i][g] - m_max);
        l_sum = fmaf(l_shared[i][g], w, l_sum);
        o_sum = fmaf(o_shared[i][g][d + d / kElems], w, o_sum);
      }
      const int h = first_head + g;
      if (piece.partial < 0) {
        static_cast<Query*>(p.out)[(static_cast<size_t>(b) * p.n_q_heads + h) * kHeadDim + d] =
            from_float<Query>(o_sum / l_sum * out_scale);
      } else {
        const size_t row = static_cast<size_t>(piece.partial) * p.n_q_heads + h;
        const size_t rows = static_cast<size_t>(schedule.partial_groups()) * p.n_q_heads;
        p.workspace[row * kHeadDim + d] = m_max == -INFINITY ? 0.0f : o_sum / l_sum * out_scale;
        if (d == 0) p.workspace[rows * kHeadDim + row] = m_max == -INFINITY ? -INFINITY : m_max + log2f(l_sum);
      }
    }
    __syncthreads();  // the merge has read the shared states before the next piece writes them
  }
}

}  // namespace

template <KvType kType, int kHeadDim, int kHeadsPerCta>
void launch_decode_heads(const DecodeParams& p, const DecodePlan& plan, cudaStream_t stream) {
  dim3 grid(static_cast<unsigned>(p.n_kv_heads * plan.head_chunks), static_cast<unsigned>(plan.schedule.view().parts()));
  decode_split_kernel<kType, kHeadDim, kHeadsPerCta><<<grid, kThreads, 0, stream>>>(p, plan.head_chunks);
  check_launch("decode_split_kernel");
}

template <KvType kType, int kHeadDim>
void launch_decode_typed(const DecodeParams& p, const DecodePlan& plan, void* stream) {
  auto cuda_stream = static_cast<cudaStream_t>(stream);
  // fp8's tiling holds at most 4 heads: no 8-head instance is built for it.
  constexpr int kMostHeads = tiling(kType == KvType::fp8_e4m3 ? 1 : 2, kHeadDim, 8).heads_per_cta;
  switch (plan.heads_per_cta) {
    case 1: launch_decode_heads<kType, kHeadDim, 1>(p, plan, cuda_stream); break;
    case 2: launch_decode_heads<kType, kHeadDim, 2>(p, plan, cuda_stream); break;
    case 4: launch_decode_heads<kType, kHeadDim, 4>(p, plan, cuda_stream); break;
    default: launch_decode_heads<kType, kHeadDim, kMostHeads>(p, plan, cuda_stream); break;
  }
  const int groups = plan.schedule.view().partial_groups();
  if (groups > 0) {
    using Query = typename Storage<kType>::Query;
    const std::size_t rows = static_cast<std::size_t>(groups) * p.n_q_heads;
    launch_lse_combine_pieces(p.workspace, p.workspace + rows * p.head_dim, p.schedule, p.batch, p.n_q_heads, p.head_dim,
                              static_cast<Query*>(p.out), cuda_stream);
    check_launch("lse_combine_pieces_kernel");
  }
}

#define KVPLAN_INSTANTIATE(type)                                                            \
  template void launch_decode_typed<type, 64>(const DecodeParams&, const DecodePlan&, void*);  \
  template void launch_decode_typed<type, 128>(const DecodeParams&, const DecodePlan&, void*); \
  template void launch_decode_typed<type, 256>(const DecodeParams&, const DecodePlan&, void*);
KVPLAN_INSTANTIATE(KvType::bf16)
KVPLAN_INSTANTIATE(KvType::fp16)
KVPLAN_INSTANTIATE(KvType::fp8_e4m3)
#undef KVPLAN_INSTANTIATE

void launch_decode(const DecodeParams& p, const DecodePlan& plan, void* stream) {
  check_decode_params(p);
  const ScheduleView schedule = plan.schedule.view();
  if (p.schedule == nullptr || plan.schedule.words.empty() || schedule.batch() != p.batch ||
      schedule.first_piece(schedule.parts()) != schedule.pieces()) {
    throw Error("decode attention: params.schedule must hold plan_decode()'s schedule for this batch (" +
                std::to_string(p.batch) + " sequences)");
  }
  for (const void* tensor : {p.q, p.k_cache, p.v_cache}) {
    if (reinterpret_cast<std::uintptr_t>(tensor) % kVectorBytes != 0) {
      throw Error("decode attention: q, k_cache and v_cache must be 16-byte aligned (the kernel loads 16-byte vectors)");
    }
  }
  if (schedule.partial_groups() > 0 && p.workspace == nullptr) {
    throw Error("decode attention: this schedule splits " + std::to_string(schedule_balance(plan.schedule).split_sequences) +
                " sequences and needs decode_workspace_bytes() of workspace");
  }
  auto dispatch = [&](auto type_tag) {
    constexpr KvType kType = decltype(type_tag)::value;
    switch (p.head_dim) {
      case 64: return launch_decode_typed<kType, 64>(p, plan, stream);
      case 128: return launch_decode_typed<kType, 128>(p, plan, stream);
      default: return launch_decode_typed<kType, 256>(p, plan, stream);
    }
  };
  switch (p.kv_type) {
    case KvType::bf16: return dispatch(std::integral_constant<KvType, KvType::bf16>{});
    case KvType::fp16: return dispatch(std::integral_constant<KvType, KvType::fp16>{});
    case KvType::fp8_e4m3: return dispatch(std::integral_constant<KvType, KvType::fp8_e4m3>{});
  }
}

}  // namespace kvplan::kernels
