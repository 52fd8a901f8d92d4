// vLLM's accounting by release (docs/engines.md). Each expected number is arithmetic written out
// here. The vLLM 0.33 cases were cross-checked by running 0.33.0's own kv_cache_planning
// (get_global_kv_cache_groups, get_kv_cache_configs, get_kv_cache_capacity) on hand-built layer
// specs without a GPU; the older releases' cases reproduce real start-up logs, named in each test.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/fit_internal.h"
#include "core/params.h"
#include "core/vllm_backend.h"
#include "core/vllm_rules.h"
#include "io/preset_registry.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

constexpr std::uint64_t MiB = 1ull << 20;

// A preset's request with the KV memory given, as vLLM's kv_cache_memory_bytes, on `version`'s rules.
FitRequest request_for(const char* name, std::uint64_t ctx, std::uint64_t kv_cache_memory, std::string version = "") {
  FitRequest request = testing::request_for(model(name), ctx);
  request.options.kv_cache_memory = Bytes{kv_cache_memory};
  request.options.engine_version = std::move(version);
  return request;
}

}  // namespace

TEST_CASE("vLLM 0.33, Mistral-7B-v0.1 at 32k on an H100: the window holds two batches in flight") {
  // Every layer slides (W 4096). Page: 16 tokens x 8 heads x 128 x 2 x 2 B = 65536 B; 32 layers.
  // 10 GiB / (65536 x 32) = 5120 blocks. In flight: 2 x 8192 (async scheduling, vllm serve on H100).
  // Blocks per request: ceil(min(4095 + 16384, 32768) / 16) + 1 = 1280 + 1 = 1281.
  FitResult result = fit(model("mistral-7b-v0.1"), gpu("h100-sxm"), request_for("mistral-7b-v0.1", 32768, 10 * GiB));
  CHECK(result.num_blocks == 5120);
  CHECK(result.blocks_per_request == 1281);
  CHECK(result.max_concurrency == doctest::Approx(5120.0 / 1281));  // 3.997 -> "4.00x"
  CHECK(result.kv_tokens == 130969);                                 // int(5120 / 1281 x 32768) = int(130969.2)
}

TEST_CASE("vLLM 0.33, Mistral-7B-v0.1 on a B200: 16384 batched tokens above 160 GiB") {
  // B200 reports 178.35 GiB: 16384 tokens per step, 2 in flight.
  // ceil(min(4095 + 32768, 32768) / 16) + 1 = 2048 + 1 = 2049 blocks per request.
  FitResult result = fit(model("mistral-7b-v0.1"), gpu("b200"), request_for("mistral-7b-v0.1", 32768, 10 * GiB));
  CHECK(result.max_num_batched_tokens == 16384);
  CHECK(result.blocks_per_request == 2049);
  CHECK(result.kv_tokens == 81880);  // int(5120 / 2049 x 32768) = int(81880.02); "2.50x"
  // vLLM 0.19 had no 160 GiB tier: 8192 tokens, added once: ceil((4095 + 8192) / 16) + 1 = 769.
  CHECK(fit(model("mistral-7b-v0.1"), gpu("b200"), request_for("mistral-7b-v0.1", 32768, 10 * GiB, "0.19"))
            .blocks_per_request == 769);
}

TEST_CASE("vLLM 0.33, DeepSeek-V2-Lite: FLASH_ATTN_MLA's blocks of 16 for a bf16 latent on Hopper") {
  // Page: 16 x (512 + 64) x 2 B = 18432 B; 27 layers; 40 GiB / (18432 x 27) = 86302 blocks.
  FitResult result = fit(model("deepseek-v2-lite"), gpu("h100-sxm"), request_for("deepseek-v2-lite", 65536, 40 * GiB));
  CHECK(result.attention_backend == "FLASH_ATTN_MLA");
  CHECK(result.page_bytes.value == 18432);
  CHECK(result.num_blocks == 86302);
  CHECK(result.kv_tokens == 1380832);  // 86302 / 4096 x 65536 = 86302 x 16
}

