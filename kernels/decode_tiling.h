// How the decode kernel cuts its work: the tiling constants and the split points, compiled by both
// nvcc (kernels/decode_attention.cu) and g++ (kernels/decode_model.cc, the host model), so the
// CUDA kernel and the model that is tested without a GPU cannot drift apart.
//
// One CTA owns one KV head, up to `heads_per_cta` query heads of that KV head's group, and one
// range of the batch's work from the schedule (kernels/split_schedule.h): one or more pieces, each
// a run of tokens of one sequence, done one after the other. Its threads form token groups of
// `lanes_per_token` lanes; each lane loads one 16-byte vector of a K row and of a V row
// (elems_per_lane elements), so a token group covers one head_dim row. Per piece, each token group
// walks the tokens in steps of kTokensPerStep consecutive tokens, interleaved with the other groups,
// and keeps its own online-softmax state; the CTA merges its groups' states at the piece's end
// (group order 0, 1, ...) and writes the output, or a partial output when the sequence has more
// pieces; a second kernel merges those per sequence with a log-sum-exp combine (piece order).
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

// The schedule of the decode kernel and of MLA's naive attention (kernels/split_schedule.h): how
// many ranges of the batch's blocks (tokens_per_iter tokens each) the CTAs of one head unit split it
// into. Enough CTAs to give every SM kCtasPerSm of them, rounded up to a multiple of the batch
// (uniform lengths then cut every sequence into the same number of pieces, and a batch larger than
// that gets one range per sequence's worth of blocks), as long as a range keeps kMinTokensPerSplit
// tokens on average.
inline int parts_for(int batch, long long total_tokens, long long total_blocks, int head_units, int num_sms) {
  const long long wanted = (static_cast<long long>(num_sms) * kCtasPerSm + head_units - 1) / head_units;
  const long long rounded = (wanted + batch - 1) / batch * batch;
  const long long most = std::max<long long>(1, std::min(total_blocks, total_tokens / kMinTokensPerSplit));
  return static_cast<int>(std::clamp<long long>(rounded, 1, most));
}

}  // namespace kvplan::kernels::decode
