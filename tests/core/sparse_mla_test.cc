// Sparse MLA (DeepSeek-V3.2): the MLA latent and the lightning indexer's key in every layer, and
// how vLLM 0.33 stores and blocks them (docs/engines.md, "Sparse MLA"). Each expected number is
// arithmetic written out here; the fit cases were cross-checked by running vLLM 0.33.0's own
// MLAAttention / DeepseekV32IndexerCache specs, backend block sizes and get_kv_cache_configs /
// update_kv_cache_capacity on hand-built specs without a GPU.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/kv_size.h"
#include "core/vllm_backend.h"
#include "core/vllm_rules.h"
#include "presets_fixture.h"
#include "sparse_mla_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

TEST_CASE("size: every layer of DeepSeek-V3.2 holds the latent and a 132-byte indexer key per token") {
  const ModelShape& shape = model("deepseek-v3.2-exp");
  REQUIRE(shape.indexer);
  CHECK(shape.indexer->bytes_per_token() == 128 + 4);  // 128 fp8 values + one fp32 scale per 128
  SizeRequest request;
  request.ctx = Tokens{131072};
  SizeReport report = compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request);
  // (512 + 64) x 2 B + 132 B = 1284 B per token per layer; x 61 layers x 131072 tokens.
  CHECK(report.variants.front().token_layer.total() == 1284);
  CHECK(report.variants.front().per_sequence.value == 1284ull * 61 * 131072);
}

TEST_CASE("vLLM 0.33 sparse MLA backends: FlashMLA stores fp8 as fp8_ds_mla, FlashInfer as plain fp8, blocks of 64") {
  const VllmRules& rules = vllm_rules("");
  auto choose = [&](GpuArchitecture arch, KvDtype dtype, std::uint32_t heads_per_rank) {
    return choose_vllm_backend(rules, {arch, true, true, dtype, std::nullopt, std::nullopt, heads_per_rank});
  };
  // Hopper: FA3's sparse kernel for bf16; it takes no fp8, so FlashMLA's sparse kernel stores fp8_ds_mla.
  CHECK(choose(GpuArchitecture::hopper, KvDtype::bf16, 16).name == "FLASH_ATTN_MLA_SPARSE");
  VllmBackend hopper_fp8 = choose(GpuArchitecture::hopper, KvDtype::fp8_e4m3, 16);
  CHECK(hopper_fp8.name == "FLASHMLA_SPARSE");
  CHECK(hopper_fp8.cache_dtype == KvDtype::fp8_ds_mla);
  CHECK(hopper_fp8.block_size == 64);
  // Blackwell: FlashInfer's sparse kernel first for quantized caches (blocks of 32, but the indexer's
  // 64 decides: lcm(32, 64) = 64); FA4 for bf16 with at most 16 heads per rank, FlashMLA above.
  VllmBackend blackwell_fp8 = choose(GpuArchitecture::blackwell, KvDtype::fp8_e4m3, 16);
  CHECK(blackwell_fp8.name == "FLASHINFER_MLA_SPARSE");
  CHECK(blackwell_fp8.cache_dtype == KvDtype::fp8_e4m3);
  CHECK(blackwell_fp8.block_size == 64);
  CHECK(choose(GpuArchitecture::blackwell, KvDtype::bf16, 16).name == "FLASH_ATTN_MLA_SPARSE_FA4");
  CHECK(choose(GpuArchitecture::blackwell, KvDtype::bf16, 32).name == "FLASHMLA_SPARSE");
  // fp8_ds_mla asked for on Blackwell: FlashInfer refuses it, FlashMLA takes it.
  CHECK(choose(GpuArchitecture::blackwell, KvDtype::fp8_ds_mla, 16).name == "FLASHMLA_SPARSE");
  // --block-size must be a multiple of the indexer's 64.
  CHECK_THROWS_AS(choose_vllm_backend(rules, {GpuArchitecture::hopper, true, true, KvDtype::bf16, std::nullopt, 32u, 16}),
                  Error);
}

TEST_CASE("vLLM 0.33, DeepSeek-V3.2-Exp on 8 H200s: one group of latent and indexer pages, replicated on every rank") {
  // bf16: page per layer 64 x (1152 + 132) = 82176 B; 61 layers: 5012736 B per block.
  // 42949672960 / 5012736 = 8568 blocks; cdiv(131072, 64) = 2048 per request.
  FitResult bf16 =
      fit(model("deepseek-v3.2-exp"), gpu("h200"), sparse_request("deepseek-v3.2-exp", 131072, KvDtype::bf16));
  CHECK(bf16.attention_backend == "FLASH_ATTN_MLA_SPARSE");
  CHECK(bf16.page_bytes.value == 82176);
  CHECK(bf16.num_blocks == 8568);
  CHECK(bf16.kv_tokens == 548352);  // 8568 / 2048 x 131072 = 8568 x 64; "4.18x"
  // fp8 becomes fp8_ds_mla: 64 x (656 + 132) = 50432 B; x 61 = 3076352 B; 13961 blocks.
  FitResult fp8 =
      fit(model("deepseek-v3.2-exp"), gpu("h200"), sparse_request("deepseek-v3.2-exp", 131072, KvDtype::fp8_e4m3));
  CHECK(fp8.kv_cache_dtype == KvDtype::fp8_ds_mla);
  CHECK(fp8.num_blocks == 13961);
  CHECK(fp8.kv_tokens == 893504);  // 13961 x 64; "6.82x"
  // With the MTP layer (speculative decoding): 62 layers, 3126784 B per block, 13736 blocks;
  // at 163840 tokens: 13736 / 2560 = 5.365625 -> 879104 tokens.
  FitRequest mtp = sparse_request("deepseek-v3.2-exp", 163840, KvDtype::fp8_e4m3);
  mtp.include_mtp = true;
  FitResult with_mtp = fit(model("deepseek-v3.2-exp"), gpu("h200"), mtp);
  CHECK(with_mtp.num_blocks == 13736);
  CHECK(with_mtp.kv_tokens == 879104);
}

TEST_CASE("vLLM 0.33, DeepSeek-V3.2-Exp on 8 B200s: FlashInfer keeps fp8 plain, 576 B per token") {
  // 64 x (576 + 132) = 45312 B per layer; x 61 = 2764032 B; 42949672960 / 2764032 = 15538 blocks.
  FitResult fp8 =
      fit(model("deepseek-v3.2-exp"), gpu("b200"), sparse_request("deepseek-v3.2-exp", 131072, KvDtype::fp8_e4m3));
  CHECK(fp8.attention_backend == "FLASHINFER_MLA_SPARSE");
  CHECK(fp8.num_blocks == 15538);
  CHECK(fp8.kv_tokens == 994432);  // 15538 x 64; "7.59x"
}

TEST_CASE("Sparse MLA: other engines, older vLLM releases and dense variants refuse instead of dropping the indexer") {
  FitRequest request = sparse_request("deepseek-v3.2-exp", 131072, KvDtype::bf16);
  request.options.engine = Engine::sglang;
  CHECK_THROWS_AS(fit(model("deepseek-v3.2-exp"), gpu("h200"), request), Error);
  request.options.engine = Engine::vllm;
  request.options.engine_version = "0.19";
  CHECK_THROWS_AS(fit(model("deepseek-v3.2-exp"), gpu("h200"), request), Error);
  request.options.engine_version = "";
  request.variant = Variant{VariantKind::gqa, 8, 128, 0, 0};
  CHECK_THROWS_AS(fit(model("deepseek-v3.2-exp"), gpu("h200"), request), Error);
}
