// GLM-5 (glm_moe_dsa): vLLM 0.33 serves it with DeepSeek-V3.2's sparse MLA code
// (models/deepseek_v32/__init__.py), so every layer caches the MLA latent and the lightning
// indexer's key (docs/engines.md, "Sparse MLA"). The configs are tests/data/configs/glm-5 and
// glm-5.2 (zai-org's config.json as ai-dynamo/aiconfigurator copies them). Each expected number is
// arithmetic written out here; the fit numbers were cross-checked by running vLLM 0.33.0's own
// MLAAttention / DeepseekV32IndexerCache specs, GlmMoeDsaForCausalLM.verify_and_update_config and
// get_kv_cache_configs on a CPU (tools/vllm-oracle/oracle_glm5.py), which printed the same blocks
// and tokens.
#include <doctest/doctest.h>

#include <string>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/kv_size.h"
#include "core/params.h"
#include "io/json_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

ModelShape config(const char* name) {
  const std::string path = std::string(KVPLAN_SOURCE_DIR "/tests/data/configs/") + name + "/config.json";
  return shape_from_hf_config(io::read_json(io::read_text_file(path, "--config"), path));
}

// TP 8, fp8 weights, 40 GiB of KV memory per GPU (vLLM's kv_cache_memory_bytes), 128k tokens.
FitRequest glm_request(KvDtype dtype) {
  FitRequest request = request_for(model("glm-5"), 131072, Parallelism{8, 1, 1});
  request.weight_bytes_per_param = 1;
  request.weights_dtype = "fp8";
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  return request;
}

}  // namespace

TEST_CASE("GLM-5's config.json: sparse MLA with an indexer on each of its 78 layers") {
  const ModelShape shape = config("glm-5");
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
  const ModelShape shape = config("glm-5");
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
  FitResult bf16 = fit(model("glm-5"), gpu("h200"), glm_request(KvDtype::bf16));
  CHECK(bf16.attention_backend == "FLASH_ATTN_MLA_SPARSE");
  CHECK(bf16.block_size == 64);
  CHECK(bf16.num_blocks == 6700);
  CHECK(bf16.kv_tokens == 428800);  // oracle: "GPU KV cache size: 428,800 tokens ... 3.27x"
  // fp8 on Hopper becomes fp8_ds_mla: 64 x (656 + 132) = 50432 B; x 78 = 3933696 B; 10918 blocks.
  FitResult fp8 = fit(model("glm-5"), gpu("h200"), glm_request(KvDtype::fp8_e4m3));
  CHECK(fp8.kv_cache_dtype == KvDtype::fp8_ds_mla);
  CHECK(fp8.num_blocks == 10918);
  CHECK(fp8.kv_tokens == 698752);  // 10918 x 64
  // The MTP layer (--mtp) adds a latent and an indexer: 79 x 50432 = 3984128 B; 10780 blocks.
  FitRequest mtp = glm_request(KvDtype::fp8_e4m3);
  mtp.include_mtp = true;
  CHECK(fit(model("glm-5"), gpu("h200"), mtp).num_blocks == 10780);
}

TEST_CASE("vLLM 0.33, GLM-5 on 8 B200s: the default cache becomes fp8 (GlmMoeDsaForCausalLM), 576 B latents") {
  // verify_and_update_config turns "auto" into fp8_e4m3 on SM 10.x; FlashInfer's sparse kernel keeps
  // it plain: 64 x (576 + 132) = 45312 B per layer; x 78 = 3534336 B; 42949672960 / 3534336 = 12152.
  FitResult served = fit(model("glm-5"), gpu("b200"), glm_request(KvDtype::bf16));
  CHECK(served.kv_cache_dtype == KvDtype::fp8_e4m3);
  CHECK(served.attention_backend == "FLASHINFER_MLA_SPARSE");
  CHECK(served.num_blocks == 12152);
  CHECK(served.kv_tokens == 777728);  // oracle: 777,728 tokens, 5.93x
  // DeepSeek-V3.2's own class keeps the default bf16 on Blackwell.
  FitRequest v32 = glm_request(KvDtype::bf16);
  v32.variant = native_variant(model("deepseek-v3.2"));
  CHECK(fit(model("deepseek-v3.2"), gpu("b200"), v32).kv_cache_dtype == KvDtype::bf16);
}

TEST_CASE("GLM-5.2's config: the indexer on 21 of 78 layers is refused, naming the field") {
  // DeepseekV32Attention: skip when max(layer - 3 + 1, 0) % 4 != 0 (index_skip_topk_offset 3,
  // index_topk_freq 4): layers 0, 1, 2 and 6, 10, ..., 74 keep one: 3 + (74 - 6) / 4 + 1 = 21.
  try {
    config("glm-5.2");
    FAIL("GLM-5.2 was not refused");
  } catch (const Error& error) {
    const std::string message = error.what();
    CHECK(message.find("index_topk_freq") != std::string::npos);
    CHECK(message.find("21 of the 78 layers") != std::string::npos);
    CHECK(message.find("3, 4, 5, 7, 8, 9, ...") != std::string::npos);
  }
}
