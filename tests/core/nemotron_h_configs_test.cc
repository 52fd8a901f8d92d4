// Nemotron-H's released config.json files as they are (tests/data/configs, copies from
// ai-dynamo/aiconfigurator): Python's Infinity in time_step_limit, the layer list given as
// hybrid_override_pattern or as transformers 5's layers_block_type (Nemotron-3-Ultra states no
// num_hidden_layers at all), and vLLM 0.33's plan for one of them.
#include <doctest/doctest.h>

#include <utility>

#include "core/capacity.h"
#include "core/params.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

TEST_CASE("Nemotron-H configs: each layer list read as transformers 5's NemotronHConfig reads it") {
  // hybrid_override_pattern of 88 characters (M 40, * 8, E 40); time_step_limit [0.0, Infinity].
  const ModelShape super = config_shape("nemotron-3-super-120b-a12b-fp8");
  CHECK(super.num_hidden_layers == 88);
  CHECK(super.layer_count(LayerAttention::state) == 40);
  CHECK(super.layer_count(LayerAttention::full) == 8);
  CHECK(super.layer_count(LayerAttention::none) == 40);
  CHECK(super.moe->moe_layers == 40);
  // 118 characters (M 54, * 10, - 54), also with Infinity; no MoE.
  const ModelShape base = config_shape("nemotron-h-56b-base-8k");
  CHECK(base.num_hidden_layers == 118);
  CHECK(base.layer_count(LayerAttention::state) == 54);
  CHECK(base.layer_count(LayerAttention::full) == 10);
  CHECK(!base.moe);
  // No num_hidden_layers: the 108 entries of layers_block_type ("mamba" 48, "attention" 12, "moe" 48).
  const ModelShape ultra = config_shape("nemotron-3-ultra-550b-a55b");
  CHECK(ultra.num_hidden_layers == 108);
  CHECK(ultra.layer_count(LayerAttention::state) == 48);
  CHECK(ultra.layer_count(LayerAttention::full) == 12);
  CHECK(ultra.moe->moe_layers == 48);
  // num_hidden_layers 52 beside 52 entries of layers_block_type ("mamba" 23, "attention" 6, "moe" 23).
  const ModelShape lightning = config_shape("nemotron-3.5-lightning-30b-a3b");
  CHECK(lightning.num_hidden_layers == 52);
  CHECK(lightning.layer_count(LayerAttention::state) == 23);
  CHECK(lightning.layer_count(LayerAttention::full) == 6);
  CHECK(lightning.moe->moe_layers == 23);
}

TEST_CASE("vLLM 0.33, Nemotron-3-Super's config.json on 2 and 4 H100s with --kv-cache-memory 40GiB") {
  // Cross-checked with vLLM 0.33.0's own planning code on this config
  // (tools/vllm-oracle/oracle_nemotron3_super.py): GPU KV cache size 8,362,061 tokens, 31.90x at
  // TP 2; 9,306,112 tokens, 35.50x at TP 4.
  // TP 2, per rank: 2 K/V heads / 2 = 1 x 128 x 2 (K, V) x 2 B = 512 B per token per layer.
  // Mamba-2 state: conv 3 x (128 / 2 x 64 + 2 x 8 / 2 x 128) = 3 x 5120 x 2 B = 30720 B; SSM
  // 64 x 64 x 128 x 4 B (mamba_ssm_cache_dtype float32) = 2097152 B; 2127872 B in all.
  // block = 16 x cdiv(2127872, 16 x 512) = 16 x 260 = 4160 tokens; page 4160 x 512 = 2129920 B.
  // 8 attention and 40 Mamba layers: groups of 8, 5 Mamba groups + 1 attention group.
  // 40 GiB / (8 x 2129920) = 42949672960 / 17039360 = 2520 blocks.
  // Per request: cdiv(262144, 4160) = 64 attention blocks + 5 Mamba groups x 3 = 79.
  ModelShape shape = config_shape("nemotron-3-super-120b-a12b-fp8");
  // The oracle ran the KV accounting alone; the real 120.7B parameters do not fit 2 H100s in
  // bf16, and a count small enough for the weights check beside 40 GiB lets fit reach it.
  shape.params_total = 10'000'000'000;
  FitRequest request = request_for(shape, 262144, Parallelism{2, 1, 1});
  request.options.kv_cache_memory = Bytes{40 * GiB};
  FitResult tp2 = fit(shape, gpu("h100-sxm"), request);
  CHECK(tp2.block_size == 4160);
  CHECK(tp2.page_bytes.value == 2129920);
  CHECK(tp2.groups.size() == 6);
  CHECK(tp2.group_size == 8);
  CHECK(tp2.num_blocks == 2520);
  CHECK(tp2.blocks_per_request == 79);
  CHECK(tp2.kv_tokens == 8362061);  // int(2520 / 79 x 262144) = int(8362061.77)
  // TP 4: conv 3 x 2560 x 2 B = 15360 B, SSM 32 x 64 x 128 x 4 B = 1048576 B: 1063936 B;
  // block = 16 x cdiv(1063936, 8192) = 16 x 130 = 2080; page 2080 x 512 = 1064960 B;
  // 42949672960 / (8 x 1064960) = 5041 blocks; cdiv(262144, 2080) = 127 + 15 = 142 per request.
  request.parallel = Parallelism{4, 1, 1};
  FitResult tp4 = fit(shape, gpu("h100-sxm"), request);
  CHECK(tp4.block_size == 2080);
  CHECK(tp4.num_blocks == 5041);
  CHECK(tp4.blocks_per_request == 142);
  CHECK(tp4.kv_tokens == 9306112);  // int(5041 / 142 x 262144) = int(9306112.0)
}

