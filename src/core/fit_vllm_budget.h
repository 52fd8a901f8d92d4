// vLLM's KV budget per PP stage and its --explain lines (fit_vllm_budget.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "core/capacity.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// KV memory of each stage into result.stages: given (--kv-cache-memory, one value or one per
// stage), or each stage's requested memory less its own weights, RoPE tables, draft weights,
// activations and non-torch memory. Throws kvplan::Error when a stage has nothing left.
void stage_budgets(const VllmRules& rules, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                   const std::vector<std::uint32_t>& layers_per_stage, FitResult& result);

// The budget lines of the binding stage, as vLLM's worker logs them.
void budget_lines(const VllmRules& rules, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                  FitResult& result);

}  // namespace kvplan::detail
