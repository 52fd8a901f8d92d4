// MiMo-V2-Flash (mimo_v2_flash; vLLM 0.33 model_executor/models/mimo_v2.py): sliding layers of
// swa_num_key_value_heads and full layers of num_key_value_heads, every head caching a key of 192
// and a value of 128 (AttentionSpec.head_size_v), served by the DiffKV backends. The config is
// tests/data/configs/mimo-v2-flash (aiconfigurator's copy of the hub's config.json). Expected
// numbers are arithmetic written out here; the two fits were cross-checked by running vLLM 0.33.0's
// own planning code without a GPU (tools/vllm-oracle/oracle_mimo_v2.py: specs with head_size 192 and
// head_size_v 128, get_kv_cache_configs, update_kv_cache_capacity printed the same groups, blocks per
// request, block counts and tokens at 40 GiB and max_num_batched_tokens 8192).
#include <doctest/doctest.h>

#include <string>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/kv_bytes.h"
#include "core/params.h"
#include "core/quantized_weights.h"
#include "core/rope_cache.h"
#include "io/json_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

ModelShape mimo() {
  ModelShape shape = config_shape("mimo-v2-flash");
  shape.params_total = estimate_params(shape, shape.tie_word_embeddings).total;
  return shape;
}

// The checkpoint's fp8 weights (quantization_config), 40 GiB of KV memory per GPU.
FitRequest request(std::uint64_t ctx, std::uint32_t tp, KvDtype dtype = KvDtype::bf16) {
  FitRequest fit_request = request_with_weights(mimo(), ctx, Parallelism{tp, 1, 1});
  fit_request.kv_dtype = dtype;
  fit_request.options.kv_cache_memory = Bytes{40 * GiB};
  fit_request.options.max_num_batched_tokens = 8192;  // 2 batches in flight (async scheduling) = 16384 tokens
  return fit_request;
}

ModelShape from_json(const std::string& text) { return shape_from_hf_config(io::read_json(text, "config.json")); }

// A two-layer MiMo-V2 config: full layer 0, sliding layer 1 unless `pattern` says otherwise.
std::string tiny(const std::string& pattern = "[0, 1]", int swa_heads = 8, int swa_v_head_dim = 32) {
  return R"({"model_type": "mimo_v2_flash", "num_hidden_layers": 2, "hidden_size": 256, "num_attention_heads": 8,
             "num_key_value_heads": 2, "head_dim": 64, "v_head_dim": 32, "swa_num_key_value_heads": 4,
             "swa_head_dim": 64, "sliding_window_size": 16, "vocab_size": 1000, "intermediate_size": 512,
             "hybrid_layer_pattern": )" +
         pattern + ", \"swa_num_attention_heads\": " + std::to_string(swa_heads) +
         ", \"swa_v_head_dim\": " + std::to_string(swa_v_head_dim) + "}";
}

}  // namespace

TEST_CASE("MiMo-V2-Flash's config: 39 sliding layers of 8 K/V heads and 9 full layers of 4, keys 192 and values 128") {
  const ModelShape shape = mimo();
  CHECK(shape.num_hidden_layers == 48);
  // hybrid_layer_pattern: 0 (full) on layers 0, 5, 11, 17, 23, 29, 35, 41, 47.
  CHECK(shape.layer_count(LayerAttention::full) == 9);
  CHECK(shape.sliding_layer_count() == 39);
  CHECK(shape.layer_attention[5] == LayerAttention::full);
  CHECK(shape.layer_attention[6] == LayerAttention::sliding);
  REQUIRE(shape.sliding_window);
  CHECK(*shape.sliding_window == 128);  // sliding_window_size
  CHECK(shape.num_key_value_heads == 8);
  CHECK(shape.head_dim == 192);
  CHECK(shape.v_head_dim == 128);
  REQUIRE(shape.full_layer_kv);
  CHECK(shape.full_layer_kv->num_key_value_heads == 4);
  CHECK(shape.full_layer_kv->head_dim == 192);
  CHECK(shape.full_layer_kv->v_head_dim == 128);
  REQUIRE(shape.moe);
  CHECK(shape.moe->num_experts == 256);
  CHECK(shape.moe->first_dense_layers == 1);  // moe_layer_freq[0] = 0
  CHECK(shape.moe->moe_layers == 47);
  CHECK(shape.moe->num_shared_experts == 0);  // n_shared_experts: null
}

