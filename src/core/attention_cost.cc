#include "core/attention_cost.h"

#include <algorithm>
#include <string>

#include "core/checked.h"
#include "core/error.h"
#include "core/kv_bytes.h"

namespace kvplan {

AttentionCost decode_attention_cost(const DecodeAttentionShape& shape) {
  if (shape.variant.kind == VariantKind::mla) {
    throw Error("decode cost: " + shape.variant.name() + " is MLA; this cost model covers MHA, GQA and MQA");
  }
  if (shape.dtype != KvDtype::bf16 && shape.dtype != KvDtype::fp16 && shape.dtype != KvDtype::fp8_e4m3) {
    throw Error("decode cost: --kv-dtype " + std::string(to_string(shape.dtype)) +
                " is not a cache the decode kernels read (bf16, fp16, fp8)");
  }
  const std::uint64_t tokens = checked_mul(shape.ctx.value, shape.batch, "batch x ctx");
  const std::uint64_t per_token = bytes_per_token_per_layer(shape.variant, shape.dtype, KvScales::per_tensor).total();
  const std::uint64_t q_elements = shape.batch * shape.n_q_heads * shape.variant.head_dim;

  AttentionCost cost;
  cost.kv = Bytes{checked_mul(per_token, tokens, "K/V bytes")};
  cost.scales = Bytes{shape.dtype == KvDtype::fp8_e4m3 ? 2 * kScaleBytes : 0};
  cost.q = Bytes{2 * q_elements};  // queries stay 16-bit with every cache dtype
  cost.out = cost.q;
  const std::uint64_t pages = shape.page_size == 0 ? 0 : ceil_div(shape.ctx.value, shape.page_size);
  cost.indices = Bytes{4 * shape.batch * (pages + 1)};
  cost.total = Bytes{cost.kv.value + cost.scales.value + cost.q.value + cost.out.value + cost.indices.value};
  cost.flops = 2.0 * static_cast<double>(shape.batch) * shape.n_q_heads * static_cast<double>(shape.ctx.value) *
               (2.0 * shape.variant.head_dim);
  cost.launch_bound = cost.kv.value < kBandwidthTargetMinKvBytes;
  return cost;
}

RooflineFloor roofline_floor(const AttentionCost& cost, double bandwidth_bytes_per_s, double peak_flops_per_s) {
  RooflineFloor floor;
  floor.memory_s = static_cast<double>(cost.total.value) / bandwidth_bytes_per_s;
  floor.compute_s = cost.flops / peak_flops_per_s;
  floor.floor_s = std::max(floor.memory_s, floor.compute_s);
  floor.memory_bound = floor.memory_s >= floor.compute_s;
  return floor;
}

}  // namespace kvplan
