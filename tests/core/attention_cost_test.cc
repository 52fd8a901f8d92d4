// The decode cost model against arithmetic written out by hand.
#include <doctest/doctest.h>

#include "core/attention_cost.h"
#include "core/error.h"

using namespace kvplan;

namespace {

DecodeAttentionShape llama_3_8b_gqa(std::uint64_t batch, std::uint64_t ctx, KvDtype dtype, std::uint32_t page) {
  return {Variant{VariantKind::gqa, 8, 128, 0, 0}, 32, batch, Tokens{ctx}, dtype, page};
}

}  // namespace

TEST_CASE("decode cost: Llama-3-8B GQA-8, batch 1, 128k, bf16, pages of 16") {
  AttentionCost cost = decode_attention_cost(llama_3_8b_gqa(1, 131072, KvDtype::bf16, 16));
  CHECK(cost.kv.value == 2ull * 8 * 128 * 2 * 131072);     // K and V, 8 heads of 128, 2 B: 512 MiB
  CHECK(cost.kv.value == 536870912);
  CHECK(cost.scales.value == 0);
  CHECK(cost.q.value == 32 * 128 * 2);                      // 8 KiB of queries
  CHECK(cost.out.value == 32 * 128 * 2);
  CHECK(cost.indices.value == 4 * (131072 / 16 + 1));       // block table + one length
  CHECK(cost.total.value == 536870912ull + 8192 + 8192 + 32772);
  CHECK(cost.flops == 2.0 * 32 * 131072 * (128 + 128));     // 2.147 GFLOP
  CHECK_FALSE(cost.launch_bound);

  RooflineFloor floor = roofline_floor(cost, 3.35e12, 989.4e12);
  CHECK(floor.memory_s == doctest::Approx(536920068.0 / 3.35e12));
  CHECK(floor.compute_s == doctest::Approx(2147483648.0 / 989.4e12));
  CHECK(floor.floor_s == floor.memory_s);
  CHECK(floor.memory_bound);
}

TEST_CASE("decode cost: fp8 halves the cache and adds two fp32 scales; contiguous has no table") {
  AttentionCost cost = decode_attention_cost(llama_3_8b_gqa(4, 1000, KvDtype::fp8_e4m3, 0));
  CHECK(cost.kv.value == 4ull * 1000 * 2 * 8 * 128);        // 1 B per scalar
  CHECK(cost.scales.value == 8);
  CHECK(cost.indices.value == 4 * 4);                       // sequence lengths only
  CHECK(cost.launch_bound);                                 // 8 MB of K/V is far below 256 MiB
}

TEST_CASE("decode cost: compute-bound once FLOPs / peak passes bytes / bandwidth") {
  // MQA with 128 query heads in fp8: 2 * 128 * 256 FLOPs per 256 B of K/V per token, 256 FLOP/B.
  DecodeAttentionShape shape{Variant{VariantKind::mqa, 1, 128, 0, 0}, 128, 64, Tokens{65536}, KvDtype::fp8_e4m3, 16};
  AttentionCost cost = decode_attention_cost(shape);
  RooflineFloor floor = roofline_floor(cost, 3.35e12, 200e12);  // a ridge at 60 FLOP/B
  CHECK_FALSE(floor.memory_bound);
  CHECK(floor.floor_s == floor.compute_s);
}

TEST_CASE("decode cost refuses MLA and caches the kernels do not read") {
  DecodeAttentionShape mla{Variant{VariantKind::mla, 0, 0, 512, 64}, 128, 1, Tokens{1024}, KvDtype::bf16, 16};
  CHECK_THROWS_AS(decode_attention_cost(mla), Error);
  CHECK_THROWS_AS(decode_attention_cost(llama_3_8b_gqa(1, 1024, KvDtype::nvfp4, 16)), Error);
}
