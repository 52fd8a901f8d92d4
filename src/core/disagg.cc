#include "core/disagg.h"

#include <algorithm>
#include <string>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {
namespace {

void check_pool(const FitRequest& request, const FitResult& fit, const char* flag) {
  if (request.parallel.pp > 1 || request.parallel.dcp > 1) {
    throw Error(std::string(flag) + ": kvplan plans disaggregation without pp or dcp (each stage and context rank "
                "reads its own slice); drop them");
  }
  // One KV-cache group of full attention (or MLA): the connectors then read every prompt block of
  // every layer. Sliding-window groups keep fewer blocks, state layers send a state instead.
  if (fit.groups.size() != 1 || fit.groups.front().attention != LayerAttention::full ||
      fit.state_bytes_per_rank.value != 0) {
    throw Error(std::string(flag) + ": kvplan plans the transfer for models whose every cached layer is full "
                "attention or MLA; this one has sliding-window or state layers (" +
                std::to_string(fit.groups.size()) + " KV-cache groups)");
  }
}

}  // namespace

KvTransfer plan_kv_transfer(std::uint64_t isl, const FitRequest& prefill_request,
                            const FitResult& prefill_fit, const FitRequest& decode_request, const FitResult& decode_fit) {
  check_pool(prefill_request, prefill_fit, "--prefill");
  check_pool(decode_request, decode_fit, "--decode");
  if (prefill_fit.kv_cache_dtype != decode_fit.kv_cache_dtype) {
    throw Error("--decode: both sides must cache the same layout (the connectors copy bytes, they do not convert)");
  }
  if (decode_fit.indexer_page_bytes.value > 0) {
    throw Error("disagg: the model caches indexer keys on some layers only (index_topk_freq / index_topk_pattern), so "
                "its layers' bytes differ, which kvplan's KV transfer layout does not model");
  }
  KvTransfer t;
  t.prompt_tokens = isl;
  t.prefill_tp = prefill_request.parallel.tp;
  t.decode_tp = decode_request.parallel.tp;
  t.mla = decode_request.variant.kind == VariantKind::mla;
  t.kv_heads = decode_request.variant.kv_heads;
  t.decode_heads_per_rank = decode_fit.kv_heads_per_rank;
  t.heads_replicated = !t.mla && t.decode_tp > t.kv_heads;
  // TransferTopology.tp_ratio: one TP must divide the other.
  const std::uint32_t low = std::min(t.prefill_tp, t.decode_tp);
  const std::uint32_t high = std::max(t.prefill_tp, t.decode_tp);
  if (high % low != 0) {
    throw Error("--decode: prefill TP " + std::to_string(t.prefill_tp) + " and decode TP " + std::to_string(t.decode_tp) +
                " do not divide one another, which vLLM's NIXL connector and SGLang require");
  }
  // NixlBaseConnectorWorker._validate_remote_agent_handshake: a prefill whose K/V heads are replicated
  // (prefill TP > heads) cannot feed a smaller decode TP.
  if (!t.mla && t.prefill_tp > t.decode_tp && t.prefill_tp > t.kv_heads) {
    throw Error("--prefill: prefill TP " + std::to_string(t.prefill_tp) + " above both the decode TP " +
                std::to_string(t.decode_tp) + " and the model's " + std::to_string(t.kv_heads) +
                " K/V heads (replicated prefill heads) is refused by vLLM's NIXL connector");
  }
  // TransferTopology.block_size_ratio: the decode block is a whole number of prefill blocks, and
  // the read goes at the prefill block's granularity.
  t.prefill_block = prefill_fit.block_size;
  t.decode_block = decode_fit.block_size;
  if (t.decode_block % t.prefill_block != 0) {
    throw Error("--decode: decode block of " + std::to_string(t.decode_block) + " tokens is not a multiple of the prefill "
                "block of " + std::to_string(t.prefill_block) + " tokens, which vLLM's NIXL connector refuses");
  }
  t.blocks = ceil_div(isl, t.prefill_block);
  t.layers = decode_fit.stage_layers.front();
  // Each decode rank reads its own heads (or the whole latent) of every block of every layer.
  t.rank_bytes_per_token_layer = decode_fit.token_layer_per_rank.total();
  t.block_slice = Bytes{checked_mul(t.rank_bytes_per_token_layer, t.prefill_block, "disagg: block slice")};
  t.per_receiving_rank = Bytes{checked_mul(checked_mul(t.blocks, t.block_slice.value, "disagg: bytes per rank"), t.layers,
                                           "disagg: bytes per rank")};
  // compute_tp_mapping: MLA, or decode TP >= prefill TP, reads from one prefill rank
  // (decode rank x P / D); a larger prefill TP is read by P / D ranks each holding part of the heads.
  t.reads_per_decode_rank = (t.mla || t.decode_tp >= t.prefill_tp) ? 1 : t.prefill_tp / t.decode_tp;
  t.sending_ranks = t.mla ? low : t.prefill_tp;
  t.on_wire = Bytes{checked_mul(t.per_receiving_rank.value, t.decode_tp, "disagg: bytes on the wire")};
  t.per_sending_rank = Bytes{t.on_wire.value / t.sending_ranks};
  t.distinct_shares = t.mla ? 1 : std::min(t.decode_tp, t.kv_heads);
  t.one_copy = Bytes{checked_mul(t.per_receiving_rank.value, t.distinct_shares, "disagg: one copy")};
  t.extra_on_wire = Bytes{t.on_wire.value - t.one_copy.value};
  return t;
}

