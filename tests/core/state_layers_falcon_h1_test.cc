// Falcon-H1 (falcon_h1): every layer runs attention and a Mamba-2 mixer side by side, which vLLM
// 0.33 registers as two cache layers (docs/engines.md, "State layers"). Each expected number is
// arithmetic written out here, cross-checked by running vLLM 0.33.0's own code without a GPU
// (tools/vllm-oracle/oracle_falcon_h1.py: FalconH1ForCausalLM's state shape and dtype,
// Platform._align_hybrid_block_size, get_kv_cache_configs); the oracle's lines are quoted.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/hf_config.h"
#include "core/kv_size.h"
#include "core/state_bytes.h"
#include "io/yaml_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// tiiuae/Falcon-H1-7B-Instruct's fields as a third-party copy gives them (no verbatim config.json
// with a citable origin was found); intermediate_size and vocab_size are left out.
constexpr const char* kFalconH1_7B = R"(
model_type: falcon_h1
architectures: [FalconH1ForCausalLM]
num_hidden_layers: 44
hidden_size: 3072
num_attention_heads: 12
num_key_value_heads: 2
head_dim: 128
mamba_d_ssm: 3072
mamba_n_heads: 24
mamba_d_head: 128
mamba_n_groups: 1
mamba_d_state: 256
mamba_d_conv: 4
mamba_expand: 2
max_position_embeddings: 262144
torch_dtype: bfloat16
)";

ModelShape falcon_h1_7b() {
  ModelShape shape = shape_from_hf_config(io::read_yaml(kFalconH1_7B, "falcon-h1-7b.yaml"));
  // The oracle ran the KV accounting alone; the model's ~7.6B parameters let fit size the weights
  // beside the 40 GiB of KV memory.
  shape.params_total = 7'600'000'000;
  return shape;
}

FitRequest falcon_request(std::uint64_t ctx, std::uint32_t tp, KvDtype dtype = KvDtype::bf16) {
  FitRequest request = request_for(falcon_h1_7b(), ctx, Parallelism{tp, 1, 1});
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  return request;
}

}  // namespace

TEST_CASE("Falcon-H1: 44 attention layers and 44 Mamba-2 mixers beside them") {
  const ModelShape shape = falcon_h1_7b();
  CHECK(shape.attention_layer_count() == 44);
  CHECK(shape.layer_count(LayerAttention::state) == 44);
  // conv: (mamba_d_ssm 3072 + 2 x 1 group x 256) = 3584 channels x 3 x 2 B = 21504 B;
  // SSM: 24 x 128 x 256 x 2 B = 1572864 B (model dtype). Oracle: "((3, 3584), (24, 128, 256))".
  CHECK(state_bytes_per_rank(*shape.state, "bfloat16", 1).total() == 21504 + 1572864);
  // size at 32k: 44 x 2 heads x 128 x 2 x 2 B = 45056 B per token, plus 44 states per sequence.
  SizeRequest request;
  request.ctx = Tokens{32768};
  SizeReport report = compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request);
  CHECK(report.variants.front().per_token.value == 45056);
  CHECK(report.variants.front().per_sequence.value == 45056ull * 32768 + 44ull * 1594368);
}

TEST_CASE("vLLM 0.33, Falcon-H1-7B on one H100: one attention group and one Mamba group of 44") {
  // P = 2 x 128 x 2 x 2 B = 1024 B; A = 16 (Mamba-2); block = 16 x cdiv(1594368, 16 x 1024) = 16 x 98
  // = 1568; page 1568 x 1024 = 1605632 B. 42949672960 / (44 x 1605632) = 607 blocks.
  // Per request: cdiv(262144, 1568) = 168 + 3 = 171; int(607 / 171 x 262144) = int(930534.5).
  // Oracle: "GPU KV cache size: 930,534 tokens, Maximum concurrency for 262,144 tokens per request: 3.55x".
  FitResult result = fit(falcon_h1_7b(), gpu("h100-sxm"), falcon_request(262144, 1));
  CHECK(result.block_size == 1568);
  CHECK(result.page_bytes.value == 1605632);
  CHECK(result.groups.size() == 2);
  CHECK(result.group_size == 44);
  CHECK(result.num_blocks == 607);
  CHECK(result.blocks_per_request == 171);
  CHECK(result.kv_tokens == 930534);
  // fp8: P = 512 B, block = 16 x cdiv(1594368, 8192) = 16 x 195 = 3120, page 1597440 B;
  // 42949672960 / (44 x 1597440) = 611 blocks; cdiv(262144, 3120) = 85 + 3 = 88;
  // int(611 / 88 x 262144) = int(1820113.5) (oracle: "1,820,113 tokens ... 6.94x").
  FitResult fp8 = fit(falcon_h1_7b(), gpu("h100-sxm"), falcon_request(262144, 1, KvDtype::fp8_e4m3));
  CHECK(fp8.block_size == 3120);
  CHECK(fp8.num_blocks == 611);
  CHECK(fp8.blocks_per_request == 88);
  CHECK(fp8.kv_tokens == 1820113);
}

TEST_CASE("vLLM 0.33, Falcon-H1-7B on 2 H100s: the one B/C group copied to both ranks") {
  // P = 512 B; state 3 x (3072 + 2 x 2 x 256) / 2 x 2 B + 12 x 128 x 256 x 2 B = 12288 + 786432 = 798720 B;
  // block = 16 x cdiv(798720, 8192) = 1568, page 802816 B; 42949672960 / (44 x 802816) = 1215 blocks;
  // cdiv(32768, 1568) = 21 + 3 = 24; int(1215 / 24 x 32768) = 1658880 (oracle: "1,658,880 tokens ... 50.62x").
  FitResult result = fit(falcon_h1_7b(), gpu("h100-sxm"), falcon_request(32768, 2));
  CHECK(result.block_size == 1568);
  CHECK(result.page_bytes.value == 802816);
  CHECK(result.num_blocks == 1215);
  CHECK(result.blocks_per_request == 24);
  CHECK(result.kv_tokens == 1658880);
}
