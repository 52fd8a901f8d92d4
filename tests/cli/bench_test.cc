// `kvplan bench`: the dry run's output (pinned in golden files, numbers checked by arithmetic
// here), every class of bad input (exit 2, one line), and the no-GPU answer (exit 3, one line).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "cli/cli_runner.h"
#include "temp_dir.h"
#include "core/error.h"
#include "kernels/gpu.h"
#include "kernels/random_values.h"

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
const std::vector<std::string> kMlaDryRun = {"bench", "--model", "deepseek-v3", "--variant", "mla", "--batch", "32",
                                             "--ctx", "32k", "--dry-run", "--gpu", "h100-sxm"};

}  // namespace

TEST_CASE("bench --dry-run output matches the golden files") {
  const bool update = std::getenv("KVPLAN_UPDATE_GOLDEN") != nullptr;
  struct Golden {
    const std::vector<std::string>* command;
    const char* file;
    const char* format;
  };
  for (const Golden& golden : {Golden{&kDryRun, "bench_llama-3-8b_128k_dry_h100.txt", "table"},
                               Golden{&kDryRun, "bench_llama-3-8b_128k_dry_h100.json", "json"},
                               Golden{&kMlaDryRun, "bench_deepseek-v3_mla_b32_32k_dry_h100.txt", "table"},
                               Golden{&kMlaDryRun, "bench_deepseek-v3_mla_b32_32k_dry_h100.json", "json"}}) {
    const auto& [command, file, format] = golden;
    CAPTURE(file);
    std::vector<std::string> args = *command;
    args.insert(args.end(), {"--format", format});
    CliResult result = run_cli(args);
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.empty());
    // Against the file as it was: an update run rewrites what changed and still fails.
    const std::string pinned = read_file(golden_path(file));
    if (update && result.out != pinned) std::ofstream(golden_path(file), std::ios::binary) << result.out;
    CHECK(result.out == pinned);
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
  // MQA's: its 2147483648 FLOPs on the CUDA cores at 66.9 TFLOP/s take 32.10 us, more than its
  // 67158020 B take at 3.35 TB/s (20.05 us).
  CHECK(contains(table, "32.10"));
  CHECK_FALSE(contains(table, "20.05"));
}

TEST_CASE("golden numbers: DeepSeek-V3 MLA decode, batch 32 x 32k, on the H100 SXM datasheet") {
  std::string json = read_file(golden_path("bench_deepseek-v3_mla_b32_32k_dry_h100.json"));
  CHECK(contains(json, "\"impl\": \"kvplan_naive\""));
  CHECK(contains(json, "\"impl\": \"kvplan_absorbed\""));
  // The planner's latent bytes, the same for both paths: 1152 B per token x 32 x 32768.
  CHECK(contains(json, "\"kv_bytes\": " + std::to_string(1152ull * 32 * 32768)));
  // Absorbed: + q (32 x 128 x 192 x 2) + out (32 x 128 x 128 x 2) + W_UK, W_UV (128 x 256 x 512 x 2)
  // + block tables and lengths (4 x 32 x 513) + q W_UK and o written and read (4 x 32 x 128 x 512 x 2).
  const std::uint64_t absorbed = 1152ull * 32 * 32768 + 1572864 + 1048576 + 33554432 + 65664 + 16777216;
  CHECK(contains(json, "\"bytes\": " + std::to_string(absorbed)));
  // 1260978304 B / 3.35 TB/s = 376.41 us; FLOPs 2 b h (65536 + 32768 x 1088 + 65536) = 293.13 G.
  std::string table = read_file(golden_path("bench_deepseek-v3_mla_b32_32k_dry_h100.txt"));
  CHECK(contains(table, "376.41"));
  CHECK(contains(table, "293.132"));
  // Naive: + the gathered rows (32768 x 32 x 1152) and the up-projected K/V (x 128 x 512), each written and read.
  const std::uint64_t naive = absorbed - 16777216 + 2 * (1152ull * 32 * 32768 + 32ull * 32768 * 128 * 512);
  CHECK(contains(json, "\"bytes\": " + std::to_string(naive)));
}

