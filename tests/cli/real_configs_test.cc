// Released config.json files kvplan once refused although it knew their layer kinds (copies from
// ai-dynamo/aiconfigurator in tests/data/configs, each with a README naming its source): `size`
// reads each as it is, and `fit` plans the ones whose parameters kvplan can estimate.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {
std::string data(const std::string& name) { return std::string(KVPLAN_SOURCE_DIR) + "/tests/data/configs/" + name; }
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
CliResult size_csv(const std::string& folder, const char* ctx) {
  return run_cli({"size", "--config", data(folder + "/config.json"), "--ctx", ctx, "--variant", "native", "--format", "csv"});
}
}  // namespace

// Columns: model, ctx, batch, kv dtype, variant, native, scalars and bytes per token per layer,
// per token, per attention layer (1 seq), per state layer (1 seq), per sequence, per batch.
TEST_CASE("Nemotron-H configs with Python's Infinity, and with layers_block_type instead of a pattern") {
  // Nemotron-3-Super: 8 attention layers of 2 K/V heads x 128: 2 x 2 x 128 = 512 scalars, 1024 B.
  // Per token 8 x 1024 = 8192 B; per attention layer 1024 x 32768 = 33554432 B. Mamba-2 state:
  // conv 3 x (128 x 64 + 2 x 8 x 128) x 2 B = 61440 B, SSM 128 x 64 x 128 x 4 B = 4194304 B: 4255744 B.
  // Per sequence 8 x 33554432 + 40 x 4255744 = 268435456 + 170229760 = 438665216 B.
  CliResult super = size_csv("nemotron-3-super-120b-a12b-fp8", "32k");
  CHECK(super.exit_code == 0);
  CHECK(contains(super.out, "nemotron-3-super-120b-a12b-fp8,32768,1,bf16,gqa:2,true,512,1024,8192,33554432,4255744,"
                            "438665216,438665216,"));
  // Nemotron-H-56B: 10 attention layers of 8 K/V heads x 128 (8192 / 64, no head_dim): 2048 scalars,
  // 4096 B; per token 40960 B; per layer 4096 x 8192 = 33554432 B. State: conv 3 x (256 x 64 + 2 x 8 x
  // 256) x 2 B = 122880 B, SSM 256 x 64 x 256 x 4 B = 16777216 B: 16900096 B.
  // Per sequence 10 x 33554432 + 54 x 16900096 = 335544320 + 912605184 = 1248149504 B.
  CliResult base = size_csv("nemotron-h-56b-base-8k", "8k");
  CHECK(base.exit_code == 0);
  CHECK(contains(base.out, "nemotron-h-56b-base-8k,8192,1,bf16,gqa:8,true,2048,4096,40960,33554432,16900096,"
                           "1248149504,1248149504,"));
  // Nemotron-3-Ultra (no num_hidden_layers): 12 attention layers, 1024 B each per token = 12288 B.
  // State: conv 3 x (256 x 64 + 2 x 8 x 128) x 2 B = 110592 B, SSM 256 x 64 x 128 x 4 B = 8388608 B: 8499200 B.
  // Per sequence 12 x 33554432 + 48 x 8499200 = 402653184 + 407961600 = 810614784 B.
  CliResult ultra = size_csv("nemotron-3-ultra-550b-a55b", "32k");
  CHECK(ultra.exit_code == 0);
  CHECK(contains(ultra.out, "nemotron-3-ultra-550b-a55b,32768,1,bf16,gqa:2,true,512,1024,12288,33554432,8499200,"
                            "810614784,810614784,"));
  // Nemotron-3.5-Lightning: 6 attention layers, 6144 B per token. State: conv 3 x (64 x 64 + 2 x 8 x
  // 128) x 2 B = 36864 B, SSM 64 x 64 x 128 x 4 B = 2097152 B: 2134016 B.
  // Per sequence 6 x 33554432 + 23 x 2134016 = 201326592 + 49082368 = 250408960 B.
  CliResult lightning = size_csv("nemotron-3.5-lightning-30b-a3b", "32k");
  CHECK(lightning.exit_code == 0);
  CHECK(contains(lightning.out, "nemotron-3.5-lightning-30b-a3b,32768,1,bf16,gqa:2,true,512,1024,6144,33554432,2134016,"
                                "250408960,250408960,"));
}

