// Granite-4.0-H (granitemoehybrid): Mamba-2 state layers named by layer_types, planned by vLLM
// 0.33 as Nemotron-H's are (docs/engines.md, "State layers"). Each expected number is arithmetic
// written out here, cross-checked by running vLLM 0.33.0's own code without a GPU
// (tools/vllm-oracle/oracle_granite.py: GraniteMoeHybridForCausalLM's state shape and dtype,
// Platform._align_hybrid_block_size, get_kv_cache_configs); the oracle's lines are quoted.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/hf_config.h"
#include "core/params.h"
#include "core/state_bytes.h"
#include "io/yaml_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// ibm-granite/granite-4.0-h-tiny's fields as third-party copies give them (no verbatim
// config.json with a citable origin was found): attention at layers 5, 15, 25 and 35, written
// with the legacy names transformers 5 remaps (mamba -> linear_attention, attention ->
// full_attention).
constexpr const char* kGraniteTiny = R"(
model_type: granitemoehybrid
architectures: [GraniteMoeHybridForCausalLM]
num_hidden_layers: 40
layer_types: [mamba, mamba, mamba, mamba, mamba, attention, mamba, mamba, mamba, mamba,
              mamba, mamba, mamba, mamba, mamba, attention, mamba, mamba, mamba, mamba,
              mamba, mamba, mamba, mamba, mamba, attention, mamba, mamba, mamba, mamba,
              mamba, mamba, mamba, mamba, mamba, attention, mamba, mamba, mamba, mamba]
hidden_size: 1536
intermediate_size: 512
shared_intermediate_size: 1024
num_attention_heads: 12
num_key_value_heads: 4
num_local_experts: 64
num_experts_per_tok: 6
mamba_n_heads: 48
mamba_d_head: 64
mamba_n_groups: 1
mamba_d_state: 128
mamba_d_conv: 4
mamba_expand: 2
vocab_size: 100352
max_position_embeddings: 131072
tie_word_embeddings: true
torch_dtype: bfloat16
)";

ModelShape granite_tiny() {
  ModelShape shape = shape_from_hf_config(io::read_yaml(kGraniteTiny, "granite-4.0-h-tiny.yaml"));
  // The oracle ran the KV accounting alone; a parameter count (the model's ~7B) lets fit size
  // the weights beside the 40 GiB of KV memory.
  shape.params_total = 7'000'000'000;
  return shape;
}

FitRequest granite_request(std::uint64_t ctx, std::uint32_t tp, KvDtype dtype = KvDtype::bf16) {
  FitRequest request = request_for(granite_tiny(), ctx, Parallelism{tp, 1, 1});
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  return request;
}

}  // namespace

TEST_CASE("Granite-4.0-H: layer_types names 36 Mamba-2 layers and 4 attention layers of head_dim 1536 / 12") {
  const ModelShape shape = granite_tiny();
  CHECK(shape.layer_count(LayerAttention::state) == 36);
  CHECK(shape.layer_count(LayerAttention::full) == 4);
  CHECK(shape.head_dim == 128);
  // conv: (mamba_expand x hidden_size = 3072 + 2 x 1 group x 128) = 3328 channels x 3 x 2 B = 19968 B;
  // SSM: 48 x 64 x 128 x 2 B = 786432 B, in the model's dtype (mamba_ssm_cache_dtype "auto").
  // Oracle: "state shapes per rank: ((3, 3328), (48, 64, 128))", dtypes bfloat16, bfloat16.
  StateBytes tp1 = state_bytes_per_rank(*shape.state, "bfloat16", 1);
  CHECK(tp1.conv_channels == 3328);
  CHECK(tp1.recurrent_dtype == "bfloat16");
  CHECK(tp1.total() == 19968 + 786432);
  // TP 4: the one B/C group is copied to every rank: (3072 + 2 x 4 x 128) / 4 = 1024 channels;
  // 3 x 1024 x 2 + 12 x 64 x 128 x 2 = 6144 + 196608. Oracle: "((3, 1024), (12, 64, 128))".
  CHECK(state_bytes_per_rank(*shape.state, "bfloat16", 4).total() == 6144 + 196608);
  // The current layer kind names mean the same layers.
  std::string current = kGraniteTiny;
  for (std::size_t at; (at = current.find("mamba,")) != std::string::npos;) current.replace(at, 6, "linear_attention,");
  for (std::size_t at; (at = current.find("mamba]")) != std::string::npos;) current.replace(at, 6, "linear_attention]");
  for (std::size_t at; (at = current.find(" attention,")) != std::string::npos;) current.replace(at, 11, " full_attention,");
  const ModelShape renamed = shape_from_hf_config(io::read_yaml(current, "renamed.yaml"));
  CHECK(renamed.layer_attention == shape.layer_attention);
}

