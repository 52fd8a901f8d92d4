// Hugging Face config conventions, read from YAML text shaped like config.json.
#include "core/hf_config.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "io/yaml_reader.h"

using namespace kvplan;

namespace {
ModelShape shape_of(const std::string& yaml) {
  return shape_from_hf_config(io::read_yaml(yaml, "test.yaml"));
}
std::string error_of(const std::string& yaml) {
  try {
    shape_of(yaml);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::bad_input);
    return e.what();
  }
  FAIL("no error");
  return "";
}
const std::string kLlama =
    "model_type: llama\nnum_hidden_layers: 32\nnum_attention_heads: 32\nnum_key_value_heads: 8\n"
    "hidden_size: 4096\n";
}  // namespace

TEST_CASE("head_dim defaults to hidden_size / num_attention_heads") {
  ModelShape shape = shape_of(kLlama);
  CHECK(shape.head_dim == 4096 / 32);
  CHECK_FALSE(shape.head_dim_explicit);
}

TEST_CASE("an explicit head_dim wins over hidden_size / heads (Gemma-2-27B, Qwen3-32B)") {
  // Gemma-2-27B: 4608 / 32 = 144, but head_dim is 128.
  ModelShape gemma = shape_of(
      "model_type: gemma2\nnum_hidden_layers: 46\nnum_attention_heads: 32\nnum_key_value_heads: 16\n"
      "hidden_size: 4608\nhead_dim: 128\n");
  CHECK(gemma.head_dim == 128);
  CHECK(gemma.head_dim_explicit);
  // Qwen3-32B: 5120 / 64 = 80, but head_dim is 128.
  ModelShape qwen3 = shape_of(
      "model_type: qwen3\nnum_hidden_layers: 64\nnum_attention_heads: 64\nnum_key_value_heads: 8\n"
      "hidden_size: 5120\nhead_dim: 128\n");
  CHECK(qwen3.head_dim == 128);
}

TEST_CASE("num_key_value_heads absent means MHA, and says so") {
  ModelShape shape = shape_of("model_type: llama\nnum_hidden_layers: 2\nnum_attention_heads: 16\nhidden_size: 2048\n");
  CHECK(shape.num_key_value_heads == 16);
  CHECK(shape.assumptions.size() == 1);
}

TEST_CASE("MLA fields make an MLA model whose counterfactual d_h is v_head_dim") {
  ModelShape shape = shape_of(
      "model_type: deepseek_v2\nnum_hidden_layers: 60\nnum_attention_heads: 128\nnum_key_value_heads: 128\n"
      "hidden_size: 5120\nkv_lora_rank: 512\nq_lora_rank: null\nqk_rope_head_dim: 64\nqk_nope_head_dim: 128\n"
      "v_head_dim: 128\n");
  REQUIRE(shape.mla.has_value());
  CHECK(shape.mla->kv_lora_rank == 512);
  CHECK(shape.mla->qk_rope_head_dim == 64);
  CHECK_FALSE(shape.mla->q_lora_rank.has_value());
  CHECK(shape.head_dim == 128);  // not 5120 / 128 = 40
}

TEST_CASE("sliding windows: Mistral applies to every layer") {
  ModelShape shape = shape_of("model_type: mistral\nnum_hidden_layers: 32\nnum_attention_heads: 32\n"
                              "num_key_value_heads: 8\nhidden_size: 4096\nsliding_window: 4096\n");
  CHECK(shape.sliding_window == 4096u);
  CHECK(shape.sliding_layer_count() == 32);
}

TEST_CASE("sliding windows: sliding_window null means none (Mistral v0.3, Llama)") {
  ModelShape shape = shape_of(kLlama + "sliding_window: null\n");
  CHECK_FALSE(shape.sliding_window.has_value());
  CHECK(shape.sliding_layer_count() == 0);
}

TEST_CASE("sliding windows: Qwen2.5 sets a window but use_sliding_window false, so none") {
  ModelShape shape = shape_of("model_type: qwen2\nnum_hidden_layers: 28\nnum_attention_heads: 28\n"
                              "num_key_value_heads: 4\nhidden_size: 3584\nsliding_window: 131072\n"
                              "use_sliding_window: false\nmax_window_layers: 28\n");
  CHECK_FALSE(shape.sliding_window.has_value());
  CHECK(shape.sliding_layer_count() == 0);
}

TEST_CASE("sliding windows: Qwen2 with use_sliding_window slides from max_window_layers on") {
  ModelShape shape = shape_of("model_type: qwen2\nnum_hidden_layers: 28\nnum_attention_heads: 28\n"
                              "num_key_value_heads: 4\nhidden_size: 3584\nsliding_window: 4096\n"
                              "use_sliding_window: true\nmax_window_layers: 21\n");
  CHECK(shape.sliding_layer_count() == 28 - 21);
  CHECK(shape.layer_attention[20] == LayerAttention::full);
  CHECK(shape.layer_attention[21] == LayerAttention::sliding);
}

