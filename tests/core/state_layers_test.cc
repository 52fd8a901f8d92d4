// State layers (Mamba-2, Gated DeltaNet): their bytes per sequence, and how vLLM 0.33 fits them
// into the block pool it shares with attention (docs/engines.md, "State layers"). Each expected
// number is arithmetic written out here. The fit cases were cross-checked by running vLLM 0.33.0's
// own code without a GPU: the model classes' get_mamba_state_shape_from_config and
// get_mamba_state_dtype_from_config, Platform._align_hybrid_block_size with the real attention
// backend classes, get_kv_cache_configs and update_kv_cache_capacity, on hand-built layer specs.
#include <doctest/doctest.h>

#include <tuple>

#include "core/capacity.h"
#include "core/error.h"
#include "core/kv_size.h"
#include "core/state_bytes.h"
#include "core/vllm_state.h"
#include "core/hf_config.h"
#include "io/yaml_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// 40 GiB of KV memory per GPU, as vLLM's kv_cache_memory_bytes.
FitRequest hybrid_request(const char* name, std::uint64_t ctx, std::uint32_t tp, KvDtype dtype = KvDtype::bf16) {
  FitRequest request = request_for(model(name), ctx, Parallelism{tp, 1, 1});
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  return request;
}

}  // namespace

TEST_CASE("Gated DeltaNet state of Qwen3-Next: a conv window and a value x key state per value head") {
  const StateDims& state = *model("qwen3-next-80b-a3b").state;
  // conv: (2 x 16 key heads x 128 + 32 value heads x 128) = 8192 channels x (4 - 1) inputs x 2 B = 49152 B
  // recurrent: 32 x 128 x 128 x 2 B = 1048576 B
  StateBytes tp1 = state_bytes_per_rank(state, "bfloat16", 1);
  CHECK(tp1.conv_channels == 8192);
  CHECK(tp1.conv_bytes() == 49152);
  CHECK(tp1.recurrent_bytes() == 1048576);
  CHECK(tp1.total() == 1097728);
  // TP 4 splits channels and heads: 3 x 2048 x 2 + 8 x 128 x 128 x 2 = 12288 + 262144.
  CHECK(state_bytes_per_rank(state, "bfloat16", 4).total() == 274432);
  // 16 key heads do not divide over TP 32 (nor 32 value heads over 64).
  CHECK_THROWS_AS(state_bytes_per_rank(state, "bfloat16", 64), Error);
}

TEST_CASE("Mamba-2 state of Nemotron-H: the SSM state in float32, from the config") {
  const StateDims& state = *model("nemotron-3-nano-30b-a3b").state;
  // conv: (64 heads x 64 + 2 x 8 groups x 128) = 6144 x 3 x 2 B = 36864 B
  // SSM: 64 x 64 x 128 x 4 B (float32) = 2097152 B
  StateBytes tp1 = state_bytes_per_rank(state, "bfloat16", 1);
  CHECK(tp1.recurrent_dtype == "float32");
  CHECK(tp1.total() == 36864 + 2097152);
  // --mamba-ssm-cache-dtype bfloat16 halves the SSM state: 36864 + 1048576.
  CHECK(state_bytes_per_rank(state, "bfloat16", 1, "bfloat16").total() == 1085440);
  // One B/C group is copied to every rank (extra_groups_for_head_shards): TP 4 with n_groups 1 has
  // (64 x 64 + 2 x 4 x 128) / 4 = 1280 channels per rank.
  StateDims one_group = state;
  one_group.n_groups = 1;
  CHECK(state_bytes_per_rank(one_group, "bfloat16", 4).conv_channels == 1280);
  // 8 groups over TP 16 is what MambaMixer2 refuses.
  CHECK_THROWS_AS(state_bytes_per_rank(state, "bfloat16", 16), Error);
  CHECK_THROWS_AS(parse_mamba_ssm_cache_dtype("fp8"), Error);
  CHECK(parse_mamba_ssm_cache_dtype("auto").empty());
}

