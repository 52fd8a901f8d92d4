// The exact output users see, pinned in tests/golden/. A change to output is a reviewed change to
// a golden file: run once with KVPLAN_UPDATE_GOLDEN=1 (it rewrites what changed and fails), read
// the diff, run again without it. The numbers inside the
// files are checked below against arithmetic written out here, so a golden file cannot quietly
// pin a wrong number.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {

struct Golden {
  const char* file;
  std::vector<std::string> args;
};

const std::vector<Golden>& goldens() {
  static const std::vector<Golden> cases = {
      {"size_deepseek-v2_128k.txt", {"size", "--model", "deepseek-v2", "--ctx", "128k"}},
      {"size_deepseek-v2_128k.csv", {"size", "--model", "deepseek-v2", "--ctx", "128k", "--format", "csv"}},
      {"size_deepseek-v2_128k.md", {"size", "--model", "deepseek-v2", "--ctx", "128k", "--format", "md"}},
      {"size_deepseek-v2_128k.json", {"size", "--model", "deepseek-v2", "--ctx", "128k", "--format", "json"}},
      {"size_deepseek-v2_128k_si.txt", {"size", "--model", "deepseek-v2", "--ctx", "128k", "--units", "si"}},
      {"size_llama-3-70b_128k_explain.txt",
       {"size", "--model", "llama-3-70b", "--ctx", "128k", "--variant", "mha,mqa,gqa:8,mla", "--explain"}},
      {"size_gemma-2-27b_32k_batch8.csv",
       {"size", "--model", "gemma-2-27b", "--ctx", "32k", "--batch", "8", "--format", "csv"}},
      {"size_deepseek-v3_fp8_ds_mla_mtp_explain.txt",
       {"size", "--model", "deepseek-v3", "--ctx", "128k", "--variant", "native", "--kv-dtype", "fp8_ds_mla", "--mtp",
        "--explain"}},
      {"fit_llama-3-70b_8xh100_fp8_32k.txt",
       {"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--kv-dtype", "fp8", "--ctx", "32k",
        "--kv-cache-memory", "50GiB", "--gpu-price", "2.5"}},
      {"fit_llama-3.1-70b_4xh100_32k_prefix4k_explain.txt",
       {"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--gpus", "4", "--ctx", "32k", "--kv-cache-memory",
        "40GiB", "--shared-prefix", "4k", "--explain"}},
      {"fit_deepseek-v3_8xh200_fp8_explain.md",
       {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--kv-dtype", "fp8", "--ctx", "128k",
        "--explain", "--format", "md"}},
      {"sweep_small.csv",
       {"sweep", "--models", "llama-3-70b,deepseek-v2", "--ctx", "32k,128k", "--variants", "native,mha", "--kv-dtypes",
        "bf16,fp8", "--gpus", "h100-sxm:8,h200:8", "--format", "csv"}},
      {"size_mistral-7b-v0.1_32k_fp8_scales.md",
       {"size", "--model", "mistral-7b-v0.1", "--ctx", "32k", "--kv-dtype", "fp8", "--kv-scales", "per-token-head",
        "--format", "md"}},
      {"disagg_deepseek-v3_8k_1k_h200_ib400g_explain.txt",
       {"disagg", "--model", "deepseek-v3", "--isl", "8k", "--osl", "1k", "--prefill", "h200:8", "--decode", "h200:8:tp8",
        "--link", "ib-400g", "--explain"}},
  };
  return cases;
}

std::string golden_path(const char* file) { return std::string(KVPLAN_SOURCE_DIR) + "/tests/golden/" + file; }

std::string output_of(const Golden& golden) {
  CliResult result = run_cli(golden.args);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.empty());
  return result.out;
}

