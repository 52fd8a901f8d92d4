// gpt-oss's MXFP4 experts as vLLM holds them after loading on Hopper (docs/engines.md, "MXFP4 experts
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

TEST_CASE("MXFP4 layouts kvplan does not model keep the checkpoint's 4.25 bits") {
  // An Ada GPU (vLLM picks Marlin there; its layout is not modelled), and PP.
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
