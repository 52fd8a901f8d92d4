// SGLang 0.5.23's KV pool rules (docs/engines-sglang.md), each pinned by arithmetic written out
// here from SGLang's own source. G is nvidia-smi's total in MiB; R the reserve of
// arg_groups/memory_hook.py:handle_gpu_memory_settings.
//
// Cross-checked: every mem_fraction_static, backend and page size below marked [oracle] is what
// SGLang 0.5.23's own ServerArgs.resolve_once() resolved on a CPU with a faked GPU (nvidia-smi
// total and platform facts overridden; the sglang wheel run as an oracle, not a dependency), and
// the hybrid SWA token counts are what its HybridSWAPoolConfigurator.calculate_pool_sizes returned
// for the same geometry and byte budget; the pool bytes what KVCacheConfigurator.
// _profile_available_bytes returned with its free-memory query faked.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/sglang_args.h"
#include "io/preset_registry.h"
#include "report/fit_document.h"
#include "presets_fixture.h"
#include "shapes.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {


FitRequest sglang_request(const ModelShape& shape, std::uint64_t ctx, Parallelism parallel = {}) {
  return request_for(shape, ctx, parallel, Engine::sglang);
}

// gpt-oss-120b's attention as its config.json states it: 36 layers alternating sliding (even) and
// full (odd), 8 K/V heads of 64, a 128-token window; model_type gpt_oss (GptOssForCausalLM).
ModelShape gpt_oss_shape() {
  ModelShape shape = testing::dense_shape(36, 64, 8, 64);
  shape.model_type = "gpt_oss";
  shape.sliding_window = 128;
  for (std::uint32_t layer = 0; layer < 36; layer += 2) shape.layer_attention[layer] = LayerAttention::sliding;
  shape.params_total = 116830000000;  // the model card's count; with mxfp4 experts, 60.77 GiB of weights
  return shape;
}

// gpt-oss-120b's weights as stored: 65.25e9 B over 116.83e9 parameters (tests/io/presets_test.cc).
constexpr double kGptOssBytesPerParam = (114661785600.0 * 0.53125 + (116830000000.0 - 114661785600.0) * 2) / 116830000000.0;

}  // namespace

TEST_CASE("SGLang: the prefill CUDA graph's captured sizes") {
  // 4..32 by 4 (8), 48..256 by 16 (14), 288..512 by 32 (8), 576..1024 by 64 (8), 1280..4096 by
  // 256 (12), then 4608.. by 512.
  CHECK(detail::prefill_graph_size_count(2048) == 8 + 14 + 8 + 8 + 4);   // 1280..2048: 4
  CHECK(detail::prefill_graph_size_count(4096) == 8 + 14 + 8 + 8 + 12);  // 50
  CHECK(detail::prefill_graph_size_count(8192) == 50 + 8);               // 4608..8192: 8
  CHECK(detail::prefill_graph_size_count(16384) == 50 + 24);             // 4608..16384: 24
}

TEST_CASE("SGLang: mem_fraction_static 0.830 for Llama-3.1-8B on one H100 (nvidia-smi's 81559 MiB)") {
  FitRequest request = sglang_request(model("llama-3.1-8b"), 8192);
  FitResult result = fit(model("llama-3.1-8b"), gpu("h100-sxm"), request);
  // H100 bucket (60 to 90 GiB): chunked_prefill_size 8192, decode max_bs 256 (TP < 4).
  // R = 512 + 1.5 x 8192 + 1 x 1 / 8 x 1024 + 2 x 256 + 8 x 58 prefill graph sizes = 13904 MiB;
  // round((81559 - 13904) / 81559, 3) = round(0.82952, 3) = 0.830, the value SGLang 0.5.23 itself
  // resolved on a CPU with a fake H100 (kvplan issue 17); the CUDA total (81090 MiB) gave 0.834.
  CHECK(result.mem_util == doctest::Approx(0.830));  // [oracle]
  CHECK(result.max_num_batched_tokens == 8192);
  CHECK(result.block_size == 1);  // fa3 on Hopper, page size 1 [oracle]
  // Pool = free after loading - free before x (1 - 0.83), free before = the CUDA total, in GiB
  // floats as SGLang computes it: int((68968374272 / 2^30 - 85028896768 / 2^30 x 0.17) x 2^30)
  // = 54513461821 B, one byte under the exact 85028896768 - 16060522496 - 14454912450.56 [oracle:
  // its _profile_available_bytes with the free-memory query faked].
  CHECK(result.kv_budget.value == 54513461821ull);
  // cell = 8 heads x 128 x 2 (K, V) x 2 B x 32 layers = 131072 B; floor(54513461822 / 131072).
  CHECK(result.kv_tokens == 415904);
  CHECK(result.requests_per_replica == 415904 / 8192);  // 50
}

