// Absorbed MLA decode on the tensor cores: each 64-row latent tile is loaded once (cp.async, double
// buffered) for the CTA's 16-64 heads, S = Q K^T and O += P V run as mma.sync m16n8k16 (bf16 in,
// fp32 accumulate) with heads in the M dimension, the first 512 latent dims serving as V.
// kernels/mla_tiling.h says how the work is cut; kernels/mla_model.cc is the same algorithm on the
// CPU, step for step.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/lse_combine.cuh"
#include "kernels/mla_kernels.cuh"
#include "kernels/mla_tiling.h"

namespace kvplan::kernels {
namespace {

using namespace mla;

struct AbsorbedArgs {
  MlaParams p;
  const __nv_bfloat16* q_latent;  // [batch, n_heads, 512]: q_nope W_UK
  __nv_bfloat16* o_latent;        // [batch, n_heads, 512]: written here by a sequence of one piece
  float* partial_o;               // [partial groups * n_heads, 512] for the pieces of split sequences
  float* partial_lse;             // [partial groups * n_heads]
};

// One tile's rows into shared memory (bf16: straight into a latent stage; fp8: the raw 656-byte
// rows into the staging tile), one block-table read per row (mla_tiling.h's load_row). Rows at or
// past `end` are zero-filled and read nothing. Every thread of the CTA calls it.
template <bool kFp8>
__device__ __forceinline__ void load_tile(const MlaParams& p, int b, int tile, int end, unsigned dst) {
  const auto* cache = static_cast<const std::uint8_t*>(p.kv_cache);
  constexpr int kChunks = (kFp8 ? kFp8RowBytes : kBf16RowBytes) / 16;  // 41 or 72 per row
  const int n = load_row(threadIdx.x), t = tile + n;
  const bool valid = t < end;
  std::size_t page = static_cast<std::size_t>(b), slot = static_cast<std::size_t>(t);
  if (p.block_table != nullptr) {
    int id = 0;
    if (reads_block_table(threadIdx.x) && valid) id = __ldg(&p.block_table[static_cast<std::size_t>(b) * p.max_pages_per_seq + t / p.page_size]);
    id = __shfl_sync(0xffffffffu, id, (threadIdx.x % 32) / kLoadLanesPerRow * kLoadLanesPerRow);
    page = static_cast<std::size_t>(id);
    slot = static_cast<std::size_t>(t % p.page_size);
  }
  // A zero-filled row still needs an address: the cache's first row, which exists.
  const std::uint8_t* row = cache + (valid ? page * p.page_size + slot : 0) * (kChunks * 16);
  for (int chunk = load_first_chunk(threadIdx.x); chunk < kChunks; chunk += kLoadLanesPerRow) {
    const unsigned offset = kFp8 ? n * kFp8RowBytes + chunk * 16 : tile_offset(n, chunk * 8, kBf16RowBytes);
    cp_async_16(dst + offset, row + chunk * 16, valid);
  }
  cp_async_commit();
}

// fp8_ds_mla rows -> bf16 latent rows: code x its tile's scale, rounded to bf16; RoPE copied.
__device__ __forceinline__ void dequantize_tile(const std::uint8_t* raw, std::uint8_t* latent) {
  constexpr int kCodeChunks = kLatentDim / 16;  // 16 codes per 16-byte chunk
  for (int i = threadIdx.x; i < kTileTokens * kCodeChunks; i += kThreads) {
    const int n = i / kCodeChunks, chunk = i % kCodeChunks;
    const std::uint8_t* row = raw + n * kFp8RowBytes;
    const uint4 codes = *reinterpret_cast<const uint4*>(row + chunk * 16);
    const float scale = *reinterpret_cast<const float*>(row + kFp8ScaleOffset + 4 * (chunk * 16 / kFp8ScaleTile));
    const uint2 v0 = dequantize_e4m3x4(codes.x, scale), v1 = dequantize_e4m3x4(codes.y, scale);
    const uint2 v2 = dequantize_e4m3x4(codes.z, scale), v3 = dequantize_e4m3x4(codes.w, scale);
    *reinterpret_cast<uint4*>(latent + tile_offset(n, chunk * 16, kBf16RowBytes)) = make_uint4(v0.x, v0.y, v1.x, v1.y);
    *reinterpret_cast<uint4*>(latent + tile_offset(n, chunk * 16 + 8, kBf16RowBytes)) = make_uint4(v2.x, v2.y, v3.x, v3.y);
  }
  for (int i = threadIdx.x; i < kTileTokens * (kRopeDim / 8); i += kThreads) {
    const int n = i / (kRopeDim / 8), chunk = i % (kRopeDim / 8);
    *reinterpret_cast<uint4*>(latent + tile_offset(n, kLatentDim + chunk * 8, kBf16RowBytes)) =
        *reinterpret_cast<const uint4*>(raw + n * kFp8RowBytes + kFp8RopeOffset + chunk * 16);
  }
}

// Grid: x = head block (fastest, so the CTAs that read the same tiles run together and the repeat
// reads hit L2), y = part of the schedule; the CTA runs its part's pieces one after the other.
template <int kHeadsPerCta, bool kFp8>
__global__ void __launch_bounds__(kThreads, 1) mla_absorbed_kernel(const AbsorbedArgs args) {
  constexpr AbsorbedTiling kT = absorbed_tiling(kHeadsPerCta);
  constexpr AbsorbedSmem kS = absorbed_smem(kHeadsPerCta, kFp8);
  constexpr int kHeadTiles = kT.head_tiles, kSlices = kT.score_slices, kScoreTiles = kT.score_tokens / kMmaN;
  constexpr int kOutTiles = kOutCols / kMmaN;  // 8 n8 tiles of O per warp
  // O += P V's 4 k steps unrolled, but one at a time in the fp8 64-head instance: O holds 128
  // registers there, and with the dequantisation and the schedule's piece loop ptxas spilled 20 B
  // when the steps' fragments overlapped.
  constexpr int kPvUnroll = kHeadsPerCta == 64 && kFp8 ? 1 : kTileTokens / kMmaK;
  extern __shared__ __align__(128) std::uint8_t smem[];
  const MlaParams& p = args.p;
  const ScheduleView schedule{p.schedule};
  const unsigned base = smem_address(smem);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int head_tile = warp / kSlices, slice = warp % kSlices, g = lane / 4, quad = lane % 4;
  float* partials = reinterpret_cast<float*>(smem + kS.row_partials);  // [head tile][slice][16]
  float* stats = reinterpret_cast<float*>(smem + kS.row_stats);        // alpha, later l; then m
  // The piece's fields are read from the schedule where they are used (one register holds where
  // they are) rather than held in registers: at 64 heads O takes 128 of the 255 through the tile
  // loop, and the fp8 instance spilled when the piece's sequence and end took two more.
  const std::int32_t* words = p.schedule;
  for (int piece_index = schedule.first_piece(blockIdx.y); piece_index < schedule.first_piece(blockIdx.y + 1); ++piece_index) {
    const int at = schedule.piece_word(piece_index);  // words[at .. at + 3]: sequence, begin, end, partial
    const int b = words[at], start = words[at + 1], end = words[at + 2];

    // Q rows: 64 chunks of q W_UK, then 8 of q_rope. They join the first tile's cp.async group.
    const auto* q = static_cast<const __nv_bfloat16*>(p.q);
    const std::size_t q_row = static_cast<std::size_t>(b) * p.n_heads + blockIdx.x * kHeadsPerCta;
    for (int i = threadIdx.x; i < kHeadsPerCta * (kRowDim / 8); i += kThreads) {
      const int r = i / (kRowDim / 8), chunk = i % (kRowDim / 8);
      const void* src = chunk < kLatentDim / 8 ? static_cast<const void*>(args.q_latent + (q_row + r) * kLatentDim + chunk * 8)
                                               : static_cast<const void*>(q + (q_row + r) * kQDim + kNopeDim + (chunk - kLatentDim / 8) * 8);
      cp_async_16(base + kS.q + tile_offset(r, chunk * 8, kBf16RowBytes), src, true);
    }
    load_tile<kFp8>(p, b, start, end, base + (kFp8 ? kS.raw : kS.latent));

    const float scale_log2 = p.softmax_scale * kLog2e;
    float m_row[2] = {-INFINITY, -INFINITY}, l_row[2] = {0.0f, 0.0f};  // rows g, g + 8 of the head tile
    float o[kHeadTiles][kOutTiles][4] = {};
    int stage = 0;
    for (int tile = start; tile < words[at + 2]; tile += kTileTokens) {
      const int end = words[at + 2];
      cp_async_wait<0>();
      __syncthreads();  // the tile has landed; every warp is done with the previous one
      if constexpr (kFp8) {
        dequantize_tile(smem + kS.raw, smem + kS.latent);
        __syncthreads();
      }
      if (tile + kTileTokens < end) {
        load_tile<kFp8>(p, words[at], tile + kTileTokens, end,
                        base + (kFp8 ? kS.raw : kS.latent + (stage ^ 1) * kTileTokens * kBf16RowBytes));
      }
      const unsigned latent = base + kS.latent + (kFp8 ? 0 : stage) * kTileTokens * kBf16RowBytes;

      // S = Q K^T for this warp's head tile and token slice.
      const int n0 = slice * kT.score_tokens;
      float s[kScoreTiles][4] = {};
#pragma unroll 4
      for (int kk = 0; kk < kRowDim / kMmaK; ++kk) {
        unsigned a[4];
        ldmatrix_x4(a, base + kS.q + tile_offset(head_tile * kMmaM + ldsm_a_row(lane), kk * kMmaK + ldsm_a_col(lane), kBf16RowBytes));
        if constexpr (kScoreTiles == 1) {
          unsigned bf[2];
          ldmatrix_x2(bf, latent + tile_offset(n0 + ldsm_bt_row(lane % 16), kk * kMmaK + ldsm_bt_col(lane % 16), kBf16RowBytes));
          mma_16816<__nv_bfloat16>(s[0], a, bf[0], bf[1]);
        } else {
#pragma unroll
          for (int pair = 0; pair < kScoreTiles / 2; ++pair) {
            unsigned bf[4];
            ldmatrix_x4(bf, latent + tile_offset(n0 + pair * 16 + ldsm_bt_row(lane), kk * kMmaK + ldsm_bt_col(lane), kBf16RowBytes));
            mma_16816<__nv_bfloat16>(s[2 * pair], a, bf[0], bf[1]);
            mma_16816<__nv_bfloat16>(s[2 * pair + 1], a, bf[2], bf[3]);
          }
        }
      }
      // Row max over the tile: lanes, the quad, then the slices of the head tile through shared memory.
      float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int nt = 0; nt < kScoreTiles; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const bool valid = tile + n0 + nt * kMmaN + acc_col(lane, e) < end;
          s[nt][e] = valid ? s[nt][e] * scale_log2 : -INFINITY;
          tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
        }
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
        if (quad == 0) partials[(head_tile * kSlices + slice) * kMmaM + g + 8 * h] = tile_max[h];
      }
      __syncthreads();
      float alpha[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float m_new = m_row[h];
#pragma unroll
        for (int j = 0; j < kSlices; ++j) m_new = fmaxf(m_new, partials[(head_tile * kSlices + j) * kMmaM + g + 8 * h]);
        alpha[h] = exp2f(m_row[h] - m_new);
        m_row[h] = m_new;
        l_row[h] *= alpha[h];
        if (slice == 0 && quad == 0) stats[head_tile * kMmaM + g + 8 * h] = alpha[h];
      }
      // P = exp2(s - m) in fp32 for the sums, bf16 in shared memory for P V.
#pragma unroll
      for (int nt = 0; nt < kScoreTiles; ++nt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const float p0 = exp2f(s[nt][2 * h] - m_row[h]), p1 = exp2f(s[nt][2 * h + 1] - m_row[h]);
          l_row[h] += p0;
          l_row[h] += p1;
          const int row = head_tile * kMmaM + g + 8 * h, col = n0 + nt * kMmaN + acc_col(lane, 0);
          *reinterpret_cast<__nv_bfloat162*>(smem + kS.p + tile_offset(row, col, 2 * kTileTokens)) = __floats2bfloat162_rn(p0, p1);
        }
      }
      __syncthreads();

