#include "core/vllm_speculative.h"

#include "core/checked.h"
#include "core/error.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

void check_vllm_speculative(const VllmRules& rules, const ModelShape& shape, const FitRequest& request) {
  const SpeculativeDecoding& speculative = request.speculative;
  if (speculative.method == SpeculativeMethod::none) return;
  const std::string flag = "--speculative " + std::string(to_string(speculative.method));
  if (speculative.num_speculative_tokens == 0 || speculative.num_speculative_tokens > kMaxSpeculativeTokens) {
    throw Error("--num-speculative-tokens: " + std::to_string(speculative.num_speculative_tokens) +
                " is out of range; kvplan plans 1 to " + std::to_string(kMaxSpeculativeTokens) + " tokens per step");
  }
  if (!newest_vllm_release(rules.version)) {
    throw Error(flag + ": kvplan follows vLLM 0.33's speculative decoding only; plan it with --engine vllm (0.33)");
  }
  if (request.parallel.pp > 1) {
    throw Error(flag + ": kvplan does not plan speculative decoding with PP (vLLM loads the draft on the last "
                "stage with its own embedding); plan it with --pp 1");
  }
  if (speculative.draft) check_draft_fits_target(*speculative.draft, shape, speculative.draft_path + "/config.json");
  const Variant native = native_variant(shape);
  if (draft_cached_layers(speculative) > 0 &&
      (request.variant.kind != native.kind || request.variant.kv_heads != native.kv_heads ||
       request.variant.head_dim != native.head_dim)) {
    throw Error(flag + ": a counterfactual --variant changes the target's K/V pages but not the draft's; plan the "
                "draft with --variant native");
  }
}

Bytes draft_weight_bytes(const FitRequest& request, std::string* rule) {
  const DraftWeights weights = draft_weights_per_rank(request.speculative, request.parallel.tp);
  const std::uint64_t bytes = checked_add(checked_mul(weights.params_per_rank, 2, "the draft's weights"),
                                          weights.extra_bytes_per_rank, "the draft's weights");
  if (rule != nullptr) {
    *rule = std::to_string(weights.params_per_rank) + " params x 2 B (the model's dtype; the draft unquantized) = " +
            weights.rule;
  }
  return Bytes{bytes};
}

void add_draft_weights_line(const FitRequest& request, const StageBudget& stage, char sign, FitResult& result) {
  if (stage.draft_weights.value == 0) return;
  std::string rule;
  draft_weight_bytes(request, &rule);
  result.budget.push_back({"draft weights", stage.draft_weights, rule, sign});
}

}  // namespace kvplan::detail
