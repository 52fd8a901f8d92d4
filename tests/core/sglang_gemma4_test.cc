// Gemma-4 in SGLang 0.5.23's hybrid SWA pool (core/sglang_swa.cc): configs/model_config.py lists the
// Gemma4 architectures among its hybrid SWA models, and utils/hf_transformers/config.py:
// _apply_gemma4_attention_overrides turns transformers' per-layer shapes into one full-attention
// shape (num_global_key_value_heads x global_head_dim under attention_k_eq_v) and one sliding shape
// (num_key_value_heads x head_dim). K and V rows are both allocated, as in vLLM. Expected numbers are
// arithmetic written out here; the token counts are what SGLang 0.5.23's own
// HybridSWAPoolConfigurator returned for the same geometry and byte budget
// (tools/sglang-oracle/hybrid_swa_pool.py, torch on a CPU).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "io/json_reader.h"
#include "report/fit_document.h"
#include "report/sglang_lines.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// A parameter count small enough for the weights beside 40 GiB of pool: kvplan does not estimate
// Gemma-4's parameters from its config.
ModelShape gemma4_31b() {
  ModelShape shape = config_shape("gemma-4-31b-it");
  shape.params_total = 10'000'000'000;
  return shape;
}

}  // namespace

TEST_CASE("SGLang, Gemma-4-31B at TP 8 on H200s: triton, pages of 1, the global layers' one head replicated") {
  const ModelShape shape = gemma4_31b();
  const FitRequest request = sglang_pool_request(shape, 8);
  const FitResult result = fit(shape, gpu("h200"), request);
  // model_overrides/gemma4.py: triton off SM100; its default page size is 1.
  CHECK(has_note(result, "SGLang triton attention"));
  CHECK(result.block_size == 1);
  // full: max(1, 4 // 8) = 1 head x (512 + 512) x 2 B = 2048 B; sliding: 16 // 8 = 2 heads x (256 + 256)
  // x 2 B = 2048 B. cell = 2048 x 10 full + 0.8 x 2048 x 50 sliding = 102400 B; 42949672960 // 102400 =
  // 419430 full tokens, int(419430 x 0.8) = 335544 sliding.
  REQUIRE(result.token_pools.size() == 2);
  CHECK(result.token_pools[0].layers == 10);
  CHECK(result.token_pools[1].layers == 50);
  CHECK(result.token_pools[0].tokens == 419430);
  CHECK(result.token_pools[1].tokens == 335544);
  CHECK(result.kv_tokens == 419430);
  CHECK(report::sglang_tokens_rule(request, result) ==
        "floor(40.00 GiB / (2048 B x 10 full layers + 0.8 x 2048 B x 50 sliding layers))");
  // Each pool allocates tokens + 1 page: Full 419431 x 10 layers x 512 x 2 B = 4.00 x 2^30 B of K and as
  // much V; SWA 335545 x 50 x 2 x 256 x 2 B = 16.00 x 2^30 B each.
  const std::vector<std::string> lines = report::engine_log_lines(request, result);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "SGLang logs: \"Full KV Cache is allocated. dtype: torch.bfloat16, #tokens: 419430, K size: 4.00 "
                    "GB, V size: 4.00 GB\"");
  CHECK(lines[1] == "SGLang logs: \"SWA KV Cache is allocated. dtype: torch.bfloat16, #tokens: 335544, K size: 16.00 "
                    "GB, V size: 16.00 GB\"");
}

TEST_CASE("SGLang, Gemma-4-31B at TP 2: the global layers' 2 heads of 512 beside the sliding layers' 8 of 256") {
  const ModelShape shape = gemma4_31b();
  const FitResult result = fit(shape, gpu("h200"), sglang_pool_request(shape, 2));
  // full 2 x 1024 x 2 B = 4096 B, sliding 8 x 512 x 2 B = 8192 B: cell = 4096 x 10 + 0.8 x 8192 x 50 =
  // 368640 B; 42949672960 // 368640 = 116508 full tokens, int(116508 x 0.8) = 93206 sliding.
  CHECK(result.token_pools[0].tokens == 116508);
  CHECK(result.token_pools[1].tokens == 93206);
  REQUIRE(result.full_token_layer_per_rank);
  CHECK(result.full_token_layer_per_rank->total() == 4096);
  CHECK(result.token_layer_per_rank.total() == 8192);
}

TEST_CASE("SGLang, Gemma-4-31B on a B200: trtllm_mha with pages of 64") {
  const ModelShape shape = gemma4_31b();
  const FitRequest request = sglang_pool_request(shape, 1);
  const FitResult result = fit(shape, gpu("b200"), request);
  CHECK(has_note(result, "SGLang trtllm_mha attention"));
  CHECK(report::sglang_tokens_rule(request, result) ==
        "floor(40.00 GiB / (8192 B x 10 full layers + 0.8 x 16384 B x 50 sliding layers)), down to whole pages of 64");
  CHECK(result.block_size == 64);
  // full 4 x 1024 x 2 B = 8192 B, sliding 16 x 512 x 2 B = 16384 B: cell = 81920 + 0.8 x 16384 x 50 =
  // 737280 B; 42949672960 // 737280 = 58254, down to pages of 64: 58240; int(58240 x 0.8) = 46592 (728 pages).
  CHECK(result.token_pools[0].tokens == 58240);
  CHECK(result.token_pools[1].tokens == 46592);
}