      // O = O * alpha + P V over this warp's 64 latent columns, for every head tile.
#pragma unroll
      for (int mt = 0; mt < kHeadTiles; ++mt) {
        const float a_lo = stats[mt * kMmaM + g], a_hi = stats[mt * kMmaM + g + 8];
#pragma unroll
        for (int nt = 0; nt < kOutTiles; ++nt) {
          o[mt][nt][0] *= a_lo;
          o[mt][nt][1] *= a_lo;
          o[mt][nt][2] *= a_hi;
          o[mt][nt][3] *= a_hi;
        }
      }
#pragma unroll kPvUnroll
      for (int kk = 0; kk < kTileTokens / kMmaK; ++kk) {
        unsigned a[kHeadTiles][4];
#pragma unroll
        for (int mt = 0; mt < kHeadTiles; ++mt) {
          ldmatrix_x4(a[mt], base + kS.p + tile_offset(mt * kMmaM + ldsm_a_row(lane), kk * kMmaK + ldsm_a_col(lane), 2 * kTileTokens));
        }
#pragma unroll
        for (int pair = 0; pair < kOutTiles / 2; ++pair) {
          unsigned bf[4];
          ldmatrix_x4_trans(bf, latent + tile_offset(kk * kMmaK + ldsm_v_row(lane), warp * kOutCols + pair * 16 + ldsm_v_col(lane), kBf16RowBytes));
#pragma unroll
          for (int mt = 0; mt < kHeadTiles; ++mt) {
            mma_16816<__nv_bfloat16>(o[mt][2 * pair], a[mt], bf[0], bf[1]);
            mma_16816<__nv_bfloat16>(o[mt][2 * pair + 1], a[mt], bf[2], bf[3]);
          }
        }
      }
      stage ^= 1;
    }

