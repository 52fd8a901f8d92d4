// SGLang 0.5.23's state pool for hybrid linear-attention models (docs/engines-sglang.md, "State
// pools"), pinned by arithmetic written out from SGLang's source:
// mem_cache/kv_cache_configurator.py:_handle_max_mamba_cache (0.9 / 1.9 of the pool memory to
// state slots), configs/mamba_utils.py:Mamba2StateShape.create and mamba2_state_dtype (the state
// bytes), model_executor/pool_configurator.py:DefaultPoolConfigurator (the attention layers' cell)
// and kv_cache_configurator.py:resolve_max_num_reqs (the running-request cap).
//
// [oracle]: what SGLang 0.5.23's own functions returned on a CPU: Qwen3NextConfig /
// NemotronHConfig.mamba2_cache_params.mamba_cache_per_req, KVCacheConfigurator.
// _profile_available_bytes (calling _handle_max_mamba_cache) with the free-memory query faked to
// the same figures, DefaultPoolConfigurator.calculate_pool_sizes and resolve_max_num_reqs; the
// mem_fraction_static from ServerArgs.resolve_once() with a faked H200 or B200.
// tools/vllm-oracle/oracle_sglang_state.py reruns the pool part.
#include <doctest/doctest.h>

#include <cmath>

#include "core/capacity.h"
#include "core/error.h"
#include "core/sglang_state.h"
#include "presets_fixture.h"
#include "shapes.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

constexpr double kGiBd = 1073741824.0;
constexpr std::uint64_t kH200Cuda = 150109945856;  // presets/gpus/h200.yaml cuda_total_bytes

FitRequest sglang_request(const ModelShape& shape, std::uint64_t ctx, Parallelism parallel = {}) {
  return request_for(shape, ctx, parallel, Engine::sglang);
}

// _profile_available_bytes's rest_memory in GiB: free after loading - free before x (1 - fraction),
// each figure through float32 with more than one rank.
double rest_gib(std::uint64_t weights, double fraction, bool several_ranks) {
  auto gib = [&](std::uint64_t bytes) {
    const double value = static_cast<double>(bytes);
    return (several_ranks ? static_cast<double>(static_cast<float>(value)) : value) / kGiBd;
  };
  return gib(kH200Cuda - weights) - gib(kH200Cuda) * (1 - fraction);
}

}  // namespace

TEST_CASE("SGLang state bytes: float32 SSM state by default, bfloat16 conv state, heads over TP") {
  // Qwen3-Next, Gated DeltaNet (Mamba2StateShape.create): conv (16 x 128 x 2 + 32 x 128) / TP
  // channels x 3 inputs x 2 B; SSM 32 / TP heads x 128 x 128 x 4 B (no mamba_ssm_dtype in the
  // config: float32, where vLLM keeps the model's bfloat16).
  const ModelShape& qwen = model("qwen3-next-80b-a3b");
  detail::SglangStatePool tp1 = detail::sglang_state_pool(qwen, sglang_request(qwen, 32768), 1, 100);
  CHECK(tp1.per_layer.conv_bytes() == 8192 * 3 * 2);
  CHECK(tp1.per_layer.recurrent_bytes() == 32ull * 128 * 128 * 4);
  CHECK(tp1.bytes_per_slot == 36ull * (49152 + 2097152));  // 77266944
  detail::SglangStatePool tp2 = detail::sglang_state_pool(qwen, sglang_request(qwen, 32768), 2, 100);
  CHECK(tp2.bytes_per_slot == 36ull * (4096 * 3 * 2 + 16 * 128 * 128 * 4));  // 38633472 [oracle]
  // Nemotron-3-Nano, Mamba-2: conv 64 x 64 + 2 x 8 x 128 = 6144 channels, SSM 64 x 64 x 128 in
  // float32 (SGLang reads mamba_ssm_dtype; the config's mamba_ssm_cache_dtype is vLLM's field).
  const ModelShape& nemotron = model("nemotron-3-nano-30b-a3b");
  detail::SglangStatePool mamba = detail::sglang_state_pool(nemotron, sglang_request(nemotron, 32768), 1, 100);
  CHECK(mamba.bytes_per_slot == 23ull * (6144 * 3 * 2 + 64ull * 64 * 128 * 4));  // 49082368 [oracle]
  // --mamba-ssm-cache-dtype bfloat16 (SGLang's --mamba-ssm-dtype) halves the SSM part.
  FitRequest bf16 = sglang_request(nemotron, 32768);
  bf16.options.mamba_ssm_cache_dtype = "bfloat16";
  CHECK(detail::sglang_state_pool(nemotron, bf16, 1, 100).bytes_per_slot == 23ull * (36864 + 64ull * 64 * 128 * 2));
}

