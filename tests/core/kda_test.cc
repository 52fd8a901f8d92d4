// Kimi-Linear (kimi_linear): KDA state layers beside MLA layers, as vLLM 0.33's kimi_k3 package
// caches them (docs/engines-frontier.md). Each expected number is arithmetic written out here; the
// fit case was cross-checked by running vLLM 0.33.0's own code without a GPU
// (tools/vllm-oracle/oracle_kda.py: "GPU KV cache size: 4,078,355 tokens ... 31.12x" with
// FlashKDA, 4,241,489 tokens with Triton's prefill).
//
// No real Kimi-Linear config.json was found in the public repositories the project's search tools
// index, so the config below is built here, not taken from a release: KimiLinearConfig's own
// defaults (vLLM 0.33 transformers_utils/configs/kimi_linear.py: 32 layers, hidden 4096, 32
// attention heads) with MLA and KDA widths chosen for the arithmetic (head_dim 128 is the width
// FlashKDA takes, kda_prefill's error message). It is not a preset of any released model.
#include <doctest/doctest.h>

#include <string>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/kv_size.h"
#include "core/params.h"
#include "core/state_bytes.h"
#include "core/vllm_state.h"
#include "io/yaml_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// Every fourth layer (4, 8, ..., 32, 1-based) MLA, the others KDA.
const char* kKdaLayers = "[1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19, 21, 22, 23, 25, 26, 27, 29, 30, 31]";

ModelShape kimi_linear(const std::string& linear_extra = ", gate_lower_bound: -5.0",
                       const std::string& kda_layers = kKdaLayers) {
  const std::string config = R"(
model_type: kimi_linear
torch_dtype: bfloat16
num_hidden_layers: 32
hidden_size: 4096
intermediate_size: 11008
vocab_size: 163840
num_attention_heads: 32
kv_lora_rank: 512
qk_rope_head_dim: 64
qk_nope_head_dim: 128
v_head_dim: 128
linear_attn_config: {num_heads: 32, head_dim: 128, short_conv_kernel_size: 4, kda_layers: )" +
                             kda_layers + linear_extra + "}\n";
  return shape_from_hf_config(io::read_yaml(config, "kimi_linear.yaml"));
}

}  // namespace

TEST_CASE("kimi_linear: kda_layers (1-based) are KDA state layers, the others MLA") {
  const ModelShape shape = kimi_linear();
  REQUIRE(shape.state);
  CHECK(shape.state->mixer == StateMixer::kda);
  CHECK(shape.layer_count(LayerAttention::state) == 24);
  CHECK(shape.attention_layer_count() == 8);
  // Layer 0 is kda_layers' 1, layer 3 is the first MLA layer (4 is not listed).
  CHECK(shape.layer_attention[0] == LayerAttention::state);
  CHECK(shape.layer_attention[3] == LayerAttention::full);
  CHECK(shape.layer_attention[31] == LayerAttention::full);
  REQUIRE(shape.mla);
}

TEST_CASE("KDA state: Gated DeltaNet's shapes with key heads = value heads, the recurrent state in float32") {
  const ModelShape shape = kimi_linear();  // kept: the state below is a reference into it
  const StateDims& state = *shape.state;
  // kda_state_shape: conv (32 x 128 + 2 x 32 x 128) = 12288 channels x (4 - 1) x 2 B (bf16) = 73728 B;
  // recurrent 32 x 128 x 128 x 4 B (kda_state_dtype "auto" = float32) = 2097152 B.
  StateBytes tp1 = state_bytes_per_rank(state, "bfloat16", 1);
  CHECK(tp1.conv_channels == 12288);
  CHECK(tp1.recurrent_dtype == "float32");
  CHECK(tp1.total() == 73728 + 2097152);
  // TP 4: 3072 x 3 x 2 B + 8 x 128 x 128 x 4 B = 18432 + 524288.
  CHECK(state_bytes_per_rank(state, "bfloat16", 4).total() == 542720);
  // --mamba-ssm-cache-dtype bfloat16: 73728 + 32 x 128 x 128 x 2 B = 73728 + 1048576.
  CHECK(state_bytes_per_rank(state, "bfloat16", 1, "bfloat16").total() == 1122304);
  // kda_state_dtype raises for float16; 32 heads do not divide over TP 64.
  CHECK_THROWS_AS(state_bytes_per_rank(state, "bfloat16", 1, "float16"), Error);
  CHECK_THROWS_AS(state_bytes_per_rank(state, "bfloat16", 64), Error);
}

TEST_CASE("size: kimi_linear's MLA layers grow with the context, its KDA states do not") {
  const ModelShape shape = kimi_linear();
  SizeRequest request;
  request.ctx = Tokens{131072};
  SizeReport report = compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request);
  const VariantSize& size = report.variants.front();
  // 8 MLA layers x (512 + 64) x 2 B = 9216 B per token; 24 KDA layers x 2170880 B per sequence.
  CHECK(size.cached_layers == 8);
  CHECK(size.per_token.value == 9216);
  CHECK(size.per_sequence.value == 9216ull * 131072 + 24ull * 2170880);
}

