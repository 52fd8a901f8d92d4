// How the MLA decode kernels cut their work: dims, tiling constants, split points, the shared-memory
// layout and the mma.sync fragment maps, compiled by both nvcc (kernels/mla_absorbed.cu,
// kernels/mla_naive.cu) and g++ (kernels/mla_model.cc, the host model), so the CUDA kernels and the
// model tested without a GPU cannot drift apart.
//
// Absorbed kernel: one CTA owns `heads_per_cta` query heads (16, 32 or 64: the M dimension of the
// tensor-core MMAs) and one range of the batch's work, and walks each piece of it in tiles of
// kTileTokens latent rows (one FlashMLA page). Per tile its 8 warps
//   1. compute S = Q K^T (heads x tokens, K = 576) with mma.sync m16n8k16: warp w owns head tile
//      w / score_slices (16 heads) and tokens [score_tokens * (w % score_slices), + score_tokens);
//   2. reduce the row max across the score_slices warps of a head tile through shared memory (slice
//      order 0, 1, ...), take p = exp2(s - m) in fp32, keep per-lane partial row sums, and store P
//      as bf16 in shared memory;
//   3. compute O += P V (heads x 512, K = tokens, V = the first 512 latent dims): warp w owns latent
//      columns [64 w, 64 w + 64) of every head of the CTA, rescaled by exp2(m_old - m_new) first.
// The CTA takes its work from a schedule (kernels/split_schedule.h): one or more pieces, each a run
// of one sequence's tiles, done one after the other; a second kernel merges the pieces of a
// sequence cut in several with a log-sum-exp combine (piece order 0, 1, ...).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/decode_tiling.h"  // decode::Tiling, KVPLAN_HOST_DEVICE