TEST_CASE("vLLM 0.33, DeepSeek-V3 on 8 B200s: FLASHINFER_MLA's blocks of 32") {
  // Page: 32 x 1152 B = 36864 B on every rank (the latent is replicated); 61 layers.
  // 40 GiB / (36864 x 61) = 19099 blocks; 19099 / 2048 x 65536 = 19099 x 32 tokens.
  FitRequest request = request_for("deepseek-v3", 65536, 40 * GiB);
  request.parallel = {8, 1, 1};
  request.weight_bytes_per_param = 1;
  FitResult result = fit(model("deepseek-v3"), gpu("b200"), request);
  CHECK(result.attention_backend == "FLASHINFER_MLA");
  CHECK(result.block_size == 32);
  CHECK(result.num_blocks == 19099);
  CHECK(result.kv_tokens == 611168);
  // vLLM 0.10 forced CUTLASS MLA's 128 on Blackwell: 40 GiB / (128 x 1152 x 61) = 4774 blocks.
  request.options.engine_version = "0.10";
  FitResult old = fit(model("deepseek-v3"), gpu("b200"), request);
  CHECK(old.attention_backend == "CUTLASS_MLA");
  CHECK(old.num_blocks == 4774);
  CHECK(old.kv_tokens == 4774 * 128);  // the two-line format: blocks x block size
}

TEST_CASE("vLLM 0.33 refuses fp8_ds_mla for a dense MLA model - fp8 goes to FlashMLA's blocks of 64") {
  FitRequest request = request_for("deepseek-v3", 32768, 40 * GiB);
  request.parallel = {8, 1, 1};
  request.weight_bytes_per_param = 1;
  request.kv_dtype = KvDtype::fp8_ds_mla;
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3"), gpu("h200"), request),
                       doctest::Contains("no MLA backend that takes fp8_ds_mla for a dense MLA model"), Error);
  request.kv_dtype = KvDtype::fp8_e4m3;
  FitResult result = fit(model("deepseek-v3"), gpu("h200"), request);
  CHECK(result.attention_backend == "FLASHMLA");  // FLASH_ATTN_MLA takes no fp8 cache
  CHECK(result.page_bytes.value == 64 * 576);
}

TEST_CASE("vLLM 0.33, Gemma-2-9B at 8k: two groups of 21 and a one-line log") {
  // Page 16 x 8 x 256 x 2 x 2 B = 131072 B; 10 GiB / (131072 x 21) = 3900 blocks.
  // Full: 8192 / 16 = 512; sliding: ceil(min(4095 + 2 x 8192, 8192) / 16) + 1 = 513.
  FitResult result = fit(model("gemma-2-9b"), gpu("h100-sxm"), request_for("gemma-2-9b", 8192, 10 * GiB));
  CHECK(result.groups.size() == 2);
  CHECK(result.num_blocks == 3900);
  CHECK(result.blocks_per_request == 1025);
  CHECK(result.kv_tokens == 31169);  // int(3900 / 1025 x 8192) = int(31169.56); "3.80x"
}

TEST_CASE("vLLM 0.33, Gemma-3-27B at 32k: 6 sliding groups with 8 padding layers and 1 global group") {
  // 62 layers, every 6th global: 10 global, 52 sliding (W 1024). Groups of min(10, 52) = 10
  // layers (52 >= 1.5 x 10): ceil(52 / 10) = 6 sliding groups (60 slots, 8 padding) + 1 global.
  // Page 16 x 16 heads x 128 x 2 x 2 B = 131072 B; a block spans 10 layers: 1310720 B.
  // 20 GiB / 1310720 = 16384 blocks. Per request: global 32768 / 16 = 2048; each sliding group
  // ceil(min(1023 + 2 x 8192, 32768) / 16) + 1 = 1088 + 1 = 1089; 2048 + 6 x 1089 = 8582.
  // vLLM 0.33.0's own planning (get_global_kv_cache_groups .. get_kv_cache_capacity, run on these
  // specs without a GPU) logs "Add 8 padding layers" and "GPU KV cache size: 62,557 tokens,
  // Maximum concurrency for 32,768 tokens per request: 1.91x".
  FitResult result = fit(model("gemma-3-27b"), gpu("h100-sxm"), request_for("gemma-3-27b", 32768, 20 * GiB));
  CHECK(result.groups.size() == 7);
  CHECK(result.page_bytes.value == 131072);
  CHECK(result.num_blocks == 16384);
  CHECK(result.blocks_per_request == 8582);
  CHECK(result.kv_tokens == 62557);  // int(16384 / 8582 x 32768) = int(62557.8)
  CHECK(result.max_concurrency == doctest::Approx(16384.0 / 8582));  // 1.909 -> "1.91x"
  // Gemma-3-12B: 48 layers, 8 global and 40 sliding: 5 + 1 groups of 8, no padding. Page 16 x 8 x
  // 256 x 2 x 2 B = 131072 B, a block of 8 layers 1 MiB: 20480 blocks; 2048 + 5 x 1089 = 7493.
  FitResult twelve = fit(model("gemma-3-12b"), gpu("h100-sxm"), request_for("gemma-3-12b", 32768, 20 * GiB));
  CHECK(twelve.groups.size() == 6);
  CHECK(twelve.num_blocks == 20480);
  CHECK(twelve.blocks_per_request == 7493);
  CHECK(twelve.kv_tokens == 89562);  // int(20480 / 7493 x 32768) = int(89562.08); vLLM logs 89,562 and 2.73x
}

