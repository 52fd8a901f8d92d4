// DeepSeek-V4's compressed sparse attention: each cache's bytes, and vLLM 0.33's pages, packed
// groups and blocks per request (docs/engines.md, "Compressed sparse attention"). Each expected
// number is arithmetic written out here; the vLLM plans were cross-checked by running vLLM 0.33.0's
// own spec and planning functions without a GPU (tools/vllm-oracle/oracle_dsv4.py, at 40 GiB of KV
// memory per GPU and 16384 tokens in flight).
//
// The config is tests/data/configs/deepseek-v4-flash/config.json: DeepSeek-V4-Flash's config.json
// as third-party test fixtures copy it (one checks it against a SHA-256 of the official file);
// Deepseek's own file was not reachable from here.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/capacity.h"
#include "core/compressed_mla.h"
#include "core/error.h"
#include "core/sweep.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

constexpr std::uint64_t kKvMemory = 40ull << 30;

ModelShape flash() { return config_shape("deepseek-v4-flash"); }

const CompressedCache& cache(const std::vector<CompressedCache>& caches, const std::string& name) {
  for (const CompressedCache& one : caches) {
    if (one.name == name) return one;
  }
  FAIL("no cache named " << name);
  return caches.front();
}

}  // namespace

TEST_CASE("DeepSeek-V4-Flash's config: 43 layers, 2 window-only, 21 CSA, 20 HCA") {
  const ModelShape shape = flash();
  REQUIRE(shape.compressed_mla.has_value());
  const CompressedMlaDims& dims = *shape.compressed_mla;
  // compress_ratios has 46 entries; the 3 past num_hidden_layers are MTP / draft layers.
  REQUIRE(dims.compress_ratio.size() == 43);
  CHECK(std::count(dims.compress_ratio.begin(), dims.compress_ratio.end(), 1u) == 2);
  CHECK(std::count(dims.compress_ratio.begin(), dims.compress_ratio.end(), 4u) == 21);
  CHECK(std::count(dims.compress_ratio.begin(), dims.compress_ratio.end(), 128u) == 20);
  CHECK(dims.head_dim == 512);
  CHECK(dims.rope_head_dim == 64);
  CHECK(dims.sliding_window == 128);
}

TEST_CASE("DeepSeek-V4's caches and their bytes per sequence") {
  const std::vector<CompressedCache> caches = compressed_caches(*flash().compressed_mla, KvDtype::fp8_ds_mla);
  // fp8_ds_mla latent: 448 fp8 NoPE + 64 x 2 B RoPE + 8 B scales = 584 B.
  CHECK(compressed_latent_bytes(*flash().compressed_mla, KvDtype::fp8_ds_mla) == 584);
  CHECK(compressed_latent_bytes(*flash().compressed_mla, KvDtype::bf16) == 1024);
  CHECK_THROWS_AS(compressed_latent_bytes(*flash().compressed_mla, KvDtype::int8), Error);
  const CompressedCache& window = cache(caches, "sliding-window latents");
  CHECK(window.layers == 43);
  CHECK(window.states_held(131072) == 128);  // the last 128 tokens
  const CompressedCache& c4 = cache(caches, "C4 compressed latents");
  CHECK(c4.layers == 21);
  CHECK(c4.states_held(131072) == 32768);  // 131072 / 4
  const CompressedCache& c128 = cache(caches, "C128 compressed latents");
  CHECK(c128.states_held(131072) == 1024);  // 131072 / 128
  CHECK(c128.states_held(1000) == 7);       // floor(1000 / 128): the rest waits in the compressor
  // The indexer key: 128 fp8 values + one fp32 scale = 132 B per CSA group of 4 tokens.
  const CompressedCache& keys = cache(caches, "C4 indexer keys");
  CHECK(keys.state_bytes == 132);
  CHECK(keys.states_held(131072) == 32768);
  // Compressor states: coff x ratio tokens of 2 x coff x width fp32 values.
  // CSA (coff 2): 8 tokens of 2 x 2 x 512 x 4 B = 8192 B; its indexer's 8 of 2 x 2 x 128 x 4 B = 2048 B.
  // HCA (coff 1): 128 tokens of 2 x 512 x 4 B = 4096 B.
  CHECK(cache(caches, "C4 compressor state").state_bytes == 8192);
  CHECK(cache(caches, "C4 compressor state").states_held(131072) == 8);
  CHECK(cache(caches, "C4 indexer compressor state").state_bytes == 2048);
  CHECK(cache(caches, "C128 compressor state").state_bytes == 4096);
  CHECK(cache(caches, "C128 compressor state").states_held(131072) == 128);
}

