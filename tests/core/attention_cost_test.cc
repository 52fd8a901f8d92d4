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

  // The decode kernel's dot products are FP32 FMAs on the CUDA cores: every FLOP counts against
  // the FMA peak (66.9 TFLOP/s on the H100 SXM), none against the tensor cores' 989.4.
  CHECK(cost.fma_flops == cost.flops);
  CHECK(compute_units(cost) == "FMA");
  RooflineFloor floor = roofline_floor(cost, 3.35e12, {989.4e12, 66.9e12});
  CHECK(floor.memory_s == doctest::Approx(536920068.0 / 3.35e12));
  CHECK(floor.compute_s == doctest::Approx(2147483648.0 / 66.9e12));
  CHECK(floor.floor_s == floor.memory_s);
  CHECK(floor.memory_bound);
}

TEST_CASE("decode cost: fp8 halves the cache and adds two fp32 scales - contiguous has no table") {
  AttentionCost cost = decode_attention_cost(llama_3_8b_gqa(4, 1000, KvDtype::fp8_e4m3, 0));
  CHECK(cost.kv.value == 4ull * 1000 * 2 * 8 * 128);        // 1 B per scalar
  CHECK(cost.scales.value == 8);
  CHECK(cost.indices.value == 4 * 4);                       // sequence lengths only
  CHECK(cost.launch_bound);                                 // 8 MB of K/V is far below 256 MiB
}

TEST_CASE("decode cost: compute-bound once FLOPs / FMA peak passes bytes / bandwidth") {
  // MQA with 128 query heads in fp8: 2 * 128 * 256 FLOPs per 256 B of K/V per token, 256 FLOP/B.
  DecodeAttentionShape shape{Variant{VariantKind::mqa, 1, 128, 0, 0}, 128, 64, Tokens{65536}, KvDtype::fp8_e4m3, 16};
  AttentionCost cost = decode_attention_cost(shape);
  // H100 SXM datasheet: the FMA ridge is 66.9e12 / 3.35e12 = 20 FLOP/B, so 256 FLOP/B is compute-bound
  // by 12.8x; held to the tensor cores' 989.4 (a ridge at 295 FLOP/B) it would look memory-bound.
  RooflineFloor floor = roofline_floor(cost, 3.35e12, {989.4e12, 66.9e12});
  CHECK_FALSE(floor.memory_bound);
  CHECK(floor.floor_s == floor.compute_s);
  CHECK(floor.compute_s == doctest::Approx(2.0 * 64 * 128 * 65536 * 256 / 66.9e12));
  CHECK(roofline_floor(cost, 3.35e12, {989.4e12, 989.4e12}).memory_bound);
}

TEST_CASE("decode cost refuses MLA and caches the kernels do not read") {
  DecodeAttentionShape mla{Variant{VariantKind::mla, 0, 0, 512, 64}, 128, 1, Tokens{1024}, KvDtype::bf16, 16};
  CHECK_THROWS_AS(decode_attention_cost(mla), Error);
  CHECK_THROWS_AS(decode_attention_cost(llama_3_8b_gqa(1, 1024, KvDtype::nvfp4, 16)), Error);
}

namespace {

DecodeAttentionShape deepseek_mla(std::uint64_t batch, std::uint64_t ctx, KvDtype dtype) {
  DecodeAttentionShape shape{Variant{VariantKind::mla, 0, 0, 512, 64}, 128, batch, Tokens{ctx}, dtype, 64};
  shape.qk_nope_head_dim = 128;
  shape.v_head_dim = 128;
  return shape;
}

}  // namespace