TEST_CASE("vLLM 0.33 KDA prefill: FlashKDA's 16-token checkpoints and one more block, or Triton's none") {
  const ModelShape shape = kimi_linear();
  // Hopper, bfloat16 model, head_dim 128, a bounded gate: FlashKDA. MLA's 1152 B per token with
  // FLASH_ATTN_MLA's 16-token block; with MLA attention A is at least 128:
  // A = lcm(max(16, 16, 128), 16) = 128; block = 128 x cdiv(2170880, 128 x 1152) = 128 x 15 = 1920;
  // align mode: 2 + 1 checkpoint block per state group.
  detail::VllmStateQuery query{&*shape.state, 2170880, 1152, 16, 16, GpuArchitecture::hopper, true};
  query.mla_attention = true;
  detail::VllmStatePlan plan = detail::plan_vllm_state(query);
  CHECK(plan.gdn_prefill == "FlashKDA");
  CHECK(plan.block_size == 1920);
  CHECK(plan.page_bytes == 1920ull * 1152);
  CHECK(plan.blocks_per_request == 3);
  // Were the attention not MLA, A = lcm(16, 16) = 16: block = 16 x cdiv(2170880, 16 x 1152) = 16 x 118 = 1888.
  detail::VllmStateQuery not_mla = query;
  not_mla.mla_attention = false;
  CHECK(detail::plan_vllm_state(not_mla).block_size == 1888);
  // Ampere (capability 8.x) or a float16 model: Triton, no checkpoint block.
  for (auto change : {+[](detail::VllmStateQuery& q) { q.architecture = GpuArchitecture::ampere; },
                      +[](detail::VllmStateQuery& q) { q.bfloat16_model = false; }}) {
    detail::VllmStateQuery other = query;
    change(other);
    CHECK(detail::plan_vllm_state(other).gdn_prefill == "Triton");
    CHECK(detail::plan_vllm_state(other).blocks_per_request == 2);
  }
  // No gate_lower_bound in the config: Triton too.
  const ModelShape unbounded = kimi_linear("");
  detail::VllmStateQuery no_gate = query;
  no_gate.state = &*unbounded.state;
  CHECK(detail::plan_vllm_state(no_gate).blocks_per_request == 2);
}

TEST_CASE("vLLM 0.33, the kimi_linear config on an H100: 3 KDA groups and 1 MLA group of 8 layers") {
  // MLA on Hopper: FLASH_ATTN_MLA's 16-token block, 1152 B per token on every rank; block 1920 as above.
  // Groups of 8 (the 8 MLA layers; 24 KDA layers make 3 groups). 40 GiB / (8 x 1920 x 1152 B)
  // = 42949672960 / 17694720 = 2427 blocks. Per request at 131072 tokens: cdiv(131072, 1920) = 69
  // MLA blocks + 3 KDA groups x 3 = 78.
  ModelShape shape = kimi_linear();
  // kvplan does not estimate KDA layers' parameters; a count small enough for the weights check
  // beside 40 GiB of cache lets fit reach the KV accounting.
  shape.params_total = 10'000'000'000;
  FitRequest request = request_for(shape, 131072);
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult result = fit(shape, gpu("h100-sxm"), request);
  CHECK(result.block_size == 1920);
  CHECK(result.groups.size() == 4);
  CHECK(result.num_blocks == 2427);
  CHECK(result.blocks_per_request == 78);
  CHECK(result.kv_tokens == 4078355);  // int(2427 / 78 x 131072) = int(4078355.7)
  // Without gate_lower_bound the prefill is Triton's: 2 blocks per KDA group, 69 + 6 = 75;
  // int(2427 / 75 x 131072) = int(4241489.9).
  ModelShape unbounded = kimi_linear("");
  unbounded.params_total = shape.params_total;
  FitResult triton = fit(unbounded, gpu("h100-sxm"), request);
  CHECK(triton.blocks_per_request == 75);
  CHECK(triton.kv_tokens == 4241489);
  request.options.engine = Engine::sglang;
  CHECK_THROWS_AS(fit(shape, gpu("h100-sxm"), request), Error);
}

TEST_CASE("Kimi-K3's config (kimi_k3 around a kimi_linear text_config) plans as its text model") {
  const ModelShape shape = shape_from_hf_config(io::read_yaml(
      "model_type: kimi_k3\narchitectures: [KimiK3ForConditionalGeneration]\ntext_config:\n"
      "  model_type: kimi_linear\n  num_hidden_layers: 4\n  num_attention_heads: 8\n  kv_lora_rank: 512\n"
      "  qk_rope_head_dim: 64\n  qk_nope_head_dim: 128\n  v_head_dim: 128\n"
      "  linear_attn_config: {num_heads: 8, head_dim: 128, short_conv_kernel_size: 4, kda_layers: [1, 2, 3]}\n",
      "k3.yaml"));
  CHECK(shape.model_type == "kimi_linear");
  CHECK(shape.layer_count(LayerAttention::state) == 3);
  CHECK(shape.attention_layer_count() == 1);
}

TEST_CASE("kimi_linear configs kvplan refuses by name") {
  CHECK_THROWS_WITH_AS(kimi_linear("", "[0]"), doctest::Contains("1-based layer numbers"), Error);
  CHECK_THROWS_WITH_AS(shape_from_hf_config(io::read_yaml(
                           "model_type: kimi_linear\nnum_hidden_layers: 2\nnum_attention_heads: 8\n"
                           "kv_lora_rank: 512\nqk_rope_head_dim: 64\nqk_nope_head_dim: 128\nv_head_dim: 128\n",
                           "k.yaml")),
                       doctest::Contains("linear_attn_config"), Error);
  CHECK_THROWS_WITH_AS(estimate_params(kimi_linear(), false), doctest::Contains("kimi_linear"), Error);
}
