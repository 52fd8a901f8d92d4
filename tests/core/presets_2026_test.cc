// The 2026 presets (Qwen3.5, Qwen3.6, Gemma-4, Kimi-K2.5, Kimi-K3, Nemotron-3.5) planned in vLLM 0.33 with 40 GiB
// of KV memory per GPU (--kv-cache-memory) and max_num_batched_tokens 8192. Each expected number is
// arithmetic written out here from the preset's config.json fields. The Qwen3.5, Gemma-4 and Kimi-K3
// cases were cross-checked by running vLLM 0.33.0's own planning code without a GPU on the same shapes
// (tools/vllm-oracle/oracle_qwen35.py, oracle_gemma4.py, oracle_kda.py: the layers' specs,
// get_kv_cache_configs, update_kv_cache_capacity), which printed the same blocks and tokens.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/kv_size.h"
#include "core/weights.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

FitRequest request(const ModelShape& shape, std::uint32_t tp = 1) {
  FitRequest fit_request = request_for(shape, 32768, Parallelism{tp, 1, 1});
  fit_request.options.kv_cache_memory = Bytes{40 * GiB};
  fit_request.options.max_num_batched_tokens = 8192;  // the oracles'; 2 batches in flight = 16384 tokens
  return fit_request;
}

}  // namespace

TEST_CASE("qwen3.5-27b and qwen3.6-27b on an H200: Gated DeltaNet states set an 832-token attention block") {
  // Attention: 2 (K, V) x 4 heads x 256 x 2 B = 4096 B per token per layer. GDN state per sequence:
  // conv (2 x 16 x 128 + 48 x 128) x 3 x 2 B = 61440 B; recurrent 48 x 128 x 128 x 4 B (mamba_ssm_dtype
  // float32) = 3145728 B; 3207168 B in all. Block = 64 x cdiv(3207168, 64 x 4096) = 64 x 13 = 832 tokens,
  // page 832 x 4096 = 3407872 B. 16 attention layers, 48 GDN layers in 3 groups of 16:
  // 42949672960 / (16 x 3407872) = 787 blocks. Per request: cdiv(32768, 832) = 40 attention blocks + 3 GDN
  // groups x 3 (align mode) = 49; int(787 / 49 x 32768) = int(526294.2).
  // Qwen3.6-27B's config has the same cache fields, so the same plan.
  for (const char* name : {"qwen3.5-27b", "qwen3.6-27b"}) {
    CAPTURE(name);
    const ModelShape& shape = model(name);
    CHECK(shape.layer_count(LayerAttention::state) == 48);
    FitResult result = fit(shape, gpu("h200"), request(shape));
    CHECK(result.block_size == 832);
    CHECK(result.page_bytes.value == 3407872);
    CHECK(result.num_blocks == 787);
    CHECK(result.blocks_per_request == 49);
    CHECK(result.kv_tokens == 526294);
  }
}

TEST_CASE("qwen3.5-35b-a3b and qwen3.6-35b-a3b on an H200: 10 attention layers of 2 K/V heads beside 30 GDN layers") {
  // Attention: 2 x 2 x 256 x 2 B = 2048 B per token per layer. GDN state: conv (2 x 16 x 128 + 32 x 128)
  // x 3 x 2 B = 49152 B; recurrent 32 x 128 x 128 x 4 B = 2097152 B; 2146304 B. Block = 64 x cdiv(2146304,
  // 64 x 2048) = 64 x 17 = 1088, page 1088 x 2048 = 2228224 B. Groups of 10: 42949672960 / (10 x 2228224)
  // = 1927 blocks. Per request: cdiv(32768, 1088) = 31 + 3 x 3 = 40; int(1927 / 40 x 32768) = int(1578598.4).
  for (const char* name : {"qwen3.5-35b-a3b", "qwen3.6-35b-a3b"}) {
    CAPTURE(name);
    const ModelShape& shape = model(name);
    FitResult result = fit(shape, gpu("h200"), request(shape));
    CHECK(result.block_size == 1088);
    CHECK(result.num_blocks == 1927);
    CHECK(result.blocks_per_request == 40);
    CHECK(result.kv_tokens == 1578598);
  }
}

