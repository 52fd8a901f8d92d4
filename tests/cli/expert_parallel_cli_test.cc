// DP attention and expert parallel through the command line: `fit --dp 8 --tp 1 --ep 8`, the
// launch command vLLM needs for it, the fleet search's side-by-side rows, and the fleet token
// dp8:ep8 in sweep. The numbers are tests/core/expert_parallel_test.cc's arithmetic.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("fit --tp 1 --dp 8 --ep 8: DeepSeek-V3's experts over 8 ranks, 8 pools of own requests") {
  CliResult result = run_cli({"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--tp", "1", "--ep", "8",
                              "--ctx", "32k", "--kv-cache-memory", "40GiB", "--explain"});
  REQUIRE(result.exit_code == 0);
  // 19029327200 B whole + 654068416512 B / 8 of experts (the core test's arithmetic).
  CHECK(contains(result.out, "- 654068416512 B of routed experts) / TP 1 + 654068416512 B / (TP 1 x DP 8)) / PP 1"));
  // 38199 blocks / 2048 per request on each rank: 18 requests, 8 ranks.
  CHECK(contains(result.out, "18 x 8 DP ranks, each its own scheduler and KV cache"));
  CliResult emit = run_cli({"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--tp", "1", "--ep", "8",
                            "--ctx", "32k", "--kv-cache-memory", "40GiB", "--emit", "vllm"});
  REQUIRE(emit.exit_code == 0);
  CHECK(contains(emit.out, " --tensor-parallel-size 1 --data-parallel-size 8 --enable-expert-parallel "));
  CHECK(contains(emit.out, " --max-num-seqs 18"));
}

TEST_CASE("fit --concurrency shows TP 8, TP 8 + DCP 8 and DP 8 + EP 8 side by side") {
  CliResult result =
      run_cli({"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--concurrency", "256", "--ctx", "32k"});
  REQUIRE(result.exit_code == 0);
  // KV per request per rank: 61 x 2048 x 16 x 1152 B = 2.14 GiB; with DCP 8, 256 blocks: 274.50 MiB.
  // TP 8 holds 21 (21.98x: the fp8 checkpoint's 244 MiB of 16-bit MLA W_UK/W_UV copies per rank take
  // the 22nd; tests/core/mla_copies_test.cc has the arithmetic).
  CHECK(contains(result.out, "TP 8: 21 a deployment, 2.14 GiB per request per rank"));
  CHECK(contains(result.out, "TP 8 + DCP 8"));
  CHECK(contains(result.out, "274.50 MiB per request per rank"));
  CHECK(contains(result.out, "TP 1 x DP 8 + EP 8: "));
  CHECK(contains(result.out, "smallest fleet for 256 concurrent requests: "));
}

TEST_CASE("sweep's fleet token dp8:ep8 is one vLLM deployment of eight TP-1 ranks") {
  CliResult result = run_cli({"sweep", "--models", "deepseek-v3", "--ctx", "32k", "--kv-dtypes", "bf16", "--gpus",
                              "h200:8:tp8,h200:8:tp8:dcp8,h200:8:dp8:ep8", "--format", "csv"});
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "h200:8:dp8:ep8"));
  CHECK(!contains(result.out, "weights do not fit"));
}
