// The naive MLA path: per chunk of sequences, gather the latent rows into a contiguous bf16 matrix
// (fp8_ds_mla dequantised), up-project them to every head's K nope and V with one cuBLAS GEMM, then
// run decode attention with one query head per CTA over K = [K nope | shared RoPE] (192) and V
// (128), over the chunk's schedule of pieces (kernels/split_schedule.h). kernels/mla_naive_model.cc is the same algorithm on the CPU.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda_util.cuh"
#include "kernels/lse_combine.cuh"
#include "kernels/mla_kernels.cuh"
#include "kernels/mla_tiling.h"

namespace kvplan::kernels {
namespace {

using namespace mla;

constexpr int kNaiveThreads = decode::kThreads, kSteps = decode::kTokensPerStep;
constexpr int kElems = kNaiveTiling.elems_per_lane, kLanes = kNaiveTiling.lanes_per_token;
constexpr int kGroups = kNaiveTiling.token_groups;

struct ChunkArgs {
  MlaParams p;
  int first;                      // first sequence of the chunk
  const std::int32_t* schedule;   // the chunk's schedule (sequences numbered from 0 in the chunk)
  __nv_bfloat16* gathered;        // [sequences * max_seq_len, 576]
  const __nv_bfloat16* kv_up;     // [sequences * max_seq_len, n_heads, 256]
  float* partial_o;               // [partial groups * n_heads, 128]
  float* partial_lse;             // [partial groups * n_heads]
};

// One 16-byte chunk of a gathered row per thread (72 per row); tokens past a sequence's end get
// zeros, so the GEMM reads no uninitialised memory.
__global__ void __launch_bounds__(256) mla_gather_kernel(const ChunkArgs a, std::size_t chunks) {
  const MlaParams& p = a.p;
  const auto* cache = static_cast<const std::uint8_t*>(p.kv_cache);
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < chunks;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t token = i / (kRowDim / 8);
    const int chunk = static_cast<int>(i % (kRowDim / 8));
    const int b = a.first + static_cast<int>(token / p.max_seq_len), t = static_cast<int>(token % p.max_seq_len);
    uint4 out = make_uint4(0, 0, 0, 0);
    if (t < __ldg(&p.seq_lens[b])) {
      std::size_t row = static_cast<std::size_t>(b) * p.page_size + t;
      if (p.block_table != nullptr) {
        const int page = __ldg(&p.block_table[static_cast<std::size_t>(b) * p.max_pages_per_seq + t / p.page_size]);
        row = static_cast<std::size_t>(page) * p.page_size + t % p.page_size;
      }
      if (p.cache == MlaCache::bf16) {
        out = __ldg(reinterpret_cast<const uint4*>(cache + row * kBf16RowBytes) + chunk);
      } else {
        const std::uint8_t* bytes = cache + row * kFp8RowBytes;
        if (chunk >= kLatentDim / 8) {
          out = __ldg(reinterpret_cast<const uint4*>(bytes + kFp8RopeOffset) + (chunk - kLatentDim / 8));
        } else {
          const uint2 codes = __ldg(reinterpret_cast<const uint2*>(bytes) + chunk);
          const float scale = __ldg(reinterpret_cast<const float*>(bytes + kFp8ScaleOffset) + chunk * 8 / kFp8ScaleTile);
          const uint2 lo = dequantize_e4m3x4(codes.x, scale), hi = dequantize_e4m3x4(codes.y, scale);
          out = make_uint4(lo.x, lo.y, hi.x, hi.y);
        }
      }
    }
    reinterpret_cast<uint4*>(a.gathered)[i] = out;
  }
}

__device__ __forceinline__ void widen_bf16(const unsigned* words, int count, float* out) {
  for (int w = 0; w < count; ++w) {
    out[2 * w] = __uint_as_float(words[w] << 16);
    out[2 * w + 1] = __uint_as_float(words[w] & 0xffff0000u);
  }
}

// Decode attention for one query head over one part of the chunk's schedule (grid: x = head, y =
// part), its pieces one after the other, each structured as kernels/decode_attention.cu with a
// group size of 1.
__global__ void __launch_bounds__(kNaiveThreads) mla_naive_attention_kernel(const ChunkArgs a) {
  const MlaParams& p = a.p;
  const ScheduleView schedule{a.schedule};
  const int h = blockIdx.x;
  const int group = threadIdx.x / kLanes, lane = threadIdx.x % kLanes;
  const float score_scale = p.softmax_scale * kLog2e;
  __shared__ float o_shared[kGroups][kVDim], m_shared[kGroups], l_shared[kGroups];
  const int last_piece = schedule.first_piece(blockIdx.y + 1);
  for (int piece_index = schedule.first_piece(blockIdx.y); piece_index < last_piece; ++piece_index) {
    const WorkPiece piece = schedule.piece(piece_index);
    const int b_local = piece.seq, b = a.first + b_local;
    const auto* q_words = reinterpret_cast<const unsigned*>(static_cast<const __nv_bfloat16*>(p.q) +
                                                            (static_cast<std::size_t>(b) * p.n_heads + h) * kQDim);
    float q_nope[kElems], q_rope[kNaiveRopePerLane];
    {
      const uint4 nope = __ldg(reinterpret_cast<const uint4*>(q_words) + lane);
      const unsigned nope_words[4] = {nope.x, nope.y, nope.z, nope.w};
      widen_bf16(nope_words, 4, q_nope);
      const uint2 rope = __ldg(reinterpret_cast<const uint2*>(q_words + kNopeDim / 2) + lane);
      const unsigned rope_words[2] = {rope.x, rope.y};
      widen_bf16(rope_words, 2, q_rope);
    }
    const int start = piece.begin, end = piece.end;
    float m = -INFINITY, l = 0.0f, o[kElems] = {};
    const std::size_t first_token = static_cast<std::size_t>(b_local) * p.max_seq_len;
    for (int base = start; base < end; base += kNaiveTiling.tokens_per_iter) {
      const int t0 = base + group * kSteps;
      uint4 k_raw[kSteps], v_raw[kSteps];
      uint2 rope_raw[kSteps];
#pragma unroll
      for (int j = 0; j < kSteps; ++j) {  // all loads of the step in flight before any use
        k_raw[j] = v_raw[j] = make_uint4(0, 0, 0, 0);
        rope_raw[j] = make_uint2(0, 0);
        if (t0 + j < end) {
          const std::size_t token = first_token + t0 + j;
          const uint4* up = reinterpret_cast<const uint4*>(a.kv_up + (token * p.n_heads + h) * kUpRows);
          k_raw[j] = __ldg(up + lane);
          v_raw[j] = __ldg(up + kNopeDim / 8 + lane);
          rope_raw[j] = __ldg(reinterpret_cast<const uint2*>(a.gathered + token * kRowDim + kLatentDim) + lane);
        }
      }
      float s[kSteps];
#pragma unroll
      for (int j = 0; j < kSteps; ++j) {
        float k[kElems], rope[kNaiveRopePerLane];
        const unsigned k_words[4] = {k_raw[j].x, k_raw[j].y, k_raw[j].z, k_raw[j].w};
        const unsigned rope_words[2] = {rope_raw[j].x, rope_raw[j].y};
        widen_bf16(k_words, 4, k);
        widen_bf16(rope_words, 2, rope);
        float acc = 0.0f;
#pragma unroll
        for (int e = 0; e < kElems; ++e) acc = fmaf(q_nope[e], k[e], acc);
#pragma unroll
        for (int e = 0; e < kNaiveRopePerLane; ++e) acc = fmaf(q_rope[e], rope[e], acc);
#pragma unroll
        for (int offset = kLanes / 2; offset > 0; offset /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, offset);
        s[j] = t0 + j < end ? acc * score_scale : -INFINITY;
      }
      if (t0 >= end) continue;  // this group's step is past the end: nothing to add
      float m_new = m;
#pragma unroll
      for (int j = 0; j < kSteps; ++j) m_new = fmaxf(m_new, s[j]);
      const float alpha = exp2f(m - m_new);
      float p_step[kSteps];
#pragma unroll
      for (int j = 0; j < kSteps; ++j) p_step[j] = exp2f(s[j] - m_new);
      l *= alpha;
#pragma unroll
      for (int j = 0; j < kSteps; ++j) l += p_step[j];
      float v[kSteps][kElems];
#pragma unroll
      for (int j = 0; j < kSteps; ++j) {
        const unsigned v_words[4] = {v_raw[j].x, v_raw[j].y, v_raw[j].z, v_raw[j].w};
        widen_bf16(v_words, 4, v[j]);
      }
#pragma unroll
      for (int e = 0; e < kElems; ++e) {
        o[e] *= alpha;
#pragma unroll
        for (int j = 0; j < kSteps; ++j) o[e] = fmaf(p_step[j], v[j][e], o[e]);
      }
      m = m_new;
    }

    // Merge the token groups' states in group order (the host model's order).
#pragma unroll
    for (int e = 0; e < kElems; ++e) o_shared[group][lane * kElems + e] = o[e];
    if (lane == 0) {
      m_shared[group] = m;
      l_shared[group] = l;
    }
    __syncthreads();
    const std::size_t row = static_cast<std::size_t>(piece.partial) * p.n_heads + h;
    for (int d = threadIdx.x; d < kVDim; d += kNaiveThreads) {
      float m_max = -INFINITY;
#pragma unroll
      for (int i = 0; i < kGroups; ++i) m_max = fmaxf(m_max, m_shared[i]);
      float l_sum = 0.0f, o_sum = 0.0f;
#pragma unroll
      for (int i = 0; i < kGroups; ++i) {
        if (m_shared[i] == -INFINITY) continue;
        const float w = exp2f(m_shared[i] - m_max);
        l_sum = fmaf(l_shared[i], w, l_sum);
        o_sum = fmaf(o_shared[i][d], w, o_sum);
      }
      if (piece.partial < 0) {
        static_cast<__nv_bfloat16*>(p.out)[(static_cast<std::size_t>(b) * p.n_heads + h) * kVDim + d] = __float2bfloat16_rn(o_sum / l_sum);
      } else {
        a.partial_o[row * kVDim + d] = m_max == -INFINITY ? 0.0f : o_sum / l_sum;
        if (d == 0) a.partial_lse[row] = m_max == -INFINITY ? -INFINITY : m_max + log2f(l_sum);
      }
    }
    __syncthreads();  // the merge has read the shared states before the next piece writes them
  }
}

}  // namespace

