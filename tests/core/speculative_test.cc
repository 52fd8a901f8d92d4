// Speculative decoding in vLLM 0.33 (docs/engines.md, "Speculative decoding"). Each expected number
// is arithmetic written out here; the KV numbers were cross-checked by running vLLM 0.33.0's own
// planning code (get_global_kv_cache_groups, get_kv_cache_configs, get_kv_cache_capacity) and a
// real KVCacheManager.allocate_slots on CPU: tools/vllm-oracle/oracle_eagle.py, cases A1, B and C1,
// and tools/vllm-oracle/oracle_eagle_oss.py (gpt-oss with a one-layer EAGLE-3 draft), cases A and B.
#include <doctest/doctest.h>

#include <tuple>

#include "core/capacity.h"
#include "core/error.h"
#include "core/speculative.h"
#include "io/json_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

std::string draft_dir(const std::string& name) { return std::string(KVPLAN_SOURCE_DIR) + "/tests/data/configs/" + name; }

SpeculativeDecoding eagle3(const std::string& name, std::uint32_t k) {
  SpeculativeDecoding speculative = parse_speculative("eagle3:" + draft_dir(name));
  const std::string file = speculative.draft_path + "/config.json";
  speculative.draft = draft_shape_from_config(io::read_json(io::read_text_file(file, "draft"), file), SpeculativeMethod::eagle3);
  speculative.num_speculative_tokens = k;
  return speculative;
}

FitRequest with_draft(const char* target, std::uint64_t ctx, std::uint64_t kv_memory, std::uint32_t tp,
                      SpeculativeDecoding speculative) {
  FitRequest request = testing::request_for(model(target), ctx);
  request.parallel.tp = tp;
  request.options.kv_cache_memory = Bytes{kv_memory};
  request.speculative = std::move(speculative);
  return request;
}

}  // namespace

TEST_CASE("--speculative: the four methods, and what each takes") {
  CHECK(parse_speculative("eagle3:/d").method == SpeculativeMethod::eagle3);
  CHECK(parse_speculative("eagle3:/d").draft_path == "/d");
  CHECK(parse_speculative("eagle:/d").method == SpeculativeMethod::eagle);
  CHECK(parse_speculative("mtp").method == SpeculativeMethod::mtp);
  CHECK(parse_speculative("ngram").method == SpeculativeMethod::ngram);
  CHECK_THROWS_WITH_AS(parse_speculative("eagle3"), doctest::Contains("needs the draft's folder"), Error);
  CHECK_THROWS_WITH_AS(parse_speculative("eagle:"), doctest::Contains("needs the draft's folder"), Error);
  CHECK_THROWS_WITH_AS(parse_speculative("ngram:/d"), doctest::Contains("takes no PATH"), Error);
  CHECK_THROWS_WITH_AS(parse_speculative("medusa:/d"), doctest::Contains("expected eagle3:PATH"), Error);
}

TEST_CASE("lookahead: k slots for EAGLE, EAGLE-3 and MTP, none for n-gram (VllmConfig.num_lookahead_tokens)") {
  SpeculativeDecoding speculative;
  speculative.num_speculative_tokens = 4;
  for (SpeculativeMethod method : {SpeculativeMethod::eagle, SpeculativeMethod::eagle3, SpeculativeMethod::mtp}) {
    speculative.method = method;
    CHECK(lookahead_tokens(speculative) == 4);
  }
  speculative.method = SpeculativeMethod::ngram;
  CHECK(lookahead_tokens(speculative) == 0);
  CHECK(draft_cached_layers(speculative) == 0);  // n-gram drafting has no model, so no KV
}