TEST_CASE("gemma-4-26b-a4b on an H200: the full layers' 2 x 512 heads take a 32-token block") {
  // Sliding page 16 x 2 x 8 x 256 x 2 B = 131072 B; full page 16 x 2 x 2 x 512 x 2 B = 65536 B, half of
  // it, so the full block doubles to 32. 25 sliding and 5 full layers: 5 sliding groups and 1 full group
  // of 5; 42949672960 / (5 x 131072) = 65536 blocks. Per request: 5 x (cdiv(min(1023 + 16384, 32768), 16)
  // + 1) + 32768 / 32 = 5 x 1089 + 1024 = 6469; int(65536 / 6469 x 32768) = int(331965.3).
  const ModelShape& shape = model("gemma-4-26b-a4b");
  REQUIRE(shape.full_layer_kv.has_value());
  CHECK(shape.full_layer_kv->num_key_value_heads == 2);
  FitResult result = fit(shape, gpu("h200"), request(shape));
  CHECK(result.attention_backend == "TRITON_FLASH_ATTN");
  CHECK(result.block_size == 16);
  CHECK(result.full_block_size == 32);
  CHECK(result.groups.size() == 6);
  CHECK(result.num_blocks == 65536);
  CHECK(result.blocks_per_request == 6469);
  CHECK(result.kv_tokens == 331965);
}

TEST_CASE("gemma-4-31b on an H200: the preset plans as Gemma-4-31B's config does") {
  // Sliding page 16 x 2 x 16 x 256 x 2 B = 262144 B, full 16 x 2 x 4 x 512 x 2 B = 131072 B: full block 32.
  // 50 sliding + 10 full layers: groups of 10; 42949672960 / (10 x 262144) = 16384 blocks; per request
  // 5 x 1089 + 1024 = 6469 as above; int(16384 / 6469 x 32768) = int(82991.3). Its 31273086512 bf16
  // parameters (62.5 GB) and 40 GiB of cache fit an H200, not an H100.
  const ModelShape& shape = model("gemma-4-31b");
  FitResult result = fit(shape, gpu("h200"), request(shape));
  CHECK(result.full_block_size == 32);
  CHECK(result.num_blocks == 16384);
  CHECK(result.blocks_per_request == 6469);
  CHECK(result.kv_tokens == 82991);
}

TEST_CASE("kimi-k3: 69 KDA states and 24 MLA layers - the state sets the block, a multiple of 128") {
  // MLA: (512 + 64) x 2 B = 1152 B per token per layer on every rank. KDA state per rank with h = 96 / TP
  // heads of 128: conv 3 (q, k, v) x 3 (kernel 4 - 1) x h x 128 x 2 B + recurrent h x 128 x 128 x 4 B
  // (float32). With MLA attention vLLM aligns the block to 128 tokens (and FlashKDA's 16-token checkpoint
  // divides it): block = 128 x cdiv(state, 128 x 1152). Groups of 24 (the MLA layers; the 69 KDA layers
  // make 3 groups with 3 padding slots). Per request: cdiv(32768, block) MLA blocks + 3 KDA groups x 3.
  ModelShape shape = model("kimi-k3");
  CHECK(shape.layer_count(LayerAttention::state) == 69);
  CHECK(shape.attention_layer_count() == 24);
  // The oracle ran the KV accounting alone; Kimi-K3's weights (MXFP4 routed experts, which kvplan does
  // not size from the config) fill more than 8 H200s, so a count small enough for the weights check on one
  // GPU beside 40 GiB lets fit reach the cache.
  shape.params_total = 10'000'000'000;
  // TP 8, h = 12: state 27648 + 786432 = 814080 B; block 128 x cdiv(814080, 147456) = 128 x 6 = 768, page
  // 768 x 1152 = 884736 B; 42949672960 / (24 x 884736) = 2022 blocks; per request cdiv(32768, 768) = 43 + 9
  // = 52; int(2022 / 52 x 32768) = int(1274171.1).
  FitResult tp8 = fit(shape, gpu("h200"), request(shape, 8));
  CHECK(tp8.block_size == 768);
  CHECK(tp8.page_bytes.value == 884736);
  CHECK(tp8.num_blocks == 2022);
  CHECK(tp8.blocks_per_request == 52);
  CHECK(tp8.kv_tokens == 1274171);
  // TP 1, h = 96: state 221184 + 6291456 = 6512640 B; block 128 x cdiv(6512640, 147456) = 128 x 45 = 5760,
  // page 5760 x 1152 = 6635520 B; 42949672960 / (24 x 6635520) = 269 blocks; per request cdiv(32768, 5760)
  // = 6 + 9 = 15; int(269 / 15 x 32768) = int(587639.4).
  FitResult tp1 = fit(shape, gpu("h200"), request(shape, 1));
  CHECK(tp1.block_size == 5760);
  CHECK(tp1.num_blocks == 269);
  CHECK(tp1.blocks_per_request == 15);
  CHECK(tp1.kv_tokens == 587639);
}

