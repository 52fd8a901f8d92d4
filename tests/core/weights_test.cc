// Weights as a quantized checkpoint stores them. Every expected byte count is arithmetic written
// out here from the model's shapes and its quantization_config.
#include "core/weights.h"

#include <doctest/doctest.h>

#include <cmath>

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

TEST_CASE("--weights-dtype fp8/int8/int4 on a preset: linear layers quantized, embeddings and LM head in 16 bits") {
  const ModelShape& shape = model("llama-3.1-8b");
  // Llama-3.1-8B's config.json: hidden 4096, 32 layers, 32 heads and 8 K/V heads of 128,
  // intermediate 14336, vocab 128256, untied. Linear per layer (rows x cols): q 4096 x 4096,
  // k and v 1024 x 4096, o 4096 x 4096, gate and up 14336 x 4096, down 4096 x 14336.
  const std::uint64_t linear = 32 * (4096ull * 4096 * 2 + 1024ull * 4096 * 2 + 14336ull * 4096 * 3);
  CHECK(linear == 6979321856ull);
  // The rest of the 8030261248 parameters: embed_tokens and lm_head (2 x 128256 x 4096) and the
  // norms (65 x 4096), in bf16.
  const std::uint64_t rest = 8030261248ull - linear;
  CHECK(rest == 2ull * 128256 * 4096 + 65 * 4096);
  // fp8 and int8: 1 B per linear weight and an fp32 scale per output row (4096 + 1024 + 1024 +
  // 4096 + 14336 + 14336 + 4096 = 43008 rows per layer).
  const double fp8 = static_cast<double>(linear) + 32 * 43008.0 * 4 + static_cast<double>(rest) * 2;
  CHECK(total_bytes(resolve_weights_dtype("fp8", shape), shape) == doctest::Approx(fp8).epsilon(1e-12));
  CHECK(total_bytes(resolve_weights_dtype("int8", shape), shape) == doctest::Approx(fp8).epsilon(1e-12));
  // With the RoPE table (131072 x 128 x 2 B) that is the 8.49 GiB vLLM 0.19 logged for
  // RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8 and for --quantization fp8
  // (tests/data/llmd_vllm_0.19_h100.csv); every weight at 1 B would give 7.51 GiB.
  CHECK(std::abs((fp8 + 131072.0 * 128 * 2) / (1 << 30) - 8.49) < 0.005);
  // int4: half a byte per linear weight and a 16-bit scale per 128 values of each row: ceil(cols /
  // 128) = 32 groups for the 4096-wide inputs, 112 for down's 14336.
  const double scales = 32 * ((4096.0 + 1024 + 1024 + 4096 + 14336 + 14336) * 32 + 4096.0 * 112);
  const double int4 = static_cast<double>(linear) / 2 + scales * 2 + static_cast<double>(rest) * 2;
  CHECK(total_bytes(resolve_weights_dtype("int4", shape), shape) == doctest::Approx(int4).epsilon(1e-12));
  // 5.34 GiB with the RoPE table; the w4a16 (GPTQ-Marlin) log says 5.38: its zero points and
  // g_idx are not counted.
  CHECK(std::abs((int4 + 131072.0 * 128 * 2) / (1 << 30) - 5.34) < 0.005);
  // --explain names the rule.
  CHECK(resolve_weights_dtype("fp8", shape).why.find("embeddings, LM head, norms and routers in the model's 16-bit dtype") !=
        std::string::npos);
}

TEST_CASE("--weights-dtype fp8 where kvplan cannot list the linear layers: every parameter at 1 B, and --explain says so") {
  // Llama-4-Maverick interleaves dense and MoE layers (interleave_moe_layer_step 2) and its preset's
  // 400B is a rounded count: 400e9 x 1 B.
  const ModelShape& maverick = model("llama-4-maverick");
  const WeightsDtype weights = resolve_weights_dtype("fp8", maverick);
  CHECK(weights.bytes_per_param == 1);
  CHECK(weights.why.find("every parameter at the quantized width") != std::string::npos);
}