TEST_CASE("vLLM 0.33 sets the null block aside before the one-request check") {
  // Llama-3-8B at 8192 tokens: 512 blocks of 16 x 4096 B x 32 layers = 2 MiB, i.e. exactly 1 GiB.
  // 1 GiB is refused (1 GiB - 2 MiB is left after the null block; vLLM's own estimate is 511 x 16
  // = 8176 tokens); 1 GiB + 2 MiB holds it: 513 blocks, int(513 / 512 x 8192) = 8208 tokens.
  CHECK_THROWS_WITH_AS(fit(model("llama-3-8b"), gpu("h100-sxm"), request_for("llama-3-8b", 8192, GiB)),
                       doctest::Contains("the longest context that fits is 8176 tokens"), Error);
  FitResult result = fit(model("llama-3-8b"), gpu("h100-sxm"), request_for("llama-3-8b", 8192, GiB + 2 * MiB));
  CHECK(result.num_blocks == 513);
  CHECK(result.kv_tokens == 8208);
  // vLLM 0.19 had no null block in the check: 1 GiB was enough.
  CHECK(fit(model("llama-3-8b"), gpu("h100-sxm"), request_for("llama-3-8b", 8192, GiB, "0.19")).num_blocks == 512);
}

TEST_CASE("vLLM 0.19.1 log: Qwen3-8B on an A100-SXM4-40GB with vllm serve's defaults") {
  // github.com/dariustanrd/tokenkaki (commit 02862f7e), blogposts/content/1_vllm/...draft.md:
  // "Available KV cache memory: 19.36 GiB", "GPU KV cache size: 140,960 tokens",
  // "Maximum concurrency for 40,960 tokens per request: 3.44x". Qwen3-8B: 36 layers, 8 KV heads
  // of 128, bf16: a block of 16 tokens is 16 x 4096 B x 36 = 2.25 MiB. 140960 / 16 = 8810 blocks =
  // 19.358 GiB ("19.36"); the budget lies in [8810, 8811) blocks: take the middle.
  // The shape as Qwen3-8B's config.json states it (hidden 4096, intermediate 12288, vocab 151936;
  // the parameter count estimated from it, for the weights check only).
  ModelShape qwen3 = model("qwen3-32b");
  qwen3.num_hidden_layers = 36;
  qwen3.num_attention_heads = 32;
  qwen3.layer_attention.assign(36, LayerAttention::full);
  qwen3.hidden_size = 4096;
  qwen3.intermediate_size = 12288;
  qwen3.params_total = estimate_params(qwen3, false).total;
  FitRequest request = request_for("qwen3-32b", 40960, 8810ull * 2304 * 1024 + 1152 * 1024, "0.19");
  request.variant = native_variant(qwen3);
  FitResult result = fit(qwen3, gpu("a100-40gb"), request);
  CHECK(result.max_num_batched_tokens == 2048);  // A100: the low tier
  CHECK(result.num_blocks == 8810);
  CHECK(result.kv_tokens == 140960);                                  // 8810 / 1 group x 16
  CHECK(result.max_concurrency == doctest::Approx(8810.0 / 2560));   // 3.44x
}