std::string golden_text(const char* file) {
  for (const Golden& golden : goldens()) {
    if (std::string(golden.file) == file) return read_file(golden_path(file));
  }
  FAIL("no such golden file");
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("user-visible output matches the golden files") {
  const bool update = std::getenv("KVPLAN_UPDATE_GOLDEN") != nullptr;
  for (const Golden& golden : goldens()) {
    CAPTURE(golden.file);
    std::string output = output_of(golden);
    // Compared with the file as it was; in update mode a changed file is rewritten and the check
    // still fails, so an update run never passes: rerun without the variable after reading the diff.
    const std::string pinned = read_file(golden_path(golden.file));
    if (update && output != pinned) std::ofstream(golden_path(golden.file), std::ios::binary) << output;
    CHECK(output == pinned);
  }
}

TEST_CASE("golden numbers: DeepSeek-V2 at 128k") {
  const std::uint64_t N = 131072, L = 60;
  const std::uint64_t mha_token_layer = 2 * 128 * 128 * 2;  // 65536 B
  const std::uint64_t gqa_token_layer = 2 * 8 * 128 * 2;    // 4096 B
  const std::uint64_t mqa_token_layer = 2 * 1 * 128 * 2;    // 512 B
  const std::uint64_t mla_token_layer = (512 + 64) * 2;     // 1152 B
  std::string csv = golden_text("size_deepseek-v2_128k.csv");
  for (std::uint64_t b : {mha_token_layer, gqa_token_layer, mqa_token_layer, mla_token_layer}) {
    CAPTURE(b);
    // bytes per token per layer, per token, per layer (1 seq), per sequence, per batch (1).
    std::string row = "," + std::to_string(b) + "," + std::to_string(b * L) + "," + std::to_string(b * N) + "," +
                      std::to_string(b * N * L) + "," + std::to_string(b * N * L) + ",";
    CHECK(contains(csv, row));
  }
  CHECK(contains(csv, "515396075520"));  // 515.4 GB MHA-equivalent
  CHECK(contains(csv, "9059696640"));    // 9.06 GB MLA
  CHECK(contains(csv, "mla:512:64,true,"));
  CHECK(contains(csv, ",56.8889\r\n"));  // 65536 / 1152
  // The table prints the same numbers in GiB; --units si in GB.
  CHECK(contains(golden_text("size_deepseek-v2_128k.txt"), "480.00 GiB"));  // 65536 * 131072 * 60 / 2^30
  CHECK(contains(golden_text("size_deepseek-v2_128k.txt"), "8.44 GiB"));    // 9059696640 / 2^30 = 8.4375
  CHECK(contains(golden_text("size_deepseek-v2_128k_si.txt"), "515.40 GB"));
  CHECK(contains(golden_text("size_deepseek-v2_128k_si.txt"), "9.06 GB"));
  CHECK(contains(golden_text("size_deepseek-v2_128k.json"), "\"bytes_per_sequence\": 515396075520"));
}

TEST_CASE("golden numbers: the Llama-3-70B walkthrough") {
  std::string text = golden_text("size_llama-3-70b_128k_explain.txt");
  // 32 KiB, 0.5 KiB, 4 KiB, 1.125 KiB per token per layer; 320, 5, 40, 11.25 GiB per sequence.
  CHECK(contains(text, "2 * n_h * d_h = 2 * 64 * 128 = 16384"));
  CHECK(contains(text, "16384 scalars * 2 B = 32768 B"));
  CHECK(contains(text, "256 scalars * 2 B = 512 B"));
  CHECK(contains(text, "2048 scalars * 2 B = 4096 B"));
  CHECK(contains(text, "576 scalars * 2 B = 1152 B"));
  CHECK(contains(text, std::to_string(32768ull * 131072 * 80) + " B = 320.00 GiB"));
  CHECK(contains(text, std::to_string(512ull * 131072 * 80) + " B = 5.00 GiB"));
  CHECK(contains(text, std::to_string(4096ull * 131072 * 80) + " B = 40.00 GiB"));
  CHECK(contains(text, std::to_string(1152ull * 131072 * 80) + " B = 11.25 GiB"));
}

TEST_CASE("golden numbers: Gemma-2-27B's alternating window and batch") {
  // 8 KiB per token per layer; 23 global layers x 32768 tokens + 23 local layers x 4096 tokens.
  const std::uint64_t per_sequence = 8192ull * (23 * 32768 + 23 * 4096);
  std::string csv = golden_text("size_gemma-2-27b_32k_batch8.csv");
  CHECK(contains(csv, "," + std::to_string(8192ull * 32768) + "," + std::to_string(8192ull * 4096) + "," +
                          std::to_string(per_sequence) + "," + std::to_string(8 * per_sequence) + ","));
}

TEST_CASE("golden numbers: DeepSeek-V3 fp8_ds_mla with its MTP layer") {
  std::string text = golden_text("size_deepseek-v3_fp8_ds_mla_mtp_explain.txt");
  CHECK(contains(text, "= 512 + 4 * 4 + 64 * 2 = 656 B"));
  CHECK(contains(text, "656 B * 62 layers"));  // 61 layers + 1 MTP layer
  CHECK(contains(text, std::to_string(656ull * 131072 * 62) + " B"));
}

TEST_CASE("golden numbers: fit of Llama-3-70B on 8 H100s with 50 GiB of fp8 KV cache per GPU") {
  std::string text = golden_text("fit_llama-3-70b_8xh100_fp8_32k.txt");
  // 50 x 2^30 B / (16 tokens x 256 B) / 80 layers = 163840 blocks, x 16 = 2621440 tokens.
  CHECK(contains(text, "GPU KV cache size: 2,621,440 tokens"));
  CHECK(contains(text, "Maximum concurrency for 32,768 tokens per request: 80.00x"));  // 163840 / 2048
  CHECK(contains(text, "80 requests"));
}

TEST_CASE("golden numbers: a 4k prefix shared by 32k requests of Llama-3.1-70B on 4 H100s") {
  std::string text = golden_text("fit_llama-3.1-70b_4xh100_32k_prefix4k_explain.txt");
  // 40 GiB / (16 tokens x 2 heads x 128 x 2 x 2 B x 80 layers) = 32768 blocks; 2048 per request.
  // floor(4096 / 16) = 256 shared; 2048 - 256 = 1792 unique; (32768 - 256) / 1792 = 18.14x.
  CHECK(contains(text, "(32768 blocks - 256 shared) / 1792 unique per request"));
  CHECK(contains(text, "18.14x (unshared 16.00x)"));
  CHECK(contains(text, "18 requests"));
}

TEST_CASE("golden numbers: DeepSeek-V3's replicated latent on 8 H200s") {
  std::string md = golden_text("fit_deepseek-v3_8xh200_fp8_explain.md");
  CHECK(contains(md, "| 576 B |"));  // (512 + 64) x 1 B fp8 per token per layer, the same on every rank
  // vLLM 0.33 on Hopper: FLASH_ATTN_MLA takes no fp8 cache, so FLASHMLA and its blocks of 64.
  CHECK(contains(md, "64 tokens x 576 B; block size of the FLASHMLA backend"));
}

TEST_CASE("golden numbers: the sweep") {
  std::string csv = golden_text("sweep_small.csv");
  // DeepSeek-V2 MHA counterfactual at 128k in bf16: 65536 B per token per layer, 480 GiB.
  CHECK(contains(csv, "deepseek-v2,mha,false,bf16,131072,h100-sxm:8,8,1,1,65536," +
                          std::to_string(65536ull * 60 * 131072) + ","));
  CHECK(line_count(csv) == 1 + 2 * 2 * 2 * 2 * 2);
}

TEST_CASE("golden numbers: Mistral-7B-v0.1 fp8 with per-token-head scales") {
  // 2 * 8 * 128 fp8 values + 16 fp32 scales = 2048 + 64 B; every layer holds min(32768, 4096).
  std::string md = golden_text("size_mistral-7b-v0.1_32k_fp8_scales.md");
  CHECK(contains(md, "| 2112 B |"));
  CHECK(contains(md, "sliding-window layers hold min(ctx, 4096)"));
}

TEST_CASE("golden numbers: DeepSeek-V3 disaggregated, 8k in, H200 TP 8 -> TP 8 over 400 Gb/s") {
  std::string text = golden_text("disagg_deepseek-v3_8k_1k_h200_ib400g_explain.txt");
  // (512 + 64) x 2 B = 1152 B per token per layer; 8192 / 16 = 512 blocks; x 61 layers:
  // 575,668,224 B = 549 MiB per decode rank, x 8 decode ranks (the latent is on every rank) on the wire.
  CHECK(contains(text, "512 blocks x 16 tokens x 1152 B per token per layer on the rank x 61 layers = " +
                           std::to_string(8192ull * 1152 * 61) + " B"));
  CHECK(contains(text, "each decode rank receives: 549.00 MiB"));
  CHECK(contains(text, "= " + std::to_string(8ull * 8192 * 1152 * 61) + " B; one copy"));
  // 575668224 B / 50e9 B/s = 11.51 ms; 86.9 requests/s.
  CHECK(contains(text, "11.51 ms over ib-400g"));
  CHECK(contains(text, "86.9"));
}