TEST_CASE("Llama-3.1-70B + EAGLE-3 at TP 4, 32k, 40 GiB: the draft layer is an 81st layer in every block") {
  // Target: 80 layers, 8 K/V heads of 128 -> 2 per rank at TP 4: a page of 16 tokens x 2 heads x
  // 128 x 2 (K, V) x 2 B = 16384 B. The draft (SpecForge's llama3-70B EAGLE-3 config) has one
  // layer of 8 K/V heads of 128: the same page, so one group of 81 layers.
  // Block: 16384 x 81 = 1327104 B. 40 GiB = 42949672960 B -> floor(42949672960 / 1327104) = 32363
  // blocks (without the draft: / 1310720 = 32768). A request of 32768 tokens: 32768 / 16 = 2048
  // blocks, no more with 4 lookahead slots. 32363 / 2048 = 15.802...x; int(15.80224609375 x
  // 32768) = 517808 tokens. oracle_eagle.py A1: num_blocks 32363, 15.80x, 517,808 tokens.
  const FitRequest request = with_draft("llama-3.1-70b", 32768, 40ull << 30, 4, eagle3("llama3-70b-eagle3", 4));
  const FitResult result = fit(model("llama-3.1-70b"), gpu("h100-sxm"), request);
  CHECK(result.groups.size() == 1);
  CHECK(result.group_size == 81);
  CHECK(result.page_bytes.value == 16384);
  CHECK(result.stages[0].bytes_per_block.value == 1327104);
  CHECK(result.num_blocks == 32363);
  CHECK(result.blocks_per_request == 2048);
  CHECK(result.kv_tokens == 517808);
  CHECK(result.max_concurrency == doctest::Approx(32363.0 / 2048));
  FitRequest without = request;
  without.speculative = {};
  CHECK(fit(model("llama-3.1-70b"), gpu("h100-sxm"), without).num_blocks == 32768);
}

TEST_CASE("the EAGLE-3 draft's weights per rank, from its config.json") {
  // hidden 8192, 64 heads, 8 K/V heads of 128, intermediate 28672, draft vocabulary 32000; TP 4.
  //   qkv_proj  2 x 8192 inputs (layer 0 reads [embedding, hidden]) x (64/4 + 2 x 8/4) x 128 = 41943040
  //   o_proj    64/4 x 128 x 8192                                                          = 16777216
  //   MLP       3 x 8192 x 28672/4                                                         = 176160768
  //   norms     input, post-attention, hidden_norm: 3 x 8192                               = 24576
  //   fc        3 aux hidden states x 8192 x 8192, replicated                              = 201326592
  //   norm      8192                                                                       = 8192
  //   lm_head   32000 (a multiple of 64) / 4 x 8192                                        = 65536000
  //   total                                                                                  501776384
  // plus d2t, 32000 int64 = 256000 B; embed_tokens is the target's (not counted).
  const DraftWeights weights = draft_weights_per_rank(eagle3("llama3-70b-eagle3", 4), 4);
  CHECK(weights.params_per_rank == 501776384);
  CHECK(weights.extra_bytes_per_rank == 256000);
  // At TP 8 the 8 K/V heads give 1 per rank: qkv 16384 x (8 + 2) x 128 = 20971520, o 8388608,
  // MLP 88080384, lm_head 32768000, fc and norms as above: 20971520 + 8388608 + 88080384 + 24576 +
  // 201326592 + 8192 + 32768000 = 351567872.
  CHECK(draft_weights_per_rank(eagle3("llama3-70b-eagle3", 4), 8).params_per_rank == 351567872);
}

TEST_CASE("an EAGLE (1) draft's weights: no hidden_norm, no lm_head, fc of 2 x hidden") {
  // llama_eagle.py on the same shape, TP 4: qkv_proj 8192 x (16 + 4) x 128 = 20971520, o_proj
  // 16777216, MLP 176160768, layer 0's post-attention norm only (its input norm is dropped) 8192,
  // fc 2 x 8192 x 8192 = 134217728: 348135424; the target's lm_head and embedding serve it.
  SpeculativeDecoding eagle = eagle3("llama3-70b-eagle3", 3);
  eagle.method = SpeculativeMethod::eagle;
  CHECK(draft_weights_per_rank(eagle, 4).params_per_rank == 348135424);
  CHECK(draft_weights_per_rank(eagle, 4).extra_bytes_per_rank == 0);
}

