// What an attention kernel must cost at least, from its shape alone (DESIGN §6, nvbench's and
// FlashMLA's conventions): the bytes it must move (every input read once, the output written
// once), the FLOPs it must do, and the roofline floor max(bytes / bandwidth, FLOPs / peak).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/units.h"
#include "core/variant.h"

namespace kvplan {

// A measured bandwidth target is meaningful only when one launch reads this much K/V; below it,
// launch latency and ramp-up dominate and the shape is reported as launch-bound.
inline constexpr std::uint64_t kBandwidthTargetMinKvBytes = 256 * kMiB;

struct DecodeAttentionShape {
  Variant variant;                 // MHA, GQA or MQA: kv_heads and head_dim
  std::uint32_t n_q_heads = 0;     // query heads
  std::uint64_t batch = 1;         // sequences, one new token each
  Tokens ctx;                      // cached tokens per sequence
  KvDtype dtype = KvDtype::bf16;   // cache dtype: bf16, fp16 or fp8_e4m3 (per-tensor K and V scales)
  std::uint32_t page_size = 16;    // tokens per page of the block table; 0 = contiguous cache
};

struct AttentionCost {
  Bytes kv;            // the planner's cache bytes: bytes_per_token_per_layer x ctx x batch
  Bytes scales;        // fp8: one fp32 K scale and one V scale (per tensor)
  Bytes q;             // [batch, n_q_heads, head_dim] in bf16 (fp16 with an fp16 cache)
  Bytes out;           // same shape and type as q
  Bytes indices;       // block table (int32 per page) and sequence lengths (int32 per sequence)
  Bytes total;         // the sum: the fewest bytes a kernel can move
  double flops = 0;    // 2 * batch * n_q_heads * s_q * s_k * (d_qk + d_v), s_q = 1, s_k = ctx
  bool launch_bound = false;  // kv < kBandwidthTargetMinKvBytes
};

// Throws kvplan::Error for an MLA variant or a cache dtype the decode kernels do not read.
AttentionCost decode_attention_cost(const DecodeAttentionShape& shape);

struct RooflineFloor {
  double memory_s = 0;    // total bytes / bandwidth
  double compute_s = 0;   // flops / peak
  double floor_s = 0;     // the larger: no kernel runs much faster
  bool memory_bound = true;
};

RooflineFloor roofline_floor(const AttentionCost& cost, double bandwidth_bytes_per_s, double peak_flops_per_s);

}  // namespace kvplan
