// Qwen3.5 / Qwen3.6 in SGLang 0.5.23's state pool: configs/qwen3_5.py:Qwen3_5TextConfig (and
// Qwen3_5MoeTextConfig) is a Qwen3NextConfig, so the Gated DeltaNet state (mamba2_cache_params,
// mamba_ssm_dtype read from the text config), the extra_buffer slots (_MAMBA_EXTRA_BUFFER_ARCHS
// lists the Qwen3_5 architectures) and the SM100 override (model_overrides/qwen3_5.py) are
// Qwen3-Next's. Expected numbers are arithmetic written out here; the token counts, slots and
// running requests are what SGLang 0.5.23's own functions returned on a CPU
// (tools/vllm-oracle/oracle_sglang_state.py with the preset, the GPU's CUDA total, the weights per
// rank and the fraction below).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "io/json_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

TEST_CASE("SGLang, Qwen3.5-27B on one H200: 48 Gated DeltaNet states in float32 beside 16 attention layers") {
  const ModelShape& qwen = model("qwen3.5-27b");
  const FitRequest request = request_for(qwen, 32768, Parallelism{1, 1, 1}, Engine::sglang);
  const FitResult result = fit(qwen, gpu("h200"), request);
  // The reserve R = 512 + 1.5 x chunked prefill 8192 + TP 1 / 8 x 1024 + 2 x decode graph max_bs 256 + 8 x 58
  // prefill graph sizes = 13904 MiB (docs/engines-sglang.md, section 3); mem_fraction_static =
  // round((143771 - 13904) / 143771, 3) = 0.903, x 0.924765625 for the vision tower (SGLang's default 24
  // layers of width 1152: 0.95 x (1 - 0.1 x (24 x 1152^2 / (24 x 1024^2) - 1))) = 0.835063359375.
  CHECK(result.mem_util == doctest::Approx(0.835063359375).epsilon(1e-12));
  // conv (16 x 128 x 2 + 48 x 128) = 10240 channels x 3 x 2 B, SSM 48 x 128 x 128 x 4 B (the config's
  // mamba_ssm_dtype float32): 61440 + 3145728 = 3207168 B a layer, x 48 = 153944064 B a slot.
  REQUIRE(result.state_pool);
  CHECK(result.state_pool->layers == 48);
  CHECK(result.state_pool->conv_bytes_per_layer == 61440);
  CHECK(result.state_pool->ssm_bytes_per_layer == 3145728);
  // 216 slots [oracle]; the KV pool's cell is 4 heads x 256 x 2 x 2 B x 16 layers = 65536 B:
  // 37127139054 B // 65536 = 566515 tokens [oracle].
  CHECK(result.state_pool->slots == 216);
  CHECK(result.kv_tokens == 566515);
  // min(max(min(int(566515 / 32768 x 512), 4096), 2048), 566515 // 2, 216 // 5) = 43 running [oracle].
  CHECK(result.state_pool->max_running_requests == 43);
  CHECK(result.requests_per_replica == 17);  // 566515 // 32768
  CHECK(has_note(result, "SGLang fa3 attention"));
}

TEST_CASE("SGLang, Qwen3.5-397B-A17B at TP 8 on H200s: the states' heads and the 2 K/V heads over 8 ranks") {
  const ModelShape& qwen = model("qwen3.5-397b-a17b");
  FitRequest request = request_for(qwen, 131072, Parallelism{8, 1, 1}, Engine::sglang);
  request.options.mem_util = 0.85;
  const FitResult result = fit(qwen, gpu("h200"), request);
  // conv (16 x 128 x 2 + 64 x 128) / 8 = 1536 channels x 3 x 2 B, SSM 64 / 8 = 8 heads x 128 x 128 x 4 B:
  // 9216 + 524288 = 533504 B a layer, x 45 = 24007680 B a slot; 557 slots [oracle].
  REQUIRE(result.state_pool);
  CHECK(result.state_pool->slots == 557);
  // max(1, 2 // 8) = 1 head x 256 x 2 x 2 B x 15 layers = 15360 B: 14891721113 B // 15360 = 969513 [oracle].
  CHECK(result.kv_tokens == 969513);
  CHECK(result.state_pool->max_running_requests == 111);  // 557 // 5 [oracle]
}

TEST_CASE("SGLang, Qwen3.5 on a B200: triton with pages of 1, as for Qwen3-Next") {
  const ModelShape& qwen = model("qwen3.6-27b");
  const FitResult result = fit(qwen, gpu("b200"), request_for(qwen, 32768, Parallelism{1, 1, 1}, Engine::sglang));
  CHECK(has_note(result, "SGLang triton attention"));
  CHECK(result.block_size == 1);
}

TEST_CASE("SGLang builds Qwen3.5's layers from full_attention_interval: a layer_types that disagrees is refused") {
  // Qwen3NextConfig.layers_block_type puts full attention on every full_attention_interval-th layer whatever
  // layer_types says; vLLM follows layer_types.
  ModelShape shape = shape_from_hf_config(io::read_json(R"({
    "model_type": "qwen3_5_text", "num_hidden_layers": 4, "hidden_size": 1024, "num_attention_heads": 8,
    "num_key_value_heads": 2, "head_dim": 256, "vocab_size": 1000, "intermediate_size": 2048,
    "linear_num_value_heads": 8, "linear_value_head_dim": 128, "linear_num_key_heads": 4, "linear_key_head_dim": 128,
    "linear_conv_kernel_dim": 4, "full_attention_interval": 4,
    "layer_types": ["full_attention", "linear_attention", "linear_attention", "linear_attention"]})", "config.json"));
  shape.params_total = 1'000'000;
  CHECK(shape.full_attention_interval == 4);
  FitRequest request = request_for(shape, 4096, Parallelism{1, 1, 1}, Engine::sglang);
  CHECK_THROWS_WITH_AS(fit(shape, gpu("h200"), request),
                       doctest::Contains("layer_types makes layer 0 full attention, but SGLang builds qwen3_5_text from "
                                         "full_attention_interval (4"),
                       Error);
  request.options.engine = Engine::vllm;
  CHECK_NOTHROW(fit(shape, gpu("h200"), request));
}