// https://github.com/llm-d-incubation/llm-d-planner/tree/d3121e059da88662db39a926a3ead964be97359b/accuracy/results/v0.19.0/logs
// (file named in each test): vllm serve 0.19.0 on an H100 80GB (total_memory=79.19GiB),
// bf16 weights, kv_cache_dtype auto, --max-model-len 8192, prefix caching off. Each log prints
// "Available KV cache memory", "GPU KV cache size", "Maximum concurrency" and (DEBUG)
// "num_gpu_blocks is". vLLM 0.19 logs the tokens as num_blocks // groups x 16.
TEST_CASE("vLLM 0.19.0 log: Gemma-3-27B-it on an H100 at 8192 tokens, 6 sliding groups padded") {
  // google-gemma-3-27b-it--h100-80gb--tp1pp1dp1--8192.log: "Add 8 padding layers", "Available KV
  // cache memory: 19.53 GiB", "GPU KV cache size: 36,560 tokens", "Maximum concurrency for 8,192
  // tokens per request: 4.46x", "num_gpu_blocks is: 15997". 7 groups of 10 layers; a block is
  // 10 x 16 x 16 heads x 128 x 2 x 2 B = 1310720 B; 15997 blocks = 19.528 GiB ("19.53"): the budget
  // lies in [15997, 15998) blocks, take the middle. Per request: global 8192 / 16 = 512; sliding
  // ceil(min(1023 + 8192, 8192) / 16) + 1 = 513 (0.19 counts one batch in flight); 512 + 6 x 513 = 3590.
  FitResult result = fit(model("gemma-3-27b"), gpu("h100-sxm"),
                         request_for("gemma-3-27b", 8192, 15997ull * 1310720 + 655360, "0.19"));
  CHECK(result.groups.size() == 7);
  CHECK(result.num_blocks == 15997);
  CHECK(result.blocks_per_request == 3590);
  CHECK(result.kv_tokens == 36560);                                  // 15997 // 7 = 2285 x 16
  CHECK(result.max_concurrency == doctest::Approx(15997.0 / 3590));  // 4.456 -> "4.46x"
}

TEST_CASE("vLLM 0.19.0 log: Gemma-3-12B-it on an H100 at 8192 tokens, 5 + 1 groups of 8") {
  // google-gemma-3-12b-it--h100-80gb--tp1pp1dp1--8192.log: "Available KV cache memory: 47.72 GiB",
  // "GPU KV cache size: 130,304 tokens", "Maximum concurrency for 8,192 tokens per request:
  // 15.88x", "num_gpu_blocks is: 48867". A block is 8 x 16 x 8 heads x 256 x 2 x 2 B = 1 MiB; 48867
  // MiB = 47.722 GiB ("47.72"). Per request 512 + 5 x 513 = 3077.
  FitResult result = fit(model("gemma-3-12b"), gpu("h100-sxm"),
                         request_for("gemma-3-12b", 8192, 48867 * MiB + MiB / 2, "0.19"));
  CHECK(result.groups.size() == 6);
  CHECK(result.num_blocks == 48867);
  CHECK(result.blocks_per_request == 3077);
  CHECK(result.kv_tokens == 130304);                                 // 48867 // 6 = 8144 x 16
  CHECK(result.max_concurrency == doctest::Approx(48867.0 / 3077));  // 15.881 -> "15.88x"
}

