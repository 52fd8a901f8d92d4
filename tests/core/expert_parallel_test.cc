// Data-parallel attention with the experts over TP x DP ranks (vLLM 0.33's DP for MoE models,
// fused_moe/config.py:FusedMoEParallelConfig.make), and the fleet search that weighs it against
// plain TP and decode context parallel. Every expected number is arithmetic written out here.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/fit_internal.h"
#include "core/vllm_eplb.h"
#include "core/fleet.h"
#include "core/params.h"
#include "core/weights.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// `name` with the preset's own weights (--weights-dtype auto) at TP x DP, the engine's expert span.
FitRequest auto_weights(const char* name, std::uint64_t ctx, Parallelism parallel, Engine engine = Engine::vllm) {
  FitRequest request = request_with_weights(model(name), ctx, parallel, "auto", engine);
  set_engine_expert_span(request.parallel, engine, model(name));
  return request;
}

}  // namespace

TEST_CASE("MoE layers, by each family's rule") {
  // DeepSeek-V3: first_k_dense_replace 3 of 61 layers, moe_layer_freq 1.
  CHECK(model("deepseek-v3").moe->moe_layers == 58);
  // Llama-4 Maverick: interleave_moe_layer_step 2, every second of 48 layers; Scout: step 1.
  CHECK(model("llama-4-maverick").moe->moe_layers == 24);
  CHECK(model("llama-4-scout").moe->moe_layers == 48);
  // Qwen3-235B-A22B: decoder_sparse_step 1, mlp_only_layers [] -> all 94.
  CHECK(model("qwen3-235b-a22b").moe->moe_layers == 94);
  // Nemotron-3-Nano: the 23 'E' characters of its 52-character hybrid_override_pattern.
  CHECK(model("nemotron-3-nano-30b-a3b").moe->moe_layers == 23);
  // gpt-oss-120b and Mixtral: experts in every layer.
  CHECK(model("gpt-oss-120b").moe->moe_layers == 36);
  CHECK(model("mixtral-8x7b").moe->moe_layers == 32);
}

TEST_CASE("the routed experts' bytes, in each checkpoint's own format") {
  // DeepSeek-V3: 58 layers x 256 experts x 3 matrices of 2048 x 7168, fp8 with one 4 B scale per
  // 128 x 128 block (16 x 56 blocks): 58 x 256 x 3 x (14680064 + 3584) B.
  CHECK(routed_expert_params(model("deepseek-v3")) == 58ull * 256 * 3 * 2048 * 7168);
  CHECK(resolve_weights_dtype("auto", model("deepseek-v3")).routed_expert_bytes == 58.0 * 256 * 3 * (14680064 + 3584));
  // gpt-oss-120b: 36 x 128 x 3 x 2880 x 2880 MXFP4 parameters at 4.25 bits.
  CHECK(resolve_weights_dtype("auto", model("gpt-oss-120b")).routed_expert_bytes ==
        doctest::Approx(36.0 * 128 * 3 * 2880 * 2880 * 4.25 / 8));
  // Qwen3-30B-A3B in bf16: 48 x 128 x 3 x 2048 x 768 x 2 B; --weights-dtype fp8 halves it and adds
  // one fp32 scale per output channel: 768 (gate) + 768 (up) + 2048 (down) = 3584 per expert.
  CHECK(resolve_weights_dtype("auto", model("qwen3-30b-a3b")).routed_expert_bytes == 48.0 * 128 * 3 * 2048 * 768 * 2);
  CHECK(resolve_weights_dtype("fp8", model("qwen3-30b-a3b")).routed_expert_bytes ==
        48.0 * 128 * 3 * 2048 * 768 + 48.0 * 128 * 3584 * 4);
  CHECK(resolve_weights_dtype("auto", model("llama-3-8b")).routed_expert_bytes == 0);
  // And the attention projections (SGLang's DP attention keeps them whole): DeepSeek-V3's five MLA
  // matrices hold 187105280 parameters a layer with 12 x 56 + 192 x 12 + 5 x 56 + 256 x 4 + 56 x 128
  // = 11448 block scales of 4 B: 61 x (187105280 + 45792) B.
  CHECK(resolve_weights_dtype("auto", model("deepseek-v3")).attention_bytes == 61.0 * (187105280 + 45792));
}

