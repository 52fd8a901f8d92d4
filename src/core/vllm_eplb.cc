#include "core/vllm_eplb.h"

#include <cmath>

#include "core/checked.h"
#include "core/fit_internal.h"

namespace kvplan::detail {
namespace {

constexpr std::string_view kWhat = "EPLB state";

// eplb_state.py: MAX_EXPERT_REDUNDANCY 1023, so each logical expert has 1024 slots in the
// logical-to-physical map; EPLBConfig.window_size defaults to 1000 steps.
constexpr std::uint64_t kSlotsPerLogicalExpert = 1024;
constexpr std::uint64_t kLoadWindowSteps = 1000;

}  // namespace

double eplb_rank_expert_share(const ModelShape& shape, const Parallelism& parallel) {
  if (!parallel.eplb || !shape.moe || shape.moe->num_experts == 0) return 1.0 / parallel.expert_ranks();
  const std::uint64_t physical = std::uint64_t{shape.moe->num_experts} + parallel.redundant_experts;
  return static_cast<double>(ceil_div(physical, std::uint64_t{parallel.expert_ranks()})) / shape.moe->num_experts;
}

Bytes eplb_buffers(const ModelShape& shape, const FitRequest& request, std::string* rule) {
  const Parallelism& parallel = request.parallel;
  if (!parallel.eplb || !shape.moe || shape.moe->moe_layers == 0) return Bytes{0};
  const MoeDims& moe = *shape.moe;
  const std::uint64_t layers = moe.moe_layers;
  const std::uint64_t logical = moe.num_experts;
  const std::uint64_t physical = logical + parallel.redundant_experts;
  const std::uint64_t rank_experts = ceil_div(physical, std::uint64_t{parallel.expert_ranks()});
  // expert_buffer = [torch.empty_like(w) for w in model.expert_weights[0]]: one MoE layer's expert
  // tensors (weights and scales) as the rank holds them.
  const double layer_experts = request.routed_expert_bytes / static_cast<double>(layers) *
                               static_cast<double>(rank_experts) / static_cast<double>(logical);
  if (!(layer_experts < 0x1p63)) throw Error("the EPLB expert buffer does not fit in 64 bits");
  const auto buffer = static_cast<std::uint64_t>(std::ceil(layer_experts));
  // int32: the load window and the load pass; int64: the physical-to-logical map, the logical-to-physical
  // map with its 1024 slots per expert, the replica counts and the last load.
  const std::uint64_t window = checked_mul(checked_mul(kLoadWindowSteps, layers, kWhat), physical * 4, kWhat);
  const std::uint64_t maps = checked_mul(
      layers, checked_add(physical * 4 + physical * 8, logical * (kSlotsPerLogicalExpert + 2) * 8, kWhat), kWhat);
  const std::uint64_t total = checked_add(checked_add(buffer, window, kWhat), maps, kWhat);
  if (rule != nullptr) {
    *rule = "eplb_state.py:EplbState.add_model: expert buffer (one MoE layer's " + std::to_string(rank_experts) +
            " experts on this rank) " + std::to_string(buffer) + " B + load window 1000 steps x " +
            std::to_string(layers) + " MoE layers x " + std::to_string(physical) + " physical experts x 4 B = " +
            std::to_string(window) + " B + expert maps " + std::to_string(layers) + " x (" + std::to_string(physical) +
            " x 12 B + " + std::to_string(logical) + " x (1024 slots + 2) x 8 B) = " + std::to_string(maps) + " B";
  }
  return Bytes{total};
}

}  // namespace kvplan::detail