TEST_CASE("MiMo-V2-Flash's RoPE tables: one per base, int(192 x 0.334) = 64 dims each") {
  const ModelShape shape = mimo();
  // rope_theta 5e6 on the full layers, swa_rope_theta 1e4 on the sliding ones: get_rope builds two tables of
  // 262144 positions x 64 values in bf16 = 32 MiB each.
  REQUIRE(shape.rope_caches.size() == 2);
  CHECK(shape.rope_caches[0].rotary_dim == 64);
  CHECK(rope_cache_bytes(shape.rope_caches, 2) == 2ull * 262144 * 64 * 2);
}

TEST_CASE("MiMo-V2-Flash's bytes per token per layer: K and V each at their own width") {
  const ModelShape shape = mimo();
  const Variant sliding = native_variant(shape);
  const Variant full = full_layer_variant(sliding, true, shape);
  // sliding 8 x (192 + 128) x 2 B = 5120 B; full 4 x 320 x 2 B = 2560 B.
  CHECK(bytes_per_token_per_layer(sliding, KvDtype::bf16, KvScales::per_tensor).total() == 5120);
  CHECK(bytes_per_token_per_layer(full, KvDtype::bf16, KvScales::per_tensor).total() == 2560);
  CHECK(bytes_per_token_per_layer(sliding, KvDtype::fp8_e4m3, KvScales::per_tensor).total() == 8 * 320);
  // nvfp4 packs each vector with its own scales: K 192 / 2 + 192 / 16 = 108 B, V 64 + 8 = 72 B.
  CHECK(bytes_per_token_per_layer(sliding, KvDtype::nvfp4, KvScales::per_tensor).total() == 8 * (108 + 72));
  // The MHA counterfactual keeps the value width: 64 x (192 + 128) x 2 B.
  std::vector<std::string> skipped;
  const auto variants = resolve_variants(parse_variants("mha"), shape, &skipped);
  REQUIRE(variants.size() == 1);
  CHECK(bytes_per_token_per_layer(variants[0].variant, KvDtype::bf16, KvScales::per_tensor).total() == 64 * 320 * 2);
}

TEST_CASE("MiMo-V2-Flash's parameters: per-kind K/V projections, values of 128 in v_proj and o_proj") {
  const ModelShape shape = mimo();
  const std::uint64_t hidden = 4096;
  const std::uint64_t full = hidden * (64 * 192 + 4 * 192 + 4 * 128 + 64 * 128);
  const std::uint64_t sliding = hidden * (64 * 192 + 8 * 192 + 8 * 128 + 64 * 128);
  const std::uint64_t embeddings = 2 * 152576 * hidden;  // untied
  const std::uint64_t norms = 48 * 2 * hidden + hidden;
  const std::uint64_t expert = 3 * hidden * 2048;
  const std::uint64_t router = 256 * hidden;
  const std::uint64_t shared = embeddings + 9 * full + 39 * sliding + norms + 3 * hidden * 16384 + 47 * router;
  // The attention sinks (64 per sliding layer) and the routers' score biases are not counted.
  const ParamEstimate estimate = estimate_params(shape, false);
  CHECK(estimate.total == shared + 47 * 256 * expert);  // 308,778,766,336: the model card's 309B
  CHECK(estimate.active == shared + 47 * 8 * expert);   // 15,445,921,792: its 15B active

  const std::vector<LinearModule> modules = linear_modules(shape);
  auto rows = [&](const std::string& name) {
    for (const LinearModule& module : modules) {
      if (module.name == name) return module.rows;
    }
    return std::uint64_t{0};
  };
  CHECK(rows("model.layers.0.self_attn.k_proj") == 4 * 192);  // a full layer
  CHECK(rows("model.layers.0.self_attn.v_proj") == 4 * 128);
  CHECK(rows("model.layers.1.self_attn.k_proj") == 8 * 192);  // a sliding layer
  CHECK(rows("model.layers.1.self_attn.v_proj") == 8 * 128);
}

