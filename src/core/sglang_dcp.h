// --dcp-size (decode context parallelism) as SGLang 0.5.23 plans it (docs/engines-sglang.md): each
// DCP rank stores 1/dcp of every sequence's tokens in a pool of per-rank rows, and a group's ranks
// keep the same K/V heads (configs/model_config.py:get_num_kv_heads shards them over attention
// TP / dcp). kvplan models it for one attention pool of MHA/GQA or dense MLA layers, without drafts.
#pragma once

#include <cstdint>

#include "core/capacity.h"

namespace kvplan::detail {

// Throws kvplan::Error for a DCP request kvplan does not plan or SGLang would corrupt: DP attention,
// the hybrid SWA pool, state pools or drafts beside it, a size that does not divide the attention
// TP, GQA heads above TP / dcp.
void check_sglang_dcp(const ModelShape& shape, const FitRequest& request, std::uint32_t attn_dp_size, bool hybrid_swa_pool,
                      bool speculative);

}  // namespace kvplan::detail
