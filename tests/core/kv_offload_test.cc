// vLLM 0.33's native CPU offloading (fit --offload): the CPU tier's chunks and tokens by
// CPUOffloadingSpec.__init__'s arithmetic, the reload time over the link, the recompute bound and
// the break-even context. Each expected number is arithmetic written out here; the chunks, chunk
// bytes and tokens of the first, second and third cases were also checked against vLLM 0.33.0's
// own CPUOffloadingSpec, run on CPU from a hand-made OffloadingConfig
// (tools/vllm-oracle/oracle_offload.py: 131072 / 4194304 / 2097152, 25600 / 4194304 / 409600,
// 52428 / 20480 / 832190).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/kv_offload.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

OffloadPlan plan_for(const char* name, std::uint64_t ctx, Parallelism parallel, std::uint64_t cpu_bytes,
                     const char* link, std::uint64_t kv_cache_memory, OffloadBackend backend = OffloadBackend::native) {
  FitRequest request = request_for(model(name), ctx, parallel);
  request.options.kv_cache_memory = Bytes{kv_cache_memory};
  request.weight_bytes_per_param = 1;  // fp8 weights: room for the fixed KV memory on one H100
  const FitResult result = fit(model(name), gpu("h100-sxm"), request);
  OffloadRequest offload{Bytes{cpu_bytes}, parse_link(link, LinkUse::host)};
  offload.backend = backend;
  return plan_offload(offload, model(name), gpu("h100-sxm"), request, result);
}

}  // namespace

TEST_CASE("qwen3-32b, TP 1, 512 GiB of CPU over PCIe 5: the tier's tokens, reload and recompute") {
  const OffloadPlan plan = plan_for("qwen3-32b", 131072, {}, 512 * kGiB, "pcie5", 40 * kGiB);
  // One block of one layer: 16 tokens x 8 K/V heads x 128 x 2 (K and V) x 2 bytes = 65536 B;
  // all 64 layers: 4194304 B, already a multiple of the 4096-byte page.
  CHECK(plan.block_size == 16);
  CHECK(plan.worker_bytes_per_block.value == 4194304);
  CHECK(plan.aligned_chunk_bytes.value == 4194304);
  // 512 x 2^30 / 4194304 = 131072 chunks of 16 tokens.
  CHECK(plan.cpu_chunks == 131072);
  CHECK(plan.cpu_tokens == 2097152);
  CHECK(plan.cpu_tokens_fleet == 2097152);
  // 40 GiB / 4 MiB = 10240 GPU blocks of 16 tokens.
  CHECK(plan.gpu_tokens == 163840);
  // 131072 / 16 = 8192 blocks x 4194304 B = 32 GiB; over 64 GB/s: 0.536870912 s.
  CHECK(plan.request_bytes_per_rank.value == 32 * kGiB);
  CHECK(plan.reload_s == doctest::Approx(34359738368.0 / 64e9));
  // N: 32762123264 parameters less the embedding and the untied head, 2 x 151936 x 5120 =
  // 1555824640: 31206298624. Attention per layer at L = 1: 2 x 64 heads x (128 + 128) / 2 = 16384
  // FLOPs; x 64 layers.
  CHECK(plan.matmul_params == 31206298624);
  CHECK(plan.attention_flops_per_token2 == doctest::Approx(1048576.0));
  const double flops = 2.0 * 31206298624.0 * 131072 + 1048576.0 * 131072.0 * 131072.0;
  CHECK(plan.recompute_flops == doctest::Approx(flops));
  CHECK(plan.recompute_s == doctest::Approx(flops / 989.4e12));
  // b P / B = 262144 x 989.4e12 / 64e9 = 4.05e9 < 2 N = 6.24e10: reloading wins at every length.
  CHECK(plan.break_even_tokens == doctest::Approx((262144.0 * 989.4e12 / 64e9 - 2.0 * 31206298624.0) / 1048576.0));
  CHECK(plan.break_even_tokens < 0);
}

