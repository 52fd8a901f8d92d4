// `kvplan fit --shared-prefix`: the block arithmetic beside the unshared numbers, in the table,
// in JSON and with --explain.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// llama-3.1-70b on 4 H100s (TP 4), 40 GiB of KV per GPU, 32k context. 2 of the 8 K/V heads per
// rank: a page is 16 x 2 x 128 x 2 x 2 B = 16384 B, a block 80 layers x 16384 = 1.25 MiB, so
// 40 GiB holds 32768 blocks; 32768 / 16 = 2048 per request: 16.00x. A 4k prefix shares
// floor(4096 / 16) = 256 blocks; 2048 - 256 = 1792 unique; (32768 - 256) / 1792 = 18.14x.
std::vector<std::string> llama_70b(std::vector<std::string> extra) {
  std::vector<std::string> args = {"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--gpus", "4", "--ctx",
                                   "32k", "--kv-cache-memory", "40GiB", "--shared-prefix", "4k"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("fit --shared-prefix prints the shared and unique blocks and both concurrencies") {
  CliResult result = run_cli(llama_70b({}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "shared prefix: 4096 tokens"));
  CHECK(contains(result.out, "prefixes:      1 distinct prefix"));
  CHECK(contains(result.out, "18.14x (unshared 16.00x)"));
  CHECK(contains(result.out, "unique blocks per request"));
  CHECK(contains(result.out, "1792"));
  // The unshared lines are still there: vLLM's own log line and 16 requests.
  CHECK(contains(result.out, "Maximum concurrency for 32,768 tokens per request: 16.00x"));
}

TEST_CASE("fit --shared-prefix --explain substitutes the values and names the release") {
  CliResult result = run_cli(llama_70b({"--prefixes", "2", "--explain"}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "vLLM 0.33 shares whole blocks only"));
  CHECK(contains(result.out, "floor(4096 / 16) x 16 = 4096 tokens shared"));
  CHECK(contains(result.out, "2 prefixes x (256 x 1 full-attention group) = 512, held once per prefix"));
  // (32768 - 512) / 1792 = 18.00x.
  CHECK(contains(result.out, "(32768 blocks - 512 shared) / 1792 unique per request"));
  CHECK(contains(result.out, "18.00x (unshared 16.00x)"));
}

TEST_CASE("fit --shared-prefix --format json carries the exact counts") {
  CliResult result = run_cli(llama_70b({"--format", "json"}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "\"shared_prefix_tokens\": 4096"));
  CHECK(contains(result.out, "\"shared_prefixes\": 1"));
  CHECK(contains(result.out, "\"key\": \"shared_prefix_blocks\""));
  CHECK(contains(result.out, "\"value\": 256"));
  CHECK(contains(result.out, "\"key\": \"requests_per_replica_shared_prefix\""));
  CHECK(contains(result.out, "\"value\": 18"));
}

TEST_CASE("fit --shared-prefix with SGLang counts pages of its radix cache") {
  // A token is 80 layers x 2 x 128 x 2 x 2 B = 81920 B per rank; 40 GiB / 81920 = 524288 tokens.
  // Page 1: (524288 - 4096) / (32768 - 4096) = 18.14x, as for vLLM's 16-token blocks.
  CliResult result = run_cli(llama_70b({"--engine", "sglang", "--explain"}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "SGLang 0.5.23's radix cache matches whole pages"));
  CHECK(contains(result.out, "(524288 blocks - 4096 shared) / 28672 unique per request"));
}

TEST_CASE("fit --shared-prefix with --no-enable-prefix-caching shares nothing") {
  CliResult result = run_cli(llama_70b({"--no-enable-prefix-caching", "--explain"}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "--no-enable-prefix-caching: vLLM 0.33 shares nothing"));
  CHECK(contains(result.out, "16.00x (unshared 16.00x)"));
}

TEST_CASE("fit without --shared-prefix prints no prefix rows") {
  CliResult result = run_cli({"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--gpus", "4", "--ctx", "32k",
                              "--kv-cache-memory", "40GiB", "--format", "json"});
  CHECK(result.exit_code == 0);
  CHECK(!contains(result.out, "shared_prefix"));
}
