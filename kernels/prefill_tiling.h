// How the causal prefill kernel cuts its work, compiled by both nvcc (kernels/prefill_attention.cu)
// and g++ (kernels/prefill_model.cc, the host model), so that the CUDA kernel and the model tested
// without a GPU take the same tiles, skip the same tiles and mask the same elements.
//
// One CTA owns one query tile of kBlockM rows of one sequence and one query head; each of its
// kWarps warps owns kRowsPerWarp = 16 of those rows (one m16 tile of mma.sync m16n8k16). The CTA
// walks the key tiles of kBlockN keys from the last one its rows can see down to tile 0: the tiles
// that cross the diagonal come first and are masked, the rest need no mask. The CTA of the first
// query head of each KV group also copies the K/V rows of its own query range into the paged cache.
#pragma once

#include "kernels/device.h"  // KVPLAN_HOST_DEVICE

namespace kvplan::kernels::prefill {

inline constexpr int kWarps = 8;
inline constexpr int kThreads = 32 * kWarps;
inline constexpr int kRowsPerWarp = 16;                 // M of mma.sync m16n8k16
inline constexpr int kBlockM = kWarps * kRowsPerWarp;   // 128 query rows per CTA
inline constexpr int kBlockN = 64;                      // keys per tile: 8 n8 blocks of S per warp
inline constexpr int kMmaK = 16;                        // K of mma.sync m16n8k16
inline constexpr int kMmaN = 8;                         // N of mma.sync m16n8k16
inline constexpr int kVectorElems = 8;                  // 16-byte cp.async / ldmatrix rows of 16-bit values
// Shared-memory rows are padded by one 16-byte vector so that the 8 row addresses of an ldmatrix
// fall in 8 different 16-byte bank groups (row strides of 128/256/384 B would all hit one).
inline constexpr int kSmemPad = kVectorElems;
static_assert(kBlockM % kBlockN == 0, "a query tile's own keys fill whole key tiles");

// Key tiles [0, end) hold every key some row of query tile `q_tile` may see (keys <= its last row,
// below the sequence length). Tiles [first_masked, end) cross the diagonal or the sequence end.
KVPLAN_HOST_DEVICE constexpr int key_tiles_end(int q_tile, int seq_len) {
  const int last_row = (q_tile + 1) * kBlockM < seq_len ? (q_tile + 1) * kBlockM : seq_len;
  return (last_row + kBlockN - 1) / kBlockN;
}
KVPLAN_HOST_DEVICE constexpr int first_masked_tile(int q_tile) { return q_tile * kBlockM / kBlockN; }
KVPLAN_HOST_DEVICE constexpr int query_tiles(int seq_len) { return (seq_len + kBlockM - 1) / kBlockM; }

// The causal mask: key `key` is hidden from query row `row` (both positions in the sequence).
// Keys at or past the sequence end are hidden from every stored row by the same test.
KVPLAN_HOST_DEVICE constexpr bool masked(int row, int key) { return key > row; }

// The key tiles whose K/V rows this query tile copies into the cache: those of its own rows.
KVPLAN_HOST_DEVICE constexpr bool writes_tile(int q_tile, int key_tile) { return key_tile >= first_masked_tile(q_tile); }

// mma.sync m16n8k16 accumulator fragment (PTX ISA, "Matrix Fragments for mma.m16n8k16"): lane
// `lane` holds registers c0..c3 of each n8 block at row lane/4 (c0, c1) or lane/4 + 8 (c2, c3) and
// column 2 * (lane % 4) + (c % 2). The mask and the row statistics use these two functions.
KVPLAN_HOST_DEVICE constexpr int acc_row(int lane, int reg) { return lane / 4 + 8 * (reg / 2); }
KVPLAN_HOST_DEVICE constexpr int acc_col(int lane, int reg) { return 2 * (lane % 4) + reg % 2; }

// Shared-memory footprint of a CTA for head dims (d_qk, d_v): Q once, K and V in two stages.
KVPLAN_HOST_DEVICE constexpr int smem_bytes(int d_qk, int d_v) {
  return 2 * (kBlockM * (d_qk + kSmemPad) + 2 * kBlockN * (d_qk + kSmemPad) + 2 * kBlockN * (d_v + kSmemPad));
}

}  // namespace kvplan::kernels::prefill