TEST_CASE("TP 2 and DP 3: one buffer holds both ranks' slices - each replica has its own") {
  Parallelism parallel;
  parallel.tp = 2;
  parallel.dp = 3;
  const OffloadPlan plan = plan_for("qwen3-32b", 32768, parallel, 100 * kGiB, "pcie4", 20 * kGiB);
  // 4 K/V heads per rank: 16 x 4 x 128 x 2 x 2 = 32768 B per layer, x 64 = 2097152 B per rank;
  // x 2 ranks = 4194304 B per chunk, page-aligned.
  CHECK(plan.worker_bytes_per_block.value == 2097152);
  CHECK(plan.aligned_chunk_bytes.value == 4194304);
  // 100 GiB / 4 MiB = 25600 chunks x 16 = 409600 tokens per replica, x 3 = 1228800.
  CHECK(plan.cpu_chunks == 25600);
  CHECK(plan.cpu_tokens == 409600);
  CHECK(plan.cpu_tokens_fleet == 1228800);
  // Recompute runs on both ranks: peak x 2.
  CHECK(plan.peak_flops_per_s == doctest::Approx(2 * 989.4e12));
  // Each rank reloads its own 2048 blocks x 2 MiB = 4 GiB over its own 32 GB/s link.
  CHECK(plan.reload_s == doctest::Approx(4.0 * kGiB / 32e9));
}

TEST_CASE("a chunk that is not page-aligned, a context that is not a multiple of the block") {
  ModelShape shape;
  shape.num_hidden_layers = 3;
  shape.num_attention_heads = 4;
  shape.params_total = 1000000;
  FitRequest request;
  request.parallel.tp = 2;
  request.max_model_len = Tokens{1000};
  request.variant.head_dim = 64;
  FitResult result;
  result.engine_version = "0.33";
  result.groups = {KvGroup{LayerAttention::full, 3, 63}};
  result.block_size = 16;
  result.page_bytes = Bytes{3000};
  result.stage_layers = {3};
  GpuSpec spec;
  spec.bf16_dense_flops_per_s = 1e15;
  const OffloadPlan plan = plan_offload({Bytes{kGiB}, parse_link("pcie5", LinkUse::host)}, shape, spec, request, result);
  // 3000 B x 3 layers = 9000 B per rank, x 2 ranks = 18000, rounded up to 5 pages = 20480 B.
  CHECK(plan.aligned_chunk_bytes.value == 20480);
  // floor(1073741824 / 20480) = 52428 chunks; ceil(1000 / 16) = 63 per request;
  // 52428 x 1000 // 63 = 832190 tokens (vLLM 0.33's CPUOffloadingSpec: 52428, 20480, 832190).
  CHECK(plan.cpu_chunks == 52428);
  CHECK(plan.chunks_per_request == 63);
  CHECK(plan.cpu_tokens == 832190);
  CHECK(plan.request_bytes_per_rank.value == 63 * 9000);
}

TEST_CASE("a slow link: recompute wins below the break-even context") {
  const OffloadPlan plan = plan_for("qwen3-32b", 32768, {}, 64 * kGiB, "1GBps", 20 * kGiB);
  // (262144 x 989.4e12 / 1e9 - 2 x 31206298624) / 1048576 = 187828.7...
  const double expected = (262144.0 * 989.4e12 / 1e9 - 2.0 * 31206298624.0) / 1048576.0;
  CHECK(plan.break_even_tokens == doctest::Approx(expected));
  CHECK(expected > 187828);
  CHECK(expected < 187829);
  // At the break-even both times are equal: b L / B = (2 N L + a L^2) / P.
  const double reload = 262144.0 * expected / 1e9;
  const double recompute = (2.0 * 31206298624.0 * expected + 1048576.0 * expected * expected) / 989.4e12;
  CHECK(reload == doctest::Approx(recompute));
}

TEST_CASE("the options vLLM 0.33 does not size, or kvplan does not model, are refused") {
  CHECK(parse_offload_tiers("cpu:512GiB").cpu.value == 512 * kGiB);
  CHECK_FALSE(parse_offload_tiers("cpu:512GiB").disk);
  CHECK_THROWS_AS(parse_offload_tiers("cpu:0"), Error);
  CHECK_THROWS_AS(parse_offload_tiers("gpu:1GiB"), Error);
  CHECK_THROWS_AS(parse_offload_tiers("cpu:1GiB,cpu:2GiB"), Error);
  CHECK_THROWS_AS(parse_offload_tiers("512GiB"), Error);
  CHECK(parse_link("pcie4", LinkUse::host).bytes_per_s == doctest::Approx(32e9));
  CHECK(parse_link("pcie5", LinkUse::host).bytes_per_s == doctest::Approx(64e9));
  CHECK(parse_link("c2c", LinkUse::host).bytes_per_s == doctest::Approx(450e9));
  CHECK(parse_link("25.5GBps", LinkUse::host).bytes_per_s == doctest::Approx(25.5e9));
  CHECK_THROWS_AS(parse_link("nvlink", LinkUse::host), Error);
  CHECK_THROWS_AS(parse_link("0GBps", LinkUse::host), Error);
  CHECK(parse_offload_backend("lmcache") == OffloadBackend::lmcache);
  CHECK_THROWS_AS(parse_offload_backend("mooncake"), Error);
  // Gemma-3's sliding and full groups: more than one KV-cache group.
  CHECK_THROWS_AS(plan_for("gemma-3-27b", 8192, {}, 64 * kGiB, "pcie5", 20 * kGiB), Error);
}