TEST_CASE("size: state layers hold the same bytes at any context - the variants change attention layers only") {
  const ModelShape& shape = model("qwen3-next-80b-a3b");
  SizeRequest request;
  request.ctx = Tokens{262144};
  SizeReport report = compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request);
  const VariantSize& size = report.variants.front();
  // 12 attention layers x 2 KV heads x 256 x 2 x 2 B x 262144 tokens + 36 x 1097728 B of state.
  CHECK(size.cached_layers == 12);
  CHECK(size.per_token.value == 12 * 2048);
  CHECK(size.per_sequence.value == 12ull * 2048 * 262144 + 36ull * 1097728);
  request.ctx = Tokens{1024};
  SizeReport short_report = compute_kv_size(shape, {ResolvedVariant{native_variant(shape), true, ""}}, request);
  CHECK(short_report.variants.front().per_sequence.value == 12ull * 2048 * 1024 + 36ull * 1097728);
}

TEST_CASE("vLLM 0.33 aligns the attention block to the state page (_align_hybrid_block_size)") {
  const StateDims& gdn = *model("qwen3-next-80b-a3b").state;
  detail::VllmStateQuery query{&gdn, 1097728, 2048, 16, 16, GpuArchitecture::hopper, true};
  // Hopper: FlashInfer's GDN prefill checkpoints every 64 tokens, so A = lcm(16, 64) = 64;
  // block = 64 x cdiv(1097728, 64 x 2048) = 64 x 9 = 576; page 576 x 2048 = 1179648 B;
  // align mode: 2 blocks + 1 checkpoint block per state group.
  detail::VllmStatePlan plan = detail::plan_vllm_state(query);
  CHECK(plan.block_size == 576);
  CHECK(plan.page_bytes == 1179648);
  CHECK(plan.blocks_per_request == 3);
  // Ampere runs the Triton GDN prefill: A = 16, block = 16 x cdiv(1097728, 32768) = 16 x 34 = 544,
  // and no checkpoint block: 2 per group.
  query.architecture = GpuArchitecture::ampere;
  plan = detail::plan_vllm_state(query);
  CHECK(plan.gdn_prefill == "Triton");
  CHECK(plan.block_size == 544);
  CHECK(plan.blocks_per_request == 2);
  // Prefix caching off: mamba_cache_mode none, one state block per request.
  query.architecture = GpuArchitecture::hopper;
  query.prefix_caching = false;
  plan = detail::plan_vllm_state(query);
  CHECK(plan.block_size == 544);
  CHECK(plan.blocks_per_request == 1);
}

TEST_CASE("vLLM 0.33, Qwen3-Next-80B on 4 H100s: 3 GDN groups and 1 attention group of 12 layers") {
  // Per rank: 2 KV heads over TP 4 leave 1 head: 2 x 256 x 2 B = 1024 B per token; state 274432 B.
  // block = 64 x cdiv(274432, 64 x 1024) = 64 x 5 = 320; page 320 x 1024 = 327680 B.
  // 40 GiB / (12 x 327680) = 42949672960 / 3932160 = 10922 blocks.
  // Per request: cdiv(262144, 320) = 820 attention blocks + 3 GDN groups x 3 = 829.
  FitResult result = fit(model("qwen3-next-80b-a3b"), gpu("h100-sxm"), hybrid_request("qwen3-next-80b-a3b", 262144, 4));
  CHECK(result.block_size == 320);
  CHECK(result.page_bytes.value == 327680);
  CHECK(result.groups.size() == 4);
  CHECK(result.num_blocks == 10922);
  CHECK(result.blocks_per_request == 829);
  CHECK(result.kv_tokens == 3453723);  // int(10922 / 829 x 262144) = int(3453723.6); "13.17x"
  // fp8 at 32k: 512 B per token, block = 64 x cdiv(274432, 32768) = 576, page 294912 B;
  // 42949672960 / (12 x 294912) = 12136 blocks; cdiv(32768, 576) = 57 + 9 = 66 per request.
  FitResult fp8 = fit(model("qwen3-next-80b-a3b"), gpu("h100-sxm"),
                      hybrid_request("qwen3-next-80b-a3b", 32768, 4, KvDtype::fp8_e4m3));
  CHECK(fp8.block_size == 576);
  CHECK(fp8.num_blocks == 12136);
  CHECK(fp8.kv_tokens == 6025340);  // int(12136 / 66 x 32768) = int(6025340.1); "183.88x"
}

