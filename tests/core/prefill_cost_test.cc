// The prefill and layer cost models against arithmetic written out by hand.
#include <doctest/doctest.h>

#include "core/attention_cost.h"
#include "core/error.h"

using namespace kvplan;

namespace {

PrefillAttentionShape llama_3_8b_gqa8(std::uint64_t ctx) {
  return {Variant{VariantKind::gqa, 8, 128, 0, 0}, 32, 1, Tokens{ctx}, KvDtype::bf16, 16, 128, 128};
}

PrefillAttentionShape deepseek_v2_mla(std::uint64_t ctx) {
  return {Variant{VariantKind::mla, 0, 0, 512, 64}, 128, 1, Tokens{ctx}, KvDtype::bf16, 64, 192, 128};
}

}  // namespace

TEST_CASE("prefill cost: Llama-3-8B GQA-8, one prompt of 4096 tokens, bf16") {
  AttentionCost cost = prefill_attention_cost(llama_3_8b_gqa8(4096));
  CHECK(cost.kv.value == 2ull * 8 * 128 * 2 * 4096);        // the cache written: 16 MiB
  CHECK(cost.q.value == 2ull * 32 * 128 * 4096);            // 32 MiB of queries
  CHECK(cost.out.value == cost.q.value);
  CHECK(cost.operands.value == 2ull * 8 * 256 * 4096);      // K and V read: 16 MiB
  CHECK(cost.indices.value == 4 * 256 + 4 * 2);             // 256 pages of 16, two sequence starts
  CHECK(cost.total.value == 16777216ull + 2 * 33554432 + 16777216 + 1032);
  CHECK(cost.flops == 137438953472.0);                      // 2 * 32 * 4096^2 * 256 / 2
  CHECK_FALSE(cost.launch_bound);
  // 137.4 GFLOP / 989.4 TFLOP/s = 138.9 us, far above 83.9 MB / 3.35 TB/s = 25 us: compute-bound.
  CHECK(cost.fma_flops == 0);  // mma.sync on the tensor cores
  RooflineFloor floor = roofline_floor(cost, 3.35e12, {989.4e12, 66.9e12});
  CHECK_FALSE(floor.memory_bound);
  CHECK(floor.floor_s == doctest::Approx(137438953472.0 / 989.4e12));
}

TEST_CASE("prefill cost: MLA on decompressed heads (192/128) writes only the 576-wide latent") {
  AttentionCost cost = prefill_attention_cost(deepseek_v2_mla(4096));
  CHECK(cost.kv.value == 576ull * 2 * 4096);                // 1152 B per token: 4.5 MiB
  CHECK(cost.q.value == 2ull * 128 * 192 * 4096);
  CHECK(cost.out.value == 2ull * 128 * 128 * 4096);
  CHECK(cost.operands.value == 2ull * (128 * 320 + 576) * 4096);  // K 192 + V 128 per head, the latent
  CHECK(cost.indices.value == 4 * 64 + 8);                  // 64 blocks of 64 tokens
  CHECK(cost.flops == 687194767360.0);                      // 2 * 128 * 4096^2 * 320 / 2
}

TEST_CASE("prefill cost: fp8 halves the cache written, adds two scales - a tenth of the context, a hundredth of the FLOPs") {
  PrefillAttentionShape shape = llama_3_8b_gqa8(40960);
  shape.dtype = KvDtype::fp8_e4m3;
  AttentionCost fp8 = prefill_attention_cost(shape);
  CHECK(fp8.kv.value == 2ull * 8 * 128 * 40960);
  CHECK(fp8.scales.value == 8);
  CHECK(fp8.flops == doctest::Approx(100 * prefill_attention_cost(llama_3_8b_gqa8(4096)).flops));
  shape.dtype = KvDtype::nvfp4;
  CHECK_THROWS_AS(prefill_attention_cost(shape), Error);
}

TEST_CASE("prefill cost: MLA's fp8 cache is written as fp8_ds_mla, 656 B per token with its scales inside") {
  PrefillAttentionShape shape = deepseek_v2_mla(4096);
  shape.dtype = KvDtype::fp8_e4m3;
  AttentionCost fp8 = prefill_attention_cost(shape);
  CHECK(fp8.kv.value == (512ull + 4 * 4 + 64 * 2) * 4096);  // 512 e4m3 codes, 4 fp32 scales, 64 bf16 RoPE dims
  CHECK(fp8.scales.value == 0);
}

TEST_CASE("layer cost: projections counted once per token, plus the causal attention") {
  LayerShape gqa{llama_3_8b_gqa8(4096), 4096, 0};
  CHECK(layer_weight_elements(gqa) == 4096ull * (4096 + 2 * 1024) + 4096ull * 4096);  // QKV 4096 x 6144, O 4096 x 4096
  AttentionCost cost = layer_cost(gqa);
  CHECK(cost.flops == 2.0 * 4096 * 41943040 + 137438953472.0);  // 481.0 GFLOP
  CHECK(cost.kv.value == 16777216);
  CHECK(cost.out.value == 2ull * 4096 * 4096);                   // Y
  CHECK(cost.operands.value == 2ull * 4096 * 4096 + 2 * 41943040);  // X and the weights

  // DeepSeek-V2: d_model 5120, 128 heads, q_lora_rank 1536.
  LayerShape mla{deepseek_v2_mla(4096), 5120, 1536};
  const std::uint64_t q = 5120ull * 1536 + 1536ull * 128 * 192;  // q down, q up
  const std::uint64_t kv = 5120ull * 576 + 512ull * 128 * 256;   // KV down (latent + k_R), KV up (k_nope | v)
  const std::uint64_t o = 128ull * 128 * 5120;
  CHECK(layer_weight_elements(mla) == q + kv + o);
  CHECK(layer_weight_elements(mla) == 149225472);
}
