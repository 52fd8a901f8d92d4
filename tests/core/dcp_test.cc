// Decode context parallel (vLLM's --decode-context-parallel-size), vLLM 0.33 (docs/engines.md,
// "Decode context parallel"). Every expected number is arithmetic written out here; the KV
// planning numbers (blocks, blocks per request, concurrency, the "GPU KV cache size" line and the
// longest context of the one-request check) and the refusals (ParallelConfig's and
// ModelConfig.verify_with_parallel_config's checks, each backend's supports_dcp) were cross-checked
// by running vLLM 0.33.0's own code without a GPU: tools/vllm-oracle/oracle_dcp.py.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

// `name` on H200s at TP `tp` with DCP `dcp`, 40 GiB of KV memory per GPU (vLLM's
// kv_cache_memory_bytes), fp8 weights so that DeepSeek-V3's fit beside it.
FitRequest request_for(const char* name, std::uint64_t ctx, std::uint32_t tp, std::uint32_t dcp) {
  FitRequest request = testing::request_for(model(name), ctx, {tp, 1, 1});
  request.parallel.dcp = dcp;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  request.weight_bytes_per_param = 1;
  return request;
}

}  // namespace

TEST_CASE("DCP, DeepSeek-V3 on 8 H200s at 32k: TP 8 replicates the latent, TP 8 + DCP 8 splits it") {
  // FLASH_ATTN_MLA on Hopper, bf16 latent: page 16 x (512 + 64) x 2 B = 18432 B; a block spans
  // the 61 layers: 1124352 B. 40 GiB / 1124352 = 38199 blocks on every rank, with or without DCP.
  FitResult tp8 = fit(model("deepseek-v3"), gpu("h200"), request_for("deepseek-v3", 32768, 8, 1));
  FitResult dcp8 = fit(model("deepseek-v3"), gpu("h200"), request_for("deepseek-v3", 32768, 8, 8));
  for (const FitResult* result : {&tp8, &dcp8}) {
    CHECK(result->attention_backend == "FLASH_ATTN_MLA");
    CHECK(result->kv_heads_per_rank == 1);
    CHECK(result->page_bytes.value == 18432);
    CHECK(result->num_blocks == 38199);
  }
  // TP 8: every rank holds the whole latent of every token: ceil(32768 / 16) = 2048 blocks.
  CHECK(tp8.kv_replicated);
  CHECK(tp8.blocks_per_request == 2048);
  CHECK(tp8.bytes_per_request_per_rank.value == 2048ull * 1124352);  // 2.14 GiB per request per rank
  CHECK(tp8.max_concurrency == doctest::Approx(38199.0 / 2048));     // "18.65x"
  CHECK(tp8.kv_tokens == 611184);                                    // int(38199 / 2048 x 32768) = 38199 x 16
  CHECK(tp8.requests_per_replica == 18);
  // DCP 8: a rank holds ceil(32768 / 8) = 4096 tokens of each request: ceil(4096 / 16) = 256 blocks.
  CHECK_FALSE(dcp8.kv_replicated);
  CHECK(dcp8.blocks_per_request == 256);
  CHECK(dcp8.bytes_per_request_per_rank.value == 256ull * 1124352);  // 0.27 GiB per request per rank
  CHECK(dcp8.max_concurrency == doctest::Approx(38199.0 / 256));     // "149.21x"
  CHECK(dcp8.kv_tokens == 4889472);                                  // int(38199 / 256 x 32768) = 38199 x 128
  CHECK(dcp8.requests_per_replica == 149);
}

TEST_CASE("DCP rounds each rank's share up: 32769 tokens over DCP 8") {
  // ceil(32769 / 8) = 4097 tokens, ceil(4097 / 16) = 257 blocks (= ceil(32769 / (16 x 8))).
  // int(38199 / 257 x 32769) = int(4870595.45) = 4870595 ("148.63x").
  FitResult result = fit(model("deepseek-v3"), gpu("h200"), request_for("deepseek-v3", 32769, 8, 8));
  CHECK(result.blocks_per_request == 257);
  CHECK(result.kv_tokens == 4870595);
}

TEST_CASE("DCP with fewer DCP ranks than TP: the latent stays replicated over the DCP groups") {
  // TP 8, DCP 2: 4 groups of 2 ranks, each group caching every token once.
  // ceil(ceil(32768 / 2) / 16) = 1024 blocks; int(38199 / 1024 x 32768) = 38199 x 32 = 1222368.
  FitResult result = fit(model("deepseek-v3"), gpu("h200"), request_for("deepseek-v3", 32768, 8, 2));
  CHECK(result.kv_replicated);
  CHECK(result.blocks_per_request == 1024);
  CHECK(result.kv_tokens == 1222368);
}

