// `kvplan fit --speculative`: Llama-3.1-70B with an EAGLE-3 draft, 4 speculative tokens, at 32k
// (issue 15): the draft's KV and the lookahead slots in --explain, vLLM's flag in --emit vllm.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string line_with(const std::string& text, const std::string& part) {
  const std::size_t at = text.find(part);
  if (at == std::string::npos) return "";
  const std::size_t end = text.find('\n', at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

const std::string kDraft = std::string(KVPLAN_SOURCE_DIR) + "/tests/data/configs/llama3-70b-eagle3";

// Llama-3.1-70B at TP 4, 40 GiB of KV per GPU, 32k: a page is 16 x 2 heads x 128 x 2 x 2 B = 16384
// B; the draft's one layer makes a block 81 x 16384 = 1327104 B: floor(42949672960 / 1327104) =
// 32363 blocks, 2048 per request, 32363 / 2048 = 15.80x, int(15.80224609375 x 32768) = 517808
// tokens (vLLM 0.33's own planning agrees: tools/vllm-oracle/oracle_eagle.py, case A1).
std::vector<std::string> llama_70b_eagle3(std::vector<std::string> extra) {
  std::vector<std::string> args = {"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "4", "--ctx", "32k",
                                   "--kv-cache-memory", "40GiB", "--speculative", "eagle3:" + kDraft,
                                   "--num-speculative-tokens", "4"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("fit --speculative eagle3 --explain shows the draft's KV and the lookahead slots") {
  const CliResult result = run_cli(llama_70b_eagle3({"--explain"}));
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "floor(40.00 GiB / (16384 B page x 81 layers of the widest group))"));
  CHECK(contains(result.out, "32363"));
  CHECK(contains(result.out, "GPU KV cache size: 517,808 tokens, Maximum concurrency for 32,768 tokens per request: 15.80x"));
  CHECK(contains(result.out, "EAGLE-3 draft layers cached"));
  CHECK(contains(result.out, "register beside the target's 80 cached layers"));
  // The draft's layer: 1 x 16384 B x 2048 blocks = 32 MiB per request per rank.
  CHECK(contains(result.out, "draft KV per request per rank"));
  CHECK(contains(result.out, "1 full layer x 16384 B page x 2048 blocks (a full-attention group's blocks per request)"));
  // The lookahead: 4 slots, capped at max_model_len, so no block more at 32768 tokens; a 1024-token
  // request holds ceil(1028 / 16) = 65 blocks instead of 64.
  CHECK(contains(result.out, "lookahead slots per request"));
  CHECK(contains(result.out, "min(tokens + 4, max_model_len 32768)"));
  CHECK(contains(result.out, "ceil(1028 / 16) = 65 instead of 64"));
  // The draft's weights, listed beside the given KV memory: 501776384 params x 2 B + 256000 B.
  CHECK(contains(result.out, "501776384 params x 2 B"));
}

TEST_CASE("fit --speculative: gpt-oss-20b with SpecForge's EAGLE-3 draft, its sliding layer and the padding") {
  // 12 sliding + 12 full target layers and the draft's sliding layer (model_type gpt_oss): 2 groups
  // of 13, 26 slots for 25 layers, one padding layer; 100824 blocks, 1,432,542 tokens, 10.93x
  // (tools/vllm-oracle/oracle_eagle_oss.py, gpt-oss-20b TP1 with a sliding draft layer).
  const std::string draft = std::string(KVPLAN_SOURCE_DIR) + "/tests/data/configs/gpt-oss-20b-eagle3";
  const CliResult result =
      run_cli({"fit", "--model", "gpt-oss-20b", "--gpu", "h200", "--ctx", "128k", "--kv-cache-memory", "40GiB",
               "--max-num-batched-tokens", "8192", "--speculative", "eagle3:" + draft, "--num-speculative-tokens", "3",
               "--explain"});
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "GPU KV cache size: 1,432,542 tokens, Maximum concurrency for 131,072 tokens per request: 10.93x"));
  CHECK(contains(result.out, "1 sliding (window 128)) register beside the target's 24 cached layers"));
  CHECK(contains(result.out, "25 layers in 2 groups of 13; 2 x 13 = 26 slots for 25 layers: vLLM adds 1 padding layer"));
  // Its page in each of a sliding group's 1033 blocks per request: 32768 x 1033 = 33849344 B.
  CHECK(contains(result.out, "1 sliding layer x 32768 B page x 1033 blocks (a sliding group's blocks per request)"));
  // The draft's weights: 307649600 params x 2 B + 32000 x 8 B of d2t (speculative_test.cc).
  CHECK(contains(result.out, "307649600 params x 2 B"));
  CHECK(contains(result.out, "1 decoder layer (with qkv o_proj biases) / TP 1"));
}