    // Row sums: the quad's lanes, then the slices in order; then O / l.
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      l_row[h] += __shfl_xor_sync(0xffffffffu, l_row[h], 1);
      l_row[h] += __shfl_xor_sync(0xffffffffu, l_row[h], 2);
      if (quad == 0) partials[(head_tile * kSlices + slice) * kMmaM + g + 8 * h] = l_row[h];
    }
    __syncthreads();
    if (slice == 0 && quad == 0) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float l = 0.0f;
#pragma unroll
        for (int j = 0; j < kSlices; ++j) l += partials[(head_tile * kSlices + j) * kMmaM + g + 8 * h];
        stats[head_tile * kMmaM + g + 8 * h] = l;
        stats[kHeadsPerCta + head_tile * kMmaM + g + 8 * h] = m_row[h];
      }
    }
    __syncthreads();
    // The output rows: the sequence's own (one piece), or this piece's partial rows (group-major,
    // as the combine reads them) when the sequence has several.
    const WorkPiece done = schedule.piece(piece_index);
    const std::size_t first_row = static_cast<std::size_t>(done.seq) * p.n_heads + blockIdx.x * kHeadsPerCta;
    const std::size_t first_partial = static_cast<std::size_t>(done.partial) * p.n_heads + blockIdx.x * kHeadsPerCta;
