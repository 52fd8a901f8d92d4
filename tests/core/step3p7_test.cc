// Step-3.7-Flash (step3p7; vLLM 0.33 model_executor/models/step3p5.py, which Step3p7ForConditionalGeneration
// wraps): every layer caches num_attention_groups (num_key_value_heads) K/V heads of head_dim; the
// sliding_attention layers of layer_types keep the last sliding_window tokens. The config is
// tests/data/configs/step-3.7-flash (aiconfigurator's flattened copy). Expected numbers are arithmetic
// written out here; the fit was cross-checked with vLLM 0.33.0's own get_kv_cache_configs on hand-built
// specs (tools/vllm-oracle/oracle_step37.py printed the same groups, blocks and tokens).
#include <doctest/doctest.h>

#include <string>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/params.h"
#include "io/json_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// With the parameter count estimated from the config's shapes, as --config does.
ModelShape step37() {
  ModelShape shape = config_shape("step-3.7-flash");
  shape.params_total = estimate_params(shape, shape.tie_word_embeddings).total;
  return shape;
}

ModelShape from_json(const std::string& text) { return shape_from_hf_config(io::read_json(text, "config.json")); }

}  // namespace

TEST_CASE("Step-3.7-Flash's config: 12 full and 33 sliding layers of 8 K/V heads of 128") {
  const ModelShape shape = step37();
  CHECK(shape.num_hidden_layers == 45);
  CHECK(shape.num_key_value_heads == 8);
  CHECK(shape.head_dim == 128);
  REQUIRE(shape.sliding_window);
  CHECK(*shape.sliding_window == 512);
  // layer_types: full on layers 0, 4, ..., 44 = 45 / 4 rounded up = 12; the other 33 sliding.
  CHECK(shape.layer_count(LayerAttention::full) == 12);
  CHECK(shape.sliding_layer_count() == 33);
  CHECK(!shape.full_layer_kv);  // the same K/V heads on both kinds
  REQUIRE(shape.moe);
  CHECK(shape.moe->num_experts == 288);
  CHECK(shape.moe->moe_layers == 45 - 3);  // first_k_dense_replace 3
  CHECK(shape.num_nextn_predict_layers == 3);
}

TEST_CASE("vLLM 0.33, Step-3.7-Flash on 8 H200s: one full and three sliding groups of 12 layers") {
  FitRequest request = request_for(step37(), 65536, Parallelism{8, 1, 1});
  request.options.kv_cache_memory = Bytes{40 * GiB};
  const FitResult result = fit(step37(), gpu("h200"), request);
  // Per rank max(1, 8 / 8) = 1 K/V head: 16 tokens x 2 x 128 x 2 B = 8192 B per layer page. Groups of 12
  // (12 full; 33 sliding in 3 groups of 11 + 1 padding layer): 12 x 8192 = 98304 B per block;
  // 42949672960 / 98304 = 436906 blocks.
  CHECK(result.attention_backend == "FLASH_ATTN");
  CHECK(result.page_bytes.value == 8192);
  CHECK(result.num_blocks == 436906);
  // Per request: full 65536 / 16 = 4096 blocks; each sliding group cdiv(min(512 - 1 + 2 x 8192, 65536), 16)
  // + 1 = 1057; 4096 + 3 x 1057 = 7267 blocks. 436906 / 7267 x 65536 = 3940150 tokens (vLLM's log line).
  CHECK(result.kv_tokens == 3940150);
}

TEST_CASE("Step-3.5's hub form: num_attention_groups, layer_types padded with the MTP layers, moe_layers_enum") {
  const ModelShape shape = from_json(
      R"({"model_type": "step3p5", "num_hidden_layers": 4, "num_attention_heads": 8, "num_attention_groups": 2,
          "head_dim": 64, "hidden_size": 512, "sliding_window": 128, "num_nextn_predict_layers": 1,
          "layer_types": ["full_attention", "sliding_attention", "sliding_attention", "sliding_attention",
                          "sliding_attention"],
          "moe_num_experts": 16, "moe_top_k": 2, "moe_intermediate_size": 128, "moe_layers_enum": "1,2,3,4"})");
  CHECK(shape.num_key_value_heads == 2);
  CHECK(shape.layer_count(LayerAttention::full) == 1);
  CHECK(shape.sliding_layer_count() == 3);
  REQUIRE(shape.moe);
  CHECK(shape.moe->num_experts == 16);
  CHECK(shape.moe->num_experts_per_tok == 2);
  CHECK(shape.moe->moe_layers == 3);  // 1, 2, 3; 4 is the MTP layer
  // The trailing entry is the MTP layer's kind: sliding in vLLM, full in kvplan's --mtp.
  bool said = false;
  for (const std::string& line : shape.assumptions) said = said || line.find("1 of the 1 MTP layers are sliding") != std::string::npos;
  CHECK(said);
}
