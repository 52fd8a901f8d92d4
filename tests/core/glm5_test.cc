// GLM-5 (glm_moe_dsa): vLLM 0.33 serves it with DeepSeek-V3.2's sparse MLA code
// (models/deepseek_v32/__init__.py), so every layer caches the MLA latent and, where it builds one, the
// lightning indexer's key (docs/engines.md, "Sparse MLA"). The configs are tests/data/configs/glm-5 and
// glm-5.2 (zai-org's config.json as ai-dynamo/aiconfigurator copies them; GLM-5.2 builds the indexer on
// 21 of its layers only). Each expected number is
// arithmetic written out here; the fit numbers were cross-checked by running vLLM 0.33.0's own
// MLAAttention / DeepseekV32IndexerCache specs, GlmMoeDsaForCausalLM.verify_and_update_config and
// get_kv_cache_configs on a CPU (tools/vllm-oracle/oracle_glm5.py), which printed the same blocks
// and tokens.
#include <doctest/doctest.h>


#include "core/capacity.h"
#include "core/error.h"
#include "core/kv_size.h"
#include "core/params.h"
#include "presets_fixture.h"
#include "sparse_mla_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

TEST_CASE("GLM-5's config.json: sparse MLA with an indexer on each of its 78 layers") {
  const ModelShape shape = config_shape("glm-5");
  CHECK(shape.model_type == "glm_moe_dsa");
  CHECK(shape.num_hidden_layers == 78);
  REQUIRE(shape.mla);
  CHECK(shape.mla->kv_lora_rank == 512);
  CHECK(shape.mla->qk_rope_head_dim == 64);
  REQUIRE(shape.indexer);
  CHECK(shape.indexer->index_head_dim == 128);
  CHECK(shape.indexer->index_n_heads == 32);
  CHECK(shape.num_nextn_predict_layers == 1);
  // head_dim 64 is not MLA's: the counterfactuals use v_head_dim.
  CHECK(shape.head_dim == 256);
  REQUIRE(shape.moe);
  CHECK(shape.moe->moe_layers == 78 - 3);  // first_k_dense_replace 3, moe_layer_freq 1

  SizeRequest request;
  request.ctx = Tokens{131072};
  SizeReport report = compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request);
  // (512 + 64) x 2 B + (128 + 128 / 128 x 4) B = 1152 + 132 = 1284 B per token per layer; x 78 x 131072.
  CHECK(report.variants.front().token_layer.total() == 1284);
  CHECK(report.variants.front().per_sequence.value == 1284ull * 78 * 131072);
}

TEST_CASE("GLM-5's parameter estimate from config.json equals transformers' meta-device count") {
  // transformers 5.20.2's GlmMoeDsaForCausalLM built from this config on the meta device: 743911199232
  // parameters. The estimate's parts: per layer MLA (q_a 6144 x 2048 + 2048, q_b 2048 x 64 x 256, kv_a
  // 6144 x 576 + 512, kv_b 512 x 64 x 448, o 64 x 256 x 6144) and the indexer (wq_b 2048 x 32 x 128, wk
  // 6144 x 128, k_norm 2 x 128, weights_proj 6144 x 32); 3 dense MLPs of 12288; 75 MoE layers of 257
  // experts of 3 x 6144 x 2048 and a 256 x 6144 router; embeddings and lm_head 154880 x 6144 each; norms.
  // The MoE router's e_score_correction_bias (75 x 256 = 19200) is the only tensor it leaves out, and
  // the meta count does not hold it as a parameter either.
  const ModelShape shape = config_shape("glm-5");
  CHECK(estimate_params(shape, shape.tie_word_embeddings).total == 743911199232ull);
}

TEST_CASE("GLM-5 preset: the config's shape and the meta-device parameter count") {
  const ModelShape& shape = model("glm-5");
  CHECK(shape.indexer);
  REQUIRE(shape.params_total);
  // 743911199232 total; active = total - 75 MoE layers x 248 idle experts x 3 x 6144 x 2048.
  CHECK(*shape.params_active == 743911199232ull - 75ull * 248 * 3 * 6144 * 2048);
  CHECK(&registry().model("glm-5.1").shape == &registry().model("glm-5").shape);
}

