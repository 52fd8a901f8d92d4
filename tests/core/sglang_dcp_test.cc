// SGLang 0.5.23's decode context parallelism (--dcp-size; docs/engines-sglang.md): each DCP rank
// stores every dcp-th token of a sequence in a pool of per-rank rows, the scheduler counts rows x dcp
// tokens (kv_cache_configurator.py:logical_token_capacity), K/V heads shard over TP / dcp
// (configs/model_config.py:get_num_kv_heads), the MLA latent is whole on every rank, and the prefill
// CUDA graph is off. Each expected number is arithmetic written out here. [oracle]: what SGLang
// 0.5.23's own ServerArgs.resolve_once() resolved on a CPU with a faked H200 (nvidia-smi 143771 MiB),
// and its ModelConfig.get_num_kv_heads on Qwen3-30B-A3B's config.json (1 head at TP 8 with dcp 2).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/capacity.h"
#include "core/error.h"
#include "core/fleet.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

FitRequest dcp_request(const char* name, std::uint32_t dcp, std::uint64_t ctx = 32768) {
  FitRequest request = request_for(model(name), ctx, Parallelism{8, 1, 1}, Engine::sglang);
  request.parallel.dcp = dcp;
  return request;
}

std::string refusal(const char* name, std::uint32_t dcp) {
  try {
    fit(model(name), gpu("h200"), dcp_request(name, dcp));
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("SGLang --dcp-size 8, DeepSeek-V3 on 8 H200s: the latent whole on each rank, 8 x the tokens") {
  FitRequest request = dcp_request("deepseek-v3", 8);
  request.weight_bytes_per_param = 1;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult result = fit(model("deepseek-v3"), gpu("h200"), request);
  // No prefill graph under DCP, so no 1536 MiB MLA reserve: R = 512 + 1.5 x 8192 + 8 / 8 x 1024 +
  // 2 x 512 = 14848 MiB; round((143771 - 14848) / 143771, 3) = 0.897 (0.886 without DCP). [oracle]
  CHECK(result.mem_util == doctest::Approx(0.897));
  // cell = (512 + 64) x 2 B x 61 layers = 70272 B per row; 42949672960 / 70272 = 611191 rows per rank
  // (page 1), which hold 611191 x 8 = 4889528 tokens.
  REQUIRE(result.token_pools.size() == 1);
  CHECK(result.token_pools.front().tokens == 611191);
  CHECK(result.kv_tokens == 611191ull * 8);
  CHECK(result.kv_heads_per_rank == 1);
  // 4889528 / 32768 = 149.2 full-length requests; a request holds 32768 / 8 = 4096 rows of each rank.
  CHECK(result.requests_per_replica == 149);
  CHECK(result.bytes_per_request_per_rank.value == 70272ull * 4096);
}

TEST_CASE("SGLang --dcp-size 2, Qwen3-30B-A3B (4 K/V heads) at TP 8: 1 head per rank, 2 x the tokens") {
  FitRequest request = dcp_request("qwen3-30b-a3b", 2);
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult result = fit(model("qwen3-30b-a3b"), gpu("h200"), request);
  // Non-MLA reserve without the prefill graph: R = 14848 MiB, 0.897 (0.893 without DCP). [oracle]
  CHECK(result.mem_util == doctest::Approx(0.897));
  // get_num_kv_heads(8, 2) = max(1, 4 / (8 / 2)) = 1 [oracle]: cell = 1 x (128 + 128) x 2 B x 48 layers =
  // 24576 B; 42949672960 / 24576 = 1747626 rows (page 1); x 2 = 3495252 tokens.
  CHECK(result.kv_heads_per_rank == 1);
  CHECK(result.token_pools.front().tokens == 1747626);
  CHECK(result.kv_tokens == 3495252);
  CHECK(result.max_concurrency == doctest::Approx(3495252.0 / 32768));
}

TEST_CASE("SGLang --dcp-size: what kvplan and SGLang refuse") {
  // Llama-3.1-70B's 8 K/V heads at TP 8 / dcp 2 = 4: a DCP group's ranks would hold different heads.
  CHECK(refusal("llama-3.1-70b", 2).find("exceed TP / dcp = 4") != std::string::npos);
  CHECK(refusal("deepseek-v3", 3).find("--dcp 3 does not divide --tp 8") != std::string::npos);
  // The hybrid SWA pool never widens; the state pool and drafts are not modelled with DCP.
  CHECK(refusal("gpt-oss-120b", 2).find("the hybrid SWA pool") != std::string::npos);
  CHECK(refusal("qwen3-next-80b-a3b", 2).find("the state pool") != std::string::npos);
}

TEST_CASE("SGLang's fleet search tries DCP: the whole TP for MLA, TP / K/V heads for GQA") {
  FitRequest request = request_for(model("deepseek-v3"), 32768, Parallelism{8, 1, 1}, Engine::sglang);
  request.weight_bytes_per_param = 1;
  const FleetSearch mla = smallest_fleet(model("deepseek-v3"), gpu("h200"), request, 256);
  const auto dcp8 = std::find_if(mla.options.begin(), mla.options.end(),
                                 [](const FleetOption& option) { return option.layout == "TP 8 + DCP 8"; });
  REQUIRE(dcp8 != mla.options.end());
  // A request holds 32768 / 8 = 4096 rows of 61 x 1152 B on each rank.
  CHECK(dcp8->kv_per_request_per_rank.value == 61ull * 1152 * 4096);
  // Qwen3-30B-A3B's 4 K/V heads: TP 8 tries DCP 8 / 4 = 2, TP 4 none (4 / 4 = 1).
  FitRequest gqa = request_for(model("qwen3-30b-a3b"), 32768, Parallelism{1, 1, 1}, Engine::sglang);
  const FleetSearch search = smallest_fleet(model("qwen3-30b-a3b"), gpu("h200"), gqa, 64);
  std::vector<std::string> dcp_layouts;
  for (const FleetOption& option : search.options) {
    if (option.deployment.dcp > 1) dcp_layouts.push_back(option.layout);
  }
  CHECK(dcp_layouts == std::vector<std::string>{"TP 8 + DCP 2"});
}