TEST_CASE("vLLM 0.19.0 log: gpt-oss-20b at TP 2 on H100s at 8192 tokens") {
  // openai-gpt-oss-20b--h100-80gb--tp2pp1dp1--8192.log (gpu_memory_utilization 0.9): "Available KV
  // cache memory: 59.32 GiB", "GPU KV cache size: 2,591,776 tokens", "Maximum concurrency for 8,192
  // tokens per request: 316.07x", "num_gpu_blocks is: 323972". Per rank 4 of the 8 KV heads of 64:
  // 4 x 64 x 2 x 2 B = 1024 B per token per layer; 12 sliding (W 128) + 12 full layers, 2 groups
  // of 12: a block is 12 x 16 x 1024 B = 196608 B; 323972 blocks = 59.320 GiB ("59.32").
  // Per request: 512 + ceil(min(127 + 8192, 8192) / 16) + 1 = 512 + 513 = 1025.
  FitRequest request = request_for("gpt-oss-20b", 8192, 323972ull * 196608 + 98304, "0.19");
  request.parallel = {2, 1, 1};
  FitResult result = fit(model("gpt-oss-20b"), gpu("h100-sxm"), request);
  CHECK(result.groups.size() == 2);
  CHECK(result.num_blocks == 323972);
  CHECK(result.blocks_per_request == 1025);
  CHECK(result.kv_tokens == 2591776);                                 // 323972 // 2 = 161986 x 16
  CHECK(result.max_concurrency == doctest::Approx(323972.0 / 1025));  // 316.07x
}

TEST_CASE("vLLM 0.6.5 (V0) log: Llama-3.1-8B in fp16 at TP 2, 40000 tokens") {
  // vLLM issue 11251 (v0.6.5): "# GPU blocks: 3852, # CPU blocks: 4096", "Maximum concurrency for
  // 40000 tokens per request: 1.54x". Per rank: 32 layers x 4 KV heads x 128 x 2 x 2 B = 64 KiB per
  // token, 1 MiB per block of 16; 3852 blocks = 3.76 GiB ("3.76GiB"). The GPU (15.77 GiB) has no
  // preset; with the KV memory given, an L40S only bounds the weights check.
  FitRequest request = request_for("llama-3.1-8b", 40000, 3852 * MiB + MiB / 2, "0.6");
  request.parallel = {2, 1, 1};
  FitResult result = fit(model("llama-3.1-8b"), gpu("l40s"), request);
  CHECK(result.num_blocks == 3852);
  CHECK(result.kv_tokens == 3852 * 16);
  CHECK(result.max_concurrency == doctest::Approx(3852.0 * 16 / 40000));  // 1.5408 -> "1.54x"
}

TEST_CASE("vLLM 0.6.4 (V0) log: the refusal names the tokens the blocks hold") {
  // vLLM issue 10517: "# GPU blocks: 1478" and "The model's max seq len (29000) is larger than the
  // maximum number of tokens that can be stored in KV cache (23648)" = 1478 x 16. Llama-3.1-8B,
  // TP 1: 2 MiB per block.
  CHECK_THROWS_WITH_AS(
      fit(model("llama-3.1-8b"), gpu("l40s"), request_for("llama-3.1-8b", 29000, 1478 * 2 * MiB + MiB, "0.6")),
      doctest::Contains("the longest context that fits is 23648 tokens"), Error);
}

TEST_CASE("vLLM 0.6 had no MLA cache: K and V of every head, padded to 256") {
  // DeepSeek-V2-Lite, 16 heads: 2 x 16 x 256 x 2 B = 16384 B per token per layer.
  FitResult result =
      fit(model("deepseek-v2-lite"), gpu("h100-sxm"), request_for("deepseek-v2-lite", 4096, 10 * GiB, "0.6"));
  CHECK(result.token_layer_per_rank.total() == 16384);
  CHECK(result.block_size == 16);
  CHECK(result.num_blocks == 10 * GiB / (16 * 16384) / 27);
}

TEST_CASE("vLLM's batch defaults by release, GPU and entry point") {
  auto batched = [](const char* gpu_name, std::string version, bool offline, std::uint64_t ctx = 8192) {
    FitRequest request = request_for("llama-3-8b", ctx, 10 * GiB, std::move(version));
    request.options.offline = offline;
    return fit(model("llama-3-8b"), gpu(gpu_name), request).max_num_batched_tokens;
  };
  CHECK(batched("h100-sxm", "", false) == 8192);
  CHECK(batched("h100-sxm", "", true) == 16384);
  CHECK(batched("h200", "", false) == 8192);   // 139.80 GiB: under the 160 GiB tier
  CHECK(batched("b200", "", false) == 16384);  // 178.35 GiB
  CHECK(batched("a100-80gb", "", false) == 2048);
  CHECK(batched("a100-80gb", "", true) == 8192);
  CHECK(batched("b200", "0.19", false) == 8192);
  CHECK(batched("h100-sxm", "0.6", false) == 8192);           // V0 without chunked prefill: max(8192, 2048)
  CHECK(batched("h100-sxm", "0.6", false, 65536) == 2048);    // chunked prefill above 32k
}