TEST_CASE("without --kv-cache-memory the draft's weights come out of the KV budget") {
  // The same plan on vLLM's budget: the KV memory shrinks by exactly the draft's bytes,
  // 501776384 x 2 + 256000 = 1003808768 B.
  FitRequest request = with_draft("llama-3.1-70b", 32768, 0, 4, eagle3("llama3-70b-eagle3", 4));
  request.options.kv_cache_memory.reset();
  FitRequest without = request;
  without.speculative = {};
  const FitResult with_result = fit(model("llama-3.1-70b"), gpu("h100-sxm"), request);
  const FitResult without_result = fit(model("llama-3.1-70b"), gpu("h100-sxm"), without);
  CHECK(without_result.kv_budget.value - with_result.kv_budget.value == 1003808768);
  CHECK(with_result.stages[0].draft_weights.value == 1003808768);
}

TEST_CASE("Gemma-3-27B + EAGLE-3 at TP 2: the draft's full layer regroups the sliding layers") {
  // Gemma-3-27B: 52 sliding (window 1024) + 10 full layers, 16 K/V heads of 128 -> 8 per rank:
  // page 16 x 8 x 128 x 2 x 2 B = 65536 B. Alone: 7 groups of 10 (8 padding layers). With the
  // draft's full layer, 11 full layers: groups of 11 -> ceil(52 / 11) = 5 sliding groups + 1 full,
  // 55 - 52 = 3 padding layers. Block 65536 x 11 = 720896 B; 20 GiB / 720896 = 29789 blocks.
  // Per request: full ceil(32768 / 16) = 2048; sliding ceil(min(1023 + 2 x 8192, 32768) / 16) + 1 =
  // 1088 + 1 = 1089 each: 2048 + 5 x 1089 = 7493. 29789 / 7493 = 3.9756x; int(3.975577... x
  // 32768) = 130271 tokens. oracle_eagle.py C1: 6 groups of 11, 'Add 3 padding layers', 3.98x,
  // 130,271 tokens.
  const FitRequest request = with_draft("gemma-3-27b", 32768, 20ull << 30, 2, eagle3("gemma3-27b-eagle3", 4));
  const FitResult result = fit(model("gemma-3-27b"), gpu("h100-sxm"), request);
  CHECK(result.groups.size() == 6);
  CHECK(result.group_size == 11);
  CHECK(result.num_blocks == 29789);
  CHECK(result.blocks_per_request == 7493);
  CHECK(result.kv_tokens == 130271);
}

TEST_CASE("SpecForge's gpt-oss EAGLE-3 draft: model_type gpt_oss makes its one layer slide over 128 tokens") {
  // transformers' GptOssConfig fills layer_types ("sliding_attention" on even layers) and
  // sliding_window 128 when config.json leaves them out; LlamaAttention reads entry 24 - 24 = 0.
  // oracle_eagle_oss.py A: vLLM's loader gives layer_types ['sliding_attention'], sliding_window 128.
  const DraftShape draft = *eagle3("gpt-oss-20b-eagle3", 3).draft;
  REQUIRE(draft.layer_kinds.size() == 1);
  CHECK(draft.layer_kinds[0] == LayerAttention::sliding);
  CHECK(draft.sliding_window == 128);
  CHECK(draft.qkv_bias);  // GptOssConfig: attention_bias true
  CHECK(draft.o_bias);
  CHECK_FALSE(draft.mlp_bias);
  // The same draft as a llama config: no layer_types (LlamaConfig), so full attention, no biases.
  const DraftShape llama = draft_shape_from_config(
      io::read_json(R"({"architectures": ["LlamaForCausalLMEagle3"], "model_type": "llama", "num_hidden_layers": 1,
                        "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64, "hidden_size": 2880,
                        "intermediate_size": 17280, "vocab_size": 201088})",
                    "draft"),
      SpeculativeMethod::eagle3);
  CHECK(llama.layer_kinds == std::vector<LayerAttention>{LayerAttention::full});
  CHECK_FALSE(llama.qkv_bias);
}