TEST_CASE("DCP, a GQA model: Qwen3-235B-A22B (4 K/V heads) at TP 8 + DCP 2") {
  // TP 8 > 4 K/V heads: each rank holds max(1, 4 / 8) = 1 head, replicated on 8 / 4 = 2 ranks.
  // DCP 2 <= 8 / 4 and divides the 64 / 4 = 16 query heads per K/V head, so vLLM accepts it, and
  // the 2 ranks of a head split its tokens instead of both holding all of them.
  // FLASH_ATTN, block 16: page 16 x 1 x 128 x 2 x 2 B = 8192 B; 94 layers: 770048 B per block;
  // 40 GiB / 770048 = 55775 blocks.
  FitResult tp8 = fit(model("qwen3-235b-a22b"), gpu("h200"), request_for("qwen3-235b-a22b", 32768, 8, 1));
  FitResult dcp2 = fit(model("qwen3-235b-a22b"), gpu("h200"), request_for("qwen3-235b-a22b", 32768, 8, 2));
  for (const FitResult* result : {&tp8, &dcp2}) {
    CHECK(result->attention_backend == "FLASH_ATTN");
    CHECK(result->kv_heads_per_rank == 1);
    CHECK(result->page_bytes.value == 8192);
    CHECK(result->num_blocks == 55775);
  }
  CHECK(tp8.kv_replicated);
  CHECK(tp8.blocks_per_request == 2048);
  CHECK(tp8.kv_tokens == 892400);  // 55775 x 16, "27.23x"
  CHECK_FALSE(dcp2.kv_replicated);
  CHECK(dcp2.blocks_per_request == 1024);  // ceil(ceil(32768 / 2) / 16)
  CHECK(dcp2.bytes_per_request_per_rank.value == 1024ull * 770048);
  CHECK(dcp2.kv_tokens == 1784800);  // 55775 x 32, "54.47x"
}

TEST_CASE("DCP in the one-request check: each rank needs its share of one request") {
  // 1 GiB holds 954 blocks of 1124352 B; the null block leaves 953. 128k over DCP 8 needs
  // ceil(131072 / 128) = 1024 blocks on a rank, so vLLM refuses, estimating the longest context
  // at 953 x 16 x 8 = 121984 tokens.
  FitRequest request = request_for("deepseek-v3", 131072, 8, 8);
  request.options.kv_cache_memory = Bytes{GiB};
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3"), gpu("h200"), request),
                       doctest::Contains("the longest context that fits is 121984 tokens"), Error);
}

TEST_CASE("DCP picks a backend that supports it, or says why it cannot") {
  // DeepSeek-V3.2 on Hopper: FLASH_ATTN_MLA_SPARSE (first in the priorities) has no DCP, so vLLM
  // takes FLASHMLA_SPARSE, which stores fp8 as fp8_ds_mla (656 B per token) and decodes DCP only
  // from it.
  FitRequest sparse = request_for("deepseek-v3.2", 32768, 8, 8);
  sparse.kv_dtype = KvDtype::fp8_e4m3;
  FitResult result = fit(model("deepseek-v3.2"), gpu("h200"), sparse);
  CHECK(result.attention_backend == "FLASHMLA_SPARSE");
  CHECK(result.kv_cache_dtype == KvDtype::fp8_ds_mla);
  CHECK(result.blocks_per_request == 64);  // block 64: ceil(ceil(32768 / 8) / 64)
  sparse.kv_dtype = KvDtype::bf16;
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3.2"), gpu("h200"), sparse),
                       doctest::Contains("FLASHMLA_SPARSE decodes with DCP only from an fp8_ds_mla cache"), Error);
  // TRITON_ATTN's implementation does not support DCP.
  FitRequest gqa = request_for("qwen3-235b-a22b", 32768, 8, 2);
  gqa.options.attention_backend = "TRITON_ATTN";
  CHECK_THROWS_WITH_AS(fit(model("qwen3-235b-a22b"), gpu("h200"), gqa), doctest::Contains("DCP not supported"), Error);
}

TEST_CASE("DCP refusals: vLLM's checks of the sizes and the heads") {
  // ParallelConfig: tp_size divisible by dcp_size.
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3"), gpu("h200"), request_for("deepseek-v3", 32768, 8, 3)),
                       "--dcp 3 does not divide --tp 8; vLLM requires tp_size divisible by dcp_size", Error);
  // ModelConfig.verify_with_parallel_config, GQA: TP 8 is not more than Llama-3.1-70B's 8 K/V heads.
  CHECK_THROWS_WITH_AS(fit(model("llama-3.1-70b"), gpu("h200"), request_for("llama-3.1-70b", 32768, 8, 2)),
                       doctest::Contains("greater than the 8 K/V heads"), Error);
  // At TP 16 it is: 16 / 8 = 2 ranks per head, so DCP 2 is accepted.
  CHECK(fit(model("llama-3.1-70b"), gpu("h200"), request_for("llama-3.1-70b", 32768, 16, 2)).blocks_per_request == 1024);
  // DCP at most TP / K/V heads = 8 / 4 = 2.
  CHECK_THROWS_WITH_AS(fit(model("qwen3-235b-a22b"), gpu("h200"), request_for("qwen3-235b-a22b", 32768, 8, 4)),
                       doctest::Contains("exceeds vLLM's maximum of TP / K/V heads = 8 / 4 = 2"), Error);
  // Sliding-window layers: vLLM asserts "DCP not support sliding window".
  CHECK_THROWS_WITH_AS(fit(model("gpt-oss-120b"), gpu("h200"), request_for("gpt-oss-120b", 32768, 16, 2)),
                       doctest::Contains("DCP not support sliding window"), Error);
  // Releases whose DCP kvplan does not model, and the other engines.
  FitRequest old = request_for("deepseek-v3", 32768, 8, 8);
  old.options.engine_version = "0.19";
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3"), gpu("h200"), old), doctest::Contains("in vLLM 0.33 only"), Error);
  FitRequest trtllm = request_for("deepseek-v3", 32768, 8, 8);
  trtllm.options.engine = Engine::trtllm;
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3"), gpu("h200"), trtllm),
                       doctest::Contains("TensorRT-LLM's context parallelism is not modelled"), Error);
}
