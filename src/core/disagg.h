// `kvplan disagg`: disaggregated prefill/decode. A prefill instance computes a prompt's KV, the
// decode instance reads it over the network (vLLM 0.33's NIXL connector, SGLang 0.5.23's
// disaggregation), then generates. How many bytes move per request on each rank, how long that
// takes, a bound on the prefill time, the decode pool's concurrency and step time from `fit`, and
// the prefill:decode GPU ratio that balances the two. docs/engines.md ("Disaggregated
// prefill/decode") cites every rule.
#pragma once

#include <cstdint>

#include "core/capacity.h"
#include "core/fleet.h"
#include "core/links.h"
#include "core/prefill_bound.h"

namespace kvplan {

// One request's prompt KV on its way from the prefill TP group to the decode TP group.
struct KvTransfer {
  std::uint64_t prompt_tokens = 0;      // ISL: every prompt token's KV moves
  std::uint32_t prefill_tp = 1;
  std::uint32_t decode_tp = 1;
  bool mla = false;                     // one latent per token, replicated on every rank
  std::uint32_t kv_heads = 0;           // the model's K/V heads (0 for MLA)
  std::uint32_t decode_heads_per_rank = 0;
  bool heads_replicated = false;        // decode TP > K/V heads: ranks hold copies of a head
  std::uint32_t prefill_block = 0;      // tokens per block on each side
  std::uint32_t decode_block = 0;
  std::uint64_t blocks = 0;             // ceil(ISL / prefill block): whole blocks are read
  std::uint32_t layers = 0;
  std::uint64_t rank_bytes_per_token_layer = 0;  // a decode rank's share of one token, one layer
  Bytes block_slice;                    // prefill block x that: one read of one layer
  Bytes per_receiving_rank;             // blocks x slice x layers
  std::uint32_t reads_per_decode_rank = 1;  // prefill ranks each decode rank reads from
  std::uint32_t sending_ranks = 0;      // prefill ranks that are read from
  Bytes on_wire;                        // per receiving rank x decode TP
  Bytes per_sending_rank;               // on the wire / sending ranks
  std::uint32_t distinct_shares = 1;    // 1 for MLA, min(decode TP, K/V heads) otherwise
  Bytes one_copy;                       // per receiving rank x distinct shares: the KV once
  Bytes extra_on_wire;                  // on the wire - one copy (the replication's cost)
};

// The plan for one ISL.
struct DisaggPlan {
  std::uint64_t isl = 0;
  std::uint64_t osl = 0;
  KvTransfer transfer;
  Link link;
  double receive_s = 0;                 // per receiving rank / link: each rank its own NIC
  double send_s = 0;                    // per sending rank / link
  double transfer_s = 0;                // the slower end
  double link_requests_per_s = 0;       // 1 / transfer time, one request at a time per link
  PrefillBound prefill;                 // one prompt on one prefill instance
  std::uint32_t prefill_gpus_per_instance = 0;
  std::uint32_t prefill_instances = 0;
  double prefill_requests_per_s_per_gpu = 0;   // 1 / (prefill s x GPUs per instance), an upper bound
  DecodeBound decode;                   // fit's decode bound at ctx = ISL + OSL
  double decode_hbm_bytes_per_s = 0;    // the decode GPU's datasheet HBM bandwidth, which bounds the step
  std::uint64_t decode_concurrency = 0; // requests per decode instance (fit)
  std::uint32_t decode_gpus_per_instance = 0;
  std::uint32_t decode_instances = 0;
  double decode_requests_per_s_per_instance = 0;  // concurrency / (OSL x step s)
  double decode_requests_per_s_per_gpu = 0;
  double prefill_gpus_per_decode_gpu = 0;  // decode req/s per GPU / prefill req/s per GPU
};

// The fits of both pools (ctx = ISL + OSL each) come from fit(). Throws kvplan::Error (exit 2)
// for what the connectors refuse or kvplan does not plan: PP or DCP on either side, a KV cache of
// more than one full-attention group (sliding windows, state layers), TPs that do not divide one
// another, a decode block not a multiple of the prefill block, a prefill TP above both the
// decode TP and the K/V heads (non-MLA), a different cache layout on the two sides.
KvTransfer plan_kv_transfer(std::uint64_t isl, const FitRequest& prefill_request,
                            const FitResult& prefill_fit, const FitRequest& decode_request, const FitResult& decode_fit);

struct DisaggPools {
  const GpuSpec* prefill_gpu = nullptr;
  FitRequest prefill_request;
  FitResult prefill_fit;
  const GpuSpec* decode_gpu = nullptr;
  FitRequest decode_request;
  FitResult decode_fit;
};

DisaggPlan plan_disagg(const ModelShape& shape, std::uint64_t isl, std::uint64_t osl, const DisaggPools& pools,
                       const Link& link);

}  // namespace kvplan
