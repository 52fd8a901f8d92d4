// `kvplan fit` through the command line: output, launch commands, and bad input.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string bad_input(const std::vector<std::string>& args) {
  CliResult result = run_cli(args);
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(line_count(result.err) == 1);
  return result.err;
}
}  // namespace

TEST_CASE("fit prints the budget, the capacity and vLLM's own log lines") {
  CliResult result = run_cli({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "8",
                              "--kv-dtype", "fp8", "--ctx", "32k", "--kv-cache-memory", "50GiB"});
  CHECK(result.exit_code == 0);
  // 50 GiB / (16 x 256 B) / 80 layers = 163840 blocks; x 16 = 2621440 tokens; / 2048 = 80x.
  CHECK(contains(result.out, "\"GPU KV cache size: 2,621,440 tokens\""));
  CHECK(contains(result.out, "\"Maximum concurrency for 32,768 tokens per request: 80.00x\""));
  CHECK(contains(result.out, "requests per replica"));
}

TEST_CASE("fit --explain shows each rule with its values") {
  CliResult result = run_cli({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--ctx", "8k", "--explain"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "8030261248 params x 2 B (bf16) / (TP 1 x PP 1)"));
  CHECK(contains(result.out, "ceil(79.19 GiB x 0.92)"));
  CHECK(contains(result.out, "max(1, 8 / TP 1)"));
}

TEST_CASE("fit --format json carries exact values") {
  CliResult result = run_cli({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--kv-dtype", "fp8",
                              "--ctx", "32k", "--kv-cache-memory", "50GiB", "--format", "json"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "\"key\": \"num_blocks\""));
  CHECK(contains(result.out, "\"value\": 163840"));
}

TEST_CASE("--emit prints the engine's launch command for the plan") {
  CliResult vllm = run_cli({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--kv-dtype", "fp8",
                            "--ctx", "32k", "--kv-cache-memory", "50GiB", "--emit", "vllm"});
  CHECK(vllm.exit_code == 0);
  CHECK(vllm.out ==
        "vllm serve meta-llama/Meta-Llama-3-70B --tensor-parallel-size 8 --max-model-len 32768 --kv-cache-dtype fp8 "
        "--kv-cache-memory-bytes 53687091200 --max-num-seqs 80\n");
  CliResult sglang = run_cli({"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--engine", "sglang",
                              "--ctx", "64k", "--emit", "sglang"});
  CHECK(sglang.exit_code == 0);
  CHECK(contains(sglang.out, "python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-V3 --tp-size 8 "
                             "--context-length 65536 --kv-cache-dtype bf16 --mem-fraction-static 0.896"));
}

TEST_CASE("fit: bad input is one line and exit 2") {
  // A GPU smaller than the weights, with how much is missing.
  CHECK(contains(bad_input({"fit", "--model", "llama-3.1-405b", "--gpu", "h100-sxm", "--gpus", "8", "--ctx", "8k"}),
                 "21.64 GiB missing"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "rtx-4090", "--weights-dtype", "fp32", "--ctx", "8k"}),
                 "the weights do not fit"));
  // Not even one request fits.
  CHECK(contains(bad_input({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "2", "--ctx", "1M"}),
                 "not even one request of 1048576 tokens fits"));
  CHECK(contains(bad_input({"fit", "--model", "qwen2.5-7b", "--gpu", "h100-sxm", "--gpus", "8"}),
                 "--tp 8 does not divide num_attention_heads (28)"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--mem-util", "1.5"}), "--mem-util"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--mem-util", "nan"}), "--mem-util"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "tgi"}), "unknown engine 'tgi'"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxn"}), "did you mean 'h100-sxm'?"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b"}), "--gpu is required"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "3"}),
                 "not a multiple of TP 3"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "2", "--dp", "2"}),
                 "does not equal TP x PP x DP = 4"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--emit", "sglang"}), "--engine sglang"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--dp-attention"}), "--engine sglang"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--variant", "all"}), "one variant"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--kv-cache-memory", "80G"}), "ambiguous"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--weights-dtype", "fp6"}),
                 "--weights-dtype"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpu-price", "-2"}), "--gpu-price"));
}

TEST_CASE("SGLang log, PR 18263: Qwen3-30B-A3B's K and V buffers for 1,669,816 tokens") {
  // Logged: "KV Cache is allocated. dtype: torch.bfloat16, #tokens: 1669816, K size: 76.44 GB,
  // V size: 76.44 GB". cell_size = 4 KV heads x 128 x 2 (K and V) x 2 B x 48 layers = 98304 B;
  // give a pool of exactly 1669816 tokens; each of the K and V buffers holds (1669816 + 1 page)
  // slots x 4 x 128 x 2 B x 48 layers = 82074845184 B = 76.44 x 2^30.
  // The pool is 152.88 GiB: beside it, bf16 weights (30.5B x 2 B = 56.87 GiB) would overflow the
  // MI300X's 191.98 GiB, which kvplan refuses, so the weights here are fp8 (28.4 GiB).
  const std::uint64_t memory = 1669816ull * 98304;
  CHECK(1669817ull * 4 * 128 * 2 * 48 == 82074845184ull);
  CliResult result = run_cli({"fit", "--config", std::string(KVPLAN_SOURCE_DIR) + "/tests/data/configs/qwen3-30b-a3b/config.json",
                              "--gpu", "mi300x", "--engine", "sglang", "--ctx", "32k", "--kv-cache-memory",
                              std::to_string(memory), "--weights-dtype", "fp8"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "\"KV Cache is allocated. #tokens: 1669816, K size: 76.44 GB, V size: 76.44 GB\""));
}

TEST_CASE("fit --concurrency beyond any fleet: the note says why, not that one request does not fit") {
  // Llama-3-8B at 8k holds requests on one H100; 2^64 - 1 of them need more than 100000 replicas.
  CliResult result = run_cli({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--ctx", "8k", "--concurrency",
                              "18446744073709551615"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "no fleet of h100-sxm with TP <= 8, PP <= 8 and at most 100000 replicas holds "
                             "18446744073709551615 requests of 8192 tokens"));
}
