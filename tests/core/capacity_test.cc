// The engines' accounting rules (docs/engines.md), each pinned by arithmetic written out here, and
// start-up log lines of real vLLM runs reproduced from their "Available KV cache memory".
#include "core/capacity.h"

#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "core/fleet.h"
#include "core/params.h"
#include "io/preset_registry.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

TEST_CASE("vLLM log, LMCache issue 1739: Qwen3-14B with 6.51 GiB of KV cache at 32768 tokens") {
  // Logged: "Available KV cache memory: 6.51 GiB", "GPU KV cache size: 42,656 tokens",
  // "Maximum concurrency for 32,768 tokens per request: 1.30x" (vLLM 0.10.2 on an A100 40GB, bf16,
  // block 16, TP 1).
  ModelShape qwen3 = config_shape("qwen3-14b");
  qwen3.params_total = estimate_params(qwen3, false).total;
  FitRequest request = request_for(qwen3, 32768);
  request.options.kv_cache_memory = Bytes{static_cast<std::uint64_t>(6.51 * GiB)};
  request.options.engine_version = "0.10";
  FitResult result = fit(qwen3, gpu("a100-40gb"), request);
  // Page: 16 tokens x 8 KV heads x 128 x 2 (K and V) x 2 B = 65536 B; 40 layers per block.
  CHECK(result.page_bytes.value == 16 * 8 * 128 * 2 * 2);
  // floor(6.51 x 2^30 / 65536 / 40) = floor(2666.5) = 2666 blocks.
  CHECK(result.num_blocks == 2666);
  CHECK(result.kv_tokens == 42656);                                   // 2666 x 16
  CHECK(result.blocks_per_request == 32768 / 16);                     // 2048
  CHECK(result.max_concurrency == doctest::Approx(2666.0 / 2048.0));  // 1.30x
  CHECK(result.requests_per_replica == 1);
}

TEST_CASE("vLLM error, issue 15871: DeepSeek-V2-Lite's MLA cache at 32768 tokens needs 0.95 GiB") {
  // Logged: "(0.95 GiB KV cache is needed, which is larger than the available KV cache memory
  // (0.93 GiB)". MLA pages hold d_c + d_R = 576 scalars per token, no factor 2, one head:
  // 32768 tokens x 27 layers x 576 x 2 B = 1019215872 B = 0.949 GiB.
  FitRequest request = request_for(model("deepseek-v2-lite"), 32768);
  request.options.kv_cache_memory = Bytes{static_cast<std::uint64_t>(0.93 * GiB)};
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v2-lite"), gpu("h100-sxm"), request),
                       doctest::Contains("it needs 0.95 GiB of KV cache per GPU, 0.93 GiB is available"), Error);
  // The issue predates vLLM 0.29's null block: exactly enough then (vllm@0.10 rules, FlashMLA's
  // blocks of 64 on Hopper)...
  request.options.kv_cache_memory = Bytes{1019215872};
  request.options.engine_version = "0.10";
  FitResult result = fit(model("deepseek-v2-lite"), gpu("h100-sxm"), request);
  CHECK(result.block_size == 64);
  CHECK(result.num_blocks == 32768 / 64);
  CHECK(result.max_concurrency == doctest::Approx(1.0));
  // ...but one block short for vLLM 0.33, which sets one block aside (FLASH_ATTN_MLA's blocks of
  // 16 in bf16: 16 x 1152 B x 27 layers = 497664 B) before the check.
  request.options.engine_version = "";
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v2-lite"), gpu("h100-sxm"), request),
                       doctest::Contains("after the null block"), Error);
  request.options.kv_cache_memory = Bytes{1019215872 + 497664};
  CHECK(fit(model("deepseek-v2-lite"), gpu("h100-sxm"), request).num_blocks == 32768 / 16 + 1);
}

TEST_CASE("the vLLM budget: total x utilization - weights - activations - non-torch") {
  FitRequest request = request_for(model("llama-3-8b"), 8192);
  request.options.reserve = Bytes{4 * GiB};
  FitResult result = fit(model("llama-3-8b"), gpu("h100-sxm"), request);
  const std::uint64_t total = gpu("h100-sxm").memory_total.value;
  const std::uint64_t requested = static_cast<std::uint64_t>(std::ceil(static_cast<double>(total) * 0.92));
  const std::uint64_t weights = 8'030'261'248ull * 2;  // params x 2 B
  // vLLM's RoPE cos/sin table: max_position_embeddings 8192 x head_dim 128 x 2 B.
  const std::uint64_t rope = 8192ull * 128 * 2;
  CHECK(result.mem_util == 0.92);
  CHECK(result.kv_budget.value == requested - weights - rope - 4 * GiB);
  // 4096 B per token per layer (8 heads x 128 x 2 x 2 B), 16 tokens per block, 32 layers.
  CHECK(result.num_blocks == result.kv_budget.value / (16 * 4096) / 32);
}

