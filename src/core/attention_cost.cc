#include "core/attention_cost.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "core/checked.h"
#include "core/error.h"
#include "core/kv_bytes.h"

namespace kvplan {

namespace {

// A decode batch's cached tokens and block-table pages: batch x ctx, or each sequence's own.
struct BatchTokens {
  std::uint64_t tokens = 0, pages = 0;
};
BatchTokens batch_tokens(const DecodeAttentionShape& shape) {
  auto pages_of = [&](std::uint64_t len) { return shape.page_size == 0 ? 0 : ceil_div(len, shape.page_size); };
  if (shape.seq_lens.empty()) {
    return {checked_mul(shape.ctx.value, shape.batch, "batch x ctx"), checked_mul(pages_of(shape.ctx.value), shape.batch, "pages")};
  }
  if (shape.seq_lens.size() != shape.batch) throw Error("decode cost: seq_lens must hold batch lengths");
  BatchTokens sum;
  for (std::uint64_t len : shape.seq_lens) {
    if (len < 1 || len > shape.ctx.value) throw Error("decode cost: a sequence length is outside [1, ctx]");
    sum.tokens = checked_add(sum.tokens, len, "the batch's tokens");
    sum.pages = checked_add(sum.pages, pages_of(len), "pages");
  }
  return sum;
}

}  // namespace

AttentionCost decode_attention_cost(const DecodeAttentionShape& shape) {
  if (shape.variant.kind == VariantKind::mla) {
    throw Error("decode cost: " + shape.variant.name() + " is MLA; this cost model covers MHA, GQA and MQA");
  }
  if (shape.dtype != KvDtype::bf16 && shape.dtype != KvDtype::fp16 && shape.dtype != KvDtype::fp8_e4m3) {
    throw Error("decode cost: --kv-dtype " + std::string(to_string(shape.dtype)) +
                " is not a cache the decode kernels read (bf16, fp16, fp8)");
  }
  const BatchTokens batch = batch_tokens(shape);
  const std::uint64_t tokens = batch.tokens;
  const std::uint64_t per_token = bytes_per_token_per_layer(shape.variant, shape.dtype, KvScales::per_tensor).total();
  const std::uint64_t q_elements = shape.batch * shape.n_q_heads * shape.variant.head_dim;

  AttentionCost cost;
  cost.kv = Bytes{checked_mul(per_token, tokens, "K/V bytes")};
  cost.scales = Bytes{shape.dtype == KvDtype::fp8_e4m3 ? 2 * kScaleBytes : 0};
  cost.q = Bytes{2 * q_elements};  // queries stay 16-bit with every cache dtype
  cost.out = cost.q;
  cost.indices = Bytes{4 * (batch.pages + shape.batch)};
  cost.total = Bytes{cost.kv.value + cost.scales.value + cost.q.value + cost.out.value + cost.indices.value};
  cost.flops = 2.0 * static_cast<double>(tokens) * shape.n_q_heads * (2.0 * shape.variant.head_dim);
  cost.fma_flops = cost.flops;  // the decode kernels' dot products are FFMA on the CUDA cores
  cost.launch_bound = cost.kv.value < kBandwidthTargetMinKvBytes;
  return cost;
}

std::string_view to_string(MlaDecodePath path) { return path == MlaDecodePath::naive ? "naive" : "absorbed"; }

AttentionCost mla_decode_cost(const DecodeAttentionShape& shape, MlaDecodePath path) {
  if (shape.variant.kind != VariantKind::mla) {
    throw Error("MLA cost: " + shape.variant.name() + " is not MLA");
  }
  if (shape.dtype != KvDtype::bf16 && shape.dtype != KvDtype::fp8_ds_mla) {
    throw Error("MLA cost: --kv-dtype " + std::string(to_string(shape.dtype)) +
                " is not a cache the MLA kernels read (bf16, fp8_ds_mla)");
  }
  const BatchTokens batch = batch_tokens(shape);
  const std::uint64_t tokens = batch.tokens;
  const std::uint64_t d_c = shape.variant.kv_lora_rank, d_r = shape.variant.qk_rope_head_dim;
  const std::uint64_t nope = shape.qk_nope_head_dim, v = shape.v_head_dim, heads = shape.n_q_heads;
  const std::uint64_t per_token = bytes_per_token_per_layer(shape.variant, shape.dtype, KvScales::per_tensor).total();
  AttentionCost cost;
  cost.kv = Bytes{checked_mul(per_token, tokens, "latent cache bytes")};
  cost.q = Bytes{2 * shape.batch * heads * (nope + d_r)};
  cost.out = Bytes{2 * shape.batch * heads * v};
  cost.operands = Bytes{2 * heads * (nope + v) * d_c};  // kv_b_proj: W_UK and W_UV
  cost.indices = Bytes{4 * (batch.pages + shape.batch)};
  // b x ctx: the batch's tokens (each sequence's own length with seq_lens).
  const double b = static_cast<double>(shape.batch), h = static_cast<double>(heads), b_ctx = static_cast<double>(tokens);
  if (path == MlaDecodePath::absorbed) {
    // q W_UK and the latent output, each [batch, heads, d_c] bf16, written once and read once.
    cost.intermediate = Bytes{2 * 2 * 2 * shape.batch * heads * d_c};
    cost.flops = 2.0 * b * h * static_cast<double>(nope * d_c) + 2.0 * h * b_ctx * static_cast<double>(d_c + d_r + d_c) +
                 2.0 * b * h * static_cast<double>(d_c * v);
  } else {
    // The gathered rows [tokens, d_c + d_R] and the up-projection [tokens, heads, nope + v], bf16.
    const std::uint64_t gathered = checked_mul(tokens, 2 * (d_c + d_r), "gathered latent bytes");
    const std::uint64_t up = checked_mul(tokens, 2 * heads * (nope + v), "up-projected K/V bytes");
    cost.intermediate = Bytes{checked_mul(2, gathered + up, "naive intermediate bytes")};
    // The up-projection is a cuBLAS GEMM (tensor cores); the attention over it is decode attention
    // on the CUDA cores.
    cost.fma_flops = 2.0 * h * b_ctx * static_cast<double>(nope + d_r + v);
    cost.flops = 2.0 * static_cast<double>(tokens) * static_cast<double>(d_c) * h * static_cast<double>(nope + v) + cost.fma_flops;
  }
  cost.total = Bytes{cost.kv.value + cost.q.value + cost.out.value + cost.operands.value + cost.indices.value +
                     cost.intermediate.value};
  // The naive path moves far more than its cache (the up-projected K and V): judge the path's bytes.
  cost.launch_bound = cost.total.value < kBandwidthTargetMinKvBytes;
  return cost;
}

namespace {

void check_prefill_dtype(KvDtype dtype) {
  if (dtype != KvDtype::bf16 && dtype != KvDtype::fp16 && dtype != KvDtype::fp8_e4m3) {
    throw Error("prefill cost: --kv-dtype " + std::string(to_string(dtype)) +
                " is not a cache the prefill kernels write (bf16, fp16, fp8)");
  }
}

// MLA's latent row: kv_lora_rank + qk_rope_head_dim 16-bit values per token.
std::uint64_t latent_width(const Variant& v) { return std::uint64_t{v.kv_lora_rank} + v.qk_rope_head_dim; }

}  // namespace

AttentionCost prefill_attention_cost(const PrefillAttentionShape& shape) {
  check_prefill_dtype(shape.dtype);
  const bool mla = shape.variant.kind == VariantKind::mla;
  const std::uint64_t tokens = checked_mul(shape.ctx.value, shape.batch, "batch x ctx");
  const std::uint64_t kv_heads = mla ? shape.n_q_heads : shape.variant.kv_heads;  // MLA: K/V per head
  // MLA's fp8 cache is fp8_ds_mla (the latent cache write stores what MLA decode reads): its scales
  // are in the rows, per 128 values, not two per-tensor ones.
  const bool ds_mla = mla && shape.dtype == KvDtype::fp8_e4m3;
  const KvDtype written = ds_mla ? KvDtype::fp8_ds_mla : shape.dtype;
  const std::uint64_t per_token = bytes_per_token_per_layer(shape.variant, written, KvScales::per_tensor).total();

  AttentionCost cost;
  cost.kv = Bytes{checked_mul(per_token, tokens, "cache bytes")};
  cost.scales = Bytes{shape.dtype == KvDtype::fp8_e4m3 && !ds_mla ? 2 * kScaleBytes : 0};
  cost.q = Bytes{checked_mul(2ull * shape.n_q_heads * shape.qk_head_dim, tokens, "q bytes")};
  cost.out = Bytes{checked_mul(2ull * shape.n_q_heads * shape.v_head_dim, tokens, "out bytes")};
  const std::uint64_t kv_row = kv_heads * (shape.qk_head_dim + shape.v_head_dim) + (mla ? latent_width(shape.variant) : 0);
  cost.operands = Bytes{checked_mul(2 * kv_row, tokens, "K/V bytes")};
  const std::uint64_t pages = shape.page_size == 0 ? 0 : ceil_div(shape.ctx.value, shape.page_size);
  cost.indices = Bytes{4 * shape.batch * pages + 4 * (shape.batch + 1)};  // block table, sequence starts
  cost.total = Bytes{cost.kv.value + cost.scales.value + cost.q.value + cost.out.value + cost.operands.value +
                     cost.indices.value};
  const double s = static_cast<double>(shape.ctx.value);
  cost.flops = 2.0 * static_cast<double>(shape.batch) * shape.n_q_heads * s * s *
               (shape.qk_head_dim + shape.v_head_dim) / 2.0;
  cost.launch_bound = false;  // compute-bound from a few hundred tokens on; the floor says which
  return cost;
}

std::uint64_t layer_weight_elements(const LayerShape& shape) {
  const PrefillAttentionShape& a = shape.attention;
  const std::uint64_t d = shape.hidden_size, h = a.n_q_heads;
  if (a.variant.kind != VariantKind::mla) {
    const std::uint64_t head = a.variant.head_dim;
    return d * (h * head + 2ull * a.variant.kv_heads * head) + h * head * d;  // fused QKV, then O
  }
  const std::uint64_t q = shape.q_lora_rank ? d * shape.q_lora_rank + std::uint64_t{shape.q_lora_rank} * h * a.qk_head_dim
                                            : d * h * a.qk_head_dim;
  const std::uint64_t nope = a.qk_head_dim - a.variant.qk_rope_head_dim;
  const std::uint64_t kv = d * latent_width(a.variant) + std::uint64_t{a.variant.kv_lora_rank} * h * (nope + a.v_head_dim);
  return q + kv + h * a.v_head_dim * d;
}

AttentionCost layer_cost(const LayerShape& shape) {
  AttentionCost attention = prefill_attention_cost(shape.attention);
  const std::uint64_t tokens = shape.attention.ctx.value * shape.attention.batch;
  const std::uint64_t weights = layer_weight_elements(shape);
  AttentionCost cost;
  cost.kv = attention.kv;
  cost.scales = attention.scales;
  cost.out = Bytes{checked_mul(2 * shape.hidden_size, tokens, "hidden-state bytes")};
  cost.operands = Bytes{cost.out.value + 2 * weights};  // X in, and the weights
  cost.indices = attention.indices;
  cost.total = Bytes{cost.kv.value + cost.scales.value + cost.out.value + cost.operands.value + cost.indices.value};
  cost.flops = 2.0 * static_cast<double>(tokens) * static_cast<double>(weights) + attention.flops;
  return cost;
}

RooflineFloor roofline_floor(const AttentionCost& cost, double bandwidth_bytes_per_s, ComputePeaks peaks) {
  RooflineFloor floor;
  floor.memory_s = static_cast<double>(cost.total.value) / bandwidth_bytes_per_s;
  const double tensor_flops = cost.flops - cost.fma_flops;
  floor.compute_s = (tensor_flops > 0 ? tensor_flops / peaks.tensor_flops_per_s : 0.0) +
                    (cost.fma_flops > 0 ? cost.fma_flops / peaks.fma_flops_per_s : 0.0);
  floor.floor_s = std::max(floor.memory_s, floor.compute_s);
  floor.memory_bound = floor.memory_s >= floor.compute_s;
  return floor;
}

std::string_view compute_units(const AttentionCost& cost) {
  if (cost.fma_flops <= 0) return "tensor";
  return cost.fma_flops < cost.flops ? "tensor+FMA" : "FMA";
}

}  // namespace kvplan
