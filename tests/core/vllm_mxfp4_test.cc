// gpt-oss's MXFP4 experts as vLLM holds them after loading on Ampere, Hopper and Blackwell (docs/engines.md, "MXFP4 experts
// as vLLM loads them"). Each expected number is arithmetic written out here from the shapes that
// vLLM 0.19.0's and 0.33.0's code gives the tensors (oracle/mxfp4.py's padding, triton_kernels'
// Hopper layouts, the TRITON branch of convert_to_mxfp4_moe_kernel_format); the 0.19 total is checked
// against llm-d's real start-up log of gpt-oss-20b at TP 2 on H100s ("Model loading took 7.01 GiB").
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/vllm_mxfp4.h"
#include "core/vllm_rules.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

FitRequest gpt_oss_request(const char* name, std::uint32_t tp, const char* version) {
  FitRequest request = request_with_weights(model(name), 8192, Parallelism{tp, 1, 1});
  request.options.engine_version = version;
  return request;
}

}  // namespace

TEST_CASE("vLLM 0.19, gpt-oss-20b at TP 2 on Hopper: padded values, swizzled and loaded scales, fp32 biases") {
  const Mxfp4LayerBytes layer = mxfp4_layer_bytes(model("gpt-oss-20b"), Parallelism{2, 1, 1}, vllm_rules("0.19").mxfp4.hopper);
  // Intermediate 2880 / 2 = 1440, padded to 64: 1472. w13: 2 x 1472 = 2944 rows of 2880 / 2 = 1440 B,
  // pre-padded to 64: 1472 B; w2: 2880 rows of 1472 / 2 = 736 B, padded to 768 B.
  CHECK(layer.experts == 32);
  CHECK(layer.intermediate == 1472);
  CHECK(layer.values == 32ull * (2944 * 1472 + 2880 * 768));  // 209453056
  // Scale rows padded to 256 (2944 -> 3072, 2880 -> 3072), groups 2880 / 32 = 90 and 1472 / 32 = 46.
  CHECK(layer.swizzled_scales == 32ull * (3072 * 90 + 3072 * 46));  // 13369344
  CHECK(layer.original_scales == 32ull * (2944 * 90 + 2880 * 46));  // 12718080
  CHECK(layer.biases == 32ull * (2944 + 2880) * 4);                 // 745472
}

TEST_CASE("vLLM 0.33, gpt-oss-20b at TP 2 on Hopper: no value pre-pad, scale groups to 4, loaded scales freed") {
  const Mxfp4LayerBytes layer = mxfp4_layer_bytes(model("gpt-oss-20b"), Parallelism{2, 1, 1}, vllm_rules("0.33").mxfp4.hopper);
  CHECK(layer.values == 32ull * (2944 * 1440 + 2880 * 736));          // 203489280
  CHECK(layer.swizzled_scales == 32ull * (3072 * 92 + 3072 * 48));    // groups 90 -> 92, 46 -> 48
  CHECK(layer.original_scales == 0);
}

TEST_CASE("gpt-oss-20b's weights per rank on H100s at TP 2 match vLLM 0.19's log within its rounding") {
  FitResult result = fit(model("gpt-oss-20b"), gpu("h100-sxm"), gpt_oss_request("gpt-oss-20b", 2, "0.19"));
  // 24 layers x (209453056 + 13369344 + 12718080 + 745472) = 24 x 236285952 = 5670862848 B of experts;
  // the rest: 20914757184 - 24 x 32 x (3 x 2880 x 2880 + 2 x 2880 + 2880) = 1797824064 params x 2 B / 2.
  CHECK(result.stages.front().weights.value == 5670862848ull + 1797824064ull);
  // With the RoPE tables (131072 x 64 x 4 B = 33554432 B): 7502241344 B = 6.99 GiB; vLLM logged 7.01 GiB.
  CHECK(result.stages.front().weights.value + result.stages.front().rope_cache.value == 7502241344ull);
}