TEST_CASE("SGLang with TP 8: each free-memory figure is the minimum over ranks, in float32") {
  FitRequest request = sglang_request(model("llama-3-70b"), 8192, {8, 1, 1});
  FitResult result = fit(model("llama-3-70b"), gpu("h100-sxm"), request);
  // R = 512 + 12288 + 1024 + 2 x 512 + 8 x 58 = 15312; round(66247 / 81559, 3) = 0.812.
  CHECK(result.mem_util == doctest::Approx(0.812));
  // Free after loading 85028896768 - 70553706496 x 2 / 8 = 67390470144 B = 8226375.75 float32 steps
  // of 8192 B, so it reaches SGLang as 67390472192; 85028896768 is exact in float32:
  // int((67390472192 / 2^30 - 85028896768 / 2^30 x 0.188) x 2^30) = 51405039599 B.
  CHECK(result.kv_budget.value == 51405039599ull);
  // cell = 1 K/V head per rank x 128 x 2 x 2 B x 80 layers = 40960 B.
  CHECK(result.kv_tokens == 51405039599ull / 40960);  // 1255005
}

TEST_CASE("SGLang: DeepSeek-V3 on 8 H200, MLA latent whole on every rank") {
  FitRequest request = sglang_request(model("deepseek-v3"), 65536, {8, 1, 1});
  request.weight_bytes_per_param = 1;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult result = fit(model("deepseek-v3"), gpu("h200"), request);
  // H200 bucket: chunked 8192, max_bs 512 (TP >= 4); the MLA prefill graph reserves 1536:
  // R = 512 + 12288 + 8 x 1 / 8 x 1024 + 2 x 512 + 1536 = 16384; round(127387 / 143771, 3) = 0.886.
  CHECK(result.mem_util == doctest::Approx(0.886));  // [oracle]
  // cell = (512 + 64) x 2 B x 61 layers = 70272 B, not divided by TP 8; page 1 (fa3).
  CHECK(result.kv_tokens == 40 * GiB / 70272);  // 611191
  CHECK(result.block_size == 1);
}

TEST_CASE("SGLang on B200: trtllm_mla and trtllm_mha pages of 64 tokens") {
  FitRequest request = sglang_request(model("deepseek-v3"), 65536, {8, 1, 1});
  request.weight_bytes_per_param = 1;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult mla = fit(model("deepseek-v3"), gpu("b200"), request);
  // DeepseekV3ForCausalLM on SM100 gets trtllm_mla, which sets page_size 64:
  // floor(40 GiB / 70272 B) = 611191, down to a multiple of 64 = 611136.
  CHECK(mla.block_size == 64);  // [oracle]
  CHECK(mla.kv_tokens == 611136);
  // B200 bucket (G = 183359 >= 160 GiB): chunked 16384, max_bs 512:
  // R = 512 + 24576 + 1024 + 1024 + 1536 = 28672; round(154687 / 183359, 3) = 0.844.
  CHECK(mla.mem_util == doctest::Approx(0.844));  // [oracle]
  // DeepSeek-V2 (DeepseekV2ForCausalLM) keeps flashinfer, page 1: R = 512 + 24576 + 128 + 1024 +
  // 1536 = 27776; round(155583 / 183359, 3) = 0.849.
  FitRequest lite = sglang_request(model("deepseek-v2-lite"), 32768);
  FitResult v2 = fit(model("deepseek-v2-lite"), gpu("b200"), lite);
  CHECK(v2.block_size == 1);                          // [oracle]
  CHECK(v2.mem_util == doctest::Approx(0.849));       // [oracle]

  FitRequest dense = sglang_request(model("llama-3.1-8b"), 8192);
  FitResult mha = fit(model("llama-3.1-8b"), gpu("b200"), dense);
  CHECK(mha.block_size == 64);  // trtllm_mha [oracle]
  // R = 512 + 24576 + 128 + 2 x 512 + 8 x 74 = 26832; round(156527 / 183359, 3) = 0.854.
  CHECK(mha.mem_util == doctest::Approx(0.854));  // [oracle]
  CHECK(mha.kv_tokens % 64 == 0);
}

