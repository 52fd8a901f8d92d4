// Jamba (jamba): Mamba-1 state layers with an attention layer every attn_layer_period layers
// (docs/engines.md, "State layers"). Each expected number is arithmetic written out here,
// cross-checked by running vLLM 0.33.0's own code without a GPU (tools/vllm-oracle/oracle_jamba.py:
// JambaForCausalLM's mamba1 state shape and dtype, Platform._align_hybrid_block_size,
// get_kv_cache_configs); the oracle's lines are quoted.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/params.h"
#include "core/state_bytes.h"
#include "io/yaml_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// ai21labs/Jamba-v0.1's fields as third-party copies give them (no verbatim config.json with a
// citable origin was found).
constexpr const char* kJambaV01 = R"(
model_type: jamba
architectures: [JambaForCausalLM]
num_hidden_layers: 32
hidden_size: 4096
intermediate_size: 14336
num_attention_heads: 32
num_key_value_heads: 8
attn_layer_period: 8
attn_layer_offset: 4
expert_layer_period: 2
expert_layer_offset: 1
num_experts: 16
num_experts_per_tok: 2
mamba_d_state: 16
mamba_d_conv: 4
mamba_expand: 2
mamba_dt_rank: 256
vocab_size: 65536
max_position_embeddings: 262144
torch_dtype: bfloat16
)";

ModelShape jamba_v01() {
  ModelShape shape = shape_from_hf_config(io::read_yaml(kJambaV01, "jamba-v0.1.yaml"));
  // The oracle ran the KV accounting alone; a parameter count that fits one H100 beside 40 GiB of
  // KV memory lets fit reach it (the 52B model's bf16 weights would not).
  shape.params_total = 10'000'000'000;
  return shape;
}

FitRequest jamba_request(std::uint64_t ctx, std::uint32_t tp, KvDtype dtype = KvDtype::bf16) {
  FitRequest request = request_for(jamba_v01(), ctx, Parallelism{tp, 1, 1});
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  return request;
}

}  // namespace

TEST_CASE("Jamba: attention where i % 8 == 4, Mamba-1 elsewhere - its state runs over 2 x 4096 channels") {
  const ModelShape shape = jamba_v01();
  CHECK(shape.layer_count(LayerAttention::full) == 4);  // layers 4, 12, 20, 28
  CHECK(shape.layer_attention[4] == LayerAttention::full);
  CHECK(shape.layer_count(LayerAttention::state) == 28);
  CHECK(shape.head_dim == 128);  // 4096 / 32
  CHECK(shape.moe->moe_layers == 16);  // i % 2 == 1
  // conv: 8192 channels x 3 x 2 B = 49152 B; SSM: 8192 x 16 x 2 B = 262144 B.
  // Oracle: "state shapes per rank: ((3, 8192), (8192, 16))", both bfloat16.
  StateBytes tp1 = state_bytes_per_rank(*shape.state, "bfloat16", 1);
  CHECK(tp1.conv_channels == 8192);
  CHECK(tp1.total() == 49152 + 262144);
  // TP 2 halves the channels: 3 x 4096 x 2 + 4096 x 16 x 2 = 24576 + 131072 (oracle: "((3, 4096), (4096, 16))").
  CHECK(state_bytes_per_rank(*shape.state, "bfloat16", 2).total() == 24576 + 131072);
  // mamba1_state_shape's divide() needs the channels to split evenly.
  CHECK_THROWS_AS(state_bytes_per_rank(*shape.state, "bfloat16", 3), Error);
}

TEST_CASE("vLLM 0.33, Jamba-v0.1 on one H100: Mamba-1 claims no checkpoint block, 2 per group") {
  // P = 8 x 128 x 2 x 2 B = 4096 B; A = 16; block = 16 x cdiv(311296, 16 x 4096) = 16 x 5 = 80,
  // page 80 x 4096 = 327680 B. Groups of 4: 28 / 4 = 7 Mamba groups + 1 attention group.
  // 42949672960 / (4 x 327680) = 32768 blocks. Per request (align mode, MambaBase.get_kv_cache_spec
  // sets no checkpoint blocks): cdiv(262144, 80) = 3277 + 7 x 2 = 3291.
  // int(32768 / 3291 x 262144) = int(2610129.5). Oracle: "GPU KV cache size: 2,610,129 tokens,
  // Maximum concurrency for 262,144 tokens per request: 9.96x".
  FitResult result = fit(jamba_v01(), gpu("h100-sxm"), jamba_request(262144, 1));
  CHECK(result.block_size == 80);
  CHECK(result.page_bytes.value == 327680);
  CHECK(result.groups.size() == 8);
  CHECK(result.num_blocks == 32768);
  CHECK(result.blocks_per_request == 3291);
  CHECK(result.kv_tokens == 2610129);
  // fp8 at 32k: P = 2048 B, block = 16 x cdiv(311296, 32768) = 160, page 327680 B, 32768 blocks;
  // cdiv(32768, 160) = 205 + 14 = 219; int(32768 / 219 x 32768) = int(4902930.7) (oracle: "4,902,930").
  FitResult fp8 = fit(jamba_v01(), gpu("h100-sxm"), jamba_request(32768, 1, KvDtype::fp8_e4m3));
  CHECK(fp8.block_size == 160);
  CHECK(fp8.blocks_per_request == 219);
  CHECK(fp8.kv_tokens == 4902930);
}

TEST_CASE("vLLM 0.33, Jamba-v0.1 on 2 H100s") {
  // P = 4 x 128 x 2 x 2 B = 2048 B; state 155648 B: block = 16 x cdiv(155648, 32768) = 80, page 163840 B;
  // 42949672960 / (4 x 163840) = 65536 blocks; cdiv(32768, 80) = 410 + 14 = 424;
  // int(65536 / 424 x 32768) = int(5064819.9) (oracle: "5,064,819 tokens ... 154.57x").
  FitResult result = fit(jamba_v01(), gpu("h100-sxm"), jamba_request(32768, 2));
  CHECK(result.block_size == 80);
  CHECK(result.page_bytes.value == 163840);
  CHECK(result.num_blocks == 65536);
  CHECK(result.blocks_per_request == 424);
  CHECK(result.kv_tokens == 5064819);
}

TEST_CASE("Jamba-v0.1's parameters: Mamba-1 mixers, and experts on every second layer") {
  const ModelShape shape = shape_from_hf_config(io::read_yaml(kJambaV01, "jamba-v0.1.yaml"));
  // Embedding and head (untied) 2 x 65536 x 4096 = 536870912, final norm 4096, 32 x 2 x 4096 norms = 262144;
  // attention 4 x (2 x 4096 x 4096 + 2 x 4096 x 1024) = 167772160;
  // Mamba-1 28 x (in_proj 4096 x 16384 + x_proj 8192 x (256 + 32) + dt_proj 257 x 8192 + out_proj 8192 x 4096
  //   + conv 8192 x 5 + A and D 8192 x 17 + dt/B/C norms 288) = 28 x 105308448 = 2948636544;
  // 16 expert layers x (16 x 3 x 4096 x 14336 + router 4096 x 16) = 45098205184; 16 dense MLPs 2818572288.
  // AI21's model card: 52B total, 12B active.
  const ParamEstimate params = estimate_params(shape, shape.tie_word_embeddings);
  const std::uint64_t shared = 536870912ull + 4096 + 262144 + 167772160 + 2948636544ull + 2818572288ull;
  CHECK(params.total == shared + 45098205184ull);
  // Active: 2 of the 16 experts, 16 x (2 x 176160768 + 65536) = 5638193152.
  CHECK(params.active == shared + 5638193152ull);
}
