// vLLM's decode context parallelism (--decode-context-parallel-size N): each group of N TP ranks
// spreads every request's cached tokens over its ranks, so a rank holds 1/N of them, including
// MLA's latent, which TP alone replicates on every rank. docs/engines.md, "Decode context
// parallel", cites each rule.
#pragma once

#include <string>

#include "core/capacity.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// What vLLM 0.33 refuses, or kvplan does not plan, with DCP > 1 (the checks that read the model's
// heads are check_decode_context_parallel's, and the backend's are choose_vllm_backend's). Throws
// kvplan::Error (exit 2) for a release whose DCP kvplan does not model, sliding-window layers,
// chunked local attention and state layers.
void check_vllm_dcp(const VllmRules& rules, const ModelShape& shape, const FitRequest& request);

// The --explain note: how the KV cache splits over the DCP group, with the model's values.
std::string vllm_dcp_note(const FitRequest& request, const FitResult& result);

}  // namespace kvplan::detail
