// `kvplan fit --offload cpu:SIZE --link L` (native, or LMCache with --offload-backend lmcache): the
// CPU tier's tokens, reload vs recompute and the break-even context, in the table, with --explain,
// in JSON and in --emit vllm.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// qwen3-32b on 2 H100s (TP 2), 128k context, 512 GiB of CPU over PCIe 5. 4 K/V heads per rank:
// a page is 16 x 4 x 128 x 2 x 2 B = 32768 B, a block 64 layers x 32768 = 2 MiB per rank, a chunk
// 2 x 2 MiB = 4 MiB; 512 GiB / 4 MiB = 131072 chunks; 131072 x 131072 // 8192 = 2097152 tokens.
// One request per rank: 8192 blocks x 2 MiB = 16 GiB; / 64e9 B/s = 0.268 s.
std::vector<std::string> qwen3_32b(std::vector<std::string> extra) {
  std::vector<std::string> args = {"fit", "--model", "qwen3-32b", "--gpu", "h100-sxm", "--gpus", "2", "--ctx", "128k",
                                   "--offload", "cpu:512GiB", "--link", "pcie5"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> qwen3_32b_disk(std::vector<std::string> extra) {
  std::vector<std::string> args = {"fit", "--model", "qwen3-32b", "--gpu", "h100-sxm", "--gpus", "2", "--ctx", "128k",
                                   "--offload", "cpu:512GiB,disk:4TiB", "--link", "pcie5", "--disk-read", "7GBps"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("fit --offload prints the tokens per tier, reload vs recompute and the break-even context") {
  CliResult result = run_cli(qwen3_32b({}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "tokens, CPU tier (per replica)"));
  CHECK(contains(result.out, "2097152 tokens"));
  CHECK(contains(result.out, "tokens, GPU tier (per replica)"));
  CHECK(contains(result.out, "16.00 GiB"));
  CHECK(contains(result.out, "268.4 ms"));
  CHECK(contains(result.out, "recompute one request, bound"));
  CHECK(contains(result.out, "none: reload is faster at every length"));
}

TEST_CASE("fit --offload --explain substitutes the values") {
  CliResult result = run_cli(qwen3_32b({"--explain"}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "round_up(page 32768 B x 64 layers = 2097152 B per block per rank, x 2 ranks, 4096) = 4194304 B"));
  CHECK(contains(result.out, "floor(cpu_bytes_to_use 549755813888 B"));
  CHECK(contains(result.out, "131072 chunks x 131072 // ceil(131072 / 16) = 8192 chunks per request = 2097152"));
  CHECK(contains(result.out, "17179869184 B / 64 GB/s"));
}

TEST_CASE("fit --offload in JSON and --emit vllm") {
  CliResult json = run_cli(qwen3_32b({"--format", "json"}));
  CHECK(json.exit_code == 0);
  CHECK(contains(json.out, "offload_cpu_tokens"));
  CHECK(contains(json.out, "2097152"));
  CliResult emit = run_cli(qwen3_32b({"--emit", "vllm"}));
  CHECK(emit.exit_code == 0);
  CHECK(contains(emit.out, "--kv-offloading-size 512 --kv-offloading-backend native"));
}

TEST_CASE("the issue's command on one H100: vLLM would not start, so kvplan refuses it") {
  // 128k tokens need 32 GiB of KV per GPU; one H100 has 8.49 GiB after 61 GiB of bf16 weights.
  // Offloaded blocks are loaded back into GPU blocks, so the CPU tier does not lift the check.
  CliResult result = run_cli({"fit", "--model", "qwen3-32b", "--gpu", "h100-sxm", "--ctx", "128k", "--offload",
                              "cpu:512GiB", "--link", "pcie5"});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.err, "not even one request of 131072 tokens fits"));
  CHECK(result.out.empty());
}

TEST_CASE("fit --offload with a disk tier: its rows, and --emit vllm's --kv-transfer-config") {
  // The same chunk, 4 MiB (both ranks' slices); 4 TiB / 4 MiB = 1048576 files x 131072 // 8192 =
  // 16777216 tokens. One request from disk: 8192 files x 4 MiB = 32 GiB / 7e9 B/s = 4.91 s, then
  // the 0.268 s over PCIe 5: 5.18 s.
  CliResult table = run_cli(qwen3_32b_disk({}));
  REQUIRE(table.exit_code == 0);
  CHECK(contains(table.out, "16777216 tokens"));
  CHECK(contains(table.out, "4.91 s"));
  CHECK(contains(table.out, "5.18 s"));
  // cpu_bytes_to_use = 512 x 2^30 = 549755813888; the path is JSON inside single shell quotes.
  CliResult emit = run_cli(qwen3_32b_disk({"--emit", "vllm", "--disk-dir", "/mnt/it's"}));
  REQUIRE(emit.exit_code == 0);
  CHECK(contains(emit.out, "--kv-transfer-config '{\"kv_connector\":\"OffloadingConnector\",\"kv_role\":\"kv_both\","
                           "\"kv_connector_extra_config\":{\"spec_name\":\"TieringOffloadingSpec\","
                           "\"cpu_bytes_to_use\":549755813888,\"secondary_tiers\":[{\"type\":\"fs\",\"root_dir\":"
                           "\"/mnt/it'\\''s\"}]}}'"));
  CHECK_FALSE(contains(emit.out, "--kv-offloading-size"));
}

TEST_CASE("fit --offload-backend lmcache: LMCache's objects, the server line to start, the hybrid allocator off") {
  // The same 2 ranks with LMCache's L1 of 512 GiB: per token per rank 64 layers x 4 x 128 x 2 x 2 B =
  // 131072 B; an object 256 x 131072 = 33554432 B; 549755813888 / 33554432 = 16384 objects, two per
  // chunk (each worker its own): 8192 chunks x 256 = 2097152 tokens. A 131072-token request: 512 chunk
  // objects of 32 MiB per rank, 16 GiB, as native moves.
  CliResult result = run_cli(qwen3_32b({"--offload-backend", "lmcache", "--explain"}));
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "floor(L1 549755813888 B (lmcache server --l1-size-gb) / 33554432 B) = 16384 objects / 2 per chunk"));
  CHECK(contains(result.out, "8192 chunks x 256 tokens = 2097152, the L1 full"));
  CHECK(contains(result.out, "ceil(131072 / 256) chunks x 33554432 B = 17179869184 B"));
  CHECK(contains(result.out, "LMCache GPU staging per GPU"));
  CliResult emit = run_cli(qwen3_32b({"--offload-backend", "lmcache", "--emit", "vllm"}));
  CHECK(emit.exit_code == 0);
  CHECK(emit.out.starts_with("lmcache server --l1-size-gb 512 --eviction-policy LRU --chunk-size 256\nvllm serve"));
  CHECK(contains(emit.out, "--kv-offloading-size 512 --kv-offloading-backend lmcache"));
  // vLLM's built-in LMCache connector (LMCACHE_USE_UPSTREAM_MP=1) runs with the hybrid allocator off: a
  // sliding model is planned that way when asked, not refused (LMCache's own connector keeps it on).
  CliResult gemma = run_cli({"fit", "--model", "gemma-3-27b", "--gpu", "h100-sxm", "--ctx", "32k", "--offload", "cpu:256GiB",
                             "--offload-backend", "lmcache", "--link", "pcie5", "--disable-hybrid-kv-cache-manager"});
  CHECK(gemma.exit_code == 0);
  CHECK(contains(gemma.out, "concurrency lost with it off"));
}
