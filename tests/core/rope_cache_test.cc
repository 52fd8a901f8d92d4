// vLLM's RoPE cos/sin tables (core/rope_cache.h): one table of positions x rotary_dim per distinct
// rotary embedding, in the model's dtype, counted in vLLM's "Model loading took".
#include "core/rope_cache.h"

#include <doctest/doctest.h>

#include "core/hf_config.h"
#include "core/units.h"
#include "io/preset_registry.h"
#include "io/yaml_reader.h"

using namespace kvplan;

namespace {
const ModelShape& preset(const char* name) {
  static const io::PresetRegistry registry;
  return registry.model(name).shape;
}
ModelShape shape_of(const std::string& yaml) { return shape_from_hf_config(io::read_yaml(yaml, "test.yaml")); }
}  // namespace

TEST_CASE("Llama-4-Scout: one table over the 10M positions of max_position_embeddings, 2.5 GiB on every rank") {
  // text_config: max_position_embeddings 10485760, head_dim 128; rope_scaling llama3 (factor 16,
  // original 8192) keeps max_position rows (Llama3RotaryEmbedding). 10485760 x 128 x 2 B.
  const ModelShape& scout = preset("llama-4-scout");
  REQUIRE(scout.rope_caches.size() == 1);
  CHECK(rope_cache_bytes(scout.rope_caches, 2) == 10485760ull * 128 * 2);
  CHECK(rope_cache_bytes(scout.rope_caches, 2) == 5 * kGiB / 2);
}

TEST_CASE("Gemma-3-12B: the global layers' linear x8 table and the sliding layers' local table") {
  // head_dim 256 (Gemma3TextConfig default), max_position_embeddings 131072 (its default),
  // rope_scaling linear factor 8: 131072 x 8 x 256 x 2 B = 536870912; local: 131072 x 256 x 2 B =
  // 67108864. Sum 603979776 B = 0.5625 GiB.
  const ModelShape& gemma = preset("gemma-3-12b");
  REQUIRE(gemma.rope_caches.size() == 2);
  CHECK(gemma.rope_caches[0].positions == 131072ull * 8);
  CHECK(gemma.rope_caches[1].positions == 131072);
  CHECK(rope_cache_bytes(gemma.rope_caches, 2) == 536870912ull + 67108864ull);
}

TEST_CASE("gpt-oss builds its table in fp32 - YaRN covers original_max_position_embeddings x factor") {
  // gpt_oss.py passes dtype=torch.float32: 131072 x head_dim 64 x 4 B, whatever the model's dtype.
  const ModelShape& oss = preset("gpt-oss-20b");
  REQUIRE(oss.rope_caches.size() == 1);
  CHECK(rope_cache_bytes(oss.rope_caches, 2) == 131072ull * 64 * 4);
  // gpt-oss-20b's config.json rope_scaling: yarn, factor 32, original_max_position_embeddings 4096:
  // 4096 x 32 = 131072 rows.
  const ModelShape yarn = shape_of(R"(
model_type: gpt_oss
num_hidden_layers: 2
num_attention_heads: 64
num_key_value_heads: 8
head_dim: 64
max_position_embeddings: 131072
rope_scaling: {rope_type: yarn, factor: 32.0, original_max_position_embeddings: 4096, beta_fast: 32.0, beta_slow: 1.0}
)");
  CHECK(yarn.rope_caches.at(0).positions == 4096ull * 32);
}

TEST_CASE("partial rotary and MLA rotate part of the head - fp32 serving doubles the bytes") {
  // glm4_moe-style partial_rotary_factor 0.5 of head_dim 128: 64 values per row.
  const ModelShape partial = shape_of(R"(
model_type: llama
num_hidden_layers: 2
num_attention_heads: 8
num_key_value_heads: 8
hidden_size: 1024
head_dim: 128
max_position_embeddings: 4096
partial_rotary_factor: 0.5
)");
  CHECK(partial.rope_caches.at(0).rotary_dim == 64);
  CHECK(rope_cache_bytes(partial.rope_caches, 4) == 4096ull * 64 * 4);
  // DeepSeek-V2-Lite: qk_rope_head_dim 64, deepseek_yarn factor 40 over original 4096 positions.
  const ModelShape& lite = preset("deepseek-v2-lite");
  REQUIRE(lite.rope_caches.size() == 1);
  CHECK(lite.rope_caches[0].rotary_dim == 64);
}

TEST_CASE("attention without rotary embeddings has no table") {
  const ModelShape jamba = shape_of(R"(
model_type: jamba
num_hidden_layers: 8
num_attention_heads: 32
num_key_value_heads: 8
hidden_size: 4096
max_position_embeddings: 262144
attn_layer_period: 8
attn_layer_offset: 4
)");
  CHECK(jamba.rope_caches.empty());
}