TEST_CASE("gpt-oss-20b + its EAGLE-3 draft at TP 1, 128k, 40 GiB: 13 sliding + 12 full, one padding layer") {
  // gpt-oss-20b: 12 sliding (window 128) + 12 full layers, 8 K/V heads of 64: page 16 x 8 x 64 x 2
  // (K, V) x 2 B = 32768 B. The draft's sliding layer has the target's sliding spec, so it joins the
  // sliding kind: 13 sliding + 12 full. 13 < 1.5 x 12, so the group size is 13 (vLLM: "Add 1
  // padding layers"): 2 groups of 13, a block of 13 x 32768 = 425984 B.
  // floor(42949672960 / 425984) = 100824 blocks (alone: 12 x 32768 = 393216 B -> 109226).
  // Per request: full ceil(131072 / 16) = 8192; sliding ceil(min(127 + 2 x 8192, 131072) / 16) + 1 =
  // ceil(16511 / 16) + 1 = 1033: 9225. 100824 / 9225 = 10.929430...x; int(10.929430894308943 x
  // 131072) = 1432542 tokens. oracle_eagle_oss.py B (gpt-oss-20b TP1, sliding): 100824 blocks,
  // 10.93x, 1,432,542 tokens; without the draft 109226 blocks, 1,551,920 tokens.
  FitRequest request = with_draft("gpt-oss-20b", 131072, 40ull << 30, 1, eagle3("gpt-oss-20b-eagle3", 3));
  request.options.max_num_batched_tokens = 8192;
  const FitResult result = fit(model("gpt-oss-20b"), gpu("h200"), request);
  CHECK(result.groups.size() == 2);
  CHECK(result.group_size == 13);
  CHECK(result.page_bytes.value == 32768);
  CHECK(result.stages[0].bytes_per_block.value == 425984);
  CHECK(result.num_blocks == 100824);
  CHECK(result.blocks_per_request == 9225);
  CHECK(result.kv_tokens == 1432542);
  FitRequest without = request;
  without.speculative = {};
  const FitResult alone = fit(model("gpt-oss-20b"), gpu("h200"), without);
  CHECK(alone.num_blocks == 109226);
  CHECK(alone.kv_tokens == 1551920);
}

TEST_CASE("gpt-oss-120b + a one-layer sliding draft at TP 2 and TP 4: 19 sliding + 18 full") {
  // gpt-oss-120b: 18 sliding + 18 full, 8 K/V heads of 64. TP 2: 4 per rank, page 16384 B; the
  // draft makes 19 + 18, groups of 19 (one padding layer): block 19 x 16384 = 311296 B,
  // floor(42949672960 / 311296) = 137970 blocks; 9225 blocks per request as above; int(137970 /
  // 9225 x 131072) = 1960325 tokens. TP 4: 2 per rank, page 8192 B, block 155648 B, 275941 blocks,
  // 3920665 tokens. oracle_eagle_oss.py B: 137970 / 1,960,325 and 275941 / 3,920,665.
  // The draft's vocabulary and hidden size are gpt-oss's, shared by both targets.
  for (auto [tp, blocks, tokens] : {std::tuple{2u, 137970ull, 1960325ull}, std::tuple{4u, 275941ull, 3920665ull}}) {
    CAPTURE(tp);
    FitRequest request = with_draft("gpt-oss-120b", 131072, 40ull << 30, tp, eagle3("gpt-oss-20b-eagle3", 3));
    request.options.max_num_batched_tokens = 8192;
    // The weights only have to fit beside the given 40 GiB: about 4.25 bits per parameter (MXFP4).
    request.weights_dtype = "mxfp4";
    request.weight_bytes_per_param = 0.53125;
    const FitResult result = fit(model("gpt-oss-120b"), gpu("h200"), request);
    CHECK(result.group_size == 19);
    CHECK(result.num_blocks == blocks);
    CHECK(result.kv_tokens == tokens);
  }
}