TEST_CASE("SGLang: Nemotron-3-Nano on one H200, 697 state slots cap the running requests at 139") {
  const ModelShape& shape = model("nemotron-3-nano-30b-a3b");
  FitResult result = fit(shape, gpu("h200"), sglang_request(shape, 32768));
  // R = 512 + 1.5 x 8192 + 128 + 2 x 256 + 8 x 58 = 13904; round(129867 / 143771, 3) = 0.903.
  CHECK(result.mem_util == doctest::Approx(0.903));  // [oracle]
  // Weights 31.6e9 x 2 B; pool memory in GiB as SGLang holds it.
  const double memory = rest_gib(63200000000, 0.903, false);
  // max_mamba_cache_size = int((memory x 0.9 / 1.9 x 2^30 - 49082368) // 49082368) = 697.
  const double slots = std::floor((memory * 0.9 / 1.9 * kGiBd - 49082368) / 49082368);
  CHECK(slots == 697);
  REQUIRE(result.state_pool);
  CHECK(result.state_pool->slots == 697);  // [oracle]
  // The KV pool gets the rest: int((memory - 698 x 49082368 / 2^30) x 2^30) = 38089788243 B.
  CHECK(result.kv_budget.value ==
        static_cast<std::uint64_t>((memory - 698.0 * 49082368 / kGiBd) * kGiBd));
  CHECK(result.kv_budget.value == 38089788243ull);  // [oracle]
  // Cell: the 6 attention layers only, 2 K/V heads x 128 x 2 x 2 B = 1024 B each: 6144 B.
  CHECK(result.kv_tokens == 38089788243ull / 6144);  // 6199509 [oracle]
  // resolve_max_num_reqs: min(max(min(int(6199509 / 32768 x 512), 4096), 2048), 6199509 // 2)
  // = 4096, then min(4096, 697 // 5) = 139 (extra_buffer with overlap: 3 + 2 slots per request).
  CHECK(result.state_pool->slots_per_request == 5);
  CHECK(result.state_pool->max_running_requests == 139);  // [oracle]
  // The KV pool would hold floor(6199509 / 32768) = 189 full-length requests; the slots bind.
  CHECK(result.requests_per_replica == 139);
}

TEST_CASE("SGLang: Nemotron-3-Nano with TP 2, state heads and K/V heads split over the ranks") {
  const ModelShape& shape = model("nemotron-3-nano-30b-a3b");
  FitResult result = fit(shape, gpu("h200"), sglang_request(shape, 32768, {2, 1, 1}));
  // R = 512 + 12288 + 256 + 512 + 464 = 14032; round(129739 / 143771, 3) = 0.902.
  CHECK(result.mem_util == doctest::Approx(0.902));  // [oracle]
  const double memory = rest_gib(31600000000, 0.902, true);
  // 23 x (3072 x 3 x 2 + 32 x 64 x 128 x 4) = 24541184 B per slot.
  const double slots = std::floor((memory * 0.9 / 1.9 * kGiBd - 24541184) / 24541184);
  REQUIRE(result.state_pool);
  CHECK(result.state_pool->slots == static_cast<std::uint64_t>(slots));
  CHECK(result.state_pool->slots == 2002);  // [oracle]
  CHECK(result.kv_budget.value == 54643178586ull);  // [oracle]
  // 1 K/V head per rank: cell 6 x 512 B = 3072.
  CHECK(result.kv_tokens == 54643178586ull / 3072);  // 17787493 [oracle]
  CHECK(result.state_pool->max_running_requests == 2002 / 5);  // 400 [oracle]
  CHECK(result.requests_per_replica == 400);  // below floor(17787493 / 32768) = 542
}

