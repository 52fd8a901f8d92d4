// Disaggregated prefill/decode (kvplan disagg): the KV one request moves per rank, with the
// re-sharding rules of vLLM 0.33's NIXL connector (nixl/tp_mapping.py:compute_tp_mapping,
// base_worker.py:_build_fa_remote), the transfer time, the prefill bound and the P:D ratio. Each
// expected number is arithmetic written out here. The reads per decode rank and the sending prefill
// ranks of every case were also checked against vLLM 0.33.0's own compute_tp_mapping, run on CPU
// (tools/vllm-oracle/oracle_nixl_tp.py: MLA 8 -> 8 reads rank r, 8 -> 2 reads ranks 0 and 4; 8 heads
// 2 -> 8 reads rank r // 4, 8 -> 2 reads 4 ranks each, 2 -> 16 reads rank r // 8, two ranks per head).
#include <doctest/doctest.h>

#include "core/disagg.h"
#include "core/error.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

FitRequest pool_request(const char* name, std::uint32_t tp, std::uint64_t ctx, double weight_bytes) {
  FitRequest request = request_for(model(name), ctx, Parallelism{tp, 1, 1});
  request.weight_bytes_per_param = weight_bytes;
  return request;
}

DisaggPools pools_for(const char* name, std::uint32_t prefill_tp, std::uint32_t decode_tp, std::uint64_t ctx,
                      double weight_bytes) {
  DisaggPools pools;
  pools.prefill_gpu = &gpu("h200");
  pools.prefill_request = pool_request(name, prefill_tp, ctx, weight_bytes);
  pools.prefill_fit = fit(model(name), gpu("h200"), pools.prefill_request);
  pools.decode_gpu = &gpu("h200");
  pools.decode_request = pool_request(name, decode_tp, ctx, weight_bytes);
  pools.decode_fit = fit(model(name), gpu("h200"), pools.decode_request);
  return pools;
}

KvTransfer transfer_for(const char* name, std::uint32_t prefill_tp, std::uint32_t decode_tp, std::uint64_t isl) {
  const DisaggPools pools = pools_for(name, prefill_tp, decode_tp, isl + 1024, 1);
  return plan_kv_transfer(isl, pools.prefill_request, pools.prefill_fit, pools.decode_request,
                          pools.decode_fit);
}

}  // namespace

