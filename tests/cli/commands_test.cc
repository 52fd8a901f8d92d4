// The commands' behaviour beyond the golden files: listing, help, explain routing, defaults.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"
#include "io/embedded_presets.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Embedded preset files under presets/<kind>/: the listings must show every one of them.
std::size_t embedded_count(std::string_view kind) {
  std::size_t count = 0;
  for (const kvplan::io::EmbeddedFile& file : kvplan::io::embedded_presets()) {
    count += file.path.find("/" + std::string(kind) + "/") != std::string_view::npos;
  }
  return count;
}
}  // namespace

TEST_CASE("models and gpus list every preset with its source") {
  CliResult models = run_cli({"models", "--format", "csv"});
  CHECK(models.exit_code == 0);
  CHECK(embedded_count("models") >= 36);
  CHECK(line_count(models.out) == 1 + embedded_count("models"));
  CHECK(contains(models.out, "deepseek-v2,deepseek-ai/DeepSeek-V2,mla:512:64,60,128,128,128,1152,163840,"));
  CHECK(contains(models.out, "https://huggingface.co/deepseek-ai/DeepSeek-V2/blob/main/config.json"));
  // Qwen3-8B: 36 layers, 32 heads, 8 KV heads of 128 = 2 x 8 x 128 x 2 B = 4096 B per token per layer.
  CHECK(contains(models.out, "qwen3-8b,Qwen/Qwen3-8B,gqa:8,36,32,8,128,4096,40960,"));
  // GLM-4.6: 92 layers, 96 heads over 8 KV heads of 128 = 4096 B.
  CHECK(contains(models.out, "glm-4.6,zai-org/GLM-4.6,gqa:8,92,96,8,128,4096,202752,"));
  CliResult gpus = run_cli({"gpus", "--format", "csv"});
  CHECK(gpus.exit_code == 0);
  CHECK(embedded_count("gpus") >= 20);
  CHECK(line_count(gpus.out) == 1 + embedded_count("gpus"));
  CHECK(contains(gpus.out, "h100-sxm,"));
  // deviceQuery's 33660534784 bytes; 28 Gbps x 512 bit = 1792 GB/s; 209.5 / 419 dense TFLOP/s.
  CHECK(contains(gpus.out, "rtx-5090,NVIDIA GeForce RTX 5090,33660534784,1792000000000,209.5,419,"));
}

TEST_CASE("show explains each field of a model and of a GPU") {
  CliResult model = run_cli({"show", "--model", "qwen3-32b"});
  CHECK(model.exit_code == 0);
  CHECK(contains(model.out, "d_h: explicit in config.json"));
  CHECK(contains(model.out, "https://huggingface.co/Qwen/Qwen3-32B"));
  CliResult gpu = run_cli({"show", "--gpu", "h200"});
  CHECK(gpu.exit_code == 0);
  CHECK(contains(gpu.out, "139.80 GiB"));
}

TEST_CASE("--help teaches: examples, units, exit codes - and exits 0") {
  CliResult top = run_cli({"--help"});
  CHECK(top.exit_code == 0);
  CHECK(contains(top.out, "kvplan size --model deepseek-v2 --ctx 128k"));
  CHECK(contains(top.out, "Exit codes"));
  CliResult size = run_cli({"size", "--help"});
  CHECK(size.exit_code == 0);
  CHECK(contains(size.out, "--kv-dtype"));
  CHECK(contains(size.out, "2*n_h*d_h"));
}

TEST_CASE("--explain goes to stderr for machine formats, keeping stdout parseable") {
  CliResult json = run_cli({"size", "--model", "llama-3-8b", "--ctx", "4k", "--format", "json", "--explain"});
  CHECK(json.exit_code == 0);
  CHECK(json.out.front() == '{');
  CHECK(contains(json.err, "How these numbers are computed"));
}

TEST_CASE("without --ctx the model's max_position_embeddings is used, and said") {
  CliResult result = run_cli({"size", "--model", "llama-3-8b", "--variant", "native", "--format", "csv"});
  CHECK(result.exit_code == 0);
  // 4096 B per token per layer x 32 layers x 8192 tokens.
  CHECK(contains(result.out, "," + std::to_string(4096ull * 32 * 8192) + ","));
  CliResult table = run_cli({"size", "--model", "llama-3-8b", "--variant", "native"});
  CHECK(contains(table.out, "--ctx not given: using the model's max_position_embeddings (8192)"));
}

TEST_CASE("the binary runs the main job") {
  CliResult result = run_binary({"size", "--model", "deepseek-v2", "--ctx", "128k"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "mla:512:64 (native)"));
  CHECK(result.err.empty());
}

TEST_CASE("size --kv-dtype fp8_ds_mla on an MLA model: the latent in fp8_ds_mla, the other variants in fp8") {
  CliResult result = run_cli({"size", "--model", "deepseek-v3", "--ctx", "4k", "--kv-dtype", "fp8_ds_mla", "--format", "csv"});
  CHECK(result.exit_code == 0);
  // MHA counterfactual in fp8: 2 x 128 heads x 128 x 1 B = 32768 B; MQA 2 x 128 = 256 B;
  // the native latent in fp8_ds_mla: 512 + 4 x 4 + 64 x 2 = 656 B.
  CHECK(contains(result.out, "deepseek-v3,4096,1,fp8_e4m3,mha,false,32768,32768,"));
  CHECK(contains(result.out, "deepseek-v3,4096,1,fp8_e4m3,mqa,false,256,256,"));
  CHECK(contains(result.out, "deepseek-v3,4096,1,fp8_ds_mla,mla:512:64,true,576,656,"));
  CliResult table = run_cli({"size", "--model", "deepseek-v3", "--ctx", "4k", "--kv-dtype", "fp8_ds_mla"});
  CHECK(contains(table.out, "fp8_ds_mla is the layout of an MLA latent: mha, gqa:8, mqa are priced in fp8"));
}

TEST_CASE("size of a Llama-4 config: global layers hold the context, chunked layers one chunk") {
  TempDir dir;
  dir.write("config.json",
            R"({"model_type": "llama4", "text_config": {"model_type": "llama4_text", "num_hidden_layers": 48,
                "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128, "hidden_size": 5120,
                "attention_chunk_size": 8192, "no_rope_layers": []}})");
  CliResult result = run_cli({"size", "--config", (dir.path() / "config.json").string(), "--ctx", "1M", "--variant",
                              "native", "--format", "csv"});
  CHECK(result.exit_code == 0);
  // 4096 B per token per layer; 12 global layers x 1048576 tokens + 36 chunked layers x 8192 tokens:
  // 4096 x (12582912 + 294912) = 52747567104 B per sequence.
  CHECK(contains(result.out, ",4294967296,33554432,52747567104,"));
}
