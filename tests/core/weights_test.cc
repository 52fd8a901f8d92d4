// Weights as a quantized checkpoint stores them. Every expected byte count is arithmetic written
// out here from the model's shapes and its quantization_config.
#include "core/weights.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "core/hf_config.h"
#include "io/yaml_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

double total_bytes(const WeightsDtype& weights, const ModelShape& shape) {
  return weights.bytes_per_param * static_cast<double>(*shape.params_total);
}

const WeightPart& part(const WeightsDtype& weights, std::string_view what) {
  for (const WeightPart& entry : weights.parts) {
    if (entry.what == what) return entry;
  }
  FAIL("no part " << what);
  return weights.parts.front();
}

}  // namespace

TEST_CASE("DeepSeek-V3's fp8 checkpoint: linear layers at 1 B plus an fp32 scale per 128x128 block") {
  const ModelShape& shape = model("deepseek-v3");
  // MLA per layer (rows x cols, scales = ceil(rows / 128) x ceil(cols / 128)):
  // q_a 1536 x 7168 (12 x 56), q_b 24576 x 1536 (192 x 12), kv_a 576 x 7168 (5 x 56: 576 is 4.5
  // blocks), kv_b 32768 x 512 (256 x 4), o 7168 x 16384 (56 x 128).
  const std::uint64_t attention = 1536ull * 7168 + 24576ull * 1536 + 576ull * 7168 + 32768ull * 512 + 7168ull * 16384;
  const std::uint64_t attention_scales = 12 * 56 + 192 * 12 + 5 * 56 + 256 * 4 + 56 * 128;
  // 3 dense layers: gate and up 18432 x 7168, down 7168 x 18432 (144 x 56 blocks each).
  const std::uint64_t dense = 3 * 18432ull * 7168;
  const std::uint64_t dense_scales = 3 * 144 * 56;
  // 58 MoE layers of 256 routed experts and 1 shared: gate and up 2048 x 7168, down 7168 x 2048
  // (16 x 56 blocks each).
  const std::uint64_t expert = 3 * 2048ull * 7168;
  const std::uint64_t expert_scales = 3 * 16 * 56;
  const std::uint64_t linear = 61 * attention + 3 * dense + 58 * 257 * expert;
  const std::uint64_t scales = 61 * attention_scales + 3 * dense_scales + 58 * 257 * expert_scales;
  WeightsDtype weights = resolve_weights_dtype("auto", shape);
  CHECK(weights.name == "fp8");
  CHECK(part(weights, "routed experts").params == 58 * 256 * expert);
  CHECK(part(weights, "attention").params == 61 * attention);
  // The rest of the preset's (rounded) 671e9 parameters in bf16: embeddings, LM head, norms, routers.
  const std::uint64_t rest = 671'000'000'000ull - linear;
  CHECK(part(weights, "embeddings, LM head, norms, routers").params == rest);
  CHECK(total_bytes(weights, shape) == doctest::Approx(linear + 4.0 * scales + 2.0 * rest).epsilon(1e-12));
}

TEST_CASE("FP8-dynamic (compressed-tensors, per channel): 1 B per weight, an fp32 scale per output row") {
  // Llama-3.1-70B's shapes with the quantization_config of an llm-compressor FP8_DYNAMIC export.
  ModelShape shape = shape_from_hf_config(io::read_yaml(
      "model_type: llama\nnum_hidden_layers: 80\nnum_attention_heads: 64\nnum_key_value_heads: 8\n"
      "hidden_size: 8192\nintermediate_size: 28672\nvocab_size: 128256\ntorch_dtype: bfloat16\n"
      "quantization_config:\n  quant_method: compressed-tensors\n  format: float-quantized\n  ignore: [lm_head]\n"
      "  config_groups:\n    group_0:\n      targets: [Linear]\n"
      "      input_activations: {dynamic: true, num_bits: 8, strategy: token, symmetric: true, type: float}\n"
      "      weights: {dynamic: false, num_bits: 8, strategy: channel, symmetric: true, type: float}\n",
      "test.yaml"));
  shape.params_total = 70'553'706'496ull;  // Llama-3.1-70B's count
  // Per layer: q and o 8192 x 8192, k and v 1024 x 8192, gate and up 28672 x 8192, down 8192 x 28672;
  // one scale per output row: 8192 + 1024 + 1024 + 8192 + 28672 + 28672 + 8192.
  const std::uint64_t linear = 80 * (2 * 8192ull * 8192 + 2 * 1024ull * 8192 + 3 * 28672ull * 8192);
  const std::uint64_t scales = 80 * (8192ull + 1024 + 1024 + 8192 + 28672 + 28672 + 8192);
  const std::uint64_t rest = 70'553'706'496ull - linear;  // embeddings, LM head (ignored), norms
  CHECK(rest == 2 * 128256ull * 8192 + 161 * 8192ull);  // 2 vocabulary matrices + 2 norms x 80 + 1
  WeightsDtype weights = resolve_weights_dtype("auto", shape);
  CHECK(weights.name == "compressed-tensors+bf16");
  // vLLM 0.33 allocates fp8 scales in fp32 (create_fp8_scale_parameter), whatever the files hold.
  // For scale: RedHatAI/Llama-3.3-70B-Instruct-fp8-dynamic (these shapes) logs "Model loading took
  // 33.88 GiB" per rank at TP 2 under vLLM 0.19 (llm-d-planner@d3121e05, accuracy/results/v0.19.0);
  // this count is 33.85 GiB per rank, 1 B per parameter throughout would be 32.85.
  CHECK(total_bytes(weights, shape) == doctest::Approx(linear + 4.0 * scales + 2.0 * rest).epsilon(1e-12));
  CHECK(weights.why.find("fp8, one 4 B scale per output channel") != std::string::npos);
}