TEST_CASE("vLLM 0.33, MiMo-V2-Flash on 8 H200s: one head per rank on both kinds, 6 groups of 9 layers") {
  const FitResult result = fit(mimo(), gpu("h200"), request(131072, 8));
  // FA3/FA4 on Hopper serve 192/128 heads: FLASH_ATTN_DIFFKV, blocks of 16.
  CHECK(result.attention_backend == "FLASH_ATTN_DIFFKV");
  CHECK(result.block_size == 16);
  // max(1, 8 / 8) = max(1, 4 / 8) = 1 head: 16 x 1 x (192 + 128) x 2 B = 10240 B on both kinds, no unification.
  CHECK(result.page_bytes.value == 10240);
  CHECK(result.full_block_size == 16);
  // Groups of 9 (the 9 full layers; 39 sliding in 5 groups, 6 padding layers): 9 x 10240 = 92160 B per block;
  // 42949672960 / 92160 = 466033 blocks.
  CHECK(result.num_blocks == 466033);
  // Per request: full 131072 / 16 = 8192 blocks; each sliding group cdiv(min(128 - 1 + 16384, 131072), 16) + 1 =
  // 1033; 8192 + 5 x 1033 = 13357. 466033 / 13357 x 131072 = 4573173 tokens.
  CHECK(result.blocks_per_request == 13357);
  CHECK(result.kv_tokens == 4573173);
}

TEST_CASE("vLLM 0.33, MiMo-V2-Flash at TP 1: the full layers' block grows to 32 tokens to match the sliding page") {
  // The KV accounting alone: 309B parameters fit no single GPU, so the weights are made small.
  ModelShape small = mimo();
  small.params_total = 10'000'000'000;
  FitRequest one_gpu = request_for(small, 131072, Parallelism{1, 1, 1});
  one_gpu.options.kv_cache_memory = Bytes{40 * GiB};
  one_gpu.options.max_num_batched_tokens = 8192;
  const FitResult result = fit(small, gpu("h200"), one_gpu);
  // Sliding 16 x 8 x 320 x 2 B = 81920 B, full 16 x 4 x 320 x 2 B = 40960 B: the full block doubles to 32 tokens.
  CHECK(result.page_bytes.value == 81920);
  CHECK(result.block_size == 16);
  CHECK(result.full_block_size == 32);
  // 9 x 81920 = 737280 B per block; 42949672960 / 737280 = 58254 blocks. Per request 131072 / 32 = 4096 full
  // blocks + 5 x 1033 sliding = 9261; 58254 / 9261 x 131072 = 824475 tokens.
  CHECK(result.num_blocks == 58254);
  CHECK(result.blocks_per_request == 9261);
  CHECK(result.kv_tokens == 824475);
}

TEST_CASE("vLLM 0.33's DiffKV backend for MiMo-V2-Flash by GPU, cache dtype and request") {
  CHECK(fit(mimo(), gpu("a100-80gb"), request(32768, 8)).attention_backend == "TRITON_ATTN_DIFFKV");
  CHECK(fit(mimo(), gpu("h200"), request(32768, 8, KvDtype::fp8_e4m3)).kv_cache_dtype == KvDtype::fp8_e4m3);
  // FlashAttentionImpl checks fp8 as if V were 192 wide: FA2 on Blackwell, which takes no fp8 cache.
  CHECK_THROWS_WITH_AS(fit(mimo(), gpu("b200"), request(32768, 8, KvDtype::fp8_e4m3)),
                       doctest::Contains("FA2 takes no fp8 cache"), Error);
  CHECK_THROWS_WITH_AS(fit(mimo(), gpu("h200"), request(32768, 8, KvDtype::nvfp4)),
                       doctest::Contains("takes bf16 or fp8 caches"), Error);
  FitRequest other = request(32768, 8);
  other.options.attention_backend = "FLASH_ATTN";
  CHECK_THROWS_WITH_AS(fit(mimo(), gpu("h200"), other), doctest::Contains("a DiffKV backend whatever else is asked"),
                       Error);
  FitRequest triton = request(32768, 8);
  triton.options.attention_backend = "TRITON_ATTN_DIFFKV";
  CHECK(fit(mimo(), gpu("h200"), triton).attention_backend == "TRITON_ATTN_DIFFKV");
}

TEST_CASE("MiMo-V2 configs kvplan refuses: the layer pattern, the query heads, one V width") {
  CHECK(from_json(tiny()).sliding_layer_count() == 1);
  CHECK_THROWS_WITH_AS(from_json(tiny("[0, 1, 1]")),
                       doctest::Contains("hybrid_layer_pattern must list 0 or 1 for each of the 2 layers"), Error);
  CHECK_THROWS_WITH_AS(from_json(tiny("[0, 2]")), doctest::Contains("entries are 0 or 1; got 2"), Error);
  CHECK_THROWS_WITH_AS(from_json(tiny("[0, 1]", 16)),
                       doctest::Contains("swa_num_attention_heads differs from num_attention_heads"), Error);
  CHECK_THROWS_WITH_AS(from_json(tiny("[0, 1]", 8, 64)),
                       doctest::Contains("vLLM sets one V width on its DiffKV backend"), Error);
}