TEST_CASE("vLLM with DP 8: DeepSeek-V3's experts over 8 ranks, the rest whole on each TP-1 rank") {
  // The checkpoint's parts sum to 673097743712 B; the routed experts are 654068416512 B of them.
  // TP 1 x DP 8: 673097743712 - 654068416512 = 19029327200 B stay whole on every rank, the
  // experts split 8 ways: 654068416512 / 8 = 81758552064 B. 100787879264 B per GPU.
  const FitRequest dp8 = auto_weights("deepseek-v3", 32768, {1, 1, 8});
  CHECK(dp8.parallel.expert_dp == 8);
  CHECK(static_cast<double>(weights_per_rank(model("deepseek-v3"), dp8).value) ==
        doctest::Approx(19029327200.0 + 81758552064.0).epsilon(1e-12));
  // TP 8 alone: everything over 8 ranks, 673097743712 / 8 = 84137217964 B.
  const FitRequest tp8 = auto_weights("deepseek-v3", 32768, {8, 1, 1});
  CHECK(static_cast<double>(weights_per_rank(model("deepseek-v3"), tp8).value) ==
        doctest::Approx(673097743712.0 / 8).epsilon(1e-12));
  // SGLang's DP replicas each hold the whole model over their TP ranks: at TP 1 it does not fit.
  const FitRequest sglang = auto_weights("deepseek-v3", 32768, {1, 1, 8}, Engine::sglang);
  CHECK(sglang.parallel.expert_dp == 1);
  CHECK(static_cast<double>(weights_per_rank(model("deepseek-v3"), sglang).value) ==
        doctest::Approx(673097743712.0).epsilon(1e-12));
  // PP 2 splits both parts by the stages' layers (31 and 30 of 61): the two stages hold what one did.
  const FitRequest pp2 = auto_weights("deepseek-v3", 32768, {1, 2, 8});
  const double stages = static_cast<double>(detail::weights_per_stage(model("deepseek-v3"), pp2, 0).value +
                                            detail::weights_per_stage(model("deepseek-v3"), pp2, 1).value);
  CHECK(stages == doctest::Approx(19029327200.0 + 81758552064.0).epsilon(1e-10));
  // A dense model's DP ranks are replicas under vLLM too.
  const FitRequest dense = auto_weights("llama-3-8b", 8192, {1, 1, 8});
  CHECK(dense.parallel.expert_dp == 1);
}

TEST_CASE("DP attention: each of the 8 ranks caches only its own requests' latent") {
  // 40 GiB of KV memory per GPU. TP 1: the latent 576 x 2 B per token per layer is stored once per
  // rank, FLASH_ATTN_MLA pages of 16 tokens: 16 x 1152 x 61 = 1124352 B a block, 40 GiB / 1124352 =
  // 38199 blocks, ceil(32768 / 16) = 2048 per request: 18 requests per rank (18.65x), x 8 ranks.
  FitRequest request = auto_weights("deepseek-v3", 32768, {1, 1, 8});
  request.options.kv_cache_memory = Bytes{40 * GiB};
  const FitResult result = fit(model("deepseek-v3"), gpu("h200"), request);
  CHECK(result.num_blocks == 38199);
  CHECK(result.blocks_per_request == 2048);
  CHECK(result.requests_per_replica == 18);
  CHECK(result.fleet_requests == 18 * 8);
  CHECK(!result.kv_replicated);
}

TEST_CASE("the fleet search weighs TP, TP + DCP and DP attention + EP for DeepSeek-V3 on H200s") {
  const FitRequest request = auto_weights("deepseek-v3", 32768, {8, 1, 1});
  const FleetSearch search = smallest_fleet(model("deepseek-v3"), gpu("h200"), request, 256);
  auto find = [&](const std::string& layout) -> const FleetOption* {
    for (const FleetOption& option : search.options) {
      if (option.layout == layout) return &option;
    }
    return nullptr;
  };
  const FleetOption* tp8 = find("TP 8");
  const FleetOption* dcp8 = find("TP 8 + DCP 8");
  const FleetOption* ep8 = find("TP 1 x DP 8 + EP 8");
  REQUIRE(tp8 != nullptr);
  REQUIRE(dcp8 != nullptr);
  REQUIRE(ep8 != nullptr);
  // KV per request per rank, 61 layers x 1152 B per token in 16-token blocks: TP 8 and DP 8 hold
  // all 2048 blocks of a request (2302672896 B); DCP 8 holds ceil(4096 / 16) = 256 (287834112 B).
  CHECK(tp8->kv_per_request_per_rank.value == 61ull * 2048 * 16 * 1152);
  CHECK(ep8->kv_per_request_per_rank.value == 61ull * 2048 * 16 * 1152);
  CHECK(dcp8->kv_per_request_per_rank.value == 61ull * 256 * 16 * 1152);
  // Each option's requests are its own fit's, x the DP ranks; deployments = ceil(256 / that).
  for (const FleetOption* option : {tp8, dcp8, ep8}) {
    CAPTURE(option->layout);
    FitRequest attempt = request;
    attempt.parallel = option->deployment;
    const FitResult result = fit(model("deepseek-v3"), gpu("h200"), attempt);
    CHECK(option->requests_per_rank == result.requests_per_replica);
    CHECK(option->requests_per_deployment == result.requests_per_replica * option->deployment.dp);
    CHECK(option->deployments == (256 + option->requests_per_deployment - 1) / option->requests_per_deployment);
    CHECK(option->gpus() == option->deployments * 8);
  }
  // DP attention holds more than TP 8 on the same 8 GPUs: no rank stores another rank's requests,
  // though each carries 19029327200 B of unsplit weights beside its 1/8 of the experts.
  CHECK(ep8->requests_per_deployment > tp8->requests_per_deployment);
  REQUIRE(search.best.has_value());
  for (const FleetOption& option : search.options) CHECK(search.best->gpus() <= option.gpus());
}