TEST_CASE("SGLang buckets: RTX 4090 and MI300X") {
  // RTX 4090 (G = 24564): chunked 4096, max_bs 48; R = 512 + 6144 + 128 + 96 + 8 x 50 = 7280;
  // round(17284 / 24564, 3) = 0.704.
  FitRequest small = sglang_request(model("llama-3.1-8b"), 8192);
  small.weight_bytes_per_param = 1;
  CHECK(fit(model("llama-3.1-8b"), gpu("rtx-4090"), small).mem_util == doctest::Approx(0.704));  // [oracle]
  // MI300X: no nvidia-smi total, so G = 206141652992 B in whole MiB = 196592; no prefill graph
  // on ROCm; R = 512 + 1.5 x 16384 + 128 + 2 x 512 = 26240; round(170352 / 196592, 3) = 0.867.
  FitRequest amd = sglang_request(model("llama-3.1-8b"), 8192);
  CHECK(fit(model("llama-3.1-8b"), gpu("mi300x"), amd).mem_util == doctest::Approx(0.867));  // [oracle]
  // aiter with a context over 8192 tokens keeps 15% more: 0.867 x 0.85.
  amd.max_model_len = Tokens{32768};
  CHECK(fit(model("llama-3.1-8b"), gpu("mi300x"), amd).mem_util == doctest::Approx(0.867 * 0.85));  // [oracle]
}

TEST_CASE("SGLang --dp-attention: each rank its own pool, a larger reserve") {
  FitRequest request = sglang_request(model("deepseek-v3"), 32768, {8, 1, 1});
  request.weight_bytes_per_param = 1;
  // DeepSeek-V3's MLA projections per layer: q_a 1536 x 7168, q_b 128 x 192 x 1536, kv_a 576 x 7168,
  // kv_b 128 x 256 x 512, o 7168 x 128 x 128 = 187105280 params, x 61 layers, at 1 B.
  request.attention_weight_bytes = 61.0 * (1536 * 7168 + 128 * 192 * 1536 + 576 * 7168 + 128 * 256 * 512 + 7168 * 128 * 128);
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult plain = fit(model("deepseek-v3"), gpu("h200"), request);
  CHECK(weights_per_rank(model("deepseek-v3"), request).value == 671000000000 / 8);
  request.options.dp_attention = true;
  // Attention TP 1 under DP attention (SGLang's attn_tp group): the projections are whole on every
  // rank, the rest split over the 8 TP ranks.
  CHECK(weights_per_rank(model("deepseek-v3"), request).value == (671000000000 - 11413422080) / 8 + 11413422080);
  FitResult dp = fit(model("deepseek-v3"), gpu("h200"), request);
  // R gains max_bs x attn_dp x 3, and x 1.5 more above max_bs 300: 512 x 8 x 4.5 = 18432;
  // 16384 + 18432 = 34816; round(108955 / 143771, 3) = 0.758.
  CHECK(dp.mem_util == doctest::Approx(0.758));  // [oracle]
  CHECK(dp.kv_tokens == plain.kv_tokens);  // the same latent pool on every rank...
  CHECK(dp.requests_per_replica == 8 * (dp.kv_tokens / 32768));  // ...holding its own requests
  request.options.engine = Engine::vllm;  // vLLM has no such option
  CHECK_THROWS_AS(fit(model("deepseek-v3"), gpu("h200"), request), Error);

  // Non-MLA models take DP attention too; attention TP is then 1, so each rank caches all 4 K/V
  // heads of Qwen3-30B-A3B-like GQA: 4 x 128 x 2 x 2 B x 48 layers = 98304 B per token.
  ModelShape gqa = testing::dense_shape(48, 32, 4, 128);
  gqa.params_total = 30532122624;  // Qwen3-30B-A3B's count, for the weights check beside the KV memory
  FitRequest moe = sglang_request(gqa, 32768, {4, 1, 1});
  moe.options.kv_cache_memory = Bytes{40 * GiB};
  moe.options.dp_attention = true;
  moe.attention_weight_bytes = 48.0 * 2 * 2048 * (4096 + 512) * 2;  // q, o and k, v over hidden 2048, bf16
  FitResult moe_dp = fit(gqa, gpu("h200"), moe);
  CHECK(moe_dp.kv_tokens == 40 * GiB / 98304);
  CHECK(moe_dp.requests_per_replica == 4 * (40 * GiB / 98304 / 32768));
}