TEST_CASE("blocks, tokens and concurrency: Llama-3-70B, fp8, TP 8, 50 GiB per GPU") {
  FitRequest request = request_for(model("llama-3-70b"), 32768, {8, 1, 1});
  request.kv_dtype = KvDtype::fp8_e4m3;
  request.options.kv_cache_memory = Bytes{50 * GiB};
  FitResult result = fit(model("llama-3-70b"), gpu("h100-sxm"), request);
  // One of 8 KV heads per rank: 2 x 1 x 128 x 1 B = 256 B per token per layer; 4 KiB pages.
  CHECK(result.kv_heads_per_rank == 1);
  CHECK_FALSE(result.kv_replicated);
  CHECK(result.token_layer_per_rank.total() == 256);
  // 50 x 2^30 / 4096 / 80 = 163840 blocks exactly, 2621440 tokens, 163840 / 2048 = 80x.
  CHECK(result.num_blocks == 163840);
  CHECK(result.kv_tokens == 163840 * 16);
  CHECK(result.max_concurrency == doctest::Approx(80.0));
  CHECK(result.requests_per_replica == 80);
}

TEST_CASE("TP beyond the KV heads replicates them: capacity per rank stops improving") {
  // Llama-3-8B has 8 KV heads: TP 8 and TP 16 both keep max(1, 8 / TP) = 1 head per rank.
  FitRequest tp8 = request_for(model("llama-3-8b"), 8192, {8, 1, 1});
  FitRequest tp16 = request_for(model("llama-3-8b"), 8192, {16, 1, 1});
  tp8.options.kv_cache_memory = tp16.options.kv_cache_memory = Bytes{10 * GiB};
  FitResult at8 = fit(model("llama-3-8b"), gpu("h100-sxm"), tp8);
  FitResult at16 = fit(model("llama-3-8b"), gpu("h100-sxm"), tp16);
  CHECK(at8.kv_heads_per_rank == 1);
  CHECK(at16.kv_heads_per_rank == 1);
  CHECK(at16.kv_replicated);
  CHECK(at8.token_layer_per_rank.total() == at16.token_layer_per_rank.total());
  CHECK(at8.num_blocks == at16.num_blocks);  // same memory, same blocks: doubling the GPUs bought nothing
}

TEST_CASE("DeepSeek-V3 at TP 8: the MLA cache does not shrink with TP") {
  FitRequest tp1 = request_for(model("deepseek-v3"), 4096, {1, 1, 1});
  FitRequest tp8 = request_for(model("deepseek-v3"), 4096, {8, 1, 1});
  tp1.options.kv_cache_memory = tp8.options.kv_cache_memory = Bytes{10 * GiB};
  tp1.weight_bytes_per_param = tp8.weight_bytes_per_param = 0.01;  // the cache is the subject here
  FitResult at1 = fit(model("deepseek-v3"), gpu("h200"), tp1);
  FitResult at8 = fit(model("deepseek-v3"), gpu("h200"), tp8);
  // (512 + 64) x 2 B = 1152 B per token per layer on every rank, whatever the TP.
  CHECK(at1.token_layer_per_rank.total() == 1152);
  CHECK(at8.token_layer_per_rank.total() == 1152);
  CHECK(at8.kv_replicated);
  CHECK(at1.num_blocks == at8.num_blocks);
  // 10 GiB / (16 tokens x 1152 B) / 61 layers: FLASH_ATTN_MLA's blocks of 16 for a bf16 cache on Hopper.
  CHECK(at8.num_blocks == 10 * GiB / (16 * 1152) / 61);
}