// LMCache 0.5.6's multi-process server behind vLLM 0.33's LMCacheMPConnector
// (--offload-backend lmcache): objects of 256-token chunks, one per TP worker (one per TP group for
// MLA), each rounded up to 4096 bytes in an L1 of --l1-size-gb. Read from LMCache's code
// (docs/engines.md, "LMCache"); not run.
TEST_CASE("LMCache's L1: one object per worker and chunk of 256 tokens") {
  // Qwen3-32B at TP 1: 64 layers x 8 K/V heads x 128 x 2 (K, V) x 2 B = 262144 B per token; a chunk
  // object 256 x 262144 = 67108864 B (already a multiple of 4096); 512 GiB / 67108864 = 8192 objects,
  // 8192 chunks x 256 = 2097152 tokens.
  const OffloadPlan qwen = plan_for("qwen3-32b", 131072, {}, 512 * kGiB, "pcie5", 40 * kGiB, OffloadBackend::lmcache);
  REQUIRE(qwen.lmcache);
  CHECK(qwen.lmcache->bytes_per_token_per_rank.value == 262144);
  CHECK(qwen.lmcache->aligned_object_bytes.value == 67108864);
  CHECK(qwen.lmcache->objects == 8192);
  CHECK(qwen.cpu_tokens == 2097152);
  // A 131072-token request comes back as 512 chunk objects: 512 x 67108864 B = 32 GiB per rank; the
  // server stages 4 chunks on each GPU: 268435456 B.
  CHECK(qwen.request_bytes_per_rank.value == 512ull * 67108864);
  CHECK(qwen.lmcache->staging_bytes_per_gpu.value == 4ull * 67108864);
  // Llama-3.1-70B at TP 4: 2 K/V heads a rank, 80 x 2 x 128 x 2 x 2 B = 81920 B per token, an object of
  // 20971520 B; 100 GiB / 20971520 = 5120 objects, 4 per chunk (one per worker): 1280 chunks, 327680 tokens.
  const OffloadPlan llama =
      plan_for("llama-3.1-70b", 32768, {4, 1, 1}, 100 * kGiB, "pcie5", 20 * kGiB, OffloadBackend::lmcache);
  CHECK(llama.lmcache->kv_workers == 4);
  CHECK(llama.lmcache->objects == 5120);
  CHECK(llama.cpu_tokens == 327680);
  // DeepSeek-V3 at TP 8: the latent (512 + 64) x 2 B x 61 layers = 70272 B per token on every rank,
  // stored once per TP group (extract_world_size_and_kv_rank), which native offloading cannot plan:
  // an object of 256 x 70272 = 17989632 B (4392 x 4096); 100 GiB / 17989632 = 5968 chunks, 1527808 tokens.
  const OffloadPlan deepseek =
      plan_for("deepseek-v3", 8192, {8, 1, 1}, 100 * kGiB, "pcie5", kGiB, OffloadBackend::lmcache);
  CHECK(deepseek.lmcache->kv_workers == 1);
  CHECK(deepseek.lmcache->aligned_object_bytes.value == 17989632);
  CHECK(deepseek.cpu_tokens == 5968ull * 256);
  CHECK_THROWS_WITH_AS(plan_for("deepseek-v3", 8192, {8, 1, 1}, 100 * kGiB, "pcie5", kGiB),
                       doctest::Contains("single-copy replicated layout"), Error);
  // An L1 under one object.
  CHECK_THROWS_WITH_AS(plan_for("qwen3-32b", 8192, {}, 64 * 1024 * 1024 - 1, "pcie5", 40 * kGiB, OffloadBackend::lmcache),
                       doctest::Contains("holds no chunk"), Error);
}