TEST_CASE("The Nemotron-3 Super and Ultra presets are their config.json copies, with exact parameter counts") {
  for (const auto& [preset, folder] : {std::pair{"nemotron-3-super-120b-a12b", "nemotron-3-super-120b-a12b-fp8"},
                                       std::pair{"nemotron-3-ultra-550b-a55b", "nemotron-3-ultra-550b-a55b"}}) {
    CAPTURE(preset);
    const ModelShape& from_preset = model(preset);
    const ModelShape from_config = config_shape(folder);
    CHECK(from_preset.layer_attention == from_config.layer_attention);
    CHECK(from_preset.num_key_value_heads == from_config.num_key_value_heads);
    CHECK(from_preset.head_dim == from_config.head_dim);
    REQUIRE(from_preset.state.has_value());
    CHECK(from_preset.state->num_heads == from_config.state->num_heads);
    CHECK(from_preset.state->head_dim == from_config.state->head_dim);
    CHECK(from_preset.state->state_size == from_config.state->state_size);
    CHECK(from_preset.state->ssm_cache_dtype == "float32");
    CHECK(from_preset.moe->num_experts == 512);
    CHECK(from_preset.num_nextn_predict_layers == 1);
  }
  // transformers 5.20's NemotronHForCausalLM built from each config on the meta device, parameters
  // counted (the presets' params comments); bf16 weights over TP 2: 120668687360 x 2 B / 2.
  CHECK(model("nemotron-3-super-120b-a12b").params_total == 120668687360ull);
  CHECK(model("nemotron-3-ultra-550b-a55b").params_total == 549308968960ull);
  FitRequest request = request_for(model("nemotron-3-super-120b-a12b"), 262144, Parallelism{2, 1, 1});
  CHECK(weights_per_rank(model("nemotron-3-super-120b-a12b"), request).value == 120668687360ull);
}

TEST_CASE("Nemotron-H parameters estimated from config.json, layer kind by layer kind") {
  // Nemotron-3-Super: hidden 4096, vocab 131072, untied: 2 x 131072 x 4096 = 1073741824; the final
  // norm and 88 layer norms: 89 x 4096 = 364544.
  // Mamba-2 (40): in_proj (2 x 8192 + 2 x 8 x 128 + 128 = 18560) x 4096 = 76021760; conv1d
  // (8192 + 2048 = 10240) x (4 + 1) = 51200; A_log, D, dt_bias 3 x 128 = 384; norm 8192; out_proj
  // 8192 x 4096 = 33554432: 109635968 each, 4385438720 in all.
  // Attention (8): q and o 2 x 4096 x 4096, k and v 2 x 256 x 4096: 35651584 each, 285212672.
  // MoE (40): router 512 x 4096 = 2097152; latent projections 2 x 4096 x 1024 = 8388608; shared
  // relu2 MLP 2 x 4096 x 5376 = 44040192; 512 experts of 2 x 1024 x 2688 = 5505024 each:
  // 2818572288; 2873098240 per layer, 114923929600 in all.
  // Total 1073741824 + 364544 + 4385438720 + 285212672 + 114923929600 = 120668687360; active with
  // 22 experts: 120668687360 - 40 x (512 - 22) x 5505024 = 12770216960. transformers 5.20's
  // NemotronHForCausalLM on the meta device counts the same (tools/vllm-oracle/count_params_hf.py),
  // and so for the other four configs.
  const ParamEstimate super = estimate_params(config_shape("nemotron-3-super-120b-a12b-fp8"), false);
  CHECK(super.total == 120668687360ull);
  CHECK(super.active == 12770216960ull);
  const ParamEstimate ultra = estimate_params(config_shape("nemotron-3-ultra-550b-a55b"), false);
  CHECK(ultra.total == 549308968960ull);
  CHECK(ultra.active == 56058818560ull);
  const ParamEstimate lightning = estimate_params(config_shape("nemotron-3.5-lightning-30b-a3b"), false);
  CHECK(lightning.total == 31577937344ull);
  CHECK(lightning.active == 3580073408ull);
  // Nemotron-H-56B: no MoE, 54 relu2 MLP layers ('-'); total and active are the same.
  const ParamEstimate base = estimate_params(config_shape("nemotron-h-56b-base-8k"), false);
  CHECK(base.total == 56324350464ull);
  CHECK(base.active == base.total);
  // The preset's count (the same meta-device count) and the estimate agree.
  CHECK(model("nemotron-3-super-120b-a12b").params_total == super.total);
}