TEST_CASE("PP stages split layers as vLLM's get_pp_indices - the fullest stage binds") {
  CHECK(pp_stage_layers(61, 4) == std::vector<std::uint32_t>{15, 15, 16, 15});
  CHECK(pp_stage_layers(62, 4) == std::vector<std::uint32_t>{15, 16, 16, 15});
  CHECK(pp_stage_layers(81, 2) == std::vector<std::uint32_t>{41, 40});
  CHECK(pp_stage_layers(80, 4) == std::vector<std::uint32_t>{20, 20, 20, 20});
  CHECK_THROWS_AS(pp_stage_layers(4, 8), Error);
  FitRequest request = request_for(model("deepseek-v3"), 4096, {8, 4, 1});
  request.weight_bytes_per_param = 1;
  request.options.kv_cache_memory = Bytes{10 * GiB};
  FitResult result = fit(model("deepseek-v3"), gpu("h200"), request);
  CHECK(result.binding_stage == 2);
  // Blocks of 16 tokens (FLASH_ATTN_MLA, bf16 on Hopper) x 1152 B x the 16 layers of stage 2.
  CHECK(result.num_blocks == 10 * GiB / (16 * 1152) / 16);
  // With --mtp the MTP layer joins the last stage: 15 + 1 = 16 layers there too.
  request.include_mtp = true;
  CHECK(fit(model("deepseek-v3"), gpu("h200"), request).stage_layers.back() == 16);
}

TEST_CASE("sliding windows: a request needs ceil(min(W - 1 + tokens in flight, L) / block) + 1 blocks") {
  // Mistral-7B-v0.1: every layer slides with W = 4096; on an H100 max_num_batched_tokens = 8192,
  // and vLLM 0.33's async scheduling keeps 2 batches in flight.
  FitRequest request = request_for(model("mistral-7b-v0.1"), 32768);
  request.options.kv_cache_memory = Bytes{10 * GiB};
  FitResult result = fit(model("mistral-7b-v0.1"), gpu("h100-sxm"), request);
  CHECK(result.max_num_batched_tokens == 8192);
  CHECK(result.max_in_flight_tokens == 2 * 8192);
  REQUIRE(result.groups.size() == 1);
  CHECK(result.blocks_per_request == (4095 + 2 * 8192 + 15) / 16 + 1);  // 1280 + 1
  // On an L40S (< 70 GiB) the step is 2048 tokens: ceil((4095 + 4096) / 16) + 1 = 513.
  CHECK(fit(model("mistral-7b-v0.1"), gpu("l40s"), request).blocks_per_request == 513);
  // Without async scheduling one batch is in flight: ceil((4095 + 8192) / 16) + 1 = 769.
  request.options.async_scheduling = false;
  CHECK(fit(model("mistral-7b-v0.1"), gpu("h100-sxm"), request).blocks_per_request == 769);
  // vLLM 0.19 added max_num_batched_tokens once, whatever the scheduling: 769 too.
  request.options.async_scheduling = true;
  request.options.engine_version = "0.19";
  CHECK(fit(model("mistral-7b-v0.1"), gpu("h100-sxm"), request).blocks_per_request == 769);
}

TEST_CASE("hybrid models: Gemma-2-9B's 21 sliding + 21 full layers form two groups of 21") {
  FitRequest request = request_for(model("gemma-2-9b"), 8192);
  request.options.kv_cache_memory = Bytes{20 * GiB};
  FitResult result = fit(model("gemma-2-9b"), gpu("h100-sxm"), request);
  // Page: 16 x 8 heads x 256 x 2 x 2 B = 131072 B; num_blocks = avail / page / 21.
  CHECK(result.page_bytes.value == 131072);
  CHECK(result.group_size == 21);
  CHECK(result.groups.size() == 2);
  CHECK(result.num_blocks == 20 * GiB / 131072 / 21);
  // Full: 8192 / 16 = 512 blocks; sliding: ceil(min(4095 + 2 x 8192 in flight, 8192) / 16) + 1 = 513.
  CHECK(result.blocks_per_request == 512 + 513);
  CHECK(result.max_concurrency == doctest::Approx(static_cast<double>(result.num_blocks) / 1025));
  // vLLM 0.33 logs int(concurrency x L) tokens: 7801 blocks / 1025 x 8192 = 62347.1.
  CHECK(result.num_blocks == 7801);
  CHECK(result.kv_tokens == 62347);
  // vLLM 0.19 logged num_blocks / groups x block: 7801 / 2 x 16 = 62400.
  request.options.engine_version = "0.19";
  CHECK(fit(model("gemma-2-9b"), gpu("h100-sxm"), request).kv_tokens == 62400);
}