TEST_CASE("vLLM 0.33 packs DeepSeek-V4-Flash's caches into 5 groups of one block pool (fp8_ds_mla)") {
  // Pages, padded to multiples of 576 B: window latents 64 x 584 = 37376 -> 37440; C4 latents
  // 64 states x 584 -> 37440; C128 latents 2 x 584 = 1168 -> 1728; indexer keys 64 x 132 = 8448 -> 8640;
  // C4 compressor 4 x 8192 = 32768 -> 32832; its indexer's 4 x 2048 = 8192 -> 8640; C128 compressor
  // 8 x 4096 = 32768 -> 32832.
  // Buckets: window (43), compressed latents + keys (20 / 21 / 21: unbalanced, one group), C4
  // compressors (21 / 21: balanced, two page sizes, so at least 21 repeats), C128 compressors (20).
  // Repeats: the d in [21, 43] padding 43, 21 and 20 least: 22 (1 + 1 + 2). The window bucket
  // splits into cdiv(43, 22) = 2 groups (22 + 21 layers).
  const CompressedVllmPlan plan = plan_compressed_vllm(*flash().compressed_mla, KvDtype::fp8_ds_mla, 131072, 16384);
  CHECK(plan.repeats_per_group == 22);
  REQUIRE(plan.groups.size() == 5);
  // Widest group: 20 x 1728 + 21 x 37440 + 21 x 8640 = 1002240 B per block.
  CHECK(plan.bytes_per_block == 1'002'240);
  // Per request: window groups cdiv(min(127 + 16384, 131072), 64) + 1 = 259 each; compressed latents
  // cdiv(131072, 256) = 512; C4 compressors cdiv(7 + 16384, 4) + 1 = 4099; C128 cdiv(127 + 16384, 8) + 1 = 2065.
  CHECK(plan.blocks_per_request == 2 * 259 + 512 + 4099 + 2065);
  // 42949672960 / 1002240 = 42853 blocks; int(42853 / 7194 x 131072) = 780765 tokens (vLLM's log).
  const std::uint64_t blocks = kKvMemory / plan.bytes_per_block;
  CHECK(blocks == 42853);
  CHECK(static_cast<std::uint64_t>(static_cast<double>(blocks) / 7194 * 131072) == 780765);
  // At 32k only the compressed latents' blocks change: cdiv(32768, 256) = 128; 6810 per request.
  CHECK(plan_compressed_vllm(*flash().compressed_mla, KvDtype::fp8_ds_mla, 32768, 16384).blocks_per_request == 6810);
}