TEST_CASE("fit --speculative --emit vllm writes vLLM's --speculative-config") {
  const CliResult result = run_cli(llama_70b_eagle3({"--emit", "vllm"}));
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "--speculative-config '{\"method\":\"eagle3\",\"model\":\"" + kDraft +
                                 "\",\"num_speculative_tokens\":4}'"));
  CHECK(contains(result.out, "--max-num-seqs 15"));
  const CliResult ngram = run_cli({"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "4", "--ctx", "32k",
                                   "--speculative", "ngram", "--num-speculative-tokens", "3", "--emit", "vllm"});
  REQUIRE(ngram.exit_code == 0);
  CHECK(contains(ngram.out, "--speculative-config '{\"method\":\"ngram\",\"num_speculative_tokens\":3}'"));
}

TEST_CASE("fit --speculative mtp caches the MTP layers as --mtp does, with k per MTP layer by default") {
  // DeepSeek-V3 has 1 MTP layer: vLLM drafts 1 token when num_speculative_tokens is not given.
  const std::vector<std::string> base = {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--ctx", "32k",
                                         "--kv-cache-memory", "40GiB"};
  std::vector<std::string> mtp = base, alias = base;
  mtp.insert(mtp.end(), {"--speculative", "mtp", "--emit", "vllm"});
  const CliResult emitted = run_cli(mtp);
  REQUIRE(emitted.exit_code == 0);
  CHECK(contains(emitted.out, "--speculative-config '{\"method\":\"mtp\",\"num_speculative_tokens\":1}'"));
  mtp.resize(base.size() + 2);
  alias.push_back("--mtp");
  const CliResult with_speculative = run_cli(mtp), with_alias = run_cli(alias);
  REQUIRE(with_speculative.exit_code == 0);
  // 61 hidden layers + 1 MTP layer, either way.
  CHECK(line_with(with_speculative.out, "layers on the fullest stage").ends_with(" 62"));
  CHECK(line_with(with_speculative.out, "layers on the fullest stage") == line_with(with_alias.out, "layers on the fullest stage"));
}