TEST_CASE("vLLM 0.33, GLM-5 on 8 H200s: one group of 78 latent and 78 indexer pages") {
  // bf16: 64 x (1152 + 132) = 82176 B per layer; x 78 = 6409728 B per block;
  // 42949672960 / 6409728 = 6700 blocks; cdiv(131072, 64) = 2048 per request; 6700 x 64 tokens.
  FitResult bf16 = fit(model("glm-5"), gpu("h200"), sparse_request("glm-5", 131072, KvDtype::bf16));
  CHECK(bf16.attention_backend == "FLASH_ATTN_MLA_SPARSE");
  CHECK(bf16.block_size == 64);
  CHECK(bf16.num_blocks == 6700);
  CHECK(bf16.kv_tokens == 428800);  // oracle: "GPU KV cache size: 428,800 tokens ... 3.27x"
  // fp8 on Hopper becomes fp8_ds_mla: 64 x (656 + 132) = 50432 B; x 78 = 3933696 B; 10918 blocks.
  FitResult fp8 = fit(model("glm-5"), gpu("h200"), sparse_request("glm-5", 131072, KvDtype::fp8_e4m3));
  CHECK(fp8.kv_cache_dtype == KvDtype::fp8_ds_mla);
  CHECK(fp8.num_blocks == 10918);
  CHECK(fp8.kv_tokens == 698752);  // 10918 x 64
  // The MTP layer (--mtp) adds a latent and an indexer: 79 x 50432 = 3984128 B; 10780 blocks.
  FitRequest mtp = sparse_request("glm-5", 131072, KvDtype::fp8_e4m3);
  mtp.include_mtp = true;
  CHECK(fit(model("glm-5"), gpu("h200"), mtp).num_blocks == 10780);
}

TEST_CASE("vLLM 0.33, GLM-5 on 8 B200s: the default cache becomes fp8 (GlmMoeDsaForCausalLM), 576 B latents") {
  // verify_and_update_config turns "auto" into fp8_e4m3 on SM 10.x; FlashInfer's sparse kernel keeps
  // it plain: 64 x (576 + 132) = 45312 B per layer; x 78 = 3534336 B; 42949672960 / 3534336 = 12152.
  FitResult served = fit(model("glm-5"), gpu("b200"), sparse_request("glm-5", 131072, KvDtype::bf16));
  CHECK(served.kv_cache_dtype == KvDtype::fp8_e4m3);
  CHECK(served.attention_backend == "FLASHINFER_MLA_SPARSE");
  CHECK(served.num_blocks == 12152);
  CHECK(served.kv_tokens == 777728);  // oracle: 777,728 tokens, 5.93x
  // DeepSeek-V3.2's own class keeps the default bf16 on Blackwell.
  FitRequest v32 = sparse_request("glm-5", 131072, KvDtype::bf16);
  v32.variant = native_variant(model("deepseek-v3.2"));
  CHECK(fit(model("deepseek-v3.2"), gpu("b200"), v32).kv_cache_dtype == KvDtype::bf16);
}

// GLM-5.2: DeepseekV32Attention skips the indexer where max(layer - 3 + 1, 0) % 4 != 0
// (index_skip_topk_offset 3, index_topk_freq 4): layers 0, 1, 2 and 6, 10, ..., 74 keep one,
// 3 + (74 - 6) / 4 + 1 = 21 of 78; the other 57 cache no key.
TEST_CASE("GLM-5.2's config: an indexer key on 21 of the 78 layers") {
  const ModelShape shape = config_shape("glm-5.2");
  REQUIRE(shape.indexer);
  CHECK(shape.indexer->keyless_layers.size() == 57);
  CHECK(shape.indexer->key_layers(78, 0) == 21);
  CHECK(shape.indexer->key_layers(78, 1) == 22);  // an MTP layer always builds one
  for (std::uint32_t layer : {0u, 1u, 2u, 6u, 10u, 74u}) CHECK(shape.indexer->has_key(layer));
  for (std::uint32_t layer : {3u, 4u, 5u, 7u, 73u, 75u, 77u}) CHECK_FALSE(shape.indexer->has_key(layer));

  SizeRequest request;
  request.ctx = Tokens{131072};
  SizeReport report = compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request);
  const VariantSize& native = report.variants.front();
  // The latent alone per token per layer: (512 + 64) x 2 B = 1152 B; per token 78 x 1152 + 21 x 132 =
  // 89856 + 2772 = 92628 B; per sequence x 131072.
  CHECK(native.token_layer.total() == 1152);
  CHECK(native.per_token.value == 92628);
  CHECK(native.per_sequence.value == 92628ull * 131072);
  // With the MTP layer: its latent and key, 1152 + 132 = 1284 B more per token.
  request.include_mtp = true;
  CHECK(compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request).variants.front().per_token.value ==
        92628 + 1284);
}

