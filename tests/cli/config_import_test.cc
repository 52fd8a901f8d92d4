// --config path/to/config.json: a Hugging Face config in place of a preset.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {
std::string data(const std::string& name) { return std::string(KVPLAN_SOURCE_DIR) + "/tests/data/configs/" + name; }
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string bad_input(const std::vector<std::string>& args) {
  CliResult result = run_cli(args);
  CHECK(result.exit_code == 2);
  CHECK(line_count(result.err) == 1);
  return result.err;
}
}  // namespace

TEST_CASE("a config.json whose hidden_size / heads differs from head_dim (Qwen3-32B)") {
  // 5120 / 64 = 80, but head_dim is 128: 2 * 8 * 128 * 2 B = 4096 B per token per layer, not 2560.
  CliResult result = run_cli({"size", "--config", data("qwen3-32b/config.json"), "--ctx", "32k", "--variant", "native",
                              "--format", "csv"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "qwen3-32b,32768,1,bf16,gqa:8,true,2048,4096," + std::to_string(4096ull * 64) + ","));
  CHECK(contains(result.out, std::to_string(4096ull * 64 * 32768)));
}

TEST_CASE("a multimodal config: the language model from text_config, transformers defaults stated") {
  CliResult result = run_cli({"size", "--config", data("llava-1.5-7b/config.json"), "--ctx", "4k", "--variant", "native",
                              "--explain"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "read from text_config"));
  CHECK(contains(result.out, "text_config omits num_hidden_layers: transformers' llama default 32"));
  // Vicuna-7B is MHA: 2 * 32 * 128 * 2 B = 16 KiB per token per layer, 32 layers, 4096 tokens.
  CHECK(contains(result.out, std::to_string(16384ull * 32 * 4096) + " B = 2.00 GiB"));
}

TEST_CASE("a Gemma-4 config: sliding and full layers at their own K/V heads, each shown") {
  CliResult result = run_cli({"size", "--config", data("gemma-4-31b-it/config.json"), "--ctx", "32k", "--variant",
                              "native", "--format", "csv"});
  CHECK(result.exit_code == 0);
  // Sliding 2 x 16 x 256 x 2 B = 16384 B (8192 scalars), full 2 x 4 x 512 x 2 B = 8192 B (4096 scalars);
  // per token 50 x 16384 + 10 x 8192 = 901120 B.
  CHECK(contains(result.out, "gemma-4-31b-it,32768,1,bf16,gqa:16,true,8192,16384,4096,8192,901120,"));
  // 50 x 1024 x 16384 + 10 x 32768 x 8192 = 3523215360 B per sequence.
  CHECK(contains(result.out, ",3523215360,"));
  CliResult explained = run_cli({"size", "--config", data("gemma-4-31b-it/config.json"), "--ctx", "32k", "--variant",
                                 "native", "--explain"});
  CHECK(contains(explained.out, "bytes per token per full layer = 4096 scalars * 2 B = 8192 B"));
  CHECK(contains(explained.out, "8192 B * 10 layers + 16384 B * 50 layers = 901120 B"));
}

TEST_CASE("a DeepSeek-V4 config: size lists every cache and the total per sequence") {
  CliResult result = run_cli({"size", "--config", data("deepseek-v4-flash/config.json"), "--ctx", "128k", "--kv-dtype",
                              "fp8_ds_mla", "--format", "csv"});
  CHECK(result.exit_code == 0);
  // 21 CSA layers x 131072 / 4 compressed latents x 584 B = 401866752 B.
  CHECK(contains(result.out, "C4 compressed latents,21,584,4,every complete group of 4,32768,19136512,401866752"));
  // 43 layers x 128 window latents x 584 B; 20 HCA layers x 128 compressor states x 4096 B.
  CHECK(contains(result.out, "sliding-window latents,43,584,1,last 128 tokens,128,74752,3214336"));
  CHECK(contains(result.out, "C128 compressor state,20,4096,1,last 128 tokens,128,524288,10485760"));
  // 90832896 (indexer keys) + 344064 + 3214336 + 401866752 + 1376256 + 11960320 + 10485760.
  CHECK(contains(result.out, "total per sequence,,,,,,,520080384"));
}