TEST_CASE("SGLang hybrid SWA pool (gpt-oss): full layers and 0.8 x as many sliding tokens") {
  ModelShape shape = gpt_oss_shape();
  FitRequest request = sglang_request(shape, 131072);
  request.weight_bytes_per_param = kGptOssBytesPerParam;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult result = fit(shape, gpu("h200"), request);  // 60.77 GiB of weights and 40 GiB of KV
  // Per layer and token: 8 x 64 x 2 x 2 B = 2048 B. cell = 2048 x 18 full layers + 0.8 x 2048 x 18
  // sliding layers = 66355.2 B; full tokens = 40 GiB // 66355.2 = 647269; SWA tokens =
  // int(647269 x 0.8) = 517815 [oracle].
  REQUIRE(result.token_pools.size() == 2);
  CHECK(result.token_pools[0].label == "Full");
  CHECK(result.token_pools[0].tokens == 647269);
  CHECK(result.token_pools[0].layers == 18);
  CHECK(result.token_pools[1].label == "SWA");
  CHECK(result.token_pools[1].tokens == 517815);
  CHECK(result.kv_tokens == 647269);
  CHECK(result.requests_per_replica == 647269 / 131072);  // 4
  // Each part allocates one page more: (647269 + 1) x 18 layers x 8 x 64 x 2 B = 11.11 x 2^30 B
  // for K and again for V; (517815 + 1) x 18 x 1024 x 2 B = 8.89 x 2^30 B.
  const std::vector<std::string> lines = report::engine_log_lines(request, result);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "SGLang logs: \"Full KV Cache is allocated. dtype: torch.bfloat16, #tokens: 647269, K size: 11.11 "
                    "GB, V size: 11.11 GB\"");
  CHECK(lines[1] == "SGLang logs: \"SWA KV Cache is allocated. dtype: torch.bfloat16, #tokens: 517815, K size: 8.89 "
                    "GB, V size: 8.89 GB\"");

  // On B200 gpt-oss runs trtllm_mha with pages of 64: 647269 down to 647232 full tokens,
  // int(647232 x 0.8) = 517785 down to 517760 SWA tokens [oracle].
  FitResult b200 = fit(shape, gpu("b200"), request);
  CHECK(b200.token_pools[0].tokens == 647232);
  CHECK(b200.token_pools[1].tokens == 517760);
}