TEST_CASE("vLLM 0.33 with FlashInfer's DSV4 backend: bf16 and fp8 latents, pages padded to 512 B") {
  // bf16: window 64 x 1024 = 65536; C4 latents 64 x 1024 = 65536; C128 2 x 1024 = 2048; keys 8448 -> 8704.
  // Widest group: 20 x 2048 + 21 x 65536 + 21 x 8704 = 1600000 B; 42949672960 / 1600000 = 26843 blocks.
  const CompressedVllmPlan bf16 = plan_compressed_vllm(*flash().compressed_mla, KvDtype::bf16, 131072, 16384);
  CHECK(bf16.bytes_per_block == 1'600'000);
  CHECK(kKvMemory / bf16.bytes_per_block == 26843);
  CHECK(bf16.blocks_per_request == 7194);
  // fp8: 20 x 1024 + 21 x 32768 + 21 x 8704 = 891392 B; 48182 blocks.
  const CompressedVllmPlan fp8 = plan_compressed_vllm(*flash().compressed_mla, KvDtype::fp8_e4m3, 131072, 16384);
  CHECK(fp8.bytes_per_block == 891'392);
  CHECK(kKvMemory / fp8.bytes_per_block == 48182);
}

TEST_CASE("DeepSeek-V4-Pro's layout: 61 layers, 31 repeats per group") {
  // compress_ratios [128, 128, 4, 128, 4, 128, ..., 4, 128, 4]: 31 HCA, 30 CSA.
  CompressedMlaDims pro = *flash().compressed_mla;
  pro.compress_ratio = {128, 128};
  for (int i = 0; i < 29; ++i) {
    pro.compress_ratio.push_back(4);
    pro.compress_ratio.push_back(128);
  }
  pro.compress_ratio.push_back(4);
  REQUIRE(pro.compress_ratio.size() == 61);
  // Balanced buckets: window 61, C4 compressors 30 / 30 (floor 30), C128 compressors 31:
  // d = 31 pads 1 + 1 + 0 = 2, the least. Widest group: 31 x 1728 + 30 x 37440 + 30 x 8640 = 1435968 B.
  const CompressedVllmPlan plan = plan_compressed_vllm(pro, KvDtype::fp8_ds_mla, 131072, 16384);
  CHECK(plan.repeats_per_group == 31);
  CHECK(plan.bytes_per_block == 1'435'968);
  CHECK(kKvMemory / plan.bytes_per_block == 29909);  // vLLM's log: 544,930 tokens, 4.16x
  CHECK(plan.blocks_per_request == 7194);
}

namespace {

// fit's request as the oracle ran it: 40 GiB of KV memory per GPU, 8192 batched tokens (16384 in
// flight), and a parameter count that leaves room for it (the fixture config.json lacks the MoE and
// hyper-connection fields kvplan counts DeepSeek-V4's parameters from; the presets have them).
FitRequest v4_request(std::uint64_t ctx, std::uint32_t tp, KvDtype dtype = KvDtype::bf16) {
  ModelShape shape = flash();
  FitRequest request = request_for(shape, ctx, Parallelism{tp, 1, 1});
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{kKvMemory};
  request.options.max_num_batched_tokens = 8192;
  return request;
}

ModelShape flash_with_params() {
  ModelShape shape = flash();
  shape.params_total = 10'000'000'000;
  shape.quantization = {};
  shape.weight_quantization.clear();
  return shape;
}

}  // namespace

TEST_CASE("fit plans DeepSeek-V4-Flash as vLLM 0.33 does: its packed pool, whole on every rank") {
  // H200, TP 8, default (bf16 = vLLM's auto): FlashMLA's DSV4 backend stores fp8_ds_mla. The plan of
  // the test above: 42853 blocks of 1002240 B, 7194 per request, 780765 tokens, "5.96x".
  FitResult result = fit(flash_with_params(), gpu("h200"), v4_request(131072, 8));
  CHECK(result.attention_backend == "FLASHMLA_SPARSE_DSV4");
  CHECK(result.kv_cache_dtype == KvDtype::fp8_ds_mla);
  CHECK(result.groups.size() == 5);
  CHECK(result.num_blocks == 42853);
  CHECK(result.blocks_per_request == 7194);
  CHECK(result.kv_tokens == 780765);
  // TP does not split the cache: TP 4 gives the same pool per GPU.
  CHECK(fit(flash_with_params(), gpu("h200"), v4_request(131072, 4)).num_blocks == 42853);
  // B200 with FlashInfer's DSV4 backend, fp8 rows, 32k: 48182 blocks of 891392 B, 6810 per request,
  // int(48182 / 6810 x 32768) = 231839 tokens.
  FitRequest flashinfer = v4_request(32768, 8, KvDtype::fp8_e4m3);
  flashinfer.options.attention_backend = "FLASHINFER_MLA_SPARSE_DSV4";
  FitResult b200 = fit(flash_with_params(), gpu("b200"), flashinfer);
  CHECK(b200.kv_cache_dtype == KvDtype::fp8_e4m3);
  CHECK(b200.num_blocks == 48182);
  CHECK(b200.kv_tokens == 231839);
}

TEST_CASE("DeepSeek-V4 in fit: what kvplan does not model is refused") {
  FitRequest sglang = v4_request(32768, 8);
  sglang.options.engine = Engine::sglang;
  CHECK_THROWS_AS(fit(flash_with_params(), gpu("h200"), sglang), Error);
  FitRequest pp = v4_request(32768, 4);
  pp.parallel.pp = 2;
  CHECK_THROWS_AS(fit(flash_with_params(), gpu("h200"), pp), Error);
  CHECK_THROWS_AS(fit(flash_with_params(), gpu("a100-80gb"), v4_request(32768, 8)), Error);
  FitRequest flashinfer_on_hopper = v4_request(32768, 8);
  flashinfer_on_hopper.options.attention_backend = "FLASHINFER_MLA_SPARSE_DSV4";
  CHECK_THROWS_AS(fit(flash_with_params(), gpu("h200"), flashinfer_on_hopper), Error);
  FitRequest mtp = v4_request(32768, 8);
  mtp.include_mtp = true;
  CHECK_THROWS_AS(fit(flash_with_params(), gpu("h200"), mtp), Error);
  FitRequest old = v4_request(32768, 8);
  old.options.engine_version = "0.19";
  CHECK_THROWS_AS(fit(flash_with_params(), gpu("h200"), old), Error);
}

TEST_CASE("sweep plans DeepSeek-V4 as fit does, one row per fleet, without variants") {
  const ModelShape shape = flash_with_params();
  SweepRequest request;
  request.models = {{"deepseek-v4-flash", &shape}};
  request.variants = parse_variants("all");
  // bf16 is vLLM's auto, which FlashMLA stores as fp8_ds_mla: the row sizes what it stores.
  request.kv_dtypes = {KvDtype::fp8_ds_mla, KvDtype::bf16};
  request.contexts = {Tokens{131072}};
  request.fleets = {{"h200:8:tp8", "h200", &gpu("h200"), Parallelism{8, 1, 1}}};
  request.engine.kv_cache_memory = Bytes{kKvMemory};
  request.engine.max_num_batched_tokens = 8192;
  request.weights_dtype = "bf16";
  const std::vector<SweepRow> rows = run_sweep(request);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].bytes_per_sequence == 520'080'384);
  CHECK(rows[0].variant == "compressed");
  CHECK(rows[0].status == "ok");
  // The size test's 520080384 B per sequence; fit's 780765 tokens.
  CHECK(rows[0].bytes_per_sequence == 520'080'384);
  REQUIRE(rows[0].fit.has_value());
  CHECK(rows[0].fit->kv_tokens == 780765);
}