#pragma unroll
    for (int mt = 0; mt < kHeadTiles; ++mt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = mt * kMmaM + g + 8 * h;
        const float l = stats[row];
#pragma unroll
        for (int nt = 0; nt < kOutTiles; ++nt) {
          const int col = warp * kOutCols + nt * kMmaN + acc_col(lane, 0);
          const float v0 = o[mt][nt][2 * h] / l, v1 = o[mt][nt][2 * h + 1] / l;
          if (done.partial < 0) {
            *reinterpret_cast<__nv_bfloat162*>(args.o_latent + (first_row + row) * kLatentDim + col) = __floats2bfloat162_rn(v0, v1);
          } else {
            *reinterpret_cast<float2*>(args.partial_o + (first_partial + row) * kLatentDim + col) = make_float2(v0, v1);
          }
        }
      }
    }
    if (done.partial >= 0 && threadIdx.x < kHeadsPerCta) {
      args.partial_lse[first_partial + threadIdx.x] = stats[kHeadsPerCta + threadIdx.x] + log2f(stats[threadIdx.x]);
    }
    __syncthreads();  // every thread is done with Q, the tiles and the stats before the next piece loads
  }
}

template <int kHeadsPerCta, bool kFp8>
void launch_absorbed_kernel(const AbsorbedArgs& args, const MlaPlan& plan, cudaStream_t stream) {
  constexpr int kSmem = absorbed_smem(kHeadsPerCta, kFp8).total;
  static const bool configured = [] {
    return cudaFuncSetAttribute(mla_absorbed_kernel<kHeadsPerCta, kFp8>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem) ==
           cudaSuccess;
  }();
  if (!configured) check_launch("cudaFuncSetAttribute(mla_absorbed_kernel)");
  const dim3 grid(static_cast<unsigned>(plan.head_blocks), static_cast<unsigned>(plan.schedules.front().view().parts()));
  mla_absorbed_kernel<kHeadsPerCta, kFp8><<<grid, kThreads, kSmem, stream>>>(args);
  check_launch("mla_absorbed_kernel");
}