TEST_CASE("vLLM 0.33, Nemotron-3-Nano on 2 H100s: Mamba layers in groups of 6, one padding layer, MoE layers uncached") {
  // 6 attention layers, 23 Mamba-2 layers; the 23 MoE layers cache nothing. Groups of 6: the
  // Mamba layers make 4 groups (6, 6, 6, 5), each block sized for 6 layers.
  // Per rank: 1 KV head x 128 x 2 x 2 B = 512 B per token; state (3 x 3072 x 2 B + 32 x 64 x 128 x 4 B)
  // = 18432 + 1048576 = 1067008 B. No GDN checkpoint alignment: A = 16,
  // block = 16 x cdiv(1067008, 16 x 512) = 16 x 131 = 2096, page 2096 x 512 = 1073152 B.
  // 40 GiB / (6 x 1073152) = 6670 blocks. Per request: cdiv(262144, 2096) = 126 + 4 groups x 3 = 138.
  FitResult result =
      fit(model("nemotron-3-nano-30b-a3b"), gpu("h100-sxm"), hybrid_request("nemotron-3-nano-30b-a3b", 262144, 2));
  CHECK(result.block_size == 2096);
  CHECK(result.groups.size() == 5);
  CHECK(result.group_size == 6);
  CHECK(result.num_blocks == 6670);
  CHECK(result.blocks_per_request == 138);
  CHECK(result.kv_tokens == 12670293);  // int(6670 / 138 x 262144) = int(12670293.6); "48.33x"
  // --no-enable-prefix-caching: one block per state group, 126 + 4 = 130 per request.
  FitRequest no_prefix = hybrid_request("nemotron-3-nano-30b-a3b", 262144, 2);
  no_prefix.options.prefix_caching = false;
  FitResult none = fit(model("nemotron-3-nano-30b-a3b"), gpu("h100-sxm"), no_prefix);
  CHECK(none.blocks_per_request == 130);
  CHECK(none.max_concurrency == doctest::Approx(6670.0 / 130));
}