TEST_CASE("a fleet that cannot hold the weights: the error names what is missing") {
  // Llama-3.1-405B in bf16 on 8 x H100: 405853388800 x 2 B / 8 = 94.50 GiB per GPU against
  // ceil(79.19 GiB x 0.92) = 72.85 GiB.
  FitRequest request = request_for(model("llama-3.1-405b"), 8192, {8, 1, 1});
  CHECK_THROWS_WITH_AS(fit(model("llama-3.1-405b"), gpu("h100-sxm"), request),
                       doctest::Contains("the weights do not fit: 94.50 GiB per GPU against 72.85 GiB"), Error);
  request.parallel = {8, 2, 1};  // two nodes of PP: 47.25 GiB per GPU
  CHECK(fit(model("llama-3.1-405b"), gpu("h100-sxm"), request).requests_per_replica > 0);
}

TEST_CASE("TP must divide the query heads - KV heads and TP must divide one another") {
  CHECK_THROWS_WITH_AS(fit(model("qwen2.5-7b"), gpu("h100-sxm"), request_for(model("qwen2.5-7b"), 4096, {8, 1, 1})),
                       doctest::Contains("does not divide num_attention_heads (28)"), Error);
  CHECK_NOTHROW(fit(model("qwen2.5-7b"), gpu("h100-sxm"), request_for(model("qwen2.5-7b"), 4096, {4, 1, 1})));
}

TEST_CASE("TensorRT-LLM: 0.9 of the memory free after loading, 32-token blocks") {
  FitRequest request = request_for(model("llama-3-8b"), 8192);
  request.options.engine = Engine::trtllm;
  request.options.reserve = Bytes{0};
  FitResult result = fit(model("llama-3-8b"), gpu("h100-sxm"), request);
  const std::uint64_t free = 85028896768ull - 8'030'261'248ull * 2;
  CHECK(result.kv_budget.value == static_cast<std::uint64_t>(static_cast<double>(free) * 0.9));
  CHECK(result.block_size == 32);
  CHECK(result.num_blocks == result.kv_budget.value / (4096 * 32) / 32);
  CHECK(result.blocks_per_request == 8192 / 32);
}

TEST_CASE("the decode roofline and its price") {
  FitRequest request = request_for(model("llama-3-70b"), 32768, {8, 1, 1});
  request.kv_dtype = KvDtype::fp8_e4m3;
  request.options.kv_cache_memory = Bytes{50 * GiB};
  FitResult result = fit(model("llama-3-70b"), gpu("h100-sxm"), request);
  DecodeBound bound = decode_bound(model("llama-3-70b"), gpu("h100-sxm"), request, result, 2.0);
  // 80 requests x (2048 blocks x 4096 B x 80 layers) of KV plus 70553706496 x 2 / 8 B of weights
  // per rank, at 3.35 TB/s.
  const double kv = 80.0 * 2048 * 4096 * 80;
  const double weights = 70553706496.0 * 2 / 8;
  const double step = (kv + weights) / 3.35e12;
  CHECK(bound.step_seconds == doctest::Approx(step));
  CHECK(bound.tokens_per_second == doctest::Approx(80 / step));
  CHECK(*bound.usd_per_million_tokens == doctest::Approx(2.0 * 8 / 3600 / (80 / step) * 1e6));
}

TEST_CASE("the smallest fleet for a target concurrency") {
  FitRequest request = request_for(model("llama-3-8b"), 32768);
  request.options.reserve = Bytes{4 * GiB};
  // 10 requests fit one GPU at TP 1; 100 need 8 GPUs, as TP 1 x 8 replicas or one TP 8 replica.
  for (std::uint64_t target : {10u, 100u}) {
    CAPTURE(target);
    FleetSearch search = smallest_fleet(model("llama-3-8b"), gpu("h100-sxm"), request, target);
    REQUIRE(search.best.has_value());
    // The fewest GPUs found here without trusting the options the search reports: every TP x PP it
    // may try (TP up to 8, PP 1 to 8), each replica's requests from fit(), replicas for the target.
    std::uint64_t fewest = 0;
    for (std::uint32_t tp : {1u, 2u, 4u, 8u}) {
      for (std::uint32_t pp : {1u, 2u, 4u, 8u}) {
        FitRequest attempt = request;
        attempt.parallel = Parallelism{tp, pp, 1};
        try {
          const std::uint64_t per_replica = fit(model("llama-3-8b"), gpu("h100-sxm"), attempt).requests_per_replica;
          const std::uint64_t gpus = tp * pp * ((target + per_replica - 1) / per_replica);
          if (fewest == 0 || gpus < fewest) fewest = gpus;
        } catch (const Error&) {
        }
      }
    }
    REQUIRE(fewest > 0);
    CHECK(search.best->gpus() == fewest);
    CHECK(search.best->holds >= target);
    CHECK(search.best->holds - search.best->requests_per_deployment < target);  // one replica fewer would not do
  }
}