void run_mla_naive(const MlaParams& p, const MlaPlan& plan, const MlaWorkspace& w, cudaStream_t stream) {
  auto* workspace = static_cast<std::uint8_t*>(p.workspace);
  auto* gathered = reinterpret_cast<__nv_bfloat16*>(workspace + w.gathered);
  auto* kv_up = reinterpret_cast<__nv_bfloat16*>(workspace + w.kv_up);
  for (int c = 0; c * plan.chunk_sequences < p.batch; ++c) {
    const int first = c * plan.chunk_sequences;
    const int sequences = min(plan.chunk_sequences, p.batch - first);
    const ScheduleView schedule = plan.schedules[static_cast<std::size_t>(c)].view();  // the host copy
    const ChunkArgs args{p, first, p.schedule + plan.schedule_offset(c), gathered, kv_up,
                         reinterpret_cast<float*>(workspace + w.partial_o), reinterpret_cast<float*>(workspace + w.partial_lse)};
    const std::size_t tokens = static_cast<std::size_t>(sequences) * p.max_seq_len;
    mla_gather_kernel<<<1024, 256, 0, stream>>>(args, tokens * (kRowDim / 8));
    check_launch("mla_gather_kernel");
    // kv_up[token, h * 256 + r] = sum_c gathered[token, c] W[h, r, c]: row-major [tokens, 512] x [n_heads * 256, 512]^T.
    gemm_bf16_abt(static_cast<int>(tokens), p.n_heads * kUpRows, kLatentDim, 1.0f, gathered, kRowDim, p.w_kv_b, kLatentDim,
                  kv_up, p.n_heads * kUpRows, stream);
    const dim3 grid(static_cast<unsigned>(p.n_heads), static_cast<unsigned>(schedule.parts()));
    mla_naive_attention_kernel<<<grid, kNaiveThreads, 0, stream>>>(args);
    check_launch("mla_naive_attention_kernel");
    if (schedule.partial_groups() > 0) {
      launch_lse_combine_pieces(args.partial_o, args.partial_lse, args.schedule, sequences, p.n_heads, kVDim,
                                static_cast<__nv_bfloat16*>(p.out) + static_cast<std::size_t>(first) * p.n_heads * kVDim, stream);
      check_launch("lse_combine_pieces_kernel");
    }
  }
}

}  // namespace kvplan::kernels