TEST_CASE("sliding windows: Gemma-2 alternates, starting with layer 0") {
  ModelShape shape = shape_of("model_type: gemma2\nnum_hidden_layers: 42\nnum_attention_heads: 16\n"
                              "num_key_value_heads: 8\nhidden_size: 3584\nhead_dim: 256\nsliding_window: 4096\n");
  CHECK(shape.sliding_layer_count() == 21);
  CHECK(shape.layer_attention[0] == LayerAttention::sliding);
  CHECK(shape.layer_attention[1] == LayerAttention::full);
  CHECK(shape.layer_attention[41] == LayerAttention::full);
}

TEST_CASE("sliding windows: layer_types lists each layer when present") {
  ModelShape shape = shape_of("model_type: llama\nnum_hidden_layers: 3\nnum_attention_heads: 32\nnum_key_value_heads: 8\n"
                              "hidden_size: 4096\nsliding_window: 512\n"
                              "layer_types: [sliding_attention, full_attention, sliding_attention]\n");
  CHECK(shape.sliding_layer_count() == 2);
  CHECK(error_of("model_type: llama\nnum_hidden_layers: 3\nnum_attention_heads: 4\nhidden_size: 64\n"
                 "sliding_window: 512\nlayer_types: [sliding_attention]\n")
            .find("one entry per layer") != std::string::npos);
}

TEST_CASE("MTP layers and MoE fields are read") {
  ModelShape shape = shape_of(kLlama + "num_nextn_predict_layers: 1\nn_routed_experts: 256\nnum_experts_per_tok: 8\n"
                                       "n_shared_experts: 1\n");
  CHECK(shape.num_nextn_predict_layers == 1);
  REQUIRE(shape.moe.has_value());
  CHECK(shape.moe->num_experts == 256);
  CHECK(shape.moe->num_experts_per_tok == 8);
}

TEST_CASE("inconsistent or malformed configs name the file, line and field") {
  // The example in STYLE.md: heads not divisible by KV heads.
  std::string bad_groups = error_of(
      "model_type: llama\nnum_hidden_layers: 2\nnum_attention_heads: 64\nnum_key_value_heads: 7\nhidden_size: 8192\n");
  CHECK(bad_groups == "test.yaml:4: num_key_value_heads must divide num_attention_heads (64); got 7");
  CHECK(error_of("model_type: llama\nnum_attention_heads: 64\nhidden_size: 8192\n").find("num_hidden_layers") !=
        std::string::npos);
  CHECK(error_of("model_type: llama\nnum_hidden_layers: abc\nnum_attention_heads: 64\n") ==
        "test.yaml:2: num_hidden_layers must be a whole number >= 0; got 'abc'");
  CHECK(error_of("model_type: llama\nnum_hidden_layers: -3\nnum_attention_heads: 64\n").find("test.yaml:2") == 0);
  CHECK(error_of("model_type: llama\nnum_hidden_layers: 0\nnum_attention_heads: 64\n").find("at least 1") !=
        std::string::npos);
  CHECK(error_of("model_type: llama\nnum_hidden_layers: 2\nnum_attention_heads: 48\nhidden_size: 4000\n")
            .find("add an explicit head_dim") != std::string::npos);
  CHECK(error_of("model_type: llama\nnum_hidden_layers: 2\nnum_attention_heads: 4\nhidden_size: 64\n"
                 "kv_lora_rank: 512\n")
            .find("qk_rope_head_dim") != std::string::npos);
  CHECK(error_of("model_type: mamba\nnum_hidden_layers: 2\n").find("model_type 'mamba'") != std::string::npos);
  CHECK(error_of("num_hidden_layers: 2\n").find("model_type") != std::string::npos);
  CHECK(error_of("- just\n- a list\n").find("must be a map") != std::string::npos);
}

namespace {
// Llama-4-Scout's text_config as its config.json states the attention (48 layers, 40 heads, 8 KV
// heads of 128, chunks of 8192, no_rope_layers empty so transformers derives it).
const std::string kScout =
    "model_type: llama4\ntext_config:\n  model_type: llama4_text\n  num_hidden_layers: 48\n"
    "  num_attention_heads: 40\n  num_key_value_heads: 8\n  head_dim: 128\n  hidden_size: 5120\n"
    "  attention_chunk_size: 8192\n  no_rope_layers: []\n";
}  // namespace