TEST_CASE("vLLM 0.33, Granite-4.0-H-Tiny on one H100: 9 Mamba groups of 4 and the attention group") {
  // P = 4 KV heads x 128 x 2 (K, V) x 2 B = 2048 B per token. Mamba-2 sets no prefill checkpoint
  // alignment: A = 16, block = 16 x cdiv(806400, 16 x 2048) = 16 x 25 = 400, page 400 x 2048 = 819200 B.
  // Groups of 4 layers (the attention count): 36 / 4 = 9 Mamba groups + 1 attention group.
  // 40 GiB / (4 x 819200) = 42949672960 / 3276800 = 13107 blocks.
  // Per request: cdiv(131072, 400) = 328 attention blocks + 9 groups x 3 (align mode) = 355.
  FitResult result = fit(granite_tiny(), gpu("h100-sxm"), granite_request(131072, 1));
  CHECK(result.block_size == 400);
  CHECK(result.page_bytes.value == 819200);
  CHECK(result.groups.size() == 10);
  CHECK(result.group_size == 4);
  CHECK(result.num_blocks == 13107);
  CHECK(result.blocks_per_request == 355);
  // int(13107 / 355 x 131072) = int(4839325.9). Oracle: "GPU KV cache size: 4,839,325 tokens,
  // Maximum concurrency for 131,072 tokens per request: 36.92x".
  CHECK(result.kv_tokens == 4839325);
  // fp8 at 32k: P = 1024 B, block = 16 x cdiv(806400, 16384) = 16 x 50 = 800, page 819200 B again;
  // cdiv(32768, 800) = 41 + 27 = 68 per request; int(13107 / 68 x 32768) = 6316032 (oracle: "6,316,032").
  FitResult fp8 = fit(granite_tiny(), gpu("h100-sxm"), granite_request(32768, 1, KvDtype::fp8_e4m3));
  CHECK(fp8.block_size == 800);
  CHECK(fp8.num_blocks == 13107);
  CHECK(fp8.blocks_per_request == 68);
  CHECK(fp8.kv_tokens == 6316032);
  // --no-enable-prefix-caching: one block per Mamba group, 328 + 9 = 337;
  // int(13107 / 337 x 131072) = int(5097806.3) (oracle: "5,097,806 tokens ... 38.89x").
  FitRequest no_prefix = granite_request(131072, 1);
  no_prefix.options.prefix_caching = false;
  FitResult none = fit(granite_tiny(), gpu("h100-sxm"), no_prefix);
  CHECK(none.blocks_per_request == 337);
  CHECK(none.kv_tokens == 5097806);
}

TEST_CASE("vLLM 0.33, Granite-4.0-H-Tiny on 4 H100s: one KV head and a quarter of the state per rank") {
  // P = 1 x 128 x 2 x 2 B = 512 B; state 202752 B: block = 16 x cdiv(202752, 8192) = 16 x 25 = 400,
  // page 204800 B; 42949672960 / (4 x 204800) = 52428 blocks; 355 per request;
  // int(52428 / 355 x 131072) = int(19357303.9) (oracle: "19,357,303 tokens ... 147.68x").
  FitResult result = fit(granite_tiny(), gpu("h100-sxm"), granite_request(131072, 4));
  CHECK(result.block_size == 400);
  CHECK(result.page_bytes.value == 204800);
  CHECK(result.num_blocks == 52428);
  CHECK(result.blocks_per_request == 355);
  CHECK(result.kv_tokens == 19357303);
}

TEST_CASE("Granite-4.0-H-Tiny's parameters: 4 attention layers, 36 Mamba-2 mixers, 64 experts and a shared MLP") {
  const ModelShape shape = shape_from_hf_config(io::read_yaml(kGraniteTiny, "granite-4.0-h-tiny.yaml"));
  // Embedding (tied) 100352 x 1536 = 154140672, final norm 1536, 40 x 2 x 1536 layer norms = 122880;
  // attention 4 x (2 x 1536 x 1536 + 2 x 1536 x 512) = 25165824;
  // Mamba-2 36 x (in_proj 1536 x (3072 + 3328 + 48) + conv 3328 x 5 + 3 x 48 + norm 3072 + out_proj 3072 x 1536)
  //   = 36 x 14642576 = 527132736;
  // MoE 40 x (64 x 3 x 1536 x 512 + shared 3 x 1536 x 1024 + router 1536 x 64) = 40 x 155811840 = 6232473600.
  // IBM's model card: 7B total, 1B active.
  const ParamEstimate params = estimate_params(shape, shape.tie_word_embeddings);
  CHECK(params.total == 154140672ull + 1536 + 122880 + 25165824 + 527132736 + 6232473600ull);
  // Active: 6 of the 64 experts, 40 x (6 x 2359296 + 4718592 + 98304) = 758906880.
  CHECK(params.active == 154140672ull + 1536 + 122880 + 25165824 + 527132736 + 758906880);
}
