// How the decode kernel cuts its work: the tiling constants and the split points, compiled by both
// nvcc (kernels/decode_attention.cu) and g++ (kernels/decode_model.cc, the host model), so the
// CUDA kernel and the model that is tested without a GPU cannot drift apart.
//
// One CTA owns one sequence, one KV head, up to `heads_per_cta` query heads of that KV head's
// group, and one split of the context. Its threads form token groups of `lanes_per_token` lanes;
// each lane loads one 16-byte vector of a K row and of a V row (elems_per_lane elements), so a
// token group covers one head_dim row. Each token group walks the split in steps of
// kTokensPerStep consecutive tokens, interleaved with the other groups, and keeps its own
// online-softmax state; the CTA merges its groups' states at the end (group order 0, 1, ...), and a
// second kernel merges the splits with a log-sum-exp combine (split order 0, 1, ...).
#pragma once

#include <algorithm>

#include "kernels/device.h"  // KVPLAN_HOST_DEVICE

namespace kvplan::kernels::decode {

inline constexpr int kThreads = 128;           // 4 warps per CTA
inline constexpr int kWarpSize = 32;
inline constexpr int kVectorBytes = 16;        // every K/V load is one 16-byte vector per lane
inline constexpr int kTokensPerStep = 2;       // tokens a group loads before it uses any of them
// Per lane: q and o for heads_per_cta heads of elems_per_lane elements each stay in registers.
// At most 64 fp32 values of each keeps the kernel under ~200 registers with no spills; a group of
// fewer query heads (MHA: 1) gets a kernel with only as many, so it holds fewer registers and more
// CTAs fit an SM.
inline constexpr int kAccumulatorsPerLane = 64;
inline constexpr int kMinTokensPerSplit = 256;  // a split shorter than this costs more to combine
inline constexpr int kMaxSplits = 128;
// About 210 registers x 128 threads let 2 CTAs share an SM; asking for 8 per SM (4 waves) keeps
// the idle tail of the last wave near 1/8 of the run.
inline constexpr int kCtasPerSm = 8;

struct Tiling {
  int elems_per_lane;   // K/V elements in one 16-byte vector: 8 (bf16, fp16), 16 (fp8)
  int lanes_per_token;  // head_dim / elems_per_lane: the lanes that hold one K or V row
  int token_groups;     // kThreads / lanes_per_token: each keeps its own softmax state
  int heads_per_cta;    // query heads whose q and o stay in each lane's registers: 1, 2, 4 or 8
  int tokens_per_iter;  // token_groups * kTokensPerStep: tokens the CTA covers per iteration
};

// heads_per_cta: the group size rounded up to a power of two, at most kAccumulatorsPerLane / elems
// (8 for 16-bit caches, 4 for fp8).
KVPLAN_HOST_DEVICE constexpr Tiling tiling(int kv_elem_bytes, int head_dim, int group_size) {
  int elems = kVectorBytes / kv_elem_bytes;
  int lanes = head_dim / elems;
  int groups = kThreads / lanes;
  int heads = 1;
  while (heads < group_size && heads < kAccumulatorsPerLane / elems) heads *= 2;
  return {elems, lanes, groups, heads, groups * kTokensPerStep};
}

struct Split {
  int head_chunks;       // ceil(group_size / heads_per_cta): CTAs that share one KV head's tokens
  int splits;            // pieces of the context, each its own CTA, merged by the combine kernel
  int tokens_per_split;  // a multiple of tokens_per_iter; split s covers [s*tps, (s+1)*tps)
};

// Enough CTAs to give every SM kCtasPerSm of them, as long as each split keeps at least
// kMinTokensPerSplit tokens: batch 1 at 128k context then still fills all SMs.
inline Split split_for(int batch, int n_kv_heads, int group_size, int max_seq_len, const Tiling& t,
                       int num_sms) {
  Split s{};
  s.head_chunks = (group_size + t.heads_per_cta - 1) / t.heads_per_cta;
  long long ctas = static_cast<long long>(batch) * n_kv_heads * s.head_chunks;
  long long wanted = (static_cast<long long>(num_sms) * kCtasPerSm + ctas - 1) / ctas;
  long long most = std::max(1, max_seq_len / kMinTokensPerSplit);
  int splits = static_cast<int>(std::clamp<long long>(wanted, 1, std::min<long long>(most, kMaxSplits)));
  int per_split = (max_seq_len + splits - 1) / splits;
  s.tokens_per_split = (per_split + t.tokens_per_iter - 1) / t.tokens_per_iter * t.tokens_per_iter;
  s.splits = (max_seq_len + s.tokens_per_split - 1) / s.tokens_per_split;
  return s;
}

}  // namespace kvplan::kernels::decode