TEST_CASE("deepseek-v3, prefill TP 8 -> decode TP 8, ISL 8k: the latent is read whole by every decode rank") {
  const DisaggPools pools = pools_for("deepseek-v3", 8, 8, 8192 + 1024, 1);
  const DisaggPlan plan = plan_disagg(model("deepseek-v3"), 8192, 1024, pools, parse_link("ib-400g", LinkUse::network));
  const KvTransfer& t = plan.transfer;
  CHECK(t.mla);
  // The latent: (kv_lora_rank 512 + qk_rope_head_dim 64) x 2 bytes (bf16) = 1152 B per token per layer,
  // on every rank. vLLM 0.33 on Hopper picks FLASH_ATTN_MLA for a bf16 cache: blocks of 16 tokens
  // on both sides.
  CHECK(t.rank_bytes_per_token_layer == 1152);
  CHECK(t.prefill_block == 16);
  CHECK(t.decode_block == 16);
  // 8192 / 16 = 512 blocks x 16 tokens x 1152 B x 61 layers = 575,668,224 B per decode rank.
  CHECK(t.blocks == 512);
  CHECK(t.layers == 61);
  CHECK(t.per_receiving_rank.value == 575668224);
  // Every one of the 8 decode ranks reads a full copy from prefill rank r x 8 / 8 = r.
  CHECK(t.reads_per_decode_rank == 1);
  CHECK(t.sending_ranks == 8);
  CHECK(t.on_wire.value == 8ull * 575668224);
  CHECK(t.per_sending_rank.value == 575668224);
  CHECK(t.one_copy.value == 575668224);
  CHECK(t.extra_on_wire.value == 7ull * 575668224);
  // Over 400 Gb/s = 50e9 B/s per rank.
  CHECK(plan.link.bytes_per_s == doctest::Approx(50e9));
  CHECK(plan.transfer_s == doctest::Approx(575668224.0 / 50e9));
  CHECK(plan.link_requests_per_s == doctest::Approx(50e9 / 575668224.0));
  // Prefill bound: N = 37e9 active - 129280 x 7168 x 2 (embedding and untied head) = 35,146,641,920;
  // attention 61 layers x 128 heads x (192 + 128) = 2,498,560 FLOPs per token^2; peak 989.4 TFLOP/s x 8.
  CHECK(plan.prefill.matmul_params == 35146641920);
  CHECK(plan.prefill.attention_flops_per_token2 == doctest::Approx(2498560.0));
  const double prefill_flops = 2.0 * 35146641920.0 * 8192 + 2498560.0 * 8192.0 * 8192.0;
  const double prefill_s = prefill_flops / (989.4e12 * 8);
  CHECK(plan.prefill.seconds == doctest::Approx(prefill_s));
  CHECK(plan.prefill_requests_per_s_per_gpu == doctest::Approx(1 / (prefill_s * 8)));
  // Decode at ctx 9216: 576 blocks x 16 x 1152 x 61 = 647,626,752 B per request per rank; each step
  // reads 37e9 x 1 B / 8 of weights and that for every request of fit's batch, at 4.8 TB/s.
  CHECK(pools.decode_fit.bytes_per_request_per_rank.value == 647626752);
  const std::uint64_t batch = pools.decode_fit.requests_per_replica;
  CHECK(plan.decode_concurrency == batch);
  const double step = (37e9 / 8 + 647626752.0 * static_cast<double>(batch)) / 4.8e12;
  CHECK(plan.decode.step_seconds == doctest::Approx(step));
  const double decode_per_gpu = static_cast<double>(batch) / (1024 * step) / 8;
  CHECK(plan.decode_requests_per_s_per_gpu == doctest::Approx(decode_per_gpu));
  CHECK(plan.prefill_gpus_per_decode_gpu == doctest::Approx(decode_per_gpu * prefill_s * 8));
}

TEST_CASE("a prompt that ends inside a block moves the whole block") {
  // ceil(8100 / 16) = 507 blocks = 8112 tokens x 1152 B x 61 layers.
  const KvTransfer t = transfer_for("deepseek-v3", 8, 8, 8100);
  CHECK(t.blocks == 507);
  CHECK(t.per_receiving_rank.value == 8112ull * 1152 * 61);
}

TEST_CASE("deepseek-v2-lite, prefill TP 8 -> decode TP 2: only two prefill ranks send, one latent each") {
  // The same 1152 B latent per token per layer, 27 layers: 8192 x 1152 x 27 = 254,803,968 B per decode
  // rank. Decode rank r reads from prefill rank r x 8 / 2, so prefill ranks 0 and 4 send.
  const KvTransfer t = transfer_for("deepseek-v2-lite", 8, 2, 8192);
  CHECK(t.per_receiving_rank.value == 254803968);
  CHECK(t.reads_per_decode_rank == 1);
  CHECK(t.sending_ranks == 2);
  CHECK(t.on_wire.value == 2ull * 254803968);
  CHECK(t.per_sending_rank.value == 254803968);
  CHECK(t.extra_on_wire.value == 254803968);
}

