// Full layers with their own K/V heads (Gemma-4): the cache per layer kind in `size`, and vLLM
// 0.33's page unification, blocks per request and log line in `fit` (docs/engines.md, "Layers with
// their own K/V heads"). Each expected number is arithmetic written out here. The fit cases were
// cross-checked by running vLLM 0.33.0's own planning code without a GPU (tools/vllm-oracle/
// oracle_gemma4.py: the Gemma-4 layers' specs, get_kv_cache_configs, update_kv_cache_capacity) at
// 40 GiB of KV memory per GPU and max_num_batched_tokens 8192.
//
// The config is tests/data/configs/gemma-4-31b-it/config.json: Gemma-4-31B's text_config as
// several independent third-party test fixtures copy it (Google's own file was not reachable from
// here); its max_position_embeddings (262144) is the one value those copies disagree on (131072).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/kv_size.h"
#include "core/prefix_sharing.h"
#include "io/json_reader.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

ModelShape gemma4() {
  ModelShape shape = config_shape("gemma-4-31b-it");
  // The oracle ran the KV accounting alone; a parameter count small enough for the weights check
  // beside 40 GiB lets fit reach it (kvplan does not estimate Gemma-4's parameters from its config).
  shape.params_total = 10'000'000'000;
  return shape;
}

FitRequest request(std::uint64_t ctx, std::uint32_t tp, KvDtype dtype = KvDtype::bf16) {
  FitRequest fit_request = request_for(gemma4(), ctx, Parallelism{tp, 1, 1});
  fit_request.kv_dtype = dtype;
  fit_request.options.kv_cache_memory = Bytes{40 * GiB};
  fit_request.options.max_num_batched_tokens = 8192;  // the oracle's; 2 batches in flight = 16384 tokens
  return fit_request;
}

}  // namespace

TEST_CASE("Gemma-4's config: sliding layers of 16 x 256, full layers of 4 x 512") {
  const ModelShape shape = gemma4();
  CHECK(shape.model_type == "gemma4_text");
  CHECK(shape.sliding_layer_count() == 50);
  CHECK(shape.layer_count(LayerAttention::full) == 10);
  CHECK(shape.num_key_value_heads == 16);
  CHECK(shape.head_dim == 256);
  REQUIRE(shape.full_layer_kv.has_value());
  // attention_k_eq_v: the full layers take num_global_key_value_heads.
  CHECK(shape.full_layer_kv->num_key_value_heads == 4);
  CHECK(shape.full_layer_kv->head_dim == 512);
  CHECK(shape.bidirectional_vision);
}

TEST_CASE("Gemma-4's configs: k_eq_v off keeps the heads, shared layers cache nothing, the last layer is full") {
  const ModelShape shape = shape_from_hf_config(io::read_json(R"({
    "model_type": "gemma4_text", "num_hidden_layers": 7, "num_attention_heads": 8, "num_key_value_heads": 2,
    "num_global_key_value_heads": 1, "head_dim": 256, "global_head_dim": 512, "sliding_window": 512,
    "num_kv_shared_layers": 2,
    "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "sliding_attention",
                    "full_attention", "sliding_attention", "sliding_attention"]})", "e2b.json"));
  // No attention_k_eq_v: the full layers keep num_key_value_heads, at global_head_dim.
  REQUIRE(shape.full_layer_kv.has_value());
  CHECK(shape.full_layer_kv->num_key_value_heads == 2);
  CHECK(shape.full_layer_kv->head_dim == 512);
  // The last layer is forced to full, then the last 2 read earlier caches: layers 5 and 6 cache nothing.
  CHECK(shape.layer_count(LayerAttention::none) == 2);
  CHECK(shape.layer_count(LayerAttention::full) == 2);
  CHECK(shape.sliding_layer_count() == 3);
  CHECK_FALSE(shape.bidirectional_vision);
  CHECK_THROWS_AS(shape_from_hf_config(io::read_json(R"({"model_type": "gemma4_text", "num_hidden_layers": 2,
    "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 256, "num_kv_shared_layers": 2})", "bad.json")),
                  Error);
}

