// vLLM's expert-parallel load balancer (--enable-eplb) on each rank: the redundant experts it places
// (expert_map_manager.py:determine_expert_map) and the state it keeps (distributed/eplb/eplb_state.py:
// EplbState.add_model), allocated while the model loads. docs/engines.md, "EPLB".
#pragma once

#include <string>

#include "core/capacity.h"

namespace kvplan::detail {

// The share of the routed experts on the rank that holds the most: 1 / (TP x DP) ranks, or with EPLB
// ceil((E + redundant) / EP) of the E experts (determine_expert_map gives the remainder to the first
// ranks, and the rank with the least memory sets everyone's KV cache).
double eplb_rank_expert_share(const ModelShape& shape, const Parallelism& parallel);

// EPLB's state on one rank: a buffer as large as one MoE layer's experts on the rank, the load window
// (1000 steps x MoE layers x physical experts, int32) and the expert maps. Zero without EPLB. `rule`
// receives the arithmetic.
Bytes eplb_buffers(const ModelShape& shape, const FitRequest& request, std::string* rule);

}  // namespace kvplan::detail