TEST_CASE("models and show describe full layers with their own heads and compressed caches as they are") {
  TempDir dir;
  dir.write("p/g4.yaml", "name: g4\nsource: x\nconfig:\n  model_type: gemma4_text\n  num_hidden_layers: 6\n"
                         "  num_attention_heads: 32\n  num_key_value_heads: 16\n  head_dim: 256\n  global_head_dim: 512\n"
                         "  num_global_key_value_heads: 4\n  attention_k_eq_v: true\n  sliding_window: 1024\n");
  dir.write("p/v4.yaml", "name: v4\nsource: x\nconfig:\n  model_type: deepseek_v4\n  num_hidden_layers: 3\n"
                         "  num_attention_heads: 64\n  num_key_value_heads: 1\n  head_dim: 512\n  compress_ratios: [0, 4, 128]\n");
  const std::string presets = (dir.path() / "p").string();
  CliResult models = run_cli({"models", "--presets", presets, "--format", "csv"});
  CHECK(models.exit_code == 0);
  // Sliding 2 x 16 x 256 x 2 B = 16384 B, full 2 x 4 x 512 x 2 B = 8192 B; DeepSeek-V4 has no per-token figure.
  CHECK(contains(models.out, "g4,,gqa:16,6,32,16,256,16384,"));
  CHECK(contains(models.out, "v4,,compressed,3,64,1,512,,"));
  CliResult show = run_cli({"show", "--presets", presets, "--model", "v4"});
  CHECK(contains(show.out, "CSA layers"));
  CHECK(contains(run_cli({"show", "--presets", presets, "--model", "g4"}).out, "num_global_key_value_heads"));
}

TEST_CASE("bad config.json files: one line, exit 2") {
  TempDir dir;
  CHECK(contains(bad_input({"size", "--config", dir.write("trunc/config.json", "{\"model_type\": \"llama\",").string()}),
                 "malformed JSON"));
  CHECK(contains(bad_input({"size", "--config", dir.write("empty/config.json", "").string()}), "malformed JSON"));
  CHECK(contains(bad_input({"size", "--config", dir.path().string()}), "is a directory"));
  CHECK(contains(bad_input({"size", "--config", (dir.path() / "missing.json").string()}), "cannot open"));
  CHECK(contains(bad_input({"size", "--config",
                            dir.write("mamba/config.json", R"({"model_type": "mamba", "num_hidden_layers": 64})").string()}),
                 "model_type 'mamba' is not one whose attention conventions kvplan knows"));
  CHECK(contains(bad_input({"size", "--config",
                            dir.write("heads/config.json", R"({"model_type": "llama", "num_hidden_layers": 2,
                              "num_attention_heads": 64, "num_key_value_heads": 7, "hidden_size": 8192})")
                                .string()}),
                 "config.json: num_key_value_heads must divide num_attention_heads (64); got 7"));
  CHECK(contains(bad_input({"size", "--config", data("qwen3-32b/config.json"), "--model", "llama-3-8b"}), "not both"));
}

TEST_CASE("GLM-5's and Step-3.7-Flash's config.json: size with the indexer key and with sliding layers") {
  CliResult glm = run_cli({"size", "--config", data("glm-5/config.json"), "--ctx", "128k", "--variant", "native",
                           "--format", "csv"});
  CHECK(glm.exit_code == 0);
  // (512 + 64) x 2 B + 132 B indexer key = 1284 B per token per layer; x 78 = 100152 B; x 131072 tokens.
  CHECK(contains(glm.out, "glm-5,131072,1,bf16,mla:512:64,true,576,1284,100152,168296448,13127122944,"));
  CliResult explained = run_cli({"size", "--config", data("glm-5/config.json"), "--ctx", "128k", "--variant", "native",
                                 "--explain"});
  CHECK(contains(explained.out, "+ indexer key (index_head_dim * 1 B + index_head_dim / 128 * 4 B) 132 B = 1284 B"));
  CliResult step = run_cli({"size", "--config", data("step-3.7-flash/config.json"), "--ctx", "64k", "--variant",
                            "native", "--format", "csv"});
  CHECK(step.exit_code == 0);
  // 2 x 8 x 128 x 2 B = 4096 B per token per layer; 12 full layers x 65536 tokens + 33 sliding x 512:
  // 3221225472 + 69206016 = 3290431488 B per sequence.
  CHECK(contains(step.out, "step-3.7-flash,65536,1,bf16,gqa:8,true,2048,4096,184320,268435456,2097152,3290431488,"));
  // GLM-5.2: the indexer on 21 of 78 layers; its keys counted apart: 78 x 1152 + 21 x 132 = 92628 B per token.
  CliResult glm52 = run_cli({"size", "--config", data("glm-5.2/config.json"), "--ctx", "128k", "--variant", "native",
                             "--format", "csv"});
  CHECK(glm52.exit_code == 0);
  CHECK(contains(glm52.out, ",1152,92628,"));
}