TEST_CASE("SGLang: Qwen3-Next on H200s, TP 2 and TP 4") {
  const ModelShape& shape = model("qwen3-next-80b-a3b");
  // TP 1: 160e9 B of weights do not fit in one H200.
  CHECK_THROWS_AS(fit(shape, gpu("h200"), sglang_request(shape, 32768)), Error);

  FitResult tp2 = fit(shape, gpu("h200"), sglang_request(shape, 32768, {2, 1, 1}));
  CHECK(tp2.mem_util == doctest::Approx(0.902));  // [oracle]
  const double memory = rest_gib(80000000000, 0.902, true);
  const double slots = std::floor((memory * 0.9 / 1.9 * kGiBd - 38633472) / 38633472);
  REQUIRE(tp2.state_pool);
  CHECK(tp2.state_pool->slots == static_cast<std::uint64_t>(slots));
  CHECK(tp2.state_pool->slots == 678);  // [oracle]
  CHECK(tp2.kv_budget.value == 29167043674ull);  // [oracle]
  // 12 full-attention layers (every 4th), 1 K/V head of 256 per rank: 12 x 1024 B = 12288.
  CHECK(tp2.kv_tokens == 29167043674ull / 12288);  // 2373620 [oracle]
  CHECK(tp2.state_pool->max_running_requests == 678 / 5);  // 135 [oracle]
  CHECK(tp2.requests_per_replica == 72);  // floor(2373620 / 32768): here the KV tokens bind

  // TP 4: R = 512 + 12288 + 512 + 2 x 512 + 464 = 14800; round(128971 / 143771, 3) = 0.897. The 2
  // K/V heads are replicated (max(1, 2 / 4) = 1 per rank), the state heads split: 19316736 B.
  FitResult tp4 = fit(shape, gpu("h200"), sglang_request(shape, 32768, {4, 1, 1}));
  CHECK(tp4.mem_util == doctest::Approx(0.897));  // [oracle]
  REQUIRE(tp4.state_pool);
  CHECK(tp4.state_pool->slots == 2319);             // [oracle]
  CHECK(tp4.kv_tokens == 49833798008ull / 12288);   // 4055484 [oracle]
  CHECK(tp4.state_pool->max_running_requests == 463);  // 2319 // 5 [oracle]
  CHECK(tp4.requests_per_replica == 123);  // floor(4055484 / 32768) < 463
}

TEST_CASE("SGLang state pools: what kvplan does not plan is refused by name") {
  const ModelShape& shape = model("qwen3-next-80b-a3b");
  FitRequest pp = sglang_request(shape, 32768, {2, 2, 1});
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), pp), doctest::Contains("pp_layer_scale"), Error);
  FitRequest mtp = sglang_request(shape, 32768, {4, 1, 1});
  mtp.include_mtp = true;
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), mtp), doctest::Contains("--mtp with state layers"), Error);
  FitRequest trt = request_for(shape, 32768, {4, 1, 1}, Engine::trtllm);
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), trt), doctest::Contains("--engine trtllm"), Error);
}

TEST_CASE("SGLang state models on B200: Qwen3-Next takes triton (page 1), Nemotron-H trtllm_mha (page 64)") {
  // model_overrides/qwen3_5.py:_qwen3_5_hybrid_overrides runs before the Mamba strategy is
  // resolved, so Qwen3-Next on SM100 gets triton and page size 1; R = 512 + 1.5 x 16384 + 256 +
  // 2 x 512 + 8 x 74 = 26960; round(156399 / 183359, 3) = 0.853.
  const ModelShape& qwen = model("qwen3-next-80b-a3b");
  FitResult next = fit(qwen, gpu("b200"), sglang_request(qwen, 32768, {2, 1, 1}));
  CHECK(next.block_size == 1);                         // [oracle]
  CHECK(next.mem_util == doctest::Approx(0.853));      // [oracle]
  // Nemotron-H keeps trtllm_mha, pages of 64: R = 512 + 24576 + 128 + 1024 + 592 = 26832;
  // round(156527 / 183359, 3) = 0.854.
  const ModelShape& nemotron = model("nemotron-3-nano-30b-a3b");
  FitResult mamba = fit(nemotron, gpu("b200"), sglang_request(nemotron, 32768));
  CHECK(mamba.block_size == 64);                       // [oracle]
  CHECK(mamba.mem_util == doctest::Approx(0.854));     // [oracle]
  REQUIRE(mamba.state_pool);
  CHECK(mamba.state_pool->slots == 967);               // [oracle]
  // 52831388647 B // 6144 = 8598858, down to a multiple of 64.
  CHECK(mamba.kv_tokens == 52831388647ull / 6144 / 64 * 64);  // 8598848 [oracle]
  CHECK(mamba.state_pool->max_running_requests == 193);      // 967 // 5 [oracle]
}