TEST_CASE("Gemma-4 in size: each layer kind at its own bytes per token") {
  const ModelShape shape = gemma4();
  SizeRequest size_request;
  size_request.ctx = Tokens{32768};
  const SizeReport report = compute_kv_size(shape, resolve_variants({VariantRequest{}}, shape), size_request);
  const VariantSize& native = report.variants.front();
  // Sliding: 2 x 16 x 256 x 2 B = 16384 B per token per layer; full: 2 x 4 x 512 x 2 B = 8192 B.
  CHECK(native.token_layer.total() == 16384);
  REQUIRE(native.full_token_layer.has_value());
  CHECK(native.full_token_layer->total() == 8192);
  // Per token: 50 x 16384 + 10 x 8192 = 901120 B.
  CHECK(native.per_token.value == 901120);
  // Per sequence at 32k: 50 sliding x 1024 tokens x 16384 B + 10 full x 32768 x 8192 B
  // = 838860800 + 2684354560 = 3523215360 B (a third-party capacity test asserts the same figure).
  CHECK(native.per_sequence.value == 3'523'215'360);
  // MHA at each kind's head dim: 50 x 1024 x 2 x 32 x 256 x 2 + 10 x 32768 x 2 x 32 x 512 x 2
  // = 1677721600 + 21474836480.
  CHECK(report.mha_per_sequence.value == 23'152'558'080);
}

TEST_CASE("Gemma-4 in vLLM 0.33 on an H100: full pages half the sliding ones, so the full block doubles") {
  // TP 1, bf16, 128k: sliding page 16 x 16384 = 262144 B, full page 16 x 8192 = 131072 B, which
  // divides it: the full layers' block becomes 32 (unify_kv_cache_spec_page_size).
  // Groups: 50 sliding and 10 full layers -> 5 sliding groups and 1 full group of 10 layers;
  // a block of the pool is 10 x 262144 = 2621440 B; 42949672960 / 2621440 = 16384 blocks.
  // Per request: 5 x (cdiv(min(1023 + 16384, 131072), 16) + 1) + cdiv(131072, 32) = 5 x 1089 + 4096 = 9541.
  FitResult result = fit(gemma4(), gpu("h100-sxm"), request(131072, 1));
  CHECK(result.attention_backend == "TRITON_FLASH_ATTN");
  CHECK(result.block_size == 16);
  CHECK(result.full_block_size == 32);
  CHECK(result.page_bytes.value == 262144);
  CHECK(result.groups.size() == 6);
  CHECK(result.num_blocks == 16384);
  CHECK(result.blocks_per_request == 9541);
  CHECK(result.kv_tokens == 225079);  // int(16384 / 9541 x 131072) = int(225079.3); "1.72x"
  // 32k: 5 x 1089 + 32768 / 32 = 6469 blocks; int(16384 / 6469 x 32768) = 82991.
  FitResult short_ctx = fit(gemma4(), gpu("h100-sxm"), request(32768, 1));
  CHECK(short_ctx.blocks_per_request == 6469);
  CHECK(short_ctx.kv_tokens == 82991);
  // TP 2 halves both pages (8 x 256 and 2 x 512 heads per rank): 32768 blocks, int(32768 / 9541 x 131072) = 450159.
  FitResult tp2 = fit(gemma4(), gpu("h100-sxm"), request(131072, 2));
  CHECK(tp2.page_bytes.value == 131072);
  CHECK(tp2.num_blocks == 32768);
  CHECK(tp2.kv_tokens == 450159);
}

TEST_CASE("Gemma-4 at TP 8: the 4 full K/V heads are replicated, so the pages already agree") {
  // Sliding 16 x 2 heads x 256 x 2 x 2 B = 32768 B; full 16 x 1 head (4 heads over 8 ranks: one
  // each, replicated) x 512 x 2 x 2 B = 32768 B. No block grows: 5 x 1089 + 131072 / 16 = 13637
  // blocks per request; 42949672960 / (10 x 32768) = 131072 blocks; int(131072 / 13637 x 131072) = 1259798.
  FitResult result = fit(gemma4(), gpu("h100-sxm"), request(131072, 8));
  CHECK(result.full_kv_heads_per_rank == 1);
  CHECK(result.block_size == 16);
  CHECK(result.full_block_size == 16);
  CHECK(result.num_blocks == 131072);
  CHECK(result.blocks_per_request == 13637);
  CHECK(result.kv_tokens == 1259798);
}

TEST_CASE("Gemma-4 on a B200: the composite's 64-token kernel block") {
  // TRITON_FLASHINFER: block 64; full block 128. Page 64 x 16384 = 1048576 B; 10 x 1048576 per block:
  // 4096 blocks. Per request 5 x (cdiv(17407, 64) + 1) + 131072 / 128 = 5 x 273 + 1024 = 2389;
  // int(4096 / 2389 x 131072) = 224726.
  FitResult result = fit(gemma4(), gpu("b200"), request(131072, 1));
  CHECK(result.attention_backend == "TRITON_FLASHINFER");
  CHECK(result.block_size == 64);
  CHECK(result.full_block_size == 128);
  CHECK(result.num_blocks == 4096);
  CHECK(result.blocks_per_request == 2389);
  CHECK(result.kv_tokens == 224726);
  // fp8 halves the page: 8192 blocks, int(8192 / 2389 x 131072) = 449452.
  FitResult fp8 = fit(gemma4(), gpu("b200"), request(131072, 1, KvDtype::fp8_e4m3));
  CHECK(fp8.num_blocks == 8192);
  CHECK(fp8.kv_tokens == 449452);
}

TEST_CASE("Gemma-4 with an fp8 cache on an H100 needs --block-size 64, as vLLM's FA4 fp8 kernels do") {
  // Default block 16 makes the full block 32, which FA4's fixed 64-token fp8 block cannot take: the
  // worker fails (reproduced with vLLM's select_common_block_size under SM90 emulation).
  CHECK_THROWS_AS(fit(gemma4(), gpu("h100-sxm"), request(131072, 1, KvDtype::fp8_e4m3)), Error);
  // --block-size 64: blocks 64 and 128, the B200 fp8 numbers (8192 blocks, 449452 tokens).
  FitRequest block64 = request(131072, 1, KvDtype::fp8_e4m3);
  block64.options.block_size = 64;
  FitResult result = fit(gemma4(), gpu("h100-sxm"), block64);
  CHECK(result.full_block_size == 128);
  CHECK(result.num_blocks == 8192);
  CHECK(result.kv_tokens == 449452);
}

TEST_CASE("Gemma-4: what kvplan does not plan is refused, not planned as plain attention") {
  FitRequest trtllm = request(32768, 1);  // SGLang's hybrid SWA pool: tests/core/sglang_gemma4_test.cc
  trtllm.options.engine = Engine::trtllm;
  CHECK_THROWS_AS(fit(gemma4(), gpu("h100-sxm"), trtllm), Error);
  FitRequest old = request(32768, 1);
  old.options.engine_version = "0.19";
  CHECK_THROWS_AS(fit(gemma4(), gpu("h100-sxm"), old), Error);
  FitRequest mha = request(32768, 1);
  mha.variant = Variant{VariantKind::mha, 32, 256, 0, 0};
  CHECK_THROWS_AS(fit(gemma4(), gpu("h100-sxm"), mha), Error);
  // The composite backends exist on Hopper and Blackwell sm_100 only.
  CHECK_THROWS_AS(fit(gemma4(), gpu("a100-80gb"), request(32768, 1)), Error);
  ModelShape text_only = gemma4();
  text_only.bidirectional_vision = false;
  CHECK_THROWS_AS(fit(text_only, gpu("h100-sxm"), request(32768, 1)), Error);
}

TEST_CASE("Gemma-4 with a shared prefix: the full group shares whole blocks of its own, larger block") {
  // H100 TP 1 bf16 128k (16384 blocks, 9541 per request). An 8192-token prefix: the full group
  // shares 8192 / 32 = 256 blocks; the sliding groups have left it behind at the request's last
  // token (they keep only the last 1024 tokens), so they share none. Unique per request
  // 9541 - 256 = 9285; concurrency (16384 - 256) / 9285 = 1.7370.
  const ModelShape shape = gemma4();
  const FitRequest fit_request = request(131072, 1);
  const FitResult result = fit(shape, gpu("h100-sxm"), fit_request);
  const PrefixSharing sharing = share_prefix(SharedPrefix{8192, 1}, shape, fit_request, result);
  CHECK(sharing.shared_blocks == 256);
  CHECK(sharing.unique_blocks_per_request == 9285);
  CHECK(sharing.max_concurrency == doctest::Approx(16128.0 / 9285));
}
