// What vLLM's worker subtracts besides the weights (gpu_worker.determine_available_memory): the
// torch peak of its profile run above the weights, and the memory outside PyTorch's allocator
// that appeared meanwhile. docs/engines.md ("Activation peak and non-torch memory") cites each rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/capacity.h"
#include "core/gpu_spec.h"
#include "core/model_shape.h"
#include "core/vllm_rules.h"

namespace kvplan::detail {

// One subtracted term with its rule, values substituted.
struct ProfileTerm {
  Bytes bytes;
  std::string rule;
};

// Where a PP stage sits: the first holds the embedding, the last the LM head and the sampler,
// every stage after the first receives the previous stage's hidden states and residual.
struct StagePlace {
  bool first = true;
  bool last = true;
};

// The torch peak of gpu_model_runner.profile_run on one rank of `stage`: a forward pass of
// max_num_batched_tokens tokens, then (last stage) the sampler on max_num_seqs requests.
ProfileTerm vllm_activation_peak(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                 std::uint64_t batched_tokens, std::uint64_t max_seqs, StagePlace place);

// The non-torch memory the profile adds, by how the ranks communicate (the release's table).
ProfileTerm vllm_non_torch(const VllmRules& rules, const Parallelism& parallel);

}  // namespace kvplan::detail