TEST_CASE("golden numbers: the decode kernels are held to the FP32 FMA peak, the MLA paths to their units") {
  std::string table = read_file(golden_path("bench_llama-3-8b_128k_dry_h100.txt"));
  // The H100 SXM preset's datasheet figures: bf16 989.4 on the tensor cores, FP32 66.9 on the CUDA cores.
  CHECK(contains(table, "bf16 peak (tensor cores)"));
  CHECK(contains(table, "989.4 TFLOP/s"));
  CHECK(contains(table, "FP32 FMA peak (CUDA cores)"));
  CHECK(contains(table, "66.9 TFLOP/s"));
  CHECK(contains(table, "h100-sxm preset (datasheet)"));
  std::string json = read_file(golden_path("bench_llama-3-8b_128k_dry_h100.json"));
  // MHA, GQA-8 and MQA rows on the CUDA cores; the two MLA rows of `--variant all` otherwise.
  std::size_t fma_rows = 0;
  for (std::size_t at = json.find("\"compute_units\": \"FMA\""); at != std::string::npos;
       at = json.find("\"compute_units\": \"FMA\"", at + 1)) {
    ++fma_rows;
  }
  CHECK(fma_rows == 3);
  std::string mla = read_file(golden_path("bench_deepseek-v3_mla_b32_32k_dry_h100.json"));
  CHECK(contains(mla, "\"compute_units\": \"tensor+FMA\""));  // naive: cuBLAS, then CUDA-core attention
  CHECK(contains(mla, "\"compute_units\": \"tensor\""));      // absorbed: cuBLAS and mma.sync

  // A decode shape with 64 query heads per KV head in fp8: 256 FLOP per byte of K/V. FLOPs
  // 2 x 8 x 64 x 131072 x 256 = 34359738368 at 66.9 TFLOP/s: 513.60 us, over the bytes' 80.29 us
  // (K/V 268435456 + scales 8 + q and out 131072 each + table and lengths 262176, at 3.35 TB/s).
  // Against the tensor cores' 989.4 it would read 34.73 us and the row would claim memory-bound.
  CliResult result = run_cli({"bench", "--heads", "64", "--kv-heads", "1", "--head-dim", "128", "--batch", "8", "--ctx",
                              "128k", "--kv-dtype", "fp8", "--dry-run", "--gpu", "h100-sxm", "--format", "csv"});
  REQUIRE(result.exit_code == 0);
  const std::size_t mqa = result.out.find(",mqa,8,131072,64,1,128,fp8,16,268435456,268959784,34359738368,FMA,0.00051359848");
  REQUIRE(mqa != std::string::npos);
  const std::string mqa_row = result.out.substr(mqa, result.out.find('\n', mqa) - mqa);
  CHECK(contains(mqa_row, ",compute,"));
}

TEST_CASE("bench --variant all puts MLA beside MHA, GQA and MQA on the model's shape") {
  CliResult result = run_cli({"bench", "--model", "deepseek-v2", "--ctx", "4k", "--dry-run", "--gpu", "h200", "--format", "csv"});
  REQUIRE(result.exit_code == 0);
  for (const char* row : {"kvplan,decode,deepseek-v2,mha,", "kvplan,decode,deepseek-v2,gqa:", "kvplan,decode,deepseek-v2,mqa,",
                          "kvplan_naive,decode,deepseek-v2,mla:512:64,", "kvplan_absorbed,decode,deepseek-v2,mla:512:64,"}) {
    CAPTURE(row);
    CHECK(contains(result.out, row));
  }
  // fp8_ds_mla in `all`: MLA rows in FlashMLA's layout, the others in fp8, as `kvplan size` compares them.
  result = run_cli({"bench", "--model", "deepseek-v2", "--kv-dtype", "fp8_ds_mla", "--dry-run", "--gpu", "h200", "--format", "csv"});
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, ",mha,1,32768,128,128,128,fp8,"));
  CHECK(contains(result.out, ",mla:512:64,1,32768,128,1,576,fp8_ds_mla,64," + std::to_string(656ull * 32768) + ","));
  // A model whose heads the MLA kernels do not take: the other rows, and a note.
  result = run_cli({"bench", "--model", "qwen2.5-7b", "--dry-run", "--gpu", "h200"});
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "variant skipped: --variant mla:512:64: qwen2.5-7b has 28 query heads"));
  CHECK_FALSE(contains(result.out, "kvplan_absorbed"));
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
  CHECK(contains(error_of({"bench", "--model", "qwen2.5-7b", "--variant", "mla", "--dry-run", "--gpu", "h200"}, 2),
                 "qwen2.5-7b has 28 query heads; the MLA kernels take 16 to 128 in multiples of 16"));
  CHECK(contains(error_of({"bench", "--heads", "192", "--head-dim", "128", "--variant", "mla", "--dry-run", "--gpu", "h200"}, 2),
                 "has 192 query heads"));
  CHECK(contains(error_of({"bench", "--model", "deepseek-v2", "--variant", "mla:256:64", "--dry-run", "--gpu", "h200"}, 2),
                 "built for kv_lora_rank 512 and qk_rope_head_dim 64"));
  CHECK(contains(error_of({"bench", "--model", "deepseek-v2", "--variant", "mla:512:32", "--dry-run", "--gpu", "h200"}, 2),
                 "i.e. mla:512:64"));
  CHECK(contains(error_of({"bench", "--model", "gemma-2-9b", "--variant", "mla", "--dry-run", "--gpu", "h200"}, 2),
                 "qk_nope_head_dim 256 and v_head_dim 256 per head; the MLA kernels are built for 128 and 128"));
  CHECK(contains(error_of({"bench", "--model", "deepseek-v2", "--variant", "mla", "--kv-dtype", "fp8", "--dry-run", "--gpu",
                           "h200"}, 2),
                 "the MLA kernels read bf16 and fp8_ds_mla"));
  CHECK(contains(error_of({"bench", "--model", "llama-3-8b", "--variant", "gqa", "--kv-dtype", "fp8_ds_mla", "--dry-run",
                           "--gpu", "h200"}, 2),
                 "fp8_ds_mla is MLA's layout"));
  CHECK(contains(error_of({"bench", "--model", "deepseek-v2", "--variant", "mla", "--ctx", "0", "--dry-run", "--gpu", "h200"}, 2),
                 "--ctx"));
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
  CHECK(contains(result.out, "absorbed"));
  CHECK(contains(result.out, "prefill"));
  CHECK(contains(result.out, "layer"));
  CHECK(contains(result.out, "--dry-run"));
}

