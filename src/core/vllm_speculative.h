// vLLM 0.33's speculative decoding in fit (docs/engines.md, "Speculative decoding"): which plans
// kvplan follows, and the draft's weights as a budget line.
#pragma once

#include "core/capacity.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// Throws kvplan::Error (exit 2) for what kvplan does not plan: another vLLM release, PP (the
// drafter loads its own embedding on the last stage), a counterfactual variant (it would change
// the target's pages but not the draft's), a k out of range.
void check_vllm_speculative(const VllmRules& rules, const ModelShape& shape, const FitRequest& request);

// The draft's weights on each rank of the last stage: its parameters in the model's dtype (2 B:
// vLLM builds the draft with the target's dtype and the draft's own quantization, none here).
Bytes draft_weight_bytes(const FitRequest& request, std::string* rule);

// Adds the "draft weights" budget line of `stage` (nothing without a draft).
void add_draft_weights_line(const FitRequest& request, const StageBudget& stage, char sign, FitResult& result);

}  // namespace kvplan::detail
