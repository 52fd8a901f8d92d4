// Llama-4 in SGLang 0.5.23 (core/sglang_swa.cc): configs/model_config.py:is_hybrid_swa_model lists
// Llama4ForConditionalGeneration, get_hybrid_layer_ids puts every 4th layer in the full pool and the
// others in the SWA pool, and the runner's window is attention_chunk_size
// (load_model_utils.py:resolve_sliding_window_size). A text-only Llama4ForCausalLM is not listed and
// has one plain pool. Expected numbers are arithmetic written out here; the token counts are what
// SGLang 0.5.23's own HybridSWAPoolConfigurator returned for the same geometry and byte budget
// (tools/sglang-oracle/hybrid_swa_pool.py, torch on a CPU).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "report/sglang_lines.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

TEST_CASE("SGLang, Llama-4-Scout at TP 8 on H100s: 12 full layers, 36 chunked layers in the SWA pool") {
  const ModelShape scout = model("llama-4-scout");
  const FitRequest request = sglang_pool_request(scout, 8);
  const FitResult result = fit(scout, gpu("h100-sxm"), request);
  CHECK(has_note(result, "SGLang fa3 attention"));  // model_overrides/llama4.py on sm90
  CHECK(result.block_size == 1);
  // 8 // 8 = 1 head x (128 + 128) x 2 B = 512 B on either kind. cell = 512 x 12 + 0.8 x 512 x 36 =
  // 20889.6 B; 42949672960 // 20889.6 = 2056031 full tokens, int(2056031 x 0.8) = 1644824 SWA tokens.
  REQUIRE(result.token_pools.size() == 2);
  CHECK(result.token_pools[0].layers == 12);
  CHECK(result.token_pools[1].layers == 36);
  CHECK(result.token_pools[0].tokens == 2056031);
  CHECK(result.token_pools[1].tokens == 1644824);
  // The chunked layers hold at most a window of attention_chunk_size 8192 tokens: 8192 pages of 1.
  REQUIRE(result.groups.size() == 2);
  CHECK(result.groups[1].attention == LayerAttention::chunked);
  CHECK(result.groups[1].blocks_per_request == 8192);
  CHECK(report::sglang_tokens_rule(request, result) ==
        "floor(40.00 GiB / (512 B x 12 full layers + 0.8 x 512 B x 36 chunked layers))");
}

TEST_CASE("SGLang, Llama-4-Scout on B200s: trtllm_mha with pages of 64, and triton on an A100") {
  const ModelShape scout = model("llama-4-scout");
  const FitResult b200 = fit(scout, gpu("b200"), sglang_pool_request(scout, 4));
  CHECK(has_note(b200, "SGLang trtllm_mha attention"));
  // 2 heads x 256 x 2 B = 1024 B: cell = 1024 x 12 + 0.8 x 1024 x 36 = 41779.2 B; 42949672960 // 41779.2 =
  // 1028015, down to pages of 64: 1027968; int(1027968 x 0.8) = 822374, down to 822336.
  CHECK(b200.token_pools[0].tokens == 1027968);
  CHECK(b200.token_pools[1].tokens == 822336);
  const FitResult a100 = fit(scout, gpu("a100-80gb"), sglang_pool_request(scout, 8));
  CHECK(has_note(a100, "SGLang triton attention"));
}

TEST_CASE("SGLang, Llama-4 as a text-only Llama4ForCausalLM: one pool, every layer full-length") {
  ModelShape text_only = model("llama-4-scout");
  text_only.multimodal.reset();  // a llama4_text config.json of its own
  const FitResult result = fit(text_only, gpu("h100-sxm"), sglang_pool_request(text_only, 8));
  // 512 B x 48 layers = 24576 B per token: 42949672960 // 24576 = 1747626 tokens.
  REQUIRE(result.token_pools.size() == 1);
  CHECK(result.token_pools[0].layers == 48);
  CHECK(result.kv_tokens == 1747626);
  CHECK(has_note(result, "SGLang gives chunked-attention layers full-length slots"));
}

TEST_CASE("SGLang, Llama-4: the SWA pool must hold a chunk and a page, and a null chunk size is refused") {
  const ModelShape scout = model("llama-4-scout");
  // 213951284 B // 20889.6 = 10242 full tokens, int(10242 x 0.8) = 8193 SWA tokens <= 8192 + 1: SGLang
  // refuses to start (validate_swa_pool_size).
  CHECK_THROWS_WITH_AS(fit(scout, gpu("h100-sxm"), sglang_pool_request(scout, 8, KvDtype::bf16, 213951284)),
                       doctest::Contains("sliding_window_size (8192) + page_size (1)"), Error);
  // 213972173 B // 20889.6 = 10243, int(10243 x 0.8) = 8194 SWA tokens: it starts.
  const FitRequest starts = sglang_pool_request(scout, 8, KvDtype::bf16, 213972173);
  CHECK(fit(scout, gpu("h100-sxm"), starts).token_pools[1].tokens == 8194);
  // attention_chunk_size null: every layer global in the config, but SGLang still splits them 3:1
  // into an SWA pool that has no window.
  ModelShape no_chunks = scout;
  no_chunks.attention_chunk_size.reset();
  no_chunks.layer_attention.assign(no_chunks.num_hidden_layers, LayerAttention::full);
  CHECK_THROWS_WITH_AS(fit(no_chunks, gpu("h100-sxm"), sglang_pool_request(no_chunks, 8)),
                       doctest::Contains("attention_chunk_size is null"), Error);
  FitRequest older = sglang_pool_request(scout, 8);
  older.options.engine_version = "0.5.19";
  CHECK_THROWS_WITH_AS(fit(scout, gpu("h100-sxm"), older), doctest::Contains("not their chunked-attention layers"), Error);
}