TEST_CASE("SGLang refuses to start when the SWA pool cannot hold one window") {
  ModelShape shape = gpt_oss_shape();
  FitRequest request = sglang_request(shape, 4096);
  request.weight_bytes_per_param = kGptOssBytesPerParam;
  // 1 MiB // 66355.2 B = 15 full tokens, int(15 x 0.8) = 12 SWA tokens <= window 128 + page 1.
  request.options.kv_cache_memory = Bytes{1 << 20};
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h100-sxm"), request), doctest::Contains("cannot hold even one request"), Error);
  // gpt-oss's window is get_attention_sliding_window_size = 128 - 1 = 127 (exclusive), so the floor is
  // 127 + 1 = 128 SWA tokens. 10749543 B // 66355.2 = 162 full tokens, int(162 x 0.8) = 129 SWA: starts.
  request.options.kv_cache_memory = Bytes{10749543};
  CHECK(fit(shape, gpu("h100-sxm"), request).token_pools[1].tokens == 129);
  // 10683188 B // 66355.2 = 161, int(161 x 0.8) = 128 <= 127 + 1: refused.
  request.options.kv_cache_memory = Bytes{10683188};
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h100-sxm"), request), doctest::Contains("sliding_window_size (127) + page_size (1)"),
                       Error);
}

TEST_CASE("SGLang: Gemma-2 and Mistral give sliding layers full-length slots") {
  FitRequest request = sglang_request(model("gemma-2-9b"), 8192);
  request.options.kv_cache_memory = Bytes{10 * GiB};
  FitResult result = fit(model("gemma-2-9b"), gpu("h100-sxm"), request);
  // Every one of the 42 layers: 8 heads x 256 x 2 x 2 B x 42 = 344064 B per token.
  CHECK(result.kv_tokens == 10 * GiB / 344064);  // 31207
  CHECK(result.token_pools.size() == 1);
  // Mistral-7B-v0.1: all 32 layers slide, none is hybrid: 8 x 128 x 2 x 2 B x 32 = 131072 B.
  FitRequest mistral = sglang_request(model("mistral-7b-v0.1"), 32768);
  mistral.options.kv_cache_memory = Bytes{10 * GiB};
  CHECK(fit(model("mistral-7b-v0.1"), gpu("h100-sxm"), mistral).kv_tokens == 10 * GiB / 131072);  // 81920
}

TEST_CASE("SGLang: a multimodal model loses the prefill graph's reserve, keeps room for its vision tower") {
  // Mistral-Small-3.1 (Mistral3ForConditionalGeneration, a text_config and a pixtral vision_config of
  // 24 layers x 1024) at TP 2 on H100s. cuda_graph_hook.py turns the breakable prefill graph off for
  // a multimodal architecture outside its allowlist before the reserve is computed:
  // R = 512 + 1.5 x 8192 + 2 / 8 x 1024 + 2 x 256 = 13568; round((81559 - 13568) / 81559, 3) = 0.834;
  // adjust_mem_fraction_for_vlm: complexity 24 x 1024^2 / (24 x 1024^2) = 1, factor 0.95 x 1.0:
  // 0.834 x 0.95 = 0.7923 [oracle: 0.5.23's handle_gpu_memory_settings and adjust_mem_fraction_for_vlm
  // run with their imports stubbed gave 0.7923; tools/sglang-oracle/multimodal.py].
  FitRequest request = sglang_request(model("mistral-small-3.1-24b"), 32768, {2, 1, 1});
  FitResult result = fit(model("mistral-small-3.1-24b"), gpu("h100-sxm"), request);
  CHECK(result.mem_util == doctest::Approx(0.834 * 0.95));
  // mm_runtime_reservation_gb: SGLANG_VLM_CACHE_SIZE_MB's 100 MiB come out of the pool.
  bool reserved = false;
  for (const BudgetLine& line : result.budget) reserved |= line.item == "multimodal embedding cache" && line.bytes.value == 100ull << 20;
  CHECK(reserved);
  // Kimi-K2.5 (KimiK25ForConditionalGeneration) is on the allowlist: the MLA prefill graph's 1536 stays,
  // R = 16384, 0.886 at TP 8 on H200s; its MoonViT (SGLang's KimiK25VisionConfig: 27 layers x 1152):
  // complexity 27 x 1152^2 / (24 x 1024^2) = 1.42383, factor 0.95 x (1 - 0.042383) = 0.909736;
  // 0.886 x 0.909736 = 0.80603 [oracle: the same functions gave 0.8060264].
  FitRequest kimi = sglang_request(model("kimi-k2.5"), 32768, {8, 1, 1});
  kimi.weight_bytes_per_param = 0.5;
  kimi.options.kv_cache_memory = Bytes{40 * GiB};  // the fraction is resolved all the same
  CHECK(fit(model("kimi-k2.5"), gpu("h200"), kimi).mem_util == doctest::Approx(0.8060264).epsilon(1e-6));
  // Gemma-3 (Gemma3ForConditionalGeneration): SGLang leaves its images off by default, so it plans as
  // a text model: R = 13904 with the prefill graph, 0.830, no vision factor.
  CHECK(fit(model("gemma-3-27b"), gpu("h100-sxm"), sglang_request(model("gemma-3-27b"), 8192)).mem_util ==
        doctest::Approx(0.830));
}