TEST_CASE("vLLM's attention backends: priorities, cache dtypes and block sizes") {
  const VllmRules& now = vllm_rules("");
  auto pick = [&](GpuArchitecture arch, bool mla, KvDtype dtype) {
    return choose_vllm_backend(now, {arch, mla, false, dtype, std::nullopt, std::nullopt});
  };
  CHECK(pick(GpuArchitecture::hopper, false, KvDtype::bf16).name == "FLASH_ATTN");
  CHECK(pick(GpuArchitecture::blackwell, false, KvDtype::bf16).name == "FLASHINFER");
  CHECK(pick(GpuArchitecture::hopper, true, KvDtype::bf16).block_size == 16);
  CHECK(pick(GpuArchitecture::hopper, true, KvDtype::fp8_e4m3).block_size == 64);
  CHECK(pick(GpuArchitecture::blackwell, true, KvDtype::fp8_e4m3).name == "FLASHINFER_MLA");
  CHECK(pick(GpuArchitecture::ampere, true, KvDtype::bf16).name == "TRITON_MLA");
  // FlashAttention 2 (Ampere) has no fp8 cache: FlashInfer serves it, with the same 16.
  CHECK(pick(GpuArchitecture::ampere, false, KvDtype::fp8_e4m3).name == "FLASHINFER");
  CHECK(pick(GpuArchitecture::hopper, false, KvDtype::nvfp4).name == "FLASHINFER");
  CHECK(pick(GpuArchitecture::cdna3, true, KvDtype::bf16).name == "TRITON_MLA");
  // An fp32 model (--dtype float32, cache "auto"): FLASH_ATTN and FLASHINFER list fp16 and bf16 in
  // supported_dtypes, TRITON_ATTN fp32 too, so it serves the model with its blocks of 16, as vLLM
  // 0.19 did for Llama-3.1-8B in fp32 on an H100 (tests/data/llmd_vllm_0.19_h100.csv): 42.80 GiB
  // of KV memory / (16 x 2 x 8 x 128 x 4 B x 32 layers = 4 MiB) = 10956 blocks, the logged
  // 175296 tokens = 10956 x 16.
  CHECK(pick(GpuArchitecture::hopper, false, KvDtype::fp32).name == "TRITON_ATTN");
  CHECK(pick(GpuArchitecture::hopper, false, KvDtype::fp32).block_size == 16);
  CHECK(choose_vllm_backend(vllm_rules("0.19"), {GpuArchitecture::hopper, false, false, KvDtype::fp32, std::nullopt,
                                                 std::nullopt}).name == "TRITON_ATTN");
  VllmBackendQuery fp32_flash{GpuArchitecture::hopper, false, false, KvDtype::fp32, "FLASH_ATTN", std::nullopt};
  CHECK_THROWS_WITH_AS(choose_vllm_backend(now, fp32_flash), doctest::Contains("takes no fp32 model"), Error);
  // --attention-backend: vLLM's names, refused where vLLM refuses them.
  VllmBackendQuery cutlass{GpuArchitecture::blackwell, true, false, KvDtype::bf16, "CUTLASS_MLA", std::nullopt};
  CHECK(choose_vllm_backend(now, cutlass).block_size == 128);
  cutlass.architecture = GpuArchitecture::hopper;
  CHECK_THROWS_WITH_AS(choose_vllm_backend(now, cutlass), doctest::Contains("does not run on Hopper"), Error);
  VllmBackendQuery unknown{GpuArchitecture::hopper, false, false, KvDtype::bf16, "FLASH", std::nullopt};
  CHECK_THROWS_WITH_AS(choose_vllm_backend(now, unknown), doctest::Contains("unknown backend 'FLASH'"), Error);
  // --block-size must be a multiple of the backend's kernel block.
  VllmBackendQuery sized{GpuArchitecture::hopper, true, false, KvDtype::fp8_e4m3, std::nullopt, 96};
  CHECK_THROWS_WITH_AS(choose_vllm_backend(now, sized), doctest::Contains("needs a multiple of 64"), Error);
  sized.user_block_size = 128;
  CHECK(choose_vllm_backend(now, sized).block_size == 128);
}