TEST_CASE("A Qwen3.5 config (qwen3_5 with a qwen3_5_text text_config) plans without code of its own") {
  // The shape of Qwen3.5-27B's text_config as third-party copies give it (not a preset: no copy
  // with a citable origin was found); layer_types is left out, so full_attention_interval decides.
  const ModelShape shape = shape_from_hf_config(io::read_yaml(R"(
model_type: qwen3_5
architectures: [Qwen3_5ForConditionalGeneration]
text_config:
  model_type: qwen3_5_text
  num_hidden_layers: 64
  full_attention_interval: 4
  hidden_size: 5120
  intermediate_size: 17408
  num_attention_heads: 24
  num_key_value_heads: 4
  head_dim: 256
  linear_conv_kernel_dim: 4
  linear_key_head_dim: 128
  linear_num_key_heads: 16
  linear_num_value_heads: 48
  linear_value_head_dim: 128
  mamba_ssm_dtype: float32
  vocab_size: 248320
  max_position_embeddings: 262144
)", "qwen3_5.yaml"));
  CHECK(shape.layer_count(LayerAttention::state) == 48);
  // conv (2 x 16 x 128 + 48 x 128) x 3 x 2 B = 61440 B; recurrent 48 x 128 x 128 x 4 B (mamba_ssm_dtype) = 3145728 B.
  CHECK(state_bytes_per_rank(*shape.state, "bfloat16", 1).total() == 61440 + 3145728);
  // vLLM 0.33 on an H100, 40 GiB: P = 2 x 4 x 256 x 2 B = 4096 B per token; block = 64 x cdiv(3207168, 64 x 4096)
  // = 64 x 13 = 832; page 832 x 4096 = 3407872 B; groups of 16 layers: 40 GiB / (16 x 3407872) = 787 blocks.
  // Per request: cdiv(262144, 832) = 316 + 3 GDN groups x 3 = 325.
  FitRequest request = request_for(shape, 262144);
  request.options.kv_cache_memory = Bytes{40 * GiB};
  // The oracle ran the KV accounting alone; a parameter count small enough for the weights check
  // beside 40 GiB lets fit reach it (the 27B's 50 GiB of bf16 weights would not fit).
  ModelShape with_params = shape;
  with_params.params_total = 10'000'000'000;
  FitResult result = fit(with_params, gpu("h100-sxm"), request);
  CHECK(result.block_size == 832);
  CHECK(result.num_blocks == 787);
  CHECK(result.blocks_per_request == 325);
  CHECK(result.kv_tokens == 634791);  // int(787 / 325 x 262144) = int(634791.6); "2.42x"
}

TEST_CASE("State layers: TensorRT-LLM and older vLLM releases refuse instead of planning them as attention") {
  // SGLang plans them with its own state pool (tests/core/sglang_state_test.cc).
  FitRequest request = hybrid_request("nemotron-3-nano-30b-a3b", 32768, 2);
  request.options.engine = Engine::trtllm;
  CHECK_THROWS_AS(fit(model("nemotron-3-nano-30b-a3b"), gpu("h100-sxm"), request), Error);
  request.options.engine = Engine::vllm;
  request.options.engine_version = "0.19";
  CHECK_THROWS_AS(fit(model("nemotron-3-nano-30b-a3b"), gpu("h100-sxm"), request), Error);
}

TEST_CASE("Qwen3-Next with MTP: the MTP layer joins the attention group, each drafted token holds a state block") {
  // Cross-checked with vLLM 0.33's planning code: tools/vllm-oracle/oracle_mamba_spec.py, cases S1, S2.
  // TP 2: attention 1 x 256 x 2 (K, V) x 2 B = 1024 B per token per layer; the GDN state per rank is
  // 548,864 B, so block = 64 x cdiv(548,864, 64 x 1024) = 576 tokens and the page 576 x 1024 = 589,824 B.
  // --speculative mtp: Qwen3NextMTP's one full-attention layer joins the 12 hidden ones: 13 per group,
  // the 36 GDN layers in 3 groups of 12 padded to 13. 40 GiB / (589,824 x 13) = 5601.3 -> 5601 blocks.
  for (const auto& [k, state_blocks, tokens] : {std::tuple{1u, 4u, 2659906ull}, std::tuple{2u, 5u, 2549077ull}}) {
    CAPTURE(k);
    FitRequest request = hybrid_request("qwen3-next-80b-a3b", 32768, 2);
    request.speculative.method = SpeculativeMethod::mtp;
    request.speculative.num_speculative_tokens = k;
    request.include_mtp = true;
    FitResult result = fit(model("qwen3-next-80b-a3b"), gpu("h200"), request);
    CHECK(result.block_size == 576);
    CHECK(result.group_size == 13);
    CHECK(result.num_blocks == 5601);
    // align mode: running + last block's + FlashInfer's checkpoint = 3 state blocks, + k for the
    // drafted tokens (num_speculative_blocks); attention ceil(32768 / 576) = 57.
    CHECK(result.blocks_per_request == 57 + 3 * state_blocks);
    CHECK(result.state_speculative_blocks == k);
    // k = 1: 5601 / 69 = 81.1739 -> int(81.1739... x 32768) = 2,659,906; k = 2: 5601 / 72 -> 2,549,077.
    CHECK(result.kv_tokens == tokens);
  }
}
