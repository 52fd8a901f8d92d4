// Prefix sharing (fit --shared-prefix): the blocks a shared prefix holds once, the blocks each
// request holds alone, and the concurrency that follows. Each expected number is arithmetic
// written out here. The "vLLM 0.33's KVCacheManager" cases repeat what
// tools/vllm-oracle/oracle_prefix.py measured by running vLLM 0.33.0's own KVCacheManager on CPU:
// one, two and three requests of L tokens sharing a P-token prefix, prefilled and then given
// their last token, the blocks held counted from the pool's free blocks (unique = held by three
// - held by two; shared = held by one - unique).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/prefix_sharing.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

FitRequest fixed_memory(const char* name, std::uint64_t ctx, std::uint64_t kv_cache_memory,
                        Engine engine = Engine::vllm) {
  FitRequest request = request_for(model(name), ctx, {}, engine);
  request.options.kv_cache_memory = Bytes{kv_cache_memory};
  return request;
}

PrefixSharing share(const char* name, const FitRequest& request, std::uint64_t prefix, std::uint64_t prefixes = 1) {
  const FitResult result = fit(model(name), gpu("h100-sxm"), request);
  return share_prefix({prefix, prefixes}, model(name), request, result);
}

// A pool of 20000 blocks of 16 tokens, as oracle_prefix.py builds it; each group charges a
// request what vLLM's manager measured it holding alone at its last token.
PrefixSharing oracle_case(std::vector<KvGroup> groups, std::uint64_t prefix, std::uint64_t len,
                          std::optional<std::uint64_t> window = {}, std::optional<std::uint64_t> chunk = {},
                          bool caching = true) {
  PrefixPlanQuery query;
  query.prefix = {prefix, 1};
  query.max_model_len = len;
  query.block_size = 16;
  query.pool_blocks = 20000;
  query.groups = std::move(groups);
  query.sliding_window = window;
  query.attention_chunk_size = chunk;
  query.caching = caching;
  return plan_prefix_sharing(query);
}

constexpr LayerAttention kFull = LayerAttention::full;
constexpr LayerAttention kSliding = LayerAttention::sliding;
constexpr LayerAttention kChunked = LayerAttention::chunked;

}  // namespace

TEST_CASE("vLLM 0.33's KVCacheManager: full attention shares whole blocks only") {
  // L 32768 = 2048 blocks. P 8192 = 512 blocks; the oracle's second request holds 1536 more.
  PrefixSharing whole = oracle_case({{kFull, 1, 2048}}, 8192, 32768);
  CHECK(whole.shared_blocks == 512);
  CHECK(whole.unique_blocks_per_request == 1536);
  // P 8200 ends 8 tokens into block 513: still 512 shared (the oracle's hit is 8192 tokens).
  PrefixSharing mid = oracle_case({{kFull, 1, 2048}}, 8200, 32768);
  CHECK(mid.shared_tokens_per_prefix == 8192);
  CHECK(mid.shared_blocks == 512);
  // --no-enable-prefix-caching: the oracle's two requests hold 4096 blocks, nothing shared.
  PrefixSharing off = oracle_case({{kFull, 1, 2048}}, 8192, 32768, {}, {}, false);
  CHECK(off.shared_blocks == 0);
  CHECK(off.unique_blocks_per_request == 2048);
}

TEST_CASE("vLLM 0.33's KVCacheManager: a sliding window past the prefix shares nothing") {
  // gemma-2's shape, W 4096: at its last token a request has computed 32767 tokens and holds
  // the sliding group from block floor((32768 - 4096) / 16) = 1792 on, 2048 - 1792 = 256 blocks,
  // none of the prefix's 512. The oracle: 2304 held alone, 512 shared, 1792 unique.
  PrefixSharing gemma = oracle_case({{kFull, 1, 2048}, {kSliding, 1, 256}}, 8192, 32768, 4096);
  CHECK(gemma.groups[1].shared_per_prefix == 0);
  CHECK(gemma.shared_blocks == 512);
  CHECK(gemma.unique_blocks_per_request == 1792);
  // gpt-oss's shape, W 128: held from block (32768 - 128) / 16 = 2040, 8 blocks; the oracle: 2056, 512, 1544.
  PrefixSharing gpt_oss = oracle_case({{kFull, 1, 2048}, {kSliding, 1, 8}}, 8192, 32768, 128);
  CHECK(gpt_oss.shared_blocks == 512);
  CHECK(gpt_oss.unique_blocks_per_request == 1544);
}

TEST_CASE("vLLM 0.33's KVCacheManager: a window that still covers the prefix shares its part") {
  // L 8192, P 6144, W 4096: the sliding group holds from block (8192 - 4096) / 16 = 256, and the
  // prefix's blocks 256..383 (128) are shared. Full 384 + sliding 128 = 512 shared; the oracle
  // measured 768 held alone and 256 unique.
  PrefixSharing over = oracle_case({{kFull, 1, 512}, {kSliding, 1, 256}}, 6144, 8192, 4096);
  CHECK(over.groups[0].shared_per_prefix == 384);
  CHECK(over.groups[1].shared_per_prefix == 128);
  CHECK(over.unique_blocks_per_request == 256);
}

