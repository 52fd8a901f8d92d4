// What an attention kernel must cost at least, from its shape alone (docs/kernels.md; nvbench's and
// FlashMLA's conventions): the bytes it must move (every input read once, the output written
// once), the FLOPs it must do, and the roofline floor max(bytes / bandwidth, FLOPs / peak of the
// units that do them).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/units.h"
#include "core/variant.h"

namespace kvplan {

// A measured bandwidth target is meaningful only when one launch reads this much K/V (an MLA path:
// this many bytes in all); below it, launch latency and ramp-up dominate and the shape is reported
// as launch-bound.
inline constexpr std::uint64_t kBandwidthTargetMinKvBytes = 256 * kMiB;

struct DecodeAttentionShape {
  Variant variant;                 // MHA, GQA or MQA: kv_heads and head_dim; MLA: kv_lora_rank, rope dim
  std::uint32_t n_q_heads = 0;     // query heads
  std::uint64_t batch = 1;         // sequences, one new token each
  Tokens ctx;                      // cached tokens per sequence (with seq_lens: the longest allowed)
  KvDtype dtype = KvDtype::bf16;   // bf16, fp16 or fp8_e4m3 (per-tensor K and V scales); MLA: bf16 or fp8_ds_mla
  std::uint32_t page_size = 16;    // tokens per page of the block table; 0 = contiguous cache
  // MLA only: the per-head dims the latent is up-projected to (DeepSeek-V2/V3, Kimi-K2: 128, 128).
  std::uint32_t qk_nope_head_dim = 0;
  std::uint32_t v_head_dim = 0;
  // Each sequence's cached tokens (`bench --lengths ragged`), each in [1, ctx]; empty: all hold ctx.
  std::vector<std::uint64_t> seq_lens = {};
};

// The two MLA decode pipelines (kernels/mla.h), which compute the same function.
enum class MlaDecodePath { naive, absorbed };
std::string_view to_string(MlaDecodePath path);

struct AttentionCost {
  Bytes kv;            // the planner's cache bytes: bytes_per_token_per_layer x the batch's tokens
  Bytes scales;        // fp8: one fp32 K scale and one V scale (per tensor)
  Bytes q;             // [batch, n_q_heads, head_dim] in bf16 (fp16 with an fp16 cache)
  Bytes out;           // same shape and type as q
  Bytes indices;       // block table (int32 per page) and sequence lengths (int32 per sequence)
  Bytes operands;      // prefill: K and V read (MLA: and the latent); layer: hidden states and weights;
                       // MLA decode: kv_b_proj's W_UK and W_UV; decode: 0
  Bytes intermediate;  // MLA decode: what a path's launches write and read back (naive: the up-projected K/V)
  Bytes total;         // the sum: the fewest bytes a kernel (MLA decode: the path's launches) can move
  double flops = 0;    // 2 * batch * n_q_heads * s_q * s_k * (d_qk + d_v), s_q = 1, s_k = ctx (causal: half;
                       // MLA decode: + projections); decode: batch * ctx is the batch's tokens
  double fma_flops = 0;  // the part of `flops` done by FP32 FMA on the CUDA cores (decode attention,
                         // the naive MLA path's attention); the rest runs on the tensor cores
  bool launch_bound = false;  // kv (MLA decode: total) < kBandwidthTargetMinKvBytes
};

// Throws kvplan::Error for an MLA variant or a cache dtype the decode kernels do not read.
AttentionCost decode_attention_cost(const DecodeAttentionShape& shape);

// An MLA path, every launch's inputs read once and outputs written once. Both read the latent cache
// (the planner's bytes), q [batch, heads, nope + rope], kv_b_proj [heads, nope + v, d_c] (operands) and write
// out [batch, heads, v]. absorbed: q W_UK (2 b h nope d_c FLOPs) written and read back in bf16,
// attention over the latent rows (2 b h ctx (d_c + d_R + d_c)), its latent output written and read
// back, W_UV o (2 b h d_c v). naive: the latent rows gathered into bf16 and read back, the
// up-projection (2 b ctx d_c h (nope + v)) written and read back, attention (2 b h ctx (nope + d_R + v)).
// Throws kvplan::Error for a non-MLA variant or a cache other than bf16 and fp8_ds_mla.
AttentionCost mla_decode_cost(const DecodeAttentionShape& shape, MlaDecodePath path);

// Prefill: `batch` prompts of `ctx` tokens each, causal attention over every prompt, and its K/V
// (MLA: latent) written to the cache. For prefill, `kv` is the cache the kernels write.
struct PrefillAttentionShape {
  Variant variant;                 // MHA, GQA, MQA or MLA (attention on decompressed K/V)
  std::uint32_t n_q_heads = 0;
  std::uint64_t batch = 1;
  Tokens ctx;                      // prompt tokens per sequence
  KvDtype dtype = KvDtype::bf16;   // the cache written: bf16, fp16 or fp8_e4m3 (per-tensor scales)
  std::uint32_t page_size = 16;    // 0 = contiguous cache
  std::uint32_t qk_head_dim = 0;   // per attention head: variant.head_dim, or MLA's nope + rope (192)
  std::uint32_t v_head_dim = 0;    // variant.head_dim, or MLA's v_head_dim (128)
};

// FLOPs = 2 * batch * n_q_heads * ctx * ctx * (d_qk + d_v) / 2: the causal half counted once.
// Bytes = q, K and V (MLA: decompressed K/V and the latent) read once, out and the cache written once.
AttentionCost prefill_attention_cost(const PrefillAttentionShape& shape);

// One attention layer's forward over the prompts: projections (MHA/GQA/MQA: fused QKV, then O;
// MLA: q down/up or q, KV down, KV up, then O), RoPE, attention, cache write.
struct LayerShape {
  PrefillAttentionShape attention;
  std::uint64_t hidden_size = 0;   // d_model
  std::uint32_t q_lora_rank = 0;   // MLA's query compression; 0: one q projection
};

// Projection weights of the layer (elements): what each token multiplies once.
std::uint64_t layer_weight_elements(const LayerShape& shape);

// FLOPs = 2 * tokens * weight elements + the attention's causal FLOPs; bytes = hidden states in and
// out, the weights (bf16), and the cache written, each once. RoPE and the copies are not counted.
AttentionCost layer_cost(const LayerShape& shape);

// The two compute ceilings a kernel's FLOPs are held to, each for the units that do them.
struct ComputePeaks {
  double tensor_flops_per_s = 0;  // bf16 dense on the tensor cores (mma.sync, cuBLAS)
  double fma_flops_per_s = 0;     // FP32 FMA on the CUDA cores
};

struct RooflineFloor {
  double memory_s = 0;    // total bytes / bandwidth
  double compute_s = 0;   // (flops - fma_flops) / tensor peak + fma_flops / FMA peak
  double floor_s = 0;     // the larger: no kernel runs much faster
  bool memory_bound = true;
};

// The tensor-core and CUDA-core parts are added, not overlapped: in the one kernel that has both
// (naive MLA) they are separate launches, one after the other.
RooflineFloor roofline_floor(const AttentionCost& cost, double bandwidth_bytes_per_s, ComputePeaks peaks);

// Which units a cost's FLOPs run on: "FMA" (CUDA cores), "tensor", or "tensor+FMA".
std::string_view compute_units(const AttentionCost& cost);

}  // namespace kvplan