template <bool kFp8>
void launch_absorbed_kernel(const AbsorbedArgs& args, const MlaPlan& plan, cudaStream_t stream) {
  switch (plan.heads_per_cta) {
    case 16: return launch_absorbed_kernel<16, kFp8>(args, plan, stream);
    case 32: return launch_absorbed_kernel<32, kFp8>(args, plan, stream);
    default: return launch_absorbed_kernel<64, kFp8>(args, plan, stream);
  }
}

}  // namespace

void run_mla_absorbed(const MlaParams& p, const MlaPlan& plan, const MlaWorkspace& w, cudaStream_t stream) {
  auto* workspace = static_cast<std::uint8_t*>(p.workspace);
  auto* q_latent = reinterpret_cast<__nv_bfloat16*>(workspace + w.q_latent);
  auto* o_latent = reinterpret_cast<__nv_bfloat16*>(workspace + w.o_latent);
  const long long per_head_w = static_cast<long long>(kUpRows) * kLatentDim;
  const auto* w_uv = static_cast<const __nv_bfloat16*>(p.w_kv_b) + kNopeDim * kLatentDim;
  // q_latent[b, h, :] = W_UK[h]^T q_nope[b, h, :]: per head, (512 x 128) x (128 x batch).
  gemm_bf16_batched(false, kLatentDim, p.batch, kNopeDim, {p.w_kv_b, kLatentDim, per_head_w}, {p.q, p.n_heads * kQDim, kQDim},
            q_latent, p.n_heads * kLatentDim, kLatentDim, p.n_heads, stream);
  const AbsorbedArgs args{p, q_latent, o_latent, reinterpret_cast<float*>(workspace + w.partial_o),
                          reinterpret_cast<float*>(workspace + w.partial_lse)};
  if (p.cache == MlaCache::fp8_ds_mla) launch_absorbed_kernel<true>(args, plan, stream);
  else launch_absorbed_kernel<false>(args, plan, stream);
  if (plan.schedules.front().view().partial_groups() > 0) {
    launch_lse_combine_pieces(args.partial_o, args.partial_lse, p.schedule, p.batch, p.n_heads, kLatentDim, o_latent, stream);
    check_launch("lse_combine_pieces_kernel");
  }
  // out[b, h, :] = W_UV[h] o_latent[b, h, :]: per head, (128 x 512) x (512 x batch).
  gemm_bf16_batched(true, kVDim, p.batch, kLatentDim, {w_uv, kLatentDim, per_head_w}, {o_latent, p.n_heads * kLatentDim, kLatentDim},
            p.out, p.n_heads * kVDim, kVDim, p.n_heads, stream);
}

}  // namespace kvplan::kernels
