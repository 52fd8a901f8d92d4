// `kvplan bench`: the dry run's output (pinned in golden files, numbers checked by arithmetic
// here), every class of bad input (exit 2, one line), and the no-GPU answer (exit 3, one line).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "cli/cli_runner.h"
#include "temp_dir.h"
#include "core/error.h"
#include "kernels/gpu.h"

using namespace kvplan::testing;

namespace {

std::string golden_path(const std::string& file) { return std::string(KVPLAN_SOURCE_DIR) + "/tests/golden/" + file; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string error_of(const std::vector<std::string>& args, int code) {
  CliResult result = run_cli(args);
  CHECK(result.exit_code == code);
  CHECK(result.out.empty());
  CHECK(line_count(result.err) == 1);
  CHECK(result.err.rfind("kvplan: error: ", 0) == 0);
  return result.err;
}

const std::vector<std::string> kDryRun = {"bench", "--model", "llama-3-8b", "--ctx", "128k", "--dry-run", "--gpu", "h100-sxm"};

}  // namespace

TEST_CASE("bench --dry-run output matches the golden files") {
  const bool update = std::getenv("KVPLAN_UPDATE_GOLDEN") != nullptr;
  for (const auto& [file, format] : {std::pair{"bench_llama-3-8b_128k_dry_h100.txt", "table"},
                                     std::pair{"bench_llama-3-8b_128k_dry_h100.json", "json"}}) {
    CAPTURE(file);
    std::vector<std::string> args = kDryRun;
    args.insert(args.end(), {"--format", format});
    CliResult result = run_cli(args);
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.empty());
    if (update) std::ofstream(golden_path(file), std::ios::binary) << result.out;
    CHECK(result.out == read_file(golden_path(file)));
  }
}

TEST_CASE("golden numbers: Llama-3-8B decode at 128k on the H100 SXM datasheet") {
  std::string json = read_file(golden_path("bench_llama-3-8b_128k_dry_h100.json"));
  // K/V bytes per variant: 2 * kv_heads * 128 * 2 B * 131072 tokens.
  CHECK(contains(json, "\"kv_bytes\": " + std::to_string(2ull * 32 * 128 * 2 * 131072)));  // MHA, 2 GiB
  CHECK(contains(json, "\"kv_bytes\": " + std::to_string(2ull * 8 * 128 * 2 * 131072)));   // GQA-8, 512 MiB
  CHECK(contains(json, "\"kv_bytes\": " + std::to_string(2ull * 1 * 128 * 2 * 131072)));   // MQA, 64 MiB
  // + q and out (32 * 128 * 2 B each) + block table (8192 pages) and one length, 4 B each.
  const std::uint64_t extra = 2 * 8192 + 4 * 8193;
  CHECK(contains(json, "\"bytes\": " + std::to_string(2ull * 8 * 128 * 2 * 131072 + extra)));
  CHECK(contains(json, "\"flops\": 2147483648.0"));  // 2 * 32 * 131072 * 256, the same for every variant
  CHECK(contains(json, "\"bound\": \"launch\""));     // MQA reads 64 MiB < 256 MiB
  std::string table = read_file(golden_path("bench_llama-3-8b_128k_dry_h100.txt"));
  // GQA-8's floor: 536920068 B / 3.35 TB/s = 160.27 us.
  CHECK(contains(table, "160.27"));
}

TEST_CASE("bench --out writes rows that kvplan report --bench reads") {
  kvplan::testing::TempDir dir;
  const std::string results = (dir.path() / "results.json").string();
  std::vector<std::string> args = kDryRun;
  args.insert(args.end(), {"--out", results});
  REQUIRE(run_cli(args).exit_code == 0);
  CHECK(read_file(results) == read_file(golden_path("bench_llama-3-8b_128k_dry_h100.json")));
  CliResult report = run_cli({"report", "--models", "llama-3-8b", "--gpus", "h100-sxm:1", "--ctx", "128k", "--bench",
                              results, "--out", (dir.path() / "report").string()});
  CHECK(report.exit_code == 0);
  CHECK(report.err.empty());
}

TEST_CASE("bench: bad input is one line and exit 2") {
  CHECK(contains(error_of({"bench", "--heads", "32", "--kv-heads", "7", "--head-dim", "128", "--dry-run", "--gpu", "h200"}, 2),
                 "--kv-heads 7 must divide --heads (32); valid: 1, 2, 4, 8, 16, 32"));
  CHECK(contains(error_of({"bench", "--heads", "32", "--head-dim", "100", "--dry-run", "--gpu", "h200"}, 2),
                 "head dims 64, 128 and 256"));
  CHECK(contains(error_of({"bench", "--heads", "32", "--head-dim", "128", "--ctx", "0", "--dry-run", "--gpu", "h200"}, 2),
                 "--ctx"));
  CHECK(contains(error_of({"bench", "--heads", "32", "--head-dim", "128", "--dry-run", "--gpu", "h1OO"}, 2),
                 "did you mean 'h100-sxm'?"));
  CHECK(contains(error_of({"bench", "--heads", "32", "--head-dim", "128", "--dry-run"}, 2), "--dry-run needs --gpu"));
  CHECK(contains(error_of({"bench", "--model", "deepseek-v2", "--variant", "mla", "--dry-run", "--gpu", "h200"}, 2),
                 "MLA decode kernels are not in this build yet"));
  CHECK(contains(error_of({"bench", "--model", "deepseek-v2", "--variant", "native", "--dry-run", "--gpu", "h200"}, 2),
                 "MLA decode kernels"));
  CHECK(contains(error_of({"bench", "--model", "gemma-2-27b", "--phase", "train", "--dry-run", "--gpu", "h200"}, 2),
                 "--phase"));
  CHECK(contains(error_of({"bench", "--model", "llama-3-8b", "--kv-dtype", "nvfp4", "--dry-run", "--gpu", "h200"}, 2),
                 "bf16, fp16 and fp8"));
  CHECK(contains(error_of({"bench", "--model", "llama-3-8b", "--heads", "8", "--dry-run", "--gpu", "h200"}, 2),
                 "not both"));
  CHECK(contains(error_of({"bench", "--model", "llama-3-8b", "--iters", "5", "--dry-run", "--gpu", "h200"}, 2),
                 "at least 20"));
}

