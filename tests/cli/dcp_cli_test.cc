// Decode context parallel through the command line: `fit --dcp`, vLLM's own spelling, the fleet
// token dcpN in sweep, and the launch command. The numbers are tests/core/dcp_test.cc's arithmetic
// (cross-checked there with vLLM 0.33.0's own planning code, tools/vllm-oracle/oracle_dcp.py).
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// DeepSeek-V3 in fp8 weights on 8 H200s, TP 8, 32k, 40 GiB of KV memory per GPU, plus `extra`.
CliResult deepseek(std::vector<std::string> extra) {
  std::vector<std::string> args = {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8",
                                   "--weights-dtype", "fp8", "--ctx", "32k", "--kv-cache-memory", "40GiB"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(args);
}
}  // namespace

TEST_CASE("fit --dcp 8: DeepSeek-V3 on 8 H200s holds 8x the tokens of TP 8 alone") {
  // 40 GiB / (16 x 1152 B x 61 layers) = 38199 blocks per rank either way; blocks per request
  // ceil(32768 / 16) = 2048 at TP 8, ceil(ceil(32768 / 8) / 16) = 256 with DCP 8.
  CliResult tp8 = deepseek({});
  CHECK(tp8.exit_code == 0);
  CHECK(contains(tp8.out, "\"GPU KV cache size: 611,184 tokens, Maximum concurrency for 32,768 tokens per request: 18.65x\""));
  CliResult dcp8 = deepseek({"--dcp", "8", "--explain"});
  CHECK(dcp8.exit_code == 0);
  CHECK(contains(dcp8.out, "(TP 8 x PP 1 x DP 1, DCP 8)"));
  CHECK(contains(dcp8.out,
                 "\"GPU KV cache size: 4,889,472 tokens, Maximum concurrency for 32,768 tokens per request: 149.21x\""));
  CHECK(contains(dcp8.out, "ceil(ceil(32768 / DCP 8) / 16) per full-attention group"));
  // KV per request per rank: 256 x 1124352 B = 274.5 MiB (2048 blocks, 2.14 GiB, without DCP).
  CHECK(contains(dcp8.out, "256 blocks x 1124352 B: 1/8 of a request's tokens (without DCP: 2048 blocks)"));
  CHECK(contains(dcp8.out, "token i of a request is cached on rank i mod 8"));
  // vLLM's own spelling gives the same plan.
  CliResult spelled = deepseek({"--decode-context-parallel-size", "8", "--explain"});
  CHECK(spelled.exit_code == 0);
  CHECK(spelled.out == dcp8.out);
}

TEST_CASE("fit --dcp --emit vllm passes --decode-context-parallel-size") {
  CliResult result = deepseek({"--dcp", "8", "--emit", "vllm"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "vllm serve deepseek-ai/DeepSeek-V3 --tensor-parallel-size 8 --decode-context-parallel-size 8 --max-model-len "
        "32768 --kv-cache-dtype auto --kv-cache-memory-bytes 42949672960 --max-num-seqs 149\n");
}

TEST_CASE("fit --dcp with --concurrency keeps DCP in every replica it tries") {
  // 1000 requests at 149 per replica: ceil(1000 / 149) = 7 replicas of TP 8, 56 GPUs.
  CliResult result = deepseek({"--dcp", "8", "--concurrency", "1000"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "56 x h200 as 7 deployments of TP 8 + DCP 8 (149 requests each, 1043 in all)"));
}

TEST_CASE("sweep: fleets with dcpN, side by side with TP alone") {
  CliResult result = run_cli({"sweep", "--models", "deepseek-v3", "--ctx", "32k", "--gpus", "h200:8:tp8,h200:8:tp8:dcp8",
                              "--weights-dtype", "fp8", "--format", "csv"});
  CHECK(result.exit_code == 0);
  REQUIRE(line_count(result.out) == 3);
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CSV rows end in CRLF (RFC 4180)
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  // Columns: model, variant, native, kv dtype, ctx, fleet, TP, PP, DP, per token per layer, per
  // sequence, per request per rank, KV per GPU, KV tokens, concurrency, requests, status.
  const std::vector<std::string>& tp8 = rows[1];
  const std::vector<std::string>& dcp8 = rows[2];
  REQUIRE(tp8.size() == 17);
  REQUIRE(dcp8.size() == 17);
  CHECK(tp8[5] == "h200:8:tp8");
  CHECK(dcp8[5] == "h200:8:tp8:dcp8");
  CHECK(dcp8[6] == "8");  // DCP adds no GPU: TP 8 x PP 1 x DP 1
  CHECK(dcp8[8] == "1");
  // The same KV memory per GPU and so the same blocks B; 32768 is a multiple of 16 x 8, so the
  // tokens are int(B / 2048 x 32768) = 16 B and int(B / 256 x 32768) = 128 B: exactly 8x.
  CHECK(tp8[12] == dcp8[12]);
  CHECK(std::stoull(dcp8[13]) == 8 * std::stoull(tp8[13]));
  // A request's cache on one rank: 61 layers x 1152 B x 16 tokens a block, 2048 blocks alone,
  // ceil(32768 / 8 / 16) = 256 with DCP 8.
  CHECK(tp8[11] == std::to_string(61ull * 1152 * 16 * 2048));
  CHECK(dcp8[11] == std::to_string(61ull * 1152 * 16 * 256));
  CHECK(tp8[16] == "ok");
  CHECK(dcp8[16] == "ok");
}

TEST_CASE("sweep: a DCP that does not divide TP is a row with vLLM's reason - a repeated dcp is bad input") {
  CliResult odd = run_cli({"sweep", "--models", "deepseek-v3", "--ctx", "32k", "--gpus", "h200:8:tp8:dcp3",
                           "--weights-dtype", "fp8", "--format", "csv"});
  CHECK(odd.exit_code == 0);
  CHECK(contains(odd.out, "--dcp 3 does not divide --tp 8"));
  CliResult twice = run_cli({"sweep", "--models", "deepseek-v3", "--gpus", "h200:8:dcp8:dcp8"});
  CHECK(twice.exit_code == 2);
  CHECK(contains(twice.err, "dcp is given twice"));
}