TEST_CASE("Kimi-K2-Thinking: INT4 routed experts with a bf16 scale per 32, everything else bf16") {
  const ModelShape& shape = model("kimi-k2-thinking");
  // 60 MoE layers x 384 experts x (gate, up 2048 x 7168; down 7168 x 2048).
  const std::uint64_t experts = 60 * 384 * (3 * 2048ull * 7168);
  const std::uint64_t expert_scales = experts / 32;  // every row is a multiple of 32 long
  // Ignored by quantization_config.ignore: MLA attention (61 layers; see the DeepSeek-V3 test,
  // 64 heads: q_b 12288 x 1536, kv_b 16384 x 512, o 7168 x 8192), the dense layer 0's MLP and
  // the shared experts.
  const std::uint64_t attention = 61 * (1536ull * 7168 + 12288ull * 1536 + 576ull * 7168 + 16384ull * 512 + 7168ull * 8192);
  const std::uint64_t dense = 3 * 18432ull * 7168;
  const std::uint64_t shared = 60 * 3 * 2048ull * 7168;
  const std::uint64_t rest = 1'026'408'232'448ull - experts - attention - dense - shared;
  // Embeddings and LM head 2 x 163840 x 7168, routers 60 x 7168 x 384 (+ 384 biases each), norms.
  CHECK(rest == 2 * 163840ull * 7168 + 60 * (7168ull * 384 + 384) + 61 * (2 * 7168 + 1536 + 512) + 7168);
  WeightsDtype weights = resolve_weights_dtype("auto", shape);
  CHECK(part(weights, "routed experts").params == experts);
  CHECK(part(weights, "routed experts").format == "int4, one 2 B scale per 32 values");
  CHECK(part(weights, "attention (in quantization_config.ignore)").params == attention);
  CHECK(part(weights, "shared experts (in quantization_config.ignore)").params == shared);
  const double bytes = experts * 0.5 + expert_scales * 2.0 + 2.0 * (attention + dense + shared + rest);
  CHECK(total_bytes(weights, shape) == doctest::Approx(bytes).epsilon(1e-12));
  // 553.4 GiB (594.2 GB) in all, against 1912 GiB if every parameter were bf16.
  CHECK(bytes / (1ull << 30) == doctest::Approx(553.4).epsilon(0.0002));
}

TEST_CASE("quantized checkpoints kvplan cannot size are refused, with the reason") {
  ModelShape shape = shape_from_hf_config(io::read_yaml(
      "model_type: llama\nnum_hidden_layers: 2\nnum_attention_heads: 4\nhidden_size: 256\nintermediate_size: 512\n"
      "quantization_config:\n  quant_method: compressed-tensors\n"
      "  config_groups:\n    group_0:\n      targets: [Linear]\n"
      "      weights: {num_bits: 4, type: int, strategy: group, group_size: 128, symmetric: false}\n",
      "test.yaml"));
  shape.params_total = 2'000'000;
  CHECK_THROWS_WITH_AS(resolve_weights_dtype("auto", shape), doctest::Contains("asymmetric"), Error);
  shape = model("kimi-k2-thinking");
  shape.params_total = 1'000'000'000'000ull;  // a rounded count below the linear layers' own
  CHECK_THROWS_WITH_AS(resolve_weights_dtype("auto", shape), doctest::Contains("give the exact count"), Error);
}