TEST_CASE("bench --phase prefill|layer: bad input is one line and exit 2") {
  // Gemma-2-27B's heads are 128 wide, but a custom 256 has no prefill kernel.
  CHECK(contains(error_of({"bench", "--phase", "prefill", "--heads", "16", "--head-dim", "256", "--dry-run", "--gpu", "h200"}, 2),
                 "--head-dim 256: the prefill kernels are built for head dims 64, 128, 192/128"));
  CHECK(contains(error_of({"bench", "--phase", "layer", "--model", "llama-3-8b", "--ctx", "0", "--dry-run", "--gpu", "h200"}, 2),
                 "--ctx"));
  CHECK(contains(error_of({"bench", "--phase", "decoding", "--model", "llama-3-8b", "--dry-run", "--gpu", "h200"}, 2),
                 "--phase"));
  // MHA, two prompts of 1M tokens: q, K, V and out are 4 x 2^21 x 32 x 128 x 2 B = 64 GiB, the cache
  // another 32 GiB: over the 80 GB of an H100.
  CHECK(contains(error_of({"bench", "--phase", "prefill", "--model", "llama-3-8b", "--variant", "mha", "--ctx", "1M", "--batch", "2",
                           "--dry-run", "--gpu", "h100-sxm"}, 2),
                 "of device memory and h100-sxm has"));
  CHECK(contains(error_of({"bench", "--phase", "layer", "--model", "llama-3-8b", "--variant", "mla:512:32", "--dry-run", "--gpu", "h200"}, 2),
                 "has head dims 160/128"));
}

TEST_CASE("bench --phase prefill --dry-run: causal FLOPs, cache written, MLA on 192/128 heads") {
  CliResult result = run_cli({"bench", "--phase", "prefill", "--variant", "all", "--model", "llama-3-8b", "--ctx", "4096",
                              "--dry-run", "--gpu", "h100-sxm", "--format", "json"});
  REQUIRE(result.exit_code == 0);
  const std::string& json = result.out;
  CHECK(contains(json, "\"phase\": \"prefill\""));
  CHECK(contains(json, "\"flops\": 137438953472.0"));            // 2 * 32 * 4096^2 * 256 / 2, MHA/GQA/MQA alike
  CHECK(contains(json, "\"flops\": 171798691840.0"));            // MLA: 2 * 32 * 4096^2 * 320 / 2
  CHECK(contains(json, "\"kv_bytes\": " + std::to_string(2ull * 8 * 128 * 2 * 4096)));  // GQA-8's cache written
  CHECK(contains(json, "\"kv_bytes\": " + std::to_string(576ull * 2 * 4096)));          // MLA's latent
  CHECK(contains(json, "\"head_dim\": 192"));
  CHECK(contains(json, "\"bound\": \"compute\""));
  CliResult table = run_cli({"bench", "--phase", "layer", "--variant", "gqa", "--model", "llama-3-8b", "--ctx", "4096",
                             "--dry-run", "--gpu", "h100-sxm"});
  REQUIRE(table.exit_code == 0);
  // 2 * 4096 * 41943040 weights + 137.4 GFLOP of attention = 481.036 GFLOP; / 989.4 TFLOP/s = 486.19 us.
  CHECK(contains(table.out, "481.036"));
  CHECK(contains(table.out, "486.19"));
}

TEST_CASE("bench without a usable GPU: one line, exit 3") {
  std::string why;
  try {
    kvplan::kernels::open_gpu();
  } catch (const kvplan::Error& e) {
    why = e.what();
    CHECK(e.code() == kvplan::ExitCode::cannot_run);
  }
  if (why.empty()) return;  // a usable GPU: tests/gpu covers this machine
  CHECK(error_of({"bench", "--model", "llama-3-8b", "--ctx", "4k"}, 3) == "kvplan: error: " + why + "\n");
  if (kvplan::kernels::built_with_cuda()) {
    CHECK((contains(why, "no CUDA device found") || contains(why, "built for sm_90a")));
  } else {
    CHECK(contains(why, "this kvplan was built without CUDA"));
  }
}

TEST_CASE("bench --help names the phases and the dry run") {
  CliResult result = run_cli({"bench", "--help"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "Phases: decode"));
  CHECK(contains(result.out, "prefill"));
  CHECK(contains(result.out, "layer"));
  CHECK(contains(result.out, "--dry-run"));
}