TEST_CASE("--engine vllm@X names a release kvplan knows") {
  CHECK(parse_engine_release("vllm").version.empty());
  CHECK(parse_engine_release("vllm@0.19.1").version == "0.19.1");
  CHECK(vllm_rules("0.19.1").version == "0.19");
  CHECK(vllm_rules("0.6").gpu_memory_utilization == 0.9);
  CHECK(vllm_rules("").gpu_memory_utilization == 0.92);
  CHECK_THROWS_WITH_AS(parse_engine_release("vllm@0.7"), doctest::Contains("0.33 (default), 0.19, 0.10, 0.6"), Error);
  CHECK_THROWS_WITH_AS(parse_engine_release("vllm@0.1"), doctest::Contains("kvplan knows the rules of vLLM"), Error);
  CHECK_THROWS_AS(parse_engine_release("vllm@"), Error);
  CHECK_THROWS_AS(parse_engine_release("tgi@1.0"), Error);
}

TEST_CASE("vLLM 0.33, Llama-4-Scout at 1M tokens: 36 chunked layers hold a chunk and the tokens in flight") {
  // 48 layers: 36 chunked (8192) + 12 global, 8 KV heads x 128 in bf16 = 4096 B per token per layer.
  // Groups of the fewest kind (12; 36 is not under 1.5 x 12): 3 chunked groups + 1 full group.
  // A block: 16 tokens x 4096 B x 12 layers = 786432 B; 64 GiB / 786432 = 87381 blocks.
  // Per request: full 1048576 / 16 = 65536; chunked ceil(min(8192 + 2 x 8192, 1048576) / 16) = 1536
  // each: 65536 + 3 x 1536 = 70144. Tokens: int(87381 / 70144 x 1048576) = 1306250.
  ModelShape scout = model("llama-3-8b");
  scout.model_type = "llama4_text";
  scout.num_hidden_layers = 48;
  scout.num_attention_heads = 40;
  scout.attention_chunk_size = 8192;
  scout.layer_attention.clear();
  for (std::uint32_t layer = 0; layer < 48; ++layer) {
    scout.layer_attention.push_back((layer + 1) % 4 == 0 ? LayerAttention::full : LayerAttention::chunked);
  }
  FitRequest request = request_for("llama-3-8b", 1048576, 64 * GiB);
  request.variant = native_variant(scout);
  FitResult result = fit(scout, gpu("h100-sxm"), request);
  CHECK(result.groups.size() == 4);
  CHECK(result.stages[0].bytes_per_block.value == 786432);
  CHECK(result.num_blocks == 87381);
  CHECK(result.blocks_per_request == 70144);
  CHECK(result.kv_tokens == 1306250);
  // vLLM 0.10 turned the hybrid allocator off for chunked local attention: all 48 layers in one
  // group of full attention, 64 GiB / (65536 x 48) = 21845 blocks; at 128k, 131072 / 16 = 8192 per
  // request (1M tokens would need 65536 x 48 x 65536 B = 192 GiB).
  request.options.engine_version = "0.10";
  request.max_model_len = Tokens{131072};
  FitResult old = fit(scout, gpu("h100-sxm"), request);
  CHECK(old.groups.size() == 1);
  CHECK(old.num_blocks == 21845);
  CHECK(old.blocks_per_request == 8192);
  // TensorRT-LLM's rules for chunked layers are not modelled: refused, not guessed (SGLang's hybrid SWA
  // pool plans them: tests/core/sglang_llama4_test.cc).
  request.options.engine_version = "";
  request.options.engine = Engine::trtllm;
  CHECK_THROWS_WITH_AS(fit(scout, gpu("h100-sxm"), request), doctest::Contains("with vLLM's and SGLang's rules only"),
                       Error);
}