TEST_CASE("MLA cost, absorbed: DeepSeek-V3 at batch 32 x 32k in bf16") {
  AttentionCost cost = mla_decode_cost(deepseek_mla(32, 32768, KvDtype::bf16), MlaDecodePath::absorbed);
  CHECK(cost.kv.value == 32ull * 32768 * 1152);          // (512 + 64) x 2 B per token: the planner's bytes
  CHECK(cost.q.value == 32ull * 128 * 192 * 2);          // q_nope 128 + q_rope 64 per head
  CHECK(cost.out.value == 32ull * 128 * 128 * 2);
  CHECK(cost.operands.value == 128ull * 256 * 512 * 2);  // W_UK and W_UV: 32 MiB
  CHECK(cost.indices.value == 4ull * 32 * (512 + 1));    // 512 pages of 64 per sequence + its length
  CHECK(cost.intermediate.value == 4ull * 32 * 128 * 512 * 2);  // q W_UK and o, each written and read
  CHECK(cost.total.value == 1207959552ull + 1572864 + 1048576 + 33554432 + 65664 + 16777216);
  // 2 b h (128 x 512) + 2 b h ctx (512 + 64 + 512) + 2 b h (512 x 128).
  CHECK(cost.flops == 2.0 * 32 * 128 * 65536 + 2.0 * 32 * 128 * 32768 * 1088 + 2.0 * 32 * 128 * 65536);
  CHECK_FALSE(cost.launch_bound);
  // Memory-bound on the H100 SXM datasheet, but near the ridge: 376.4 us of bytes, 296.3 us of FLOPs.
  CHECK(compute_units(cost) == "tensor");  // cuBLAS and mma.sync
  RooflineFloor floor = roofline_floor(cost, 3.35e12, {989.4e12, 66.9e12});
  CHECK(floor.memory_bound);
  CHECK(floor.memory_s == doctest::Approx(1260978304.0 / 3.35e12));
  CHECK(floor.compute_s == doctest::Approx(293131517952.0 / 989.4e12));
  CHECK(floor.compute_s > 0.78 * floor.memory_s);
}

TEST_CASE("MLA cost: fp8_ds_mla is 656 B per token - naive moves the up-projected K and V") {
  AttentionCost fp8 = mla_decode_cost(deepseek_mla(1, 32768, KvDtype::fp8_ds_mla), MlaDecodePath::absorbed);
  CHECK(fp8.kv.value == 32768ull * 656);
  CHECK(fp8.launch_bound);                               // 21 MB of latent + 32 MiB of weights < 256 MiB
  AttentionCost naive = mla_decode_cost(deepseek_mla(1, 32768, KvDtype::bf16), MlaDecodePath::naive);
  CHECK(naive.kv.value == 32768ull * 1152);
  // Gathered rows 32768 x 576 x 2 B and K/V 32768 x 128 x 256 x 2 B, each written and read once.
  CHECK(naive.intermediate.value == 2 * (32768ull * 1152 + 32768ull * 128 * 256 * 2));
  CHECK(naive.flops == 2.0 * 32768 * 512 * 128 * 256 + 2.0 * 128 * 32768 * 320);
  // The up-projection on the tensor cores (cuBLAS), the attention over it on the CUDA cores: each
  // part against its own peak, one launch after the other.
  CHECK(naive.fma_flops == 2.0 * 128 * 32768 * 320);
  CHECK(compute_units(naive) == "tensor+FMA");
  CHECK(roofline_floor(naive, 3.35e12, {989.4e12, 66.9e12}).compute_s ==
        doctest::Approx(2.0 * 32768 * 512 * 128 * 256 / 989.4e12 + 2.0 * 128 * 32768 * 320 / 66.9e12));
  CHECK_FALSE(naive.launch_bound);                       // its 4 GiB of K and V are no launch-bound shape
  AttentionCost absorbed = mla_decode_cost(deepseek_mla(1, 32768, KvDtype::bf16), MlaDecodePath::absorbed);
  // The naive floor is at least 50x the absorbed one at this shape, by bytes alone.
  CHECK(static_cast<double>(naive.total.value) / static_cast<double>(absorbed.total.value) > 50);
}

TEST_CASE("MLA cost refuses other variants and caches") {
  CHECK_THROWS_AS(mla_decode_cost(llama_3_8b_gqa(1, 1024, KvDtype::bf16, 16), MlaDecodePath::absorbed), Error);
  CHECK_THROWS_AS(mla_decode_cost(deepseek_mla(1, 1024, KvDtype::fp8_e4m3), MlaDecodePath::naive), Error);
}