TEST_CASE("the gpt-oss EAGLE-3 draft's weights: attention biases from GptOssConfig, a 32000-row lm_head") {
  // hidden 2880, 64 heads, 8 K/V heads of 64, intermediate 17280, draft vocabulary 32000; TP 1.
  //   qkv_proj  2 x 2880 x (64 + 2 x 8) x 64 = 5760 x 5120                 = 29491200
  //   qkv bias  5120                                                        = 5120
  //   o_proj    64 x 64 x 2880                                              = 11796480
  //   o bias    2880                                                        = 2880
  //   MLP       3 x 2880 x 17280 (no mlp_bias)                              = 149299200
  //   norms     input, post-attention, hidden_norm: 3 x 2880                = 8640
  //   fc        3 aux hidden states x 2880 x 2880                          = 24883200
  //   norm      2880                                                        = 2880
  //   lm_head   32000 (500 x 64) x 2880                                     = 92160000
  //   total                                                                   307649600
  // plus d2t, 32000 x 8 B = 256000 B (32000 is not the target's 201088).
  const DraftWeights weights = draft_weights_per_rank(eagle3("gpt-oss-20b-eagle3", 3), 1);
  CHECK(weights.params_per_rank == 307649600);
  CHECK(weights.extra_bytes_per_rank == 256000);
  // TP 4: qkv 5760 x (16 + 2 x 2) x 64 = 7372800, its bias 1280, o_proj 16 x 64 x 2880 = 2949120,
  // o bias 2880 (whole), MLP 3 x 2880 x 4320 = 37324800, lm_head 8000 x 2880 = 23040000, norms,
  // fc and the final norm as above: 7372800 + 1280 + 2949120 + 2880 + 37324800 + 8640 + 24883200 +
  // 2880 + 23040000 = 95585600.
  CHECK(draft_weights_per_rank(eagle3("gpt-oss-20b-eagle3", 3), 4).params_per_rank == 95585600);
}

TEST_CASE("drafts vLLM would refuse, or kvplan does not plan") {
  DraftShape draft = *eagle3("llama3-70b-eagle3", 4).draft;
  const ModelShape llama = model("llama-3.1-70b");
  draft.vocab_size = 32000;
  CHECK_THROWS_WITH_AS(check_draft_fits_target(draft, llama, "d"), doctest::Contains("vocab_size 32000 is not"), Error);
  draft = *eagle3("llama3-70b-eagle3", 4).draft;
  draft.target_hidden_size = 4096;
  CHECK_THROWS_WITH_AS(check_draft_fits_target(draft, llama, "d"), doctest::Contains("hidden_size is 8192"), Error);
  draft = *eagle3("llama3-70b-eagle3", 4).draft;
  draft.num_key_value_heads = 4;
  CHECK_THROWS_WITH_AS(check_draft_fits_target(draft, llama, "d"), doctest::Contains("page equals the target's"), Error);
  // A sliding draft layer beside a target without sliding layers, or with another window.
  DraftShape sliding = *eagle3("gpt-oss-20b-eagle3", 3).draft;
  sliding.sliding_window = 4096;
  CHECK_THROWS_WITH_AS(check_draft_fits_target(sliding, model("gpt-oss-20b"), "d"),
                       doctest::Contains("window is 128"), Error);
  // vLLM 0.19's rules are not followed for drafts; nor PP.
  FitRequest request = with_draft("llama-3.1-70b", 32768, 40ull << 30, 4, eagle3("llama3-70b-eagle3", 4));
  request.options.engine_version = "0.19";
  CHECK_THROWS_WITH_AS(fit(llama, gpu("h100-sxm"), request), doctest::Contains("vLLM 0.33's speculative"), Error);
  request.options.engine_version = "";
  request.parallel.pp = 2;
  CHECK_THROWS_WITH_AS(fit(llama, gpu("h100-sxm"), request), doctest::Contains("with PP"), Error);
}