namespace kvplan::kernels::mla {

// DeepSeek-V2/V3 and Kimi-K2 (the dims every MLA model in the presets has).
inline constexpr int kLatentDim = 512;   // kv_lora_rank d_c: the latent, also the absorbed V
inline constexpr int kRopeDim = 64;      // qk_rope_head_dim d_R: the shared RoPE key
inline constexpr int kRowDim = 576;      // one cached row: latent then RoPE; the absorbed q's width
inline constexpr int kNopeDim = 128;     // qk_nope_head_dim: K per head rebuilt from the latent
inline constexpr int kVDim = 128;        // v_head_dim: V per head rebuilt from the latent
inline constexpr int kQDim = kNopeDim + kRopeDim;   // 192: q per head as the model produces it
inline constexpr int kUpRows = kNopeDim + kVDim;    // 256: kv_b_proj rows per head (W_UK, then W_UV)

// fp8_ds_mla (vLLM / FlashMLA): per token 512 e4m3 latent values, 4 fp32 scales (one per 128
// values; real value = code * scale), then the 64 RoPE dims in bf16: 656 bytes.
inline constexpr int kFp8ScaleTile = 128;
inline constexpr int kFp8ScaleOffset = kLatentDim;                        // 512
inline constexpr int kFp8RopeOffset = kFp8ScaleOffset + 4 * (kLatentDim / kFp8ScaleTile);  // 528
inline constexpr int kFp8RowBytes = kFp8RopeOffset + 2 * kRopeDim;        // 656
inline constexpr int kBf16RowBytes = 2 * kRowDim;                         // 1152
// The scale of one tile of 128 latent values written to fp8_ds_mla, from the tile's largest
// magnitude: the largest value lands on e4m3's largest finite code (448); an all-zero tile gets the
// smallest normal float rather than 0, so that value / scale stays finite (vLLM's
// concat_and_cache_ds_mla_kernel: max(amax / 448, FLT_MIN)).
KVPLAN_HOST_DEVICE inline float fp8_ds_mla_tile_scale(float amax) {
  constexpr float kFltMin = 0x1p-126f;
  const float scale = amax / 448.0f;
  return scale > kFltMin ? scale : kFltMin;
}

inline constexpr int kMinHeads = 16, kMaxHeads = 128;  // multiples of 16 (one MMA M tile)

// ---- the absorbed kernel -------------------------------------------------------------------
inline constexpr int kThreads = 256;
inline constexpr int kWarps = kThreads / 32;
inline constexpr int kTileTokens = 64;
inline constexpr int kMmaM = 16, kMmaN = 8, kMmaK = 16;
inline constexpr int kOutCols = kLatentDim / kWarps;  // 64 latent columns of O per warp
// A split costs about one tile more than its tiles (Q load, epilogue, its share of the combine).
inline constexpr int kSplitOverheadTiles = 1;
// ~230 KB of shared memory per CTA: one CTA per SM, so a wave is num_sms CTAs.
inline constexpr int kCtasPerSm = 1;

struct AbsorbedTiling {
  int heads_per_cta;  // 16, 32 or 64: the CTA's MMA M extent
  int head_tiles;     // heads_per_cta / 16
  int score_slices;   // warps sharing one head tile in S = Q K^T: kWarps / head_tiles
  int score_tokens;   // tokens per warp in S: kTileTokens / score_slices = 8 * head_tiles
};


KVPLAN_HOST_DEVICE constexpr AbsorbedTiling absorbed_tiling(int heads_per_cta) {
  const int head_tiles = heads_per_cta / kMmaM;
  const int slices = kWarps / head_tiles;
  return {heads_per_cta, head_tiles, slices, kTileTokens / slices};
}

// Which thread copies what of a tile: the kThreads threads form kTileTokens teams of
// kLoadLanesPerRow adjacent lanes (one warp: 8 rows), team n copying row n. The team's first lane
// reads the row's page from the block table and passes it to the others by a shuffle, so a tile
// costs one block-table read per row (64) instead of one per 16-byte chunk (64 x 72 bf16, 64 x 41
// fp8); lane j of the team copies chunks j, j + 4, ..., so each load instruction reads 64
// contiguous bytes of each of the warp's 8 rows.
inline constexpr int kLoadLanesPerRow = 4;
KVPLAN_HOST_DEVICE constexpr int load_row(int thread) { return thread / kLoadLanesPerRow; }
KVPLAN_HOST_DEVICE constexpr int load_first_chunk(int thread) { return thread % kLoadLanesPerRow; }
KVPLAN_HOST_DEVICE constexpr bool reads_block_table(int thread) { return thread % kLoadLanesPerRow == 0; }
static_assert(kThreads / kLoadLanesPerRow == kTileTokens, "one team of lanes per tile row");
static_assert(32 % kLoadLanesPerRow == 0, "a team's shuffle stays inside one warp");

// Shared memory of the absorbed kernel, in bytes from the start of the dynamic buffer: Q, the
// latent tile(s) in bf16 (two stages for a bf16 cache; one for fp8, which stages the raw 656-byte
// rows and dequantises them), the fp8 staging tile, P, the slices' partial row maxima (at the end
// their partial row sums), and per row the tile's rescale factor (at the end: sum l, then max m).
struct AbsorbedSmem {
  int q, latent, raw, p, row_partials, row_stats, total;
};
KVPLAN_HOST_DEVICE constexpr AbsorbedSmem absorbed_smem(int heads_per_cta, bool fp8) {
  AbsorbedSmem s{};
  s.q = 0;
  s.latent = s.q + heads_per_cta * kBf16RowBytes;
  s.raw = s.latent + (fp8 ? 1 : 2) * kTileTokens * kBf16RowBytes;
  s.p = s.raw + (fp8 ? kTileTokens * kFp8RowBytes : 0);
  s.row_partials = s.p + heads_per_cta * kTileTokens * 2;
  s.row_stats = s.row_partials + kWarps * kMmaM * 4;  // partials: [head tile][slice][16 rows] fp32
  s.total = s.row_stats + 2 * heads_per_cta * 4;      // stats: [2][heads_per_cta] fp32
  return s;
}

// The largest of 64, 32, 16 that divides n_heads and whose shared memory fits `max_smem` (the
// device's opt-in bytes per block): a CTA holds as many heads as registers allow (O is
// heads_per_cta x 512 fp32 over 256 threads: 128 registers per thread at 64 heads), and each head
// more shares the latent tiles further. 0 when not even 16 heads fit (GPUs with 99 KiB per block).
KVPLAN_HOST_DEVICE constexpr int heads_per_cta_for(int n_heads, bool fp8, int max_smem) {
  for (int heads = 64; heads >= kMmaM; heads /= 2) {
    if (n_heads % heads == 0 && absorbed_smem(heads, fp8).total <= max_smem) return heads;
  }
  return 0;
}

// Rows of 16-byte chunks (Q and latent rows: 1152 B = 72 chunks; P rows: 128 B = 8 chunks) start
// on the same bank; XOR-ing the chunk index with the row's low 3 bits makes the 8 rows an ldmatrix
// reads (same logical chunk) land on 8 different bank groups.
KVPLAN_HOST_DEVICE constexpr int swizzle(int row, int chunk) { return chunk ^ (row & 7); }
// Byte offset of element `col` (16-bit) of `row` in a swizzled bf16 tile with `row_bytes` per row.
KVPLAN_HOST_DEVICE constexpr int tile_offset(int row, int col, int row_bytes) {
  return row * row_bytes + swizzle(row, col / 8) * 16 + (col % 8) * 2;
}

// ---- mma.sync m16n8k16 and ldmatrix fragments (PTX ISA, "Matrix fragments for mma.m16n8k16") --
// Accumulator register i (0..3) of `lane` holds element (row, col) of the 16x8 tile.
KVPLAN_HOST_DEVICE constexpr int acc_row(int lane, int i) { return lane / 4 + 8 * (i / 2); }
KVPLAN_HOST_DEVICE constexpr int acc_col(int lane, int i) { return 2 * (lane % 4) + i % 2; }
// The row and column each lane points ldmatrix.x4 at, inside a 16x16 block:
//   A (row-major M x K, Q or P):            matrices (rows 0-7, k 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15)
//   B of S (K^T: latent rows are n-major):  (n 0-7, k 0-7), (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15)
//   B of O (V: latent rows are k-major, .trans): (k 0-7, n 0-7), (k 8-15, n 0-7), (k 0-7, n 8-15), (k 8-15, n 8-15)
// so that the 4 registers are A's a0..a3, or B's (b0, b1) for two adjacent n8 tiles.
KVPLAN_HOST_DEVICE constexpr int ldsm_a_row(int lane) { return lane % 16; }
KVPLAN_HOST_DEVICE constexpr int ldsm_a_col(int lane) { return lane / 16 * 8; }
KVPLAN_HOST_DEVICE constexpr int ldsm_bt_row(int lane) { return lane % 8 + lane / 16 * 8; }  // token (n)
KVPLAN_HOST_DEVICE constexpr int ldsm_bt_col(int lane) { return lane / 8 % 2 * 8; }          // dim (k)
KVPLAN_HOST_DEVICE constexpr int ldsm_v_row(int lane) { return lane % 8 + lane / 8 % 2 * 8; }  // token (k)
KVPLAN_HOST_DEVICE constexpr int ldsm_v_col(int lane) { return lane / 16 * 8; }               // column (n)

// The absorbed kernel's schedule (kernels/split_schedule.h, blocks of kTileTokens): the number of
// ranges `parts` that minimises waves x (the heaviest range's tiles + kSplitOverheadTiles per piece
// it holds), over 1 .. 2 x the ranges of one wave (more only add waves), the fewest on a tie.
// Waves: parts x head_blocks CTAs over num_sms x kCtasPerSm slots. Defined in kernels/mla_params.cc.
int absorbed_parts(const std::int32_t* seq_lens, int batch, int head_blocks, int num_sms);

// ---- the naive path's attention kernel ------------------------------------------------------
// After the up-projection every head has its own K (128 nope dims + the shared 64 RoPE dims) and
// V (128): decode attention as in kernels/decode_tiling.h with one query head per CTA. A token
// group of 16 lanes covers one K row: each lane loads 8 nope dims (16 B), 4 RoPE dims (8 B) and
// 8 V dims (16 B).
inline constexpr int kNaiveLanes = 16;
inline constexpr decode::Tiling kNaiveTiling = {8, kNaiveLanes, decode::kThreads / kNaiveLanes, 1,
                                                decode::kThreads / kNaiveLanes * decode::kTokensPerStep};
inline constexpr int kNaiveRopePerLane = kRopeDim / kNaiveLanes;  // 4

}  // namespace kvplan::kernels::mla
