// vLLM 0.33 with its hybrid KV cache manager off (--disable-hybrid-kv-cache-manager, or a KV
// connector without SupportsHMA): kv_cache_planning.py:_promote_local_kv_cache_specs allocates
// sliding and chunked layers like full attention. Every expected number is arithmetic written out
// here; each case was cross-checked by running vLLM 0.33's own planning code on the same specs,
// with the allocator on and off (tools/vllm-oracle/oracle_hybrid_off.py, cases H1-H3).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

FitRequest hybrid_off(const char* name, std::uint64_t ctx, std::uint32_t tp, std::uint64_t kv_cache_memory) {
  Parallelism parallel;
  parallel.tp = tp;
  FitRequest request = request_for(model(name), ctx, parallel);
  request.options.kv_cache_memory = Bytes{kv_cache_memory};
  request.options.hybrid_allocator = false;
  return request;
}

}  // namespace

TEST_CASE("gemma-3-27b: every layer keeps every token, one group of 62 layers") {
  // TP 4: 16 KV heads / 4 = 4 x head_dim 128 x (K + V) x 2 B x block 16 = 32,768 B per layer page.
  FitRequest request = hybrid_off("gemma-3-27b", 32768, 4, 40 * GiB);
  FitResult off = fit(model("gemma-3-27b"), gpu("h100-sxm"), request);
  CHECK(off.page_bytes.value == 16 * 4 * 128 * 2 * 2);
  REQUIRE(off.groups.size() == 1);
  CHECK(off.groups.front().layers == 62);
  // 40 GiB / (32,768 B x 62 layers = 2,031,616 B) = 21,140.3 -> 21,140 blocks.
  CHECK(off.num_blocks == 40 * GiB / (32768ull * 62));
  CHECK(off.num_blocks == 21140);
  // ceil(32768 / 16) = 2048 blocks per request, sliding layers included: 21,140 / 2048 = 10.32x;
  // tokens = int(10.322265625 x 32768) = 338,240.
  CHECK(off.blocks_per_request == 2048);
  CHECK(off.kv_tokens == 338240);

  // With the allocator on (vLLM's default): 10 full layers, 52 sliding in 6 groups of 10 (8 padding
  // layers); a block holds 10 pages = 327,680 B, so 40 GiB / 327,680 = 131,072 blocks. A request
  // needs 2048 blocks in the full group and cdiv(min(1023 + 2 x 8192, 32768), 16) + 1 = 1089 in each
  // sliding group: 2048 + 6 x 1089 = 8582; 131,072 / 8582 = 15.27x, 500,462 tokens.
  request.options.hybrid_allocator = true;
  FitResult on = fit(model("gemma-3-27b"), gpu("h100-sxm"), request);
  CHECK(on.groups.size() == 7);
  CHECK(on.num_blocks == 131072);
  CHECK(on.blocks_per_request == 2048 + 6 * 1089);
  CHECK(on.kv_tokens == 500462);
}

TEST_CASE("gpt-oss-20b: the sliding half of the layers stops being cheap") {
  // TP 1: 8 KV heads x 64 x 2 x 2 B x 16 = 32,768 B per page; 24 layers in one group.
  FitResult off = fit(model("gpt-oss-20b"), gpu("h100-sxm"), hybrid_off("gpt-oss-20b", 131072, 1, 40 * GiB));
  REQUIRE(off.groups.size() == 1);
  CHECK(off.groups.front().layers == 24);
  // 40 GiB / (32,768 x 24 = 786,432 B) = 54,613 blocks; 131,072 / 16 = 8192 per request:
  // 54,613 / 8192 = 6.6666..x, tokens int(6.6666259765625 x 131072) = 873,808.
  CHECK(off.num_blocks == 54613);
  CHECK(off.blocks_per_request == 8192);
  CHECK(off.kv_tokens == 873808);
}

TEST_CASE("llama-4-scout: chunked layers are promoted too") {
  // TP 4: 8 KV heads / 4 = 2 x 128 x 2 x 2 B x 16 = 16,384 B per page; 48 layers in one group.
  FitResult off = fit(model("llama-4-scout"), gpu("h100-sxm"), hybrid_off("llama-4-scout", 131072, 4, 20 * GiB));
  REQUIRE(off.groups.size() == 1);
  // 20 GiB / (16,384 x 48 = 786,432 B) = 27,306 blocks; 8192 per request: 3.33x, 436,896 tokens.
  CHECK(off.num_blocks == 27306);
  CHECK(off.blocks_per_request == 8192);
  CHECK(off.kv_tokens == 436896);
}

TEST_CASE("a model of one kind is left as it is") {
  // vLLM's promotion needs full layers beside local ones: all-sliding Mistral-7B keeps its window.
  FitResult on = fit(model("mistral-7b-v0.1"), gpu("h100-sxm"), request_for(model("mistral-7b-v0.1"), 32768));
  FitResult off = fit(model("mistral-7b-v0.1"), gpu("h100-sxm"), [] {
    FitRequest request = request_for(model("mistral-7b-v0.1"), 32768);
    request.options.hybrid_allocator = false;
    return request;
  }());
  CHECK(off.blocks_per_request == on.blocks_per_request);
  CHECK(off.kv_tokens == on.kv_tokens);
}

TEST_CASE("what vLLM refuses, or kvplan does not plan, with the allocator off") {
  FitRequest state = request_for(model("qwen3-next-80b-a3b"), 32768);
  state.options.hybrid_allocator = false;
  CHECK_THROWS_WITH_AS(fit(model("qwen3-next-80b-a3b"), gpu("h200"), state),
                       doctest::Contains("vLLM needs the hybrid allocator for state layers"), Error);
  FitRequest v0 = request_for(model("gemma-2-9b"), 8192);
  v0.options.engine_version = "0.6";
  v0.options.hybrid_allocator = false;
  CHECK_THROWS_WITH_AS(fit(model("gemma-2-9b"), gpu("h100-sxm"), v0), doctest::Contains("(V0) has no hybrid allocator"),
                       Error);
}