TEST_CASE("llama-3.1-70b, prefill TP 2 -> decode TP 8: 8 K/V heads regroup, one per decode rank") {
  const KvTransfer t = transfer_for("llama-3.1-70b", 2, 8, 4096);
  CHECK_FALSE(t.mla);
  CHECK_FALSE(t.heads_replicated);
  // One head per decode rank: K and V x 128 x 2 B = 512 B per token per layer; blocks of 16.
  CHECK(t.decode_heads_per_rank == 1);
  CHECK(t.rank_bytes_per_token_layer == 512);
  CHECK(t.prefill_block == 16);
  // 4096 / 16 = 256 blocks x 16 x 512 B x 80 layers = 167,772,160 B per decode rank.
  CHECK(t.blocks == 256);
  CHECK(t.per_receiving_rank.value == 167772160);
  // The wire carries the model's KV once: 4096 tokens x 8 heads x 128 x 2 x 2 B x 80 = 1,342,177,280 B.
  CHECK(t.on_wire.value == 1342177280);
  CHECK(t.one_copy.value == 1342177280);
  CHECK(t.extra_on_wire.value == 0);
  // Decode rank r reads from prefill rank r x 2 / 8; each of the 2 prefill ranks sends 4 heads' worth.
  CHECK(t.reads_per_decode_rank == 1);
  CHECK(t.sending_ranks == 2);
  CHECK(t.per_sending_rank.value == 671088640);
}

TEST_CASE("llama-3.1-70b, prefill TP 8 -> decode TP 2: each decode rank gathers its 4 heads from 4 prefill ranks") {
  const KvTransfer t = transfer_for("llama-3.1-70b", 8, 2, 4096);
  // 4 heads x 2 x 128 x 2 B = 2048 B per token per layer: 256 x 16 x 2048 x 80 = 671,088,640 B.
  CHECK(t.decode_heads_per_rank == 4);
  CHECK(t.rank_bytes_per_token_layer == 2048);
  CHECK(t.per_receiving_rank.value == 671088640);
  CHECK(t.reads_per_decode_rank == 4);
  CHECK(t.sending_ranks == 8);
  CHECK(t.on_wire.value == 1342177280);
  CHECK(t.per_sending_rank.value == 167772160);
  CHECK(t.extra_on_wire.value == 0);
}

TEST_CASE("llama-3.1-70b, decode TP 16 > 8 K/V heads: each head is read twice") {
  const KvTransfer t = transfer_for("llama-3.1-70b", 2, 16, 4096);
  CHECK(t.heads_replicated);
  CHECK(t.per_receiving_rank.value == 167772160);
  CHECK(t.on_wire.value == 16ull * 167772160);
  CHECK(t.one_copy.value == 8ull * 167772160);
  CHECK(t.extra_on_wire.value == 8ull * 167772160);
  CHECK(t.per_sending_rank.value == 8ull * 167772160);
}

TEST_CASE("what the connectors refuse, and what kvplan does not plan") {
  // Prefill TP 16 above decode TP 8 and above the 8 K/V heads: replicated prefill heads.
  CHECK_THROWS_WITH_AS(transfer_for("llama-3.1-70b", 16, 8, 4096),
                       doctest::Contains("--prefill: prefill TP 16 above both the decode TP 8"), Error);
  // Sliding-window layers keep fewer blocks than the prompt.
  CHECK_THROWS_WITH_AS(transfer_for("gemma-2-27b", 2, 2, 4096), doctest::Contains("sliding-window or state layers"), Error);
}

TEST_CASE("one link table: network links for disagg, host links for offloading") {
  CHECK(parse_link("nvlink", LinkUse::network).bytes_per_s == doctest::Approx(450e9));
  CHECK(parse_link("ib-400g", LinkUse::network).bytes_per_s == doctest::Approx(50e9));
  CHECK(parse_link("roce-200g", LinkUse::network).bytes_per_s == doctest::Approx(25e9));
  CHECK(parse_link("12.5GBps", LinkUse::network).bytes_per_s == doctest::Approx(12.5e9));
  CHECK_THROWS_WITH_AS(parse_link("pcie5", LinkUse::network),
                       doctest::Contains("--link: expected nvlink, ib-400g, roce-200g, or a bandwidth"), Error);
  CHECK_THROWS_AS(parse_link("ib-400g", LinkUse::host), Error);
  CHECK_THROWS_AS(parse_link("-5GBps", LinkUse::network), Error);
}