TEST_CASE("Qwen3-VL configs: the qwen3_vl_text / qwen3_vl_moe_text language model, as Qwen3 caches it") {
  // Qwen3-VL-8B: 36 layers of 8 K/V heads x 128: 2 x 8 x 128 = 2048 scalars, 4096 B; per token
  // 36 x 4096 = 147456 B; per layer 4096 x 32768 = 134217728 B; per sequence 36 x that = 4831838208 B.
  CliResult vl8 = size_csv("qwen3-vl-8b-instruct", "32k");
  CHECK(vl8.exit_code == 0);
  CHECK(contains(vl8.out, "qwen3-vl-8b-instruct,32768,1,bf16,gqa:8,true,2048,4096,147456,134217728,4831838208,"));
  // Qwen3-VL-32B (M-RoPE in rope_scaling): 64 layers; per token 262144 B; per sequence 8589934592 B.
  CliResult vl32 = size_csv("qwen3-vl-32b-instruct", "32k");
  CHECK(vl32.exit_code == 0);
  CHECK(contains(vl32.out, "qwen3-vl-32b-instruct,32768,1,bf16,gqa:8,true,2048,4096,262144,134217728,8589934592,"));
  // Qwen3-VL-30B-A3B: 48 layers of 4 K/V heads x 128: 1024 scalars, 2048 B; per token 98304 B;
  // per layer 2048 x 32768 = 67108864 B; per sequence 48 x that = 3221225472 B.
  CliResult vl30 = size_csv("qwen3-vl-30b-a3b-instruct", "32k");
  CHECK(vl30.exit_code == 0);
  CHECK(contains(vl30.out, "qwen3-vl-30b-a3b-instruct,32768,1,bf16,gqa:4,true,1024,2048,98304,67108864,3221225472,"));
}

TEST_CASE("Qwen3-VL's vision tower counts in the weights: the checkpoint's parameter count less Qwen3's q/k norms") {
  // Qwen3_VisionTransformer of Qwen3-VL-8B (hidden h 1152, MLP 4304, depth 27, out 4096):
  // patch Conv3d 3 x 2 x 16 x 16 x 1152 + 1152 = 1770624; positions 2304 x 1152 = 2654208;
  // per block 3h^2 + 3h + h^2 + h (qkv, proj) + 2 x 1152 x 4304 + 4304 + 1152 (MLP) + 4h (two LayerNorms)
  // = 3984768 + 1328256 + 9921872 + 4608 = 15239504, x 27 = 411466608; tower 415891440.
  // Mergers over 4 x 1152 = 4608: fc1 4608^2 + 4608 = 21238272, fc2 4608 x 4096 + 4096 = 18878464;
  // the merger's LayerNorm 2 x 1152, each of the 3 deepstack mergers' 2 x 4608:
  // 2304 + 40116736 + 3 x (9216 + 40116736) = 160496896.
  // Language model (kvplan's estimate, as for Qwen3-8B) 8190726144; in all 8190726144 + 415891440 +
  // 160496896 = 8767114480. Hugging Face's safetensors count for Qwen/Qwen3-VL-8B-Instruct is
  // 8,767,123,696: 9216 more, the q_norm and k_norm weights (36 layers x 2 x 128) kvplan leaves out.
  CliResult explained = run_cli({"fit", "--config", data("qwen3-vl-8b-instruct/config.json"), "--gpu", "h100-sxm",
                                 "--ctx", "32k"});
  CHECK(explained.exit_code == 0);
  CHECK(contains(explained.out, "a Qwen3-VL vision tower of 415891440 parameters and patch mergers of 160496896"));
  CHECK(contains(explained.out, "parameter count estimated from config.json shapes: 8767114480 total, 8190726144 active"));
}

TEST_CASE("fit on a Qwen3-VL config: one group of 36 full layers with --kv-cache-memory 40GiB") {
  // vLLM 0.33: block 16 tokens, 36 layers x 16 x 4096 B = 2359296 B per block;
  // 42949672960 / 2359296 = 18204 blocks x 16 = 291264 tokens.
  CliResult result = run_cli({"fit", "--config", data("qwen3-vl-8b-instruct/config.json"), "--gpu", "h100-sxm", "--ctx",
                              "32k", "--kv-cache-memory", "40GiB"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "291,264"));
}