// SGLang 0.5.23 (docs/engines-sglang.md, section 6): the draft's layers join the pool's cell at the
// target's per-layer size, and speculative decoding caps the running requests at 48.
TEST_CASE("fit --engine sglang --speculative eagle3: one more layer in the cell, two pools logged") {
  const std::vector<std::string> args = {"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "8", "--ctx",
                                         "32k", "--engine", "sglang", "--kv-cache-memory", "40GiB",
                                         "--speculative", "eagle3:" + kDraft};
  const CliResult result = run_cli(args);
  REQUIRE(result.exit_code == 0);
  // TP 8 over 8 K/V heads: 1 head x 128 x 2 (K and V) x 2 B = 512 B per layer per token; 80 target
  // layers + 1 draft layer = 41472 B a token: floor(42949672960 / 41472) = 1035630 tokens (page 1,
  // fa3). Without the draft it would be 42949672960 / 40960 = 1048576.
  CHECK(line_with(result.out, "KV tokens").ends_with(" 1035630"));
  // 1035630 / 32768 = 31 full-length requests, under SGLang's speculative default of 48.
  CHECK(line_with(result.out, "requests per replica").ends_with(" 31 requests"));
  CHECK(contains(result.out, "so the pool's 31 full-length requests are within it"));
  // Target and draft log their own pools: (1035630 + 1 page) x layers x 512 B, half each for K and V:
  // 80 layers 21209722880 B = 19.75 GB each; 1 layer 265121536 B = 0.25 GB each.
  CHECK(contains(result.out, "#tokens: 1035630, K size: 19.75 GB, V size: 19.75 GB"));
  CHECK(contains(result.out, "#tokens: 1035630, K size: 0.25 GB, V size: 0.25 GB"));
  std::vector<std::string> emit = args;
  emit.insert(emit.end(), {"--num-speculative-tokens", "4", "--emit", "sglang"});
  const CliResult emitted = run_cli(emit);
  REQUIRE(emitted.exit_code == 0);
  CHECK(contains(emitted.out, " --speculative-algorithm EAGLE3 --speculative-draft-model-path " + kDraft +
                                  " --speculative-num-steps 4 --speculative-eagle-topk 1 --speculative-num-draft-tokens 5"));
  CHECK(contains(emitted.out, "--max-running-requests 31"));
}

TEST_CASE("fit --engine sglang --mtp: SGLang's 48 running requests bind, per attention-DP rank with DP attention") {
  const std::vector<std::string> base = {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--ctx", "8k",
                                         "--engine", "sglang", "--kv-cache-memory", "40GiB"};
  std::vector<std::string> args = base;
  args.insert(args.end(), {"--mtp", "--emit", "sglang"});
  const CliResult emitted = run_cli(args);
  REQUIRE(emitted.exit_code == 0);
  CHECK(contains(emitted.out, " --speculative-algorithm NEXTN --max-running-requests 48"));
  args.resize(base.size() + 1);
  const CliResult result = run_cli(args);
  REQUIRE(result.exit_code == 0);
  // The MLA latent (512 + 64) x 2 B = 1152 B on every rank, 61 + 1 MTP layers: 71424 B a token;
  // floor(42949672960 / 71424) = 601333 tokens, 601333 / 8192 = 73 full-length requests; 48 run.
  CHECK(line_with(result.out, "KV tokens").ends_with(" 601333"));
  CHECK(line_with(result.out, "requests per replica").ends_with(" 48 requests"));
  CHECK(contains(result.out, "so it binds: 48 running, not the 73 full-length requests the pool holds"));
  // --speculative mtp is the same plan.
  std::vector<std::string> speculative = base;
  speculative.insert(speculative.end(), {"--speculative", "mtp"});
  CHECK(line_with(run_cli(speculative).out, "KV tokens").ends_with(" 601333"));
  // With DP attention each of the 8 ranks schedules 48 // 8 = 6 requests from its own pool.
  args.push_back("--dp-attention");
  const CliResult dp = run_cli(args);
  REQUIRE(dp.exit_code == 0);
  CHECK(contains(dp.out, "48 // attn_dp 8 = 6 per rank, so it binds: 6 running, not the 73"));
  CHECK(line_with(dp.out, "requests per replica").ends_with(" 48 requests"));
}

TEST_CASE("fit --engine sglang --speculative ngram: no draft KV, SGLang's cap still applies") {
  const CliResult result = run_cli({"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "8", "--ctx", "32k",
                                    "--engine", "sglang", "--kv-cache-memory", "40GiB", "--speculative", "ngram",
                                    "--num-speculative-tokens", "8", "--emit", "sglang"});
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, " --speculative-algorithm NGRAM --speculative-num-draft-tokens 8"));
  // 42949672960 / 40960 = 1048576 tokens = 32 full-length requests.
  CHECK(contains(result.out, "--max-running-requests 32"));
}