TEST_CASE("vLLM 0.33's KVCacheManager: chunked local attention keeps the current chunk") {
  // Llama-4's shape, chunk 8192. L 32768: the chunked group holds from token floor(32767 / 8192)
  // x 8192 = 24576 = block 1536 on (512 blocks); P 4096 (256 blocks) is long gone: 256 shared, the
  // oracle's 2560 held alone and 2304 unique.
  PrefixSharing passed = oracle_case({{kFull, 1, 2048}, {kChunked, 1, 512}}, 4096, 32768, {}, 8192);
  CHECK(passed.shared_blocks == 256);
  CHECK(passed.unique_blocks_per_request == 2304);
  // L 8000 stays in the first chunk: all of P 6000's 375 blocks are shared in both groups
  // (oracle: 1000 held alone, 750 shared, 250 unique).
  PrefixSharing within = oracle_case({{kFull, 1, 500}, {kChunked, 1, 500}}, 6000, 8000, {}, 8192);
  CHECK(within.shared_blocks == 750);
  CHECK(within.unique_blocks_per_request == 250);
}

TEST_CASE("vLLM 0.33's KVCacheManager: a state group shares nothing, full attention beside it does") {
  // Mamba-2 in mamba_cache_mode align beside full attention, blocks of 64, L 32768, P 8192. The
  // oracle: 513 blocks held by one request (512 + its running state), 1026 by two (the second
  // misses: no state was cached at the prefix's end, so it only pins the junction and ends a
  // prefill chunk there), 1411 by three (the third hits 8192 tokens): 385 unique = 384 + 1 state
  // block, 513 - 385 = 128 = floor(8192 / 64) shared, all in the full-attention group.
  PrefixPlanQuery query;
  query.prefix = {8192, 1};
  query.max_model_len = 32768;
  query.block_size = 64;
  query.pool_blocks = 20000;
  query.groups = {{kFull, 1, 512}, {LayerAttention::state, 1, 1}};
  const PrefixSharing plan = plan_prefix_sharing(query);
  CHECK(plan.groups[1].shared_per_prefix == 0);
  CHECK(plan.shared_blocks == 128);
  CHECK(plan.unique_blocks_per_request == 385);
  CHECK(plan.max_concurrency == doctest::Approx((20000.0 - 128) / 385));
}

TEST_CASE("llama-3-8b on an H100, 20 GiB of KV, 32k context, an 8k shared prefix") {
  // Page: 16 tokens x 8 heads x 128 x 2 (K, V) x 2 B = 65536 B; 32 layers: 2 MiB a block.
  // 20 GiB / 2 MiB = 10240 blocks; 32768 / 16 = 2048 per request: 5.00x unshared.
  // Shared: floor(8192 / 16) = 512; unique 2048 - 512 = 1536; (10240 - 512) / 1536 = 6.33x.
  const FitRequest request = fixed_memory("llama-3-8b", 32768, 20 * GiB);
  PrefixSharing one = share("llama-3-8b", request, 8192);
  CHECK(one.pool_blocks == 10240);
  CHECK(one.shared_blocks == 512);
  CHECK(one.unique_blocks_per_request == 1536);
  CHECK(one.max_concurrency == doctest::Approx(9728.0 / 1536));
  CHECK(one.requests_per_replica == 6);
  // Four prefixes: 4 x 512 = 2048 shared; (10240 - 2048) / 1536 = 5.33x.
  PrefixSharing four = share("llama-3-8b", request, 8192, 4);
  CHECK(four.shared_blocks == 2048);
  CHECK(four.requests_per_replica == 5);
  // Twenty: 20 x 512 = 10240, the whole pool.
  CHECK_THROWS_WITH_AS(share("llama-3-8b", request, 8192, 20), doctest::Contains("--prefixes 20"), Error);
  // 2^62 prefixes x 512 blocks passes 2^64.
  CHECK_THROWS_WITH_AS(share("llama-3-8b", request, 8192, 1ull << 62), doctest::Contains("--prefixes"), Error);
}

TEST_CASE("gemma-2-9b: the sliding group holds a window past an 8k prefix, or the prefix's tail") {
  // 21 full + 21 sliding layers: 2 groups of 21. Page 16 x 8 x 256 x 2 x 2 B = 131072 B; a block
  // 21 x 131072 = 2752512 B; 20 GiB / 2752512 = 7801 blocks. In flight on an H100: 2 x 8192.
  // 32k: full 2048, sliding ceil(min(4095 + 16384, 32768) / 16) + 1 = 1281, 3329 per request.
  // The window at the last token starts at block (32768 - 4096) / 16 = 1792, past the prefix.
  const FitRequest request = fixed_memory("gemma-2-9b", 32768, 20 * GiB);
  PrefixSharing passed = share("gemma-2-9b", request, 8192);
  CHECK(passed.pool_blocks == 7801);
  CHECK(passed.blocks_per_request == 3329);
  CHECK(passed.shared_blocks == 512);               // the full group's only
  CHECK(passed.unique_blocks_per_request == 2817);  // 3329 - 512
  CHECK(passed.max_concurrency == doctest::Approx(7289.0 / 2817));
  // 8k context, 6k prefix: full 512, sliding ceil(min(20479, 8192) / 16) + 1 = 513. The window
  // starts at block (8192 - 4096) / 16 = 256, so the sliding group shares 384 - 256 = 128.
  // Shared 384 + 128 = 512; unique 1025 - 512 = 513; (7801 - 512) / 513 = 14.21x.
  PrefixSharing covered = share("gemma-2-9b", fixed_memory("gemma-2-9b", 8192, 20 * GiB), 6144);
  CHECK(covered.shared_blocks == 512);
  CHECK(covered.unique_blocks_per_request == 513);
  CHECK(covered.requests_per_replica == 14);
}