DisaggPlan plan_disagg(const ModelShape& shape, std::uint64_t isl, std::uint64_t osl, const DisaggPools& pools,
                       const Link& link) {
  DisaggPlan plan;
  plan.isl = isl;
  plan.osl = osl;
  plan.transfer = plan_kv_transfer(isl, pools.prefill_request, pools.prefill_fit, pools.decode_request,
                                   pools.decode_fit);
  plan.link = link;
  plan.receive_s = static_cast<double>(plan.transfer.per_receiving_rank.value) / link.bytes_per_s;
  plan.send_s = static_cast<double>(plan.transfer.per_sending_rank.value) / link.bytes_per_s;
  plan.transfer_s = std::max(plan.receive_s, plan.send_s);
  plan.link_requests_per_s = 1.0 / plan.transfer_s;

  const Parallelism& prefill = pools.prefill_request.parallel;
  plan.prefill = prefill_bound(shape, pools.prefill_request.variant, *pools.prefill_gpu, isl, prefill.tp,
                               "disagg: the prefill bound");
  plan.prefill_gpus_per_instance = prefill.tp;
  plan.prefill_instances = prefill.dp;
  plan.prefill_requests_per_s_per_gpu = 1.0 / (plan.prefill.seconds * prefill.tp);

  const Parallelism& decode = pools.decode_request.parallel;
  plan.decode = decode_bound(shape, *pools.decode_gpu, pools.decode_request, pools.decode_fit, std::nullopt);
  plan.decode_hbm_bytes_per_s = pools.decode_gpu->hbm_bandwidth_bytes_per_s;
  plan.decode_concurrency = plan.decode.batch;
  plan.decode_gpus_per_instance = decode.tp;
  plan.decode_instances = decode.dp;
  // Each request holds its slot for OSL steps: the pool finishes batch / (OSL x step) requests per second.
  plan.decode_requests_per_s_per_instance =
      static_cast<double>(plan.decode_concurrency) / (static_cast<double>(osl) * plan.decode.step_seconds);
  plan.decode_requests_per_s_per_gpu = plan.decode_requests_per_s_per_instance / decode.tp;
  plan.prefill_gpus_per_decode_gpu = plan.decode_requests_per_s_per_gpu / plan.prefill_requests_per_s_per_gpu;
  return plan;
}

}  // namespace kvplan