TEST_CASE("SGLang, Gemma-4: an fp8 cache halves both kinds, and nvfp4 is refused on the hybrid SWA pool") {
  const ModelShape shape = gemma4_31b();
  const FitResult fp8 = fit(shape, gpu("h200"), sglang_pool_request(shape, 8, KvDtype::fp8_e4m3));
  // 1024 B per layer on either kind: cell = 1024 x 10 + 0.8 x 1024 x 50 = 51200 B; 42949672960 // 51200 =
  // 838860 full tokens, int(838860 x 0.8) = 671088.
  CHECK(fp8.token_pools[0].tokens == 838860);
  CHECK(fp8.token_pools[1].tokens == 671088);
  // HybridSWAPoolConfigurator prices float4_e2m1fn_x2 at 1 B per value and the pool has no FP4 scales.
  CHECK_THROWS_WITH_AS(fit(shape, gpu("b200"), sglang_pool_request(shape, 1, KvDtype::nvfp4)),
                       doctest::Contains("SGLang's hybrid SWA pool (gemma4_text) has no FP4 recipe"), Error);
  ModelShape gpt_oss = model("gpt-oss-120b");
  gpt_oss.params_total = 10'000'000'000;
  CHECK_THROWS_WITH_AS(fit(gpt_oss, gpu("b200"), sglang_pool_request(gpt_oss, 1, KvDtype::nvfp4)),
                       doctest::Contains("has no FP4 recipe"), Error);
}

TEST_CASE("SGLang, Gemma-4 with KV-shared layers: SGLang still gives them rows, by their layer_types") {
  // 7 layers, the last forced to full, the last 2 (one sliding, one full) reading earlier caches. vLLM caches
  // 2 full and 3 sliding layers; SGLang splits all 7 by layer_types (model_config.py:get_hybrid_layer_ids),
  // and RadixAttention of a shared layer reads an earlier layer's rows, leaving its own unused.
  ModelShape shape = shape_from_hf_config(io::read_json(R"({
    "model_type": "gemma4_text", "num_hidden_layers": 7, "num_attention_heads": 8, "num_key_value_heads": 2,
    "num_global_key_value_heads": 1, "head_dim": 256, "global_head_dim": 512, "sliding_window": 512,
    "num_kv_shared_layers": 2, "hidden_size": 1024, "vocab_size": 1000, "intermediate_size": 2048,
    "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "sliding_attention",
                    "full_attention", "sliding_attention", "sliding_attention"]})", "e2b.json"));
  shape.params_total = 1'000'000;
  CHECK(shape.layer_count(LayerAttention::none) == 2);
  const FitResult result = fit(shape, gpu("h200"), sglang_pool_request(shape, 1));
  REQUIRE(result.token_pools.size() == 2);
  CHECK(result.token_pools[0].layers == 3);
  CHECK(result.token_pools[1].layers == 4);
  // No attention_k_eq_v: the full layers keep 2 heads, at 512: 2 x 1024 x 2 B = 4096 B; sliding 2 x 512 x
  // 2 B = 2048 B. cell = 4096 x 3 + 0.8 x 2048 x 4 = 18841.6 B; 42949672960 // 18841.6 = 2279513 full
  // tokens, int(2279513 x 0.8) = 1823610 sliding.
  CHECK(result.token_pools[0].tokens == 2279513);
  CHECK(result.token_pools[1].tokens == 1823610);
}

TEST_CASE("SGLang's hybrid SWA models without a sliding layer are refused: the pool asserts one") {
  // global_head_dim equal to head_dim and no attention_k_eq_v: every layer has one shape, so without the
  // check this would be priced as a plain pool SGLang never builds.
  ModelShape shape = shape_from_hf_config(io::read_json(R"({
    "model_type": "gemma4_text", "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2,
    "head_dim": 256, "global_head_dim": 256, "hidden_size": 1024, "vocab_size": 1000, "intermediate_size": 2048,
    "layer_types": ["full_attention", "full_attention"]})", "all-full.json"));
  shape.params_total = 1'000'000;
  CHECK(shape.sliding_layer_count() == 0);
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), sglang_pool_request(shape, 1)),
                       doctest::Contains("Hybrid SWA model must have at least one SWA layer"), Error);
  FitRequest vllm = sglang_pool_request(shape, 1);
  vllm.options.engine = Engine::vllm;
  CHECK_NOTHROW(fit(shape, gpu("h200"), vllm));
}
