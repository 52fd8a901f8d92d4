// DeepSeek-V4's weights as vLLM 0.33 allocates them per TP rank (docs/model.md, "DeepSeek-V4's
// weights"), for the deepseek-v4-flash and deepseek-v4-pro presets. The arithmetic is written out per
// part; the totals were cross-checked with vLLM 0.33.0's own DeepseekV4ForCausalLM built on the meta
// device as an H200 builds it (tools/vllm-oracle/oracle_dsv4_weights.py): the sum of its parameters'
// and persistent buffers' numel x element_size, each tensor once, at TP 1 and TP 8 (and TP 8 with
// --enable-expert-parallel, the same bytes).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/deepseek_v4_weights.h"
#include "core/error.h"
#include "core/params.h"
#include "core/weights.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

double part(const std::vector<WeightPart>& parts, const std::string& what) {
  for (const WeightPart& one : parts) {
    if (one.what == what) return one.bytes;
  }
  FAIL("no part named " << what);
  return 0;
}

FitRequest preset_request(const ModelShape& shape, std::uint64_t ctx, std::uint32_t tp) {
  FitRequest request = request_with_weights(shape, ctx, Parallelism{tp, 1, 1});
  request.options.kv_cache_memory = Bytes{40 * GiB};
  request.options.max_num_batched_tokens = 8192;
  return request;
}

}  // namespace

