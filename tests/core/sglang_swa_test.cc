// SGLang 0.5.23's hybrid SWA pool beyond gpt-oss (core/sglang_swa.cc): MiMo-V2-Flash, whose full and
// sliding layers cache their own K/V heads with keys of 192 and values of 128, and Step-3.7-Flash,
// whose Step3p5 / Step3p7 architectures SGLang lists among its hybrid SWA models
// (configs/model_config.py:is_hybrid_swa_model). Expected numbers are arithmetic written out here;
// the token counts are what SGLang 0.5.23's own HybridSWAPoolConfigurator returned for the same
// geometry and byte budget (tools/sglang-oracle/hybrid_swa_pool.py, torch on a CPU).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/params.h"
#include "io/json_reader.h"
#include "report/fit_document.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// The config's shape with a parameter count small enough for any GPU: these cases pin the pool,
// given 40 GiB of it (sglang_pool_request).
ModelShape small(const char* folder) {
  ModelShape shape = config_shape(folder);
  shape.params_total = 10'000'000'000;
  return shape;
}

}  // namespace

TEST_CASE("SGLang, MiMo-V2-Flash at TP 8 on H200s: one head per rank on both kinds, K 192 and V 128 rows") {
  const ModelShape shape = small("mimo-v2-flash");
  const FitRequest request = sglang_pool_request(shape, 8);
  const FitResult result = fit(shape, gpu("h200"), request);
  CHECK(has_note(result, "SGLang fa3 attention"));  // Hopper's default for MHA, which carries v_head_dim; pages of 1
  CHECK(result.block_size == 1);
  // max(1, 4 // 8) = max(1, 8 // 8) = 1 head x (192 + 128) x 2 B = 640 B on either kind. cell = 640 x 9 full
  // + 0.8 x 640 x 39 sliding = 25728 B; 42949672960 // 25728 = 1669374 full tokens; int(x 0.8) = 1335499.
  REQUIRE(result.token_pools.size() == 2);
  CHECK(result.token_pools[0].tokens == 1669374);
  CHECK(result.token_pools[1].tokens == 1335499);
  CHECK(result.kv_tokens == 1669374);
  // Each pool allocates tokens + 1 page: Full (1669375) x 9 layers x 192 x 2 B = 5.37 x 2^30 B of K and
  // x 128 x 2 B = 3.58 of V; SWA (1335500) x 39 x 384 B = 18.63, x 256 B = 12.42.
  const std::vector<std::string> lines = report::engine_log_lines(request, result);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "SGLang logs: \"Full KV Cache is allocated. dtype: torch.bfloat16, #tokens: 1669374, K size: 5.37 "
                    "GB, V size: 3.58 GB\"");
  CHECK(lines[1] == "SGLang logs: \"SWA KV Cache is allocated. dtype: torch.bfloat16, #tokens: 1335499, K size: 18.63 "
                    "GB, V size: 12.42 GB\"");
}

TEST_CASE("SGLang, MiMo-V2-Flash at TP 1: the full layers' 4 heads beside the sliding layers' 8") {
  const ModelShape shape = small("mimo-v2-flash");
  const FitResult result = fit(shape, gpu("h200"), sglang_pool_request(shape, 1));
  // full 4 x 320 x 2 B = 2560 B, sliding 8 x 320 x 2 B = 5120 B: cell = 2560 x 9 + 0.8 x 5120 x 39 = 182784 B;
  // 42949672960 // 182784 = 234975 full tokens, int(234975 x 0.8) = 187980 sliding.
  CHECK(result.token_pools[0].tokens == 234975);
  CHECK(result.token_pools[1].tokens == 187980);
  REQUIRE(result.full_token_layer_per_rank);
  CHECK(result.full_token_layer_per_rank->total() == 2560);
  CHECK(result.token_layer_per_rank.total() == 5120);
}

TEST_CASE("SGLang, MiMo-V2-Flash on B200s: fa4 with pages of 128 - Ampere takes triton for the sinks") {
  const ModelShape shape = small("mimo-v2-flash");
  const FitResult b200 = fit(shape, gpu("b200"), sglang_pool_request(shape, 8));
  // has_asymmetric_kv keeps trtllm_mha out (one width for K and V); fa4 takes pages of 128:
  // 1669374 down to 1669248 full tokens, int(1669248 x 0.8) = 1335398 down to 1335296.
  CHECK(b200.block_size == 128);
  CHECK(b200.token_pools[0].tokens == 1669248);
  CHECK(b200.token_pools[1].tokens == 1335296);
  CHECK(has_note(b200, "SGLang fa4 attention"));
  const FitResult a100 = fit(shape, gpu("a100-80gb"), sglang_pool_request(shape, 8));
  CHECK(has_note(a100, "SGLang triton attention"));  // FlashInfer has no attention sinks
  FitRequest trtllm = sglang_pool_request(shape, 8);
  trtllm.options.engine = Engine::trtllm;
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), trtllm), doctest::Contains("with vLLM and SGLang only"), Error);
  FitRequest mha = sglang_pool_request(shape, 8);  // a counterfactual has no per-kind heads to plan
  mha.variant = Variant{VariantKind::mha, 64, 192, 0, 0, 128};
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), mha), doctest::Contains("fit plans the model's own attention"), Error);
  CHECK_THROWS_WITH_AS(fit(shape, gpu("mi300x"), sglang_pool_request(shape, 8)),
                       doctest::Contains("kvplan does not model SGLang's ROCm backends for keys and values"), Error);
}

TEST_CASE("SGLang plans per-kind heads in its hybrid SWA pool only: a MiMo-V2 config without sliding layers") {
  // HybridSWAPoolConfigurator asserts at least one SWA layer, so SGLang does not start such a model; kvplan
  // refuses it rather than price every layer at the sliding layers' heads.
  ModelShape shape = shape_from_hf_config(io::read_json(
      R"({"model_type": "mimo_v2_flash", "num_hidden_layers": 2, "hidden_size": 512, "num_attention_heads": 8,
          "num_key_value_heads": 2, "head_dim": 64, "v_head_dim": 32, "swa_num_attention_heads": 8,
          "swa_num_key_value_heads": 4, "swa_head_dim": 64, "swa_v_head_dim": 32, "sliding_window_size": 16,
          "vocab_size": 1000, "intermediate_size": 1024, "hybrid_layer_pattern": [0, 0]})",
      "config.json"));
  shape.params_total = 1'000'000;
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), sglang_pool_request(shape, 1)),
                       doctest::Contains("Hybrid SWA model must have at least one SWA layer"), Error);
}

TEST_CASE("SGLang, Step-3.7-Flash: a hybrid SWA model, its sliding layers in the 0.8 x pool") {
  ModelShape shape = small("step-3.7-flash");
  const FitResult result = fit(shape, gpu("h200"), sglang_pool_request(shape, 8));
  // 1 head x 128 x 2 x 2 B = 512 B per layer: cell = 512 x 12 full + 0.8 x 512 x 33 sliding = 19660.8 B;
  // 42949672960 // 19660.8 = 2184533 full tokens, int(x 0.8) = 1747626 sliding.
  REQUIRE(result.token_pools.size() == 2);
  CHECK(result.token_pools[0].tokens == 2184533);
  CHECK(result.token_pools[1].tokens == 1747626);
}
