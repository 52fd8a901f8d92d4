// The layer kinds vLLM 0.33 plans beside plain attention, as fit_vllm.cc applies them: sparse
// MLA (DeepSeek-V3.2's indexer and sparse backends) and state layers sharing the block pool
// (Mamba-2, Gated DeltaNet). docs/engines.md, "Sparse MLA" and "State layers".
#pragma once

#include <cstdint>

#include "core/capacity.h"
#include "core/vllm_backend.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// True when the model is sparse MLA; refuses what vLLM cannot serve (other releases, variants)
// and notes the indexer cache in `result`.
bool sparse_mla(const ModelShape& shape, const VllmRules& rules, const FitRequest& request, FitResult& result);

// State layers share the pool: the attention block grows until its page covers one sequence's
// state, which is padded to it (vllm_state.h). Sets the block size and returns the blocks each
// state group charges a request.
std::uint64_t align_state_layers(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                 const VllmRules& rules, const VllmBackend& backend, FitResult& result);

}  // namespace kvplan::detail