TEST_CASE("GLM-5.2's parameters: GLM-5's less the 57 indexers it does not build") {
  // One indexer: wq_b 2048 x 32 x 128 = 8388608, wk 6144 x 128 = 786432, weights_proj 6144 x 32 = 196608,
  // k_norm 2 x 128 = 256: 9371904; 743911199232 - 57 x 9371904 = 743377000704, transformers 5.20.2's
  // meta-device count of GlmMoeDsaForCausalLM built from this config (tools/vllm-oracle/count_params_hf.py).
  const ModelShape shape = config_shape("glm-5.2");
  CHECK(estimate_params(shape, shape.tie_word_embeddings).total == 743911199232ull - 57ull * 9371904);
  CHECK(*model("glm-5.2").params_total == 743377000704ull);
}

TEST_CASE("vLLM 0.33, GLM-5.2 on 8 H200s and B200s: 78 latent pages and 21 key pages per block") {
  // bf16: 78 x 64 x 1152 + 21 x 64 x 132 = 5750784 + 177408 = 5928192 B per block;
  // 42949672960 / 5928192 = 7244 blocks; 2048 per request; 7244 x 64 = 463616 tokens.
  FitResult bf16 = fit(model("glm-5.2"), gpu("h200"), sparse_request("glm-5.2", 131072, KvDtype::bf16));
  CHECK(bf16.page_bytes.value == 73728);
  CHECK(bf16.indexer_page_bytes.value == 8448);
  CHECK(bf16.stages.front().indexer_keys == 21);
  CHECK(bf16.stages.front().bytes_per_block.value == 5928192);
  CHECK(bf16.num_blocks == 7244);
  CHECK(bf16.kv_tokens == 463616);  // oracle: "GPU KV cache size: 463,616 tokens ... 3.54x"
  // fp8 on Hopper, fp8_ds_mla: 78 x 64 x 656 + 177408 = 3274752 + 177408 = 3452160 B; 12441 blocks.
  FitResult fp8 = fit(model("glm-5.2"), gpu("h200"), sparse_request("glm-5.2", 131072, KvDtype::fp8_e4m3));
  CHECK(fp8.num_blocks == 12441);
  CHECK(fp8.kv_tokens == 796224);  // 12441 x 64
  // --mtp: 79 latents and 22 keys: 79 x 41984 + 22 x 8448 = 3316736 + 185856 = 3502592 B; 12262 blocks.
  FitRequest mtp = sparse_request("glm-5.2", 131072, KvDtype::fp8_e4m3);
  mtp.include_mtp = true;
  FitResult with_mtp = fit(model("glm-5.2"), gpu("h200"), mtp);
  CHECK(with_mtp.num_blocks == 12262);
  CHECK(with_mtp.kv_tokens == 784768);
  // B200: the default cache becomes fp8_e4m3, 576 B latents: 78 x 36864 + 177408 = 3052800 B; 14068 blocks.
  FitResult b200 = fit(model("glm-5.2"), gpu("b200"), sparse_request("glm-5.2", 131072, KvDtype::bf16));
  CHECK(b200.num_blocks == 14068);
  CHECK(b200.kv_tokens == 900352);  // oracle: 900,352 tokens, 6.87x
}

TEST_CASE("vLLM 0.33, GLM-5.2 under PP 2: each stage's block holds the keys of its own layers") {
  // get_pp_indices: layers 0-38 and 39-77. Keys on stage 0: 0, 1, 2, 6, ..., 38 = 3 + 9 = 12; on
  // stage 1: 42, ..., 74 = 9. Blocks (bf16): 39 x 73728 + 12 x 8448 = 2875392 + 101376 = 2976768 B and
  // 2875392 + 76032 = 2951424 B; 42949672960 / 2976768 = 14428, / 2951424 = 14552: stage 0 binds.
  // Arithmetic only: the oracle planned PP 1.
  FitResult pp = fit(model("glm-5.2"), gpu("h200"), sparse_request("glm-5.2", 131072, KvDtype::bf16, 2));
  REQUIRE(pp.stages.size() == 2);
  CHECK(pp.stages[0].indexer_keys == 12);
  CHECK(pp.stages[1].indexer_keys == 9);
  CHECK(pp.stages[0].bytes_per_block.value == 2976768);
  CHECK(pp.stages[1].bytes_per_block.value == 2951424);
  CHECK(pp.binding_stage == 0);
  CHECK(pp.num_blocks == 14428);
}