TEST_CASE("DeepSeek-V4-Flash's weights on one TP-8 rank, part by part") {
  const std::vector<WeightPart> parts = deepseek_v4_weight_parts(model("deepseek-v4-flash"), 8);
  // Routed experts (MXFP4): 43 layers x 256 experts x 3 matrices of 4096 x 2048 / 8 values, at 4 bits
  // plus one e8m0 byte per 32: 3 x 4096 x 256 x (1/2 + 1/32) = 1671168 B per expert.
  CHECK(part(parts, "routed experts") == 43.0 * 256 * 1671168);  // 18396217344
  // Attention (fp8 + one byte per 128x128 block), per layer: fused_wqa_wkv (1024 + 512) x 4096 whole
  // + 12 x 32 scales = 6291840; wq_b 64 x 512 / 8 = 4096 rows x 1024 + 32 x 8 = 4194560; wo_a 8 x 1024
  // / 8 = 1024 rows x 64 x 512 / 8 = 4096 + 8 x 32 = 4194560; wo_b 4096 x 1024 + 32 x 8 = 4194560;
  // the 21 CSA layers' indexer wq_b 64 x 128 = 8192 x 1024 whole + 64 x 8 = 8389120.
  CHECK(part(parts, "attention projections") == 43.0 * (6291840 + 3 * 4194560) + 21.0 * 8389120);  // 987818880
  // Shared expert (fp8): gate_up 2 x 2048 / 8 = 512 rows x 4096 + 4 x 32; down 4096 x 256 + 32 x 2.
  CHECK(part(parts, "shared experts") == 43.0 * (512 * 4096 + 128 + 4096 * 256 + 64));  // 135274560
  // Compressors (bf16, ape fp32, whole on every rank): CSA 4 x 1024 x 4 + 2048 x 4096 x 2 + 512 x 2
  // = 16794624; HCA 128 x 512 x 4 + 1024 x 4096 x 2 + 512 x 2 = 8651776; the CSA indexer's 4 x 256 x 4
  // + 512 x 4096 x 2 + weights_proj 64 x 4096 x 2 + 128 x 2 = 4722944.
  CHECK(part(parts, "compressors, indexer weights_proj") == 21.0 * 16794624 + 20.0 * 8651776 + 21.0 * 4722944);
  // Embedding and LM head: 129280 rows (a multiple of 64) / 8 = 16160 x 4096 x 2 B each.
  CHECK(part(parts, "embeddings, LM head") == 2.0 * 16160 * 4096 * 2);  // 264765440
  // The rest, whole on every rank: hc_head (4 x 16384 + 4 + 1) x 4 B and the final norm 4096 x 2 B;
  // per layer the hyper-connections 2 x (24 x 16384 + 24 + 3) x 4 B = 3145944, two norms 16384, the
  // sink padded to 64 heads x 4 B, q_norm and kv_norm (1024 + 512) x 2 B, the router 256 x 4096 x 2 B;
  // the 3 hash layers' tid2eid 129280 x 6 x 4 B, the other 40 layers' 256 fp32 biases.
  CHECK(part(parts, "routers, hash tables, norms, hyper-connections, sinks") ==
        (4.0 * 16384 + 5) * 4 + 4096 * 2 + 43.0 * (3145944 + 16384 + 256 + 3072 + 2097152) + 3.0 * 129280 * 6 * 4 +
            40.0 * 256 * 4);  // 235920220
  // vLLM's meta-device model at TP 8: 20644900892 B.
  CHECK(deepseek_v4_rank_bytes(model("deepseek-v4-flash"), Parallelism{8, 1, 1}) == 20'644'900'892ull);
  Parallelism ep{8, 1, 1};
  ep.expert_parallel = true;  // 32 whole experts per rank instead of 256 slices: the same bytes
  CHECK(deepseek_v4_rank_bytes(model("deepseek-v4-flash"), ep) == 20'644'900'892ull);
}

TEST_CASE("DeepSeek-V4's whole checkpoint as vLLM loads it: the presets' parameter counts") {
  // TP 1: vLLM's meta-device model holds 156006389980 B (Flash) and 850738896844 B (Pro).
  CHECK(deepseek_v4_rank_bytes(model("deepseek-v4-flash"), Parallelism{1, 1, 1}) == 156'006'389'980ull);
  CHECK(deepseek_v4_rank_bytes(model("deepseek-v4-pro"), Parallelism{1, 1, 1}) == 850'738'896'844ull);
  // Pro at TP 8: 109447720100 B per rank.
  CHECK(deepseek_v4_rank_bytes(model("deepseek-v4-pro"), Parallelism{8, 1, 1}) == 109'447'720'100ull);
  // The parts' parameters are the presets' params.total, counted from the same model: Flash's routed
  // experts are 43 x 256 x 3 x 4096 x 2048 = 277025390592, 6 of 256 active per token.
  const ParamEstimate flash = estimate_params(model("deepseek-v4-flash"), false);
  CHECK(flash.total == *model("deepseek-v4-flash").params_total);
  CHECK(flash.active == 284332240471ull - 277025390592ull + 277025390592ull / 256 * 6);
  CHECK(flash.active == *model("deepseek-v4-flash").params_active);
  CHECK(estimate_params(model("deepseek-v4-pro"), false).total == *model("deepseek-v4-pro").params_total);
}

TEST_CASE("fit plans the deepseek-v4-flash preset with its checkpoint's weights") {
  const ModelShape& shape = model("deepseek-v4-flash");
  // The plan compressed_mla_test.cc cross-checked with vLLM's planning code: 42853 blocks, 780765 tokens.
  FitResult result = fit(shape, gpu("h200"), preset_request(shape, 131072, 8));
  CHECK(result.num_blocks == 42853);
  CHECK(result.kv_tokens == 780765);
  REQUIRE(result.stages.size() == 1);
  CHECK(result.stages[0].weights.value == 20'644'900'892ull);
  // Two fp32 RoPE tables of 1048576 positions x 64 (window-only and compressed layers).
  CHECK(result.stages[0].rope_cache.value == 2ull * 1048576 * 64 * 4);
  // Pro has no window-only layer: one table. Its 109447720100 B of weights per rank leave no room
  // for 40 GiB of KV memory on an H200 (150109945856 B): 20 GiB.
  FitRequest pro = preset_request(model("deepseek-v4-pro"), 131072, 8);
  pro.options.kv_cache_memory = Bytes{20 * GiB};
  const FitResult pro_result = fit(model("deepseek-v4-pro"), gpu("h200"), pro);
  CHECK(pro_result.stages[0].weights.value == 109'447'720'100ull);
  CHECK(pro_result.stages[0].rope_cache.value == 1048576ull * 64 * 4);
  CHECK_THROWS_AS(fit(model("deepseek-v4-pro"), gpu("h200"), preset_request(model("deepseek-v4-pro"), 131072, 8)),
                  Error);
}

TEST_CASE("DeepSeek-V4's weights: what kvplan does not size is refused") {
  // TP 16 does not divide Flash's 8 output groups (DeepseekV4Attention.n_local_groups).
  CHECK_THROWS_AS(deepseek_v4_weight_parts(model("deepseek-v4-flash"), 16), Error);
  Parallelism dp{8, 1, 2};
  dp.expert_dp = 2;
  CHECK_THROWS_AS(deepseek_v4_rank_bytes(model("deepseek-v4-flash"), dp), Error);
  ModelShape fp8_experts = model("deepseek-v4-flash");
  fp8_experts.compressed_mla->expert_dtype = "fp8";
  CHECK(!deepseek_v4_weights_gap(fp8_experts).empty());
  CHECK_THROWS_AS(resolve_weights_dtype("auto", fp8_experts), Error);
}