TEST_CASE("vLLM 0.33 on Blackwell: FlashInfer's TRT-LLM kernels pad the intermediate size to 128 and hidden to 256") {
  const Mxfp4LayerBytes layer = mxfp4_layer_bytes(model("gpt-oss-20b"), Parallelism{2, 1, 1}, vllm_rules("0.33").mxfp4.blackwell);
  // 1440 -> 1536, 2880 -> 3072; w13 2 x 1536 rows of 3072 / 2 B, w2 3072 rows of 1536 / 2 B; scales one byte per
  // 32 values, unpadded further (3072 / 32 = 96 and 1536 / 32 = 48 groups); biases fp32.
  CHECK(layer.intermediate == 1536);
  CHECK(layer.hidden == 3072);
  CHECK(layer.values == 32ull * (3072 * 1536 + 3072 * 768));
  CHECK(layer.swizzled_scales == 32ull * (3072 * 96 + 3072 * 48));
  CHECK(layer.original_scales == 0);
  CHECK(layer.biases == 32ull * (3072 + 3072) * 4);
  // vLLM 0.19 padded the intermediate size to 256 for these kernels: 1440 -> 1536 as well at TP 2.
  CHECK(mxfp4_layer_bytes(model("gpt-oss-20b"), Parallelism{4, 1, 1}, vllm_rules("0.19").mxfp4.blackwell).intermediate ==
        768);  // 720 -> 768
  FitResult b200 = fit(model("gpt-oss-20b"), gpu("b200"), gpt_oss_request("gpt-oss-20b", 2, "0.33"));
  CHECK(b200.stages.front().weights.value == 24ull * layer.total() + 1797824064ull);
}

TEST_CASE("vLLM 0.19 on an A100: Marlin pads the intermediate size to 128 and hidden to 256, biases in bf16") {
  // On SM 8.0 the backends before MARLIN need SM 9.0 or later (TRITON, FlashInfer's CUTLASS and TRT-LLM
  // kernels), so vLLM picks MARLIN; prepare_moe_mxfp4_layer_for_marlin repacks the 4-bit values (same
  // bytes), keeps one e8m0 byte per 32 values and casts the biases to the model dtype.
  const Mxfp4LayerBytes layer = mxfp4_layer_bytes(model("gpt-oss-20b"), Parallelism{1, 1, 1}, vllm_rules("0.19").mxfp4.ampere);
  // 2880 -> 2944 (x128) and 3072 (x256). w13: 2 x 2944 = 5888 rows of 3072 / 2 B; w2: 3072 rows of 2944 / 2 B.
  CHECK(layer.intermediate == 2944);
  CHECK(layer.hidden == 3072);
  CHECK(layer.values == 32ull * (5888 * 1536 + 3072 * 1472));    // 434110464
  CHECK(layer.swizzled_scales == 32ull * (5888 * 96 + 3072 * 92));  // 27131904
  CHECK(layer.original_scales == 0);
  CHECK(layer.biases == 32ull * (5888 + 3072) * 2);  // 573440
  // gpt-oss-20b on one A100-80GB, vLLM 0.19.0, "vllm serve openai/gpt-oss-20b --max-model-len 131072
  // --gpu-memory-utilization 0.65": "Model loading took 13.72 GiB" (https://myoceane.fr/index.php/ai-vllm-a100-gemma-4/).
  // 24 x 461815808 B of experts + 1797824064 other params x 2 B + RoPE 131072 x 64 x 4 B
  // = 11083579392 + 3595648128 + 33554432 = 14712781952 B = 13.70 GiB (4.25 bits gave 12.85 GiB).
  FitResult a100 = fit(model("gpt-oss-20b"), gpu("a100-80gb"), gpt_oss_request("gpt-oss-20b", 1, "0.19"));
  CHECK(a100.stages.front().weights.value + a100.stages.front().rope_cache.value == 14712781952ull);
}

TEST_CASE("MXFP4 layouts kvplan does not model keep the checkpoint's 4.25 bits") {
  // An Ada-class preset (the class holds SM 8.9, where vLLM picks Marlin, and SM 12.0, where it picks
  // FlashInfer's CUTLASS kernels: not told apart), and PP.
  FitRequest request = gpt_oss_request("gpt-oss-20b", 2, "0.33");
  const double expected = static_cast<double>(*model("gpt-oss-20b").params_total) * request.weight_bytes_per_param / 2;
  FitResult l40s = fit(model("gpt-oss-20b"), gpu("l40s"), request);
  CHECK(static_cast<double>(l40s.stages.front().weights.value) == doctest::Approx(expected).epsilon(1e-9));
  // Expert parallelism on Hopper: whole experts, 128 / 4 = 32 a rank, intermediate 2880 (a multiple of 64).
  Parallelism ep{4, 1, 1};
  ep.expert_parallel = true;
  const Mxfp4LayerBytes layer = mxfp4_layer_bytes(model("gpt-oss-120b"), ep, vllm_rules("0.33").mxfp4.hopper);
  CHECK(layer.experts == 32);
  CHECK(layer.intermediate == 2880);
}