TEST_CASE("bench --lengths ragged: each sequence's own bytes, and the plan's balance on --sms") {
  // GQA-4 (32 query heads, 8 KV heads, d 128, bf16): 2 x 8 x 128 x 2 = 4096 bytes of K/V per token.
  // Sequence b holds 1 + mix64(7, b) mod 4096 tokens.
  std::uint64_t tokens = 0, blocks = 0;
  for (std::uint64_t b = 0; b < 4; ++b) {
    const std::uint64_t len = 1 + kvplan::kernels::mix64(7, b) % 4096;
    tokens += len;
    blocks += (len + 15) / 16;  // blocks of the kernel's 16-token iteration (8 token groups x 2)
  }
  const std::vector<std::string> args = {"bench", "--heads", "32", "--kv-heads", "8", "--head-dim", "128", "--batch", "4",
                                         "--ctx", "4k", "--lengths", "ragged", "--seed", "7", "--dry-run", "--gpu", "h100-sxm",
                                         "--sms", "132", "--variant", "gqa"};
  std::vector<std::string> csv = args;
  csv.insert(csv.end(), {"--format", "csv"});
  CliResult result = run_cli(csv);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, ",gqa:8,4,4096,32,8,128,bf16,16," + std::to_string(4096 * tokens) + ","));
  result = run_cli(args);  // the notes: table format
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, std::to_string(tokens) + " in all"));
  // 8 KV heads x 1 head chunk = 8 CTAs per part; 132 x 8 / 8 = 132 parts wanted (a multiple of the
  // batch already), at most one per 256 tokens.
  const std::uint64_t parts = std::min<std::uint64_t>(132, tokens / 256);
  CHECK(contains(result.out, "plan on 132 SMs, gqa:8 decode: " + std::to_string(parts) + " parts x 8 CTAs (" +
                                 std::to_string(parts * 8) + "); " + std::to_string(blocks) + " blocks of 16 tokens, " +
                                 std::to_string(blocks / parts) + " to " + std::to_string((blocks + parts - 1) / parts) +
                                 " per CTA"));
  // Without --sms a dry run plans nothing, and uniform lengths add no note: the golden files hold.
  result = run_cli({"bench", "--heads", "32", "--kv-heads", "8", "--head-dim", "128", "--dry-run", "--gpu", "h100-sxm"});
  REQUIRE(result.exit_code == 0);
  CHECK_FALSE(contains(result.out, "plan on"));
  CHECK_FALSE(contains(result.out, "lengths ragged"));
}
