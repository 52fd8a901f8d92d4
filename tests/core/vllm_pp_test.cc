// vLLM's accounting under pipeline parallelism (docs/engines.md, "Groups and blocks" and "PP"):
// every stage its own budget and the smallest block count binds; the KV cache groups formed over
// the whole model (0.19 on) or on each PP worker (0.10). Each expected number is arithmetic written
// out here; the 0.33 case was cross-checked like tests/core/vllm_rules_test.cc's.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/fit_internal.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// A preset's request with the KV memory given, as vLLM's kv_cache_memory_bytes.
FitRequest request_for(const char* name, std::uint64_t ctx, std::uint64_t kv_cache_memory) {
  FitRequest request = testing::request_for(model(name), ctx);
  request.options.kv_cache_memory = Bytes{kv_cache_memory};
  return request;
}

}  // namespace

TEST_CASE("vLLM 0.33 with PP: groups over the whole model, a budget per stage, the fewest blocks bind") {
  // Gemma-2-9B on 2 stages of 21 layers (0-20: 11 sliding + 10 full; 21-41: 10 sliding + 11 full).
  // The groups (21 sliding, 21 full) are the whole model's; each stage's block spans its layers
  // of the widest group: 11 x 131072 B. 10 GiB / 1441792 = 7447 blocks on both stages.
  // In flight with PP 2: 3 batches x 8192 (PP + 1, V2 model runner): the sliding group still 513.
  FitRequest request = request_for("gemma-2-9b", 8192, 10 * GiB);
  request.parallel = {1, 2, 1};
  FitResult result = fit(model("gemma-2-9b"), gpu("h100-sxm"), request);
  CHECK(result.concurrent_batches == 3);
  CHECK(result.stages.size() == 2);
  CHECK(result.stages[0].bytes_per_block.value == 11 * 131072);
  CHECK(result.num_blocks == 7447);
  CHECK(result.kv_tokens == 59517);  // int(7447 / 1025 x 8192) = int(59517.6)

  // Llama-3.1-8B on 2 stages of 16 layers with 20 and 18 GiB: blocks of 16 x 65536 B = 1 MiB;
  // 20480 and 18432 blocks, stage 1 binds; 18432 / 8192 = 2.25x at 128k.
  FitRequest llama = request_for("llama-3.1-8b", 131072, 20 * GiB);
  llama.parallel = {1, 2, 1};
  llama.options.kv_cache_memory_per_stage = {Bytes{20 * GiB}, Bytes{18 * GiB}};
  FitResult per_stage = fit(model("llama-3.1-8b"), gpu("h100-sxm"), llama);
  CHECK(per_stage.stages[0].num_blocks == 20480);
  CHECK(per_stage.stages[1].num_blocks == 18432);
  CHECK(per_stage.binding_stage == 1);
  CHECK(per_stage.num_blocks == 18432);
  CHECK(per_stage.kv_tokens == 294912);
  llama.options.kv_cache_memory_per_stage = {Bytes{20 * GiB}};
  CHECK_THROWS_WITH_AS(fit(model("llama-3.1-8b"), gpu("h100-sxm"), llama), doctest::Contains("1 values for 2 PP stages"),
                       Error);
}

TEST_CASE("vLLM 0.10 with PP: each worker groups its own layers, the scheduler runs stage 0's groups") {
  // Gemma-3-27B on 2 stages of 31 layers; global layers where (i + 1) % 6 == 0: 5, 11, 17, 23, 29
  // on stage 0 and 35, 41, 47, 53, 59 on stage 1, so each stage holds 5 global + 26 sliding.
  // Per worker (get_kv_cache_config, 0.10's fewest in runs): groups of 5, ceil(26 / 5) = 6 sliding
  // (4 padding layers) + 1 global on both stages. A block spans 5 layers: 5 x 131072 B = 655360 B;
  // 20 GiB / 655360 = 32768 blocks on each stage. Per request at 32k: global 32768 / 16 = 2048;
  // sliding ceil(min(1023 + 8192, 32768) / 16) + 1 = 576 + 1 = 577 (0.10 adds the batched
  // tokens once); 2048 + 6 x 577 = 5510. Tokens: 32768 / 7 groups x 16 = 4681 x 16 = 74896.
  // (Grouped over the whole model, as 0.19 does, the groups would be 10 layers wide.)
  FitRequest request = request_for("gemma-3-27b", 32768, 20 * GiB);
  request.options.engine_version = "0.10";
  request.parallel = {1, 2, 1};
  FitResult result = fit(model("gemma-3-27b"), gpu("h100-sxm"), request);
  CHECK(result.groups.size() == 7);
  CHECK(result.group_size == 5);
  CHECK(result.stages[0].bytes_per_block.value == 655360);
  CHECK(result.stages[1].bytes_per_block.value == 655360);
  CHECK(result.num_blocks == 32768);
  CHECK(result.blocks_per_request == 5510);
  CHECK(result.kv_tokens == 74896);
  CHECK(result.max_concurrency == doctest::Approx(32768.0 / 5510));  // "5.95x"

  // Gemma-2-9B's 42 alternating layers split 11 sliding + 10 global and 10 + 11: groups of 10 give
  // stage 0 one global and two sliding groups, stage 1 two global and one sliding. 0.10's
  // unify_kv_cache_configs asserts each worker's sorted group specs equal worker 0's: refused.
  FitRequest gemma2 = request_for("gemma-2-9b", 8192, 10 * GiB);
  gemma2.options.engine_version = "0.10";
  gemma2.parallel = {1, 2, 1};
  CHECK_THROWS_WITH_AS(fit(model("gemma-2-9b"), gpu("h100-sxm"), gemma2),
                       doctest::Contains("stage 0: 1 full + 2 sliding, stage 1: 2 full + 1 sliding"), Error);
}

TEST_CASE("PP stages weigh their own layers, the embedding on the first and the LM head on the last") {
  // Llama-3.1-8B: 8030261248 params, of which 2 x 128256 x 4096 = 1050673152 in the untied
  // embedding and LM head. Each stage: (8030261248 - 1050673152) x 16 / 32 + 525336576 params.
  FitRequest request = request_for("llama-3.1-8b", 8192, GiB);
  request.parallel = {1, 2, 1};
  const std::uint64_t per_stage = (8030261248ull - 1050673152ull) / 2 + 525336576ull;
  CHECK(detail::weights_per_stage(model("llama-3.1-8b"), request, 0).value == per_stage * 2);
  CHECK(detail::weights_per_stage(model("llama-3.1-8b"), request, 1).value == per_stage * 2);
  request.parallel = {1, 1, 1};
  CHECK(detail::weights_per_stage(model("llama-3.1-8b"), request, 0).value == 8030261248ull * 2);
}