TEST_CASE("SGLang PP: no prefill graph, extra layers on the last stages") {
  FitRequest request = sglang_request(model("llama-3-70b"), 8192, {8, 3, 1});
  FitResult result = fit(model("llama-3-70b"), gpu("h100-sxm"), request);
  // get_pp_indices: 80 = 3 x 26 + 2, the last two stages take one more (vLLM: the first two).
  CHECK(result.stage_layers == std::vector<std::uint32_t>{26, 27, 27});
  // R = 512 + 12288 + 8 x 3 / 8 x 1024 + 2 x 512, no prefill graph with PP = 16896;
  // round(64663 / 81559, 3) = 0.793.
  CHECK(result.mem_util == doctest::Approx(0.793));  // [oracle]
}

TEST_CASE("SGLang starts with a pool shorter than the context and warns") {
  FitRequest request = sglang_request(model("llama-3.1-8b"), 1048576);
  request.options.kv_cache_memory = Bytes{10 * GiB};
  FitResult result = fit(model("llama-3.1-8b"), gpu("h100-sxm"), request);
  // 10 GiB / 131072 B = 81920 tokens < 1048576: no full request, served up to 81919 tokens.
  CHECK(result.kv_tokens == 81920);
  CHECK(result.requests_per_replica == 0);
  bool warned = false;
  for (const std::string& note : result.notes) {
    warned |= note.find("KV pool holds 81920 tokens, fewer than --context-length 1048576") != std::string::npos &&
              note.find("max_req_len = 81919") != std::string::npos;
  }
  CHECK(warned);
  // No token at all is SGLang's "Not enough memory".
  request.options.kv_cache_memory = Bytes{100000};
  CHECK_THROWS_WITH_AS(fit(model("llama-3.1-8b"), gpu("h100-sxm"), request), doctest::Contains("Not enough memory"),
                       Error);
}

TEST_CASE("SGLang refuses cache layouts it does not have: fp8_ds_mla, int8, per-token-head scales") {
  FitRequest request = sglang_request(model("deepseek-v3"), 32768, {8, 1, 1});
  request.kv_dtype = KvDtype::fp8_ds_mla;
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3"), gpu("h200"), request), doctest::Contains("use --kv-dtype fp8"), Error);
  FitRequest dense = sglang_request(model("llama-3.1-8b"), 8192);
  dense.kv_dtype = KvDtype::int8;
  CHECK_THROWS_WITH_AS(fit(model("llama-3.1-8b"), gpu("h100-sxm"), dense), doctest::Contains("no int8 KV cache"), Error);
  dense.kv_dtype = KvDtype::fp8_e4m3;
  dense.kv_scales = KvScales::per_token_head;
  CHECK_THROWS_WITH_AS(fit(model("llama-3.1-8b"), gpu("h100-sxm"), dense), doctest::Contains("per-tensor scales only"),
                       Error);
}