TEST_CASE("Llama-4: every 4th layer is global (NoPE), the others attend within chunks") {
  ModelShape shape = shape_of(kScout);
  REQUIRE(shape.attention_chunk_size);
  CHECK(*shape.attention_chunk_size == 8192);
  CHECK(shape.layer_count(LayerAttention::chunked) == 36);
  CHECK(shape.layer_attention[2] == LayerAttention::chunked);
  CHECK(shape.layer_attention[3] == LayerAttention::full);  // (3 + 1) % 4 == 0
  CHECK(shape.layer_attention[47] == LayerAttention::full);
  // An explicit no_rope_layers list: 1 = RoPE (chunked), 0 = NoPE (global).
  ModelShape listed = shape_of(
      "model_type: llama4_text\nnum_hidden_layers: 4\nnum_attention_heads: 4\nnum_key_value_heads: 2\n"
      "head_dim: 64\nattention_chunk_size: 1024\nno_rope_layers: [1, 0, 1, 0]\n");
  CHECK(listed.layer_attention == std::vector<LayerAttention>{LayerAttention::chunked, LayerAttention::full,
                                                               LayerAttention::chunked, LayerAttention::full});
  // attention_chunk_size null turns chunking off, as in vLLM's llama4.py.
  ModelShape unchunked = shape_of(
      "model_type: llama4_text\nnum_hidden_layers: 4\nnum_attention_heads: 4\nnum_key_value_heads: 2\n"
      "head_dim: 64\nattention_chunk_size: null\n");
  CHECK(unchunked.layer_count(LayerAttention::chunked) == 0);
  CHECK(error_of("model_type: llama4_text\nnum_hidden_layers: 4\nnum_attention_heads: 4\nnum_key_value_heads: 2\n"
                 "head_dim: 64\nno_rope_layers: [1, 2, 1, 0]\n")
            .find("no_rope_layers[1] must be 0 or 1") != std::string::npos);
}

TEST_CASE("layer_types may list chunked_attention layers") {
  ModelShape shape = shape_of(
      "model_type: llama4_text\nnum_hidden_layers: 4\nnum_attention_heads: 4\nnum_key_value_heads: 2\n"
      "head_dim: 64\nattention_chunk_size: 512\n"
      "layer_types: [chunked_attention, chunked_attention, chunked_attention, full_attention]\n");
  CHECK(shape.layer_count(LayerAttention::chunked) == 3);
  CHECK(shape.layer_attention[3] == LayerAttention::full);
}

namespace {
// google/gemma-3-12b-it's config.json as published: text_config states neither head_dim,
// vocab_size, layer_types nor sliding_window_pattern.
const std::string kGemma3_12b =
    "model_type: gemma3\ntext_config:\n  model_type: gemma3_text\n  hidden_size: 3840\n"
    "  intermediate_size: 15360\n  num_attention_heads: 16\n  num_hidden_layers: 48\n"
    "  num_key_value_heads: 8\n  sliding_window: 1024\n"
    "vision_config:\n  model_type: siglip_vision_model\n  hidden_size: 1152\n  image_size: 896\n"
    "  intermediate_size: 4304\n  num_attention_heads: 16\n  num_hidden_layers: 27\n  patch_size: 14\n";
}  // namespace

TEST_CASE("Gemma-3 without layer_types: Gemma3TextConfig's defaults and every 6th layer global") {
  ModelShape shape = shape_of(kGemma3_12b);
  CHECK(shape.head_dim == 256);  // the class default, not 3840 / 16 = 240
  CHECK(shape.vocab_size == 262208);
  CHECK(shape.max_position_embeddings == 131072);
  CHECK(shape.tie_word_embeddings);
  REQUIRE(shape.sliding_window);
  CHECK(*shape.sliding_window == 1024);
  // (i + 1) % 6 == 0 is global: layers 5, 11, ..., 47, i.e. 48 / 6 = 8 global and 40 sliding.
  CHECK(shape.layer_count(LayerAttention::full) == 8);
  CHECK(shape.sliding_layer_count() == 40);
  CHECK(shape.layer_attention[4] == LayerAttention::sliding);
  CHECK(shape.layer_attention[5] == LayerAttention::full);
  CHECK(shape.layer_attention[47] == LayerAttention::full);
  // The SigLIP tower (416866032) and the projector 1152 x 3840 + 1152.
  CHECK(shape.vision_params == 416866032ull + 1152ull * 3840 + 1152);
  // An explicit sliding_window_pattern (an older transformers' config) is honoured: 2 = alternate.
  ModelShape pattern = shape_of("model_type: gemma3_text\nnum_hidden_layers: 6\nnum_attention_heads: 4\n"
                                "num_key_value_heads: 1\nhead_dim: 256\nsliding_window: 512\nsliding_window_pattern: 2\n");
  CHECK(pattern.layer_count(LayerAttention::full) == 3);
  CHECK(pattern.layer_attention[1] == LayerAttention::full);
}

TEST_CASE("Gemma-3 with layer_types: the list decides, whatever the pattern would say") {
  // transformers >= 4.53 saves layer_types (gemma-3-270m's config.json lists them); here a list
  // that the pattern 6 would not give, so the test fails if the pattern overrode it.
  ModelShape shape = shape_of(
      "model_type: gemma3_text\nnum_hidden_layers: 4\nnum_attention_heads: 4\nnum_key_value_heads: 1\n"
      "head_dim: 256\nsliding_window: 512\nsliding_window_pattern: 6\n"
      "layer_types: [sliding_attention, full_attention, sliding_attention, full_attention]\n");
  CHECK(shape.layer_count(LayerAttention::full) == 2);
  CHECK(shape.layer_attention[1] == LayerAttention::full);
  CHECK(shape.sliding_rule == "layer_types lists each layer's attention");
}