TEST_CASE("kimi-k2.5 caches what kimi-k2 does: the same MLA latent in 61 layers") {
  // The language model is Kimi-K2's (text_config model_type kimi_k2): 576 values x 2 B = 1152 B per token
  // per layer; 61 x 1152 = 70272 B per token; 70272 x 131072 = 9210691584 B per sequence at 128k.
  const ModelShape& shape = model("kimi-k2.5");
  SizeRequest size_request;
  size_request.ctx = Tokens{131072};
  const SizeReport report = compute_kv_size(shape, resolve_variants({VariantRequest{}}, shape), size_request);
  CHECK(report.variants.front().per_token.value == 70272);
  CHECK(report.variants.front().per_sequence.value == 9'210'691'584);
  // MLA on Hopper at TP 8, 16-token blocks of 1152 B per layer: 42949672960 / (61 x 16 x 1152) = 38199
  // blocks; 32768 / 16 = 2048 per request; int(38199 / 2048 x 32768) = 611184 tokens. The INT4 routed
  // experts (the checkpoint's own weights, --weights-dtype auto) leave room for this cache on 8 H200s.
  FitRequest fit_request = request(shape, 8);
  set_request_weights(fit_request, resolve_weights_dtype("auto", shape));
  FitResult result = fit(shape, gpu("h200"), fit_request);
  CHECK(result.num_blocks == 38199);
  CHECK(result.kv_tokens == 611184);
}

TEST_CASE("nemotron-3.5-lightning-30b-a3b on an H200 at 128k: Nano's hybrid, its Mamba-2 state sets a 2096-token block") {
  // Cross-checked by running vLLM 0.33.0's planning code on the real config.json
  // (tools/vllm-oracle/oracle_nemotron3_super.py, tests/data/configs/nemotron-3.5-lightning-30b-a3b-nvfp4):
  // "GPU KV cache size: 5,828,334 tokens, Maximum concurrency for 131,072 tokens per request: 44.47x".
  const ModelShape& shape = model("nemotron-3.5-lightning-30b-a3b");
  CHECK(shape.layer_count(LayerAttention::full) == 6);
  CHECK(shape.layer_count(LayerAttention::state) == 23);
  CHECK(shape.num_nextn_predict_layers == 1);
  CHECK(*shape.params_total == 31'577'937'344);  // transformers' meta-device count
  FitRequest fit_request = request_for(shape, 131072, Parallelism{1, 1, 1});
  fit_request.options.kv_cache_memory = Bytes{40 * GiB};
  fit_request.options.max_num_batched_tokens = 8192;
  FitResult result = fit(shape, gpu("h200"), fit_request);
  // State per sequence: conv (64 x 64 + 2 x 8 x 128) x (4 - 1) x 2 B = 36864 B + SSM 64 x 64 x 128 x 4 B =
  // 2097152 B: 2134016 B. Block = 16 x cdiv(2134016, 16 x 1024) = 16 x 131 = 2096 tokens; page 2096 x 1024 B.
  CHECK(result.block_size == 2096);
  CHECK(result.page_bytes.value == 2'146'304);
  // 29 cached layers in groups of 6: 4 state groups (6, 6, 6, 5) and 1 attention group. 42949672960 /
  // (6 x 2146304) = 3335 blocks; per request cdiv(131072, 2096) = 63 + 4 x 3 (align mode) = 75.
  CHECK(result.groups.size() == 5);
  CHECK(result.num_blocks == 3335);
  CHECK(result.blocks_per_request == 75);
  CHECK(result.kv_tokens == 5'828'334);  // int(3335 / 75 x 131072)
}