TEST_CASE("SGLang's fleet search tries DP attention beside plain TP") {
  const FitRequest request = auto_weights("deepseek-v3", 32768, {8, 1, 1}, Engine::sglang);
  const FleetSearch search = smallest_fleet(model("deepseek-v3"), gpu("h200"), request, 256);
  const FleetOption* plain = nullptr;
  const FleetOption* dp_attention = nullptr;
  for (const FleetOption& option : search.options) {
    if (option.layout == "TP 8") plain = &option;
    if (option.layout == "TP 8 + DP attention") dp_attention = &option;
    CHECK(option.deployment.expert_dp == 1);  // SGLang's replicas each hold every expert
  }
  REQUIRE(plain != nullptr);
  REQUIRE(dp_attention != nullptr);
  FitRequest attempt = request;
  attempt.options.dp_attention = true;
  // SGLang counts a replica's requests over its attention-DP pools already.
  CHECK(dp_attention->requests_per_deployment == fit(model("deepseek-v3"), gpu("h200"), attempt).requests_per_replica);
  CHECK(dp_attention->dp_attention);
  CHECK(!plain->dp_attention);
}

TEST_CASE("expert parallel needs experts, and only vLLM spans them over DP") {
  FitRequest dense = request_for(model("llama-3-8b"), 8192);
  dense.parallel.expert_parallel = true;
  CHECK_THROWS_WITH_AS(fit(model("llama-3-8b"), gpu("h100-sxm"), dense),
                       doctest::Contains("no routed experts to split"), Error);
}

TEST_CASE("vLLM's EPLB: redundant experts on the first ranks, one MoE layer's experts as a buffer, the load statistics") {
  // DeepSeek-V3 at TP 8 with --enable-expert-parallel --enable-eplb and 32 redundant experts: 288
  // physical experts over EP 8, ceil(288 / 8) = 36 on every rank (determine_expert_map), against 32
  // without. The routed experts are 654068416512 B (58 MoE layers x 256 experts x 3 x 7168 x 2048 fp8
  // + 4 B per 128 x 128 block): 36 / 256 of them instead of 1 / 8, 654068416512 / 64 = 10219819008 B more.
  FitRequest plain = auto_weights("deepseek-v3", 32768, {8, 1, 1});
  plain.parallel.expert_parallel = true;
  FitRequest eplb = plain;
  eplb.parallel.eplb = true;
  eplb.parallel.redundant_experts = 32;
  const double extra = static_cast<double>(weights_per_rank(model("deepseek-v3"), eplb).value) -
                       static_cast<double>(weights_per_rank(model("deepseek-v3"), plain).value);
  CHECK(extra == doctest::Approx(10219819008.0).epsilon(1e-9));
  // EplbState.add_model: the expert buffer is one MoE layer's 36 experts, 654068416512 / 58 x 36 / 256
  // = 1585833984 B; the load window 1000 steps x 58 layers x 288 physical experts x 4 B = 66816000 B;
  // the maps 58 x (288 x (4 + 8) B + 256 x (1024 slots + 2) x 8 B) = 122072832 B.
  std::string rule;
  CHECK(detail::eplb_buffers(model("deepseek-v3"), eplb, &rule).value == 1585833984ull + 66816000ull + 122072832ull);
  // EPLB with no redundant experts keeps 32 experts a rank, and its buffer and maps all the same.
  eplb.parallel.redundant_experts = 0;
  CHECK(weights_per_rank(model("deepseek-v3"), eplb).value == weights_per_rank(model("deepseek-v3"), plain).value);
  CHECK(detail::eplb_buffers(model("deepseek-v3"), eplb, nullptr).value ==
        654068416512ull / 58 / 8 + 1000ull * 58 * 256 * 4 + 58ull * (256 * 12 + 256 * 1026 * 8));
  // In the budget: the line sits between the weights and the activations.
  eplb.parallel.redundant_experts = 32;
  eplb.explanations = true;
  FitResult result = fit(model("deepseek-v3"), gpu("h200"), eplb);
  CHECK(result.stages.front().eplb.value == 1585833984ull + 66816000ull + 122072832ull);
  bool listed = false;
  for (const BudgetLine& line : result.budget) listed |= line.item == "EPLB expert buffer and state";
  CHECK(listed);
}