TEST_CASE("gpt-oss-20b: the 128-token window shares nothing of an 8k prefix") {
  // 12 full + 12 sliding layers; page 16 x 8 x 64 x 2 x 2 B = 32768 B; a block 12 x 32768 =
  // 393216 B; 10 GiB / 393216 = 27306 blocks. 32k: full 2048, sliding ceil(min(127 + 16384,
  // 32768) / 16) + 1 = 1033. Shared 512 (full); unique 3081 - 512 = 2569.
  PrefixSharing plan = share("gpt-oss-20b", fixed_memory("gpt-oss-20b", 32768, 10 * GiB), 8192);
  CHECK(plan.pool_blocks == 27306);
  CHECK(plan.shared_blocks == 512);
  CHECK(plan.unique_blocks_per_request == 2569);
  CHECK(plan.requests_per_replica == 10);  // 26794 / 2569 = 10.43
}

TEST_CASE("deepseek-v2-lite: the MLA latent is shared like full attention") {
  // FLASH_ATTN_MLA, 16 tokens: page 16 x 576 x 2 B = 18432 B; 27 layers; 40 GiB / (18432 x 27)
  // = 86302 blocks; 65536 / 16 = 4096 per request. Shared 512; (86302 - 512) / 3584 = 23.94x.
  PrefixSharing plan = share("deepseek-v2-lite", fixed_memory("deepseek-v2-lite", 65536, 40 * GiB), 8192);
  CHECK(plan.shared_blocks == 512);
  CHECK(plan.unique_blocks_per_request == 3584);
  CHECK(plan.requests_per_replica == 23);
}

TEST_CASE("SGLang's radix cache: page 1 shares every prefix token, page 64 whole pages") {
  // tools/vllm-oracle/oracle_sglang_radix.py: SGLang 0.5.23's own RadixCache matches 8200 tokens of
  // an 8200-token prefix at page 1 and 8192 at page 64.
  // llama-3-8b: 32 layers x 8 x 128 x 2 x 2 B = 131072 B a token; 20 GiB / 131072 = 163840 tokens.
  // Page 1: an 8200-token prefix shares 8200 slots; (163840 - 8200) / (32768 - 8200) = 6.335x.
  FitRequest request = fixed_memory("llama-3-8b", 32768, 20 * GiB, Engine::sglang);
  PrefixSharing page1 = share("llama-3-8b", request, 8200);
  CHECK(page1.block_size == 1);
  CHECK(page1.shared_blocks == 8200);
  CHECK(page1.unique_blocks_per_request == 24568);
  CHECK(page1.max_concurrency == doctest::Approx(155640.0 / 24568));
  // Page 64: 163840 / 64 = 2560 pages, 512 per request; floor(8200 / 64) = 128 pages (8192 tokens)
  // shared; (2560 - 128) / 384 = 6.333x.
  request.options.block_size = 64;
  PrefixSharing page64 = share("llama-3-8b", request, 8200);
  CHECK(page64.pool_blocks == 2560);
  CHECK(page64.shared_tokens_per_prefix == 8192);
  CHECK(page64.shared_blocks == 128);
  CHECK(page64.unique_blocks_per_request == 384);
  CHECK(page64.max_concurrency == doctest::Approx(2432.0 / 384));
}

TEST_CASE("A prefix must be shorter than the context, and an engine whose cache kvplan has read") {
  const FitRequest request = fixed_memory("llama-3-8b", 32768, 20 * GiB);
  CHECK_THROWS_WITH_AS(share("llama-3-8b", request, 0), doctest::Contains("--shared-prefix"), Error);
  CHECK_THROWS_WITH_AS(share("llama-3-8b", request, 32768), doctest::Contains("--shared-prefix 32768"), Error);
  FitRequest older = request;
  older.options.engine_version = "0.19";
  CHECK_THROWS_WITH_AS(share("llama-3-8b", older, 8192), doctest::Contains("vLLM 0.33"), Error);
  CHECK_THROWS_WITH_AS(share("llama-3-8b", fixed_memory("llama-3-8b", 32768, 20 * GiB, Engine::trtllm), 8192),
                       doctest::Contains("TensorRT-LLM"), Error);
}
