// vLLM (v1 engine) start-up accounting: gpu_worker.determine_available_memory for the budget,
// kv_cache_interface page sizes, kv_cache_utils groups, blocks and the two log lines.
#include <algorithm>
#include <cmath>

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_internal.h"

namespace kvplan::detail {
namespace {

constexpr double kDefaultMemUtil = 0.92;  // vLLM >= 0.21 (0.9 before; --mem-util 0.9 for those)

// vLLM's KV cache groups for one stage: one group per attention type when only one type exists;
// for hybrid models, groups of min(#layers per type) layers (or the max, if it is < 1.5x the
// min, accepting padding), ceil(n / group_size) groups per type.
std::vector<KvGroup> vllm_groups(const StageLayers& stage, const ModelShape& shape, std::uint32_t block_size,
                                 std::uint64_t max_model_len, std::uint64_t max_num_batched_tokens,
                                 std::uint32_t* group_size) {
  const std::uint32_t full = stage.full + stage.mtp;
  const std::uint32_t sliding = stage.sliding;
  auto blocks_for = [&](LayerAttention attention) {
    if (attention == LayerAttention::full) return ceil_div(max_model_len, block_size);
    // A sliding layer keeps the window plus the tokens of one scheduler step, and one block more
    // for a window that straddles a block boundary.
    std::uint64_t tokens = std::min(*shape.sliding_window - 1 + max_num_batched_tokens, max_model_len);
    return ceil_div(tokens, block_size) + 1;
  };
  std::vector<KvGroup> groups;
  if (full == 0 || sliding == 0) {
    LayerAttention only = full > 0 ? LayerAttention::full : LayerAttention::sliding;
    *group_size = full + sliding;
    groups.push_back({only, *group_size, blocks_for(only)});
    return groups;
  }
  std::uint32_t smallest = std::min(full, sliding), largest = std::max(full, sliding);
  *group_size = largest < 1.5 * smallest ? largest : smallest;
  for (auto [attention, count] : {std::pair{LayerAttention::full, full}, std::pair{LayerAttention::sliding, sliding}}) {
    for (std::uint64_t g = 0; g < ceil_div(count, *group_size); ++g) {
      groups.push_back({attention, *group_size, blocks_for(attention)});
    }
  }
  return groups;
}

std::uint64_t blocks_per_request(const std::vector<KvGroup>& groups) {
  std::uint64_t total = 0;
  for (const KvGroup& group : groups) total += group.blocks_per_request;
  return total;
}

}  // namespace

FitResult fit_vllm(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const EngineOptions& options = request.options;
  const Parallelism& parallel = request.parallel;
  const bool mla = request.variant.kind == VariantKind::mla;
  FitResult result;
  result.engine = Engine::vllm;
  result.mem_util = options.mem_util.value_or(kDefaultMemUtil);
  // FlashMLA needs blocks of 64 tokens; on Blackwell vLLM picks CUTLASS MLA with 128.
  const std::uint32_t mla_block = gpu.architecture == GpuArchitecture::blackwell ? 128 : 64;
  result.block_size = options.block_size.value_or(mla ? mla_block : 16);
  result.max_num_batched_tokens = options.max_num_batched_tokens.value_or(default_max_num_batched_tokens(gpu));
  const std::uint64_t max_model_len = request.max_model_len.value;

  // The budget of one GPU.
  const Bytes total = gpu.memory_total;
  const Bytes weights = weights_per_rank(shape, request.weight_bytes_per_param, parallel);
  const std::string weights_line = weights_rule(shape, request);
  result.budget.push_back({"total memory (CUDA)", total, gpu.device_name + ", as torch.cuda.mem_get_info reports it", ' '});
  if (options.kv_cache_memory) {
    result.kv_budget = *options.kv_cache_memory;
    // Not a subtraction: the KV memory is given, the weights are listed to check they fit beside it.
    result.budget.push_back({"weights", weights, weights_line, ' '});
    result.budget.push_back({"KV cache memory", result.kv_budget,
                             "--kv-cache-memory (vLLM's kv_cache_memory_bytes): gpu_memory_utilization is ignored", ' '});
    if (weights.value + result.kv_budget.value > total.value) {
      throw Error("--kv-cache-memory " + gib_text(result.kv_budget) + " plus " + gib_text(weights) +
                  " of weights exceed the GPU's " + gib_text(total));
    }
  } else {
    const Bytes requested{static_cast<std::uint64_t>(std::ceil(static_cast<double>(total.value) * result.mem_util))};
    result.budget.push_back({"x gpu_memory_utilization", requested,
                             "ceil(" + gib_text(total) + " x " + fmt_double(result.mem_util, 2) + ")" +
                                 (options.mem_util ? "" : "; 0.92 is vLLM >= 0.21's default (0.90 before)"),
                             '='});
    check_weights_fit(requested, weights, "that vLLM may use (total x gpu_memory_utilization)");
    result.budget.push_back({"weights", weights, weights_line, '-'});
    const Bytes reserve = add_reserve_lines(shape, request, result.max_num_batched_tokens, default_max_num_seqs(gpu), result);
    const std::uint64_t used = weights.value + reserve.value;
    if (used >= requested.value) {
      throw Error("no memory left for the KV cache: weights " + gib_text(weights) + " + activations and overheads " +
                  gib_text(reserve) + " exceed the " + gib_text(requested) + " vLLM may use by " +
                  gib_text(Bytes{used - requested.value}) + "; raise --mem-util, use more GPUs (--tp/--pp) or a larger GPU");
    }
    result.kv_budget = Bytes{requested.value - used};
    result.budget.push_back({"KV cache memory", result.kv_budget, "vLLM logs it as 'Available KV cache memory'", '='});
  }

  // Bytes per token per layer on one rank, and the page of one block.
  set_per_rank_cache(request, result);
  result.page_bytes = Bytes{checked_mul(result.block_size, result.token_layer_per_rank.total(), "page size")};

  // Blocks per stage; the engine keeps the smallest count over all ranks.
  std::vector<StageLayers> stages = split_stages(shape, parallel.pp, request.include_mtp);
  result.num_blocks = ~0ull;
  for (std::uint32_t stage = 0; stage < stages.size(); ++stage) {
    result.stage_layers.push_back(stages[stage].total());
    std::uint32_t group_size = 0;
    std::vector<KvGroup> groups = vllm_groups(stages[stage], shape, result.block_size, max_model_len,
                                              result.max_num_batched_tokens, &group_size);
    std::uint64_t blocks = result.kv_budget.value / result.page_bytes.value / group_size;
    if (blocks < result.num_blocks) {
      result.num_blocks = blocks;
      result.binding_stage = stage;
      result.groups = groups;
      result.group_size = group_size;
    }
  }
  result.blocks_per_request = blocks_per_request(result.groups);
  const std::uint64_t bytes_per_block = result.page_bytes.value * result.group_size;
  result.bytes_per_request_per_rank = Bytes{checked_mul(bytes_per_block, result.blocks_per_request, "bytes per request")};
  if (result.bytes_per_request_per_rank.value > result.kv_budget.value) {
    // The longest context that would fit, as vLLM's error suggests.
    std::uint64_t low = 0, high = max_model_len;
    while (low < high) {
      std::uint64_t mid = (low + high + 1) / 2;
      std::uint32_t size = 0;
      auto groups = vllm_groups(stages[result.binding_stage], shape, result.block_size, mid, result.max_num_batched_tokens, &size);
      if (bytes_per_block * blocks_per_request(groups) <= result.kv_budget.value) low = mid;
      else high = mid - 1;
    }
    throw Error("not even one request of " + std::to_string(max_model_len) + " tokens fits: it needs " +
                gib_text(result.bytes_per_request_per_rank) + " of KV cache per GPU, " + gib_text(result.kv_budget) +
                " is available (" + gib_text(Bytes{result.bytes_per_request_per_rank.value - result.kv_budget.value}) +
                " missing); the longest context that fits is " + std::to_string(low) +
                " tokens. Lower --ctx, raise --mem-util, use more GPUs or a smaller --kv-dtype");
  }
  result.max_concurrency = static_cast<double>(result.num_blocks) / static_cast<double>(result.blocks_per_request);
  result.kv_tokens = result.num_blocks / result.groups.size() * result.block_size;
  result.kv_tokens_combined = static_cast<std::uint64_t>(result.max_concurrency * static_cast<double>(max_model_len));
  result.requests_per_replica = static_cast<std::uint64_t>(std::floor(result.max_concurrency));
  result.fleet_requests = result.requests_per_replica * parallel.dp;
  if (result.groups.size() > 1) {
    result.notes.push_back("hybrid model: " + std::to_string(result.groups.size()) + " KV cache groups of " +
                           std::to_string(result.group_size) +
                           " layers share the block pool, as vLLM's hybrid allocator groups them");
  }
  return result;
}

}  // namespace kvplan::detail
