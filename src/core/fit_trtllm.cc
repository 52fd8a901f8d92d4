// TensorRT-LLM (PyTorch backend) accounting: KvCacheCreator gives the KV cache
// free_gpu_memory_fraction (0.9) of the memory left after the weights and a profiling run, in
// blocks of tokens_per_block (32) tokens.
#include <cmath>

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_internal.h"

namespace kvplan::detail {

FitResult fit_trtllm(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const EngineOptions& options = request.options;
  const Parallelism& parallel = request.parallel;
  FitResult result;
  result.kv_cache_dtype = request.kv_dtype;
  result.engine = Engine::trtllm;
  result.mem_util = options.mem_util.value_or(0.9);
  result.block_size = options.block_size.value_or(32);
  result.max_num_batched_tokens = options.max_num_batched_tokens.value_or(8192);  // max_num_tokens
  const std::uint64_t max_model_len = request.max_model_len.value;

  const Bytes total = gpu.memory_total;
  const Bytes weights = weights_per_rank(shape, request);
  result.budget.push_back({"total memory (CUDA)", total, gpu.device_name, ' '});
  if (options.kv_cache_memory) {
    result.kv_budget = *options.kv_cache_memory;
    result.budget.push_back({"KV cache memory", result.kv_budget, "--kv-cache-memory", ' '});
  } else {
    check_weights_fit(total, weights, "of GPU memory");
    result.budget.push_back({"weights", weights, weights_rule(shape, request), '-'});
    const Bytes reserve = add_reserve_lines(shape, request, result.max_num_batched_tokens, 1, result);
    if (weights.value + reserve.value >= total.value) {
      throw Error("no memory left for the KV cache: weights and activations need " +
                  gib_text(Bytes{weights.value + reserve.value}) + " of the GPU's " + gib_text(total));
    }
    const Bytes free{total.value - weights.value - reserve.value};
    result.budget.push_back({"free after load", free, "what the profiling run leaves free", '='});
    result.kv_budget = Bytes{static_cast<std::uint64_t>(static_cast<double>(free.value) * result.mem_util)};
    result.budget.push_back({"x free_gpu_memory_fraction", result.kv_budget,
                             fmt_double(result.mem_util, 2) + " of the free memory (TRT-LLM's default 0.9)", '='});
  }

  set_per_rank_cache(request, result);
  std::vector<StageLayers> stages = split_stages(shape, parallel.pp, request.include_mtp);
  const std::uint32_t layers = fullest_stage(stages, result);
  const std::uint64_t per_token = checked_mul(result.token_layer_per_rank.total(), layers, "KV bytes per token");
  result.page_bytes = Bytes{checked_mul(result.token_layer_per_rank.total(), result.block_size, "block size")};
  result.group_size = layers;
  const std::uint64_t max_tokens = result.kv_budget.value / per_token;
  result.num_blocks = max_tokens / result.block_size;
  result.kv_tokens = result.num_blocks * result.block_size;
  result.kv_tokens_combined = max_tokens;
  result.blocks_per_request = ceil_div(max_model_len, result.block_size);
  result.groups.push_back({LayerAttention::full, layers, result.blocks_per_request});
  result.bytes_per_request_per_rank =
      Bytes{checked_mul(per_token, result.blocks_per_request * result.block_size, "bytes per request")};
  if (result.num_blocks < result.blocks_per_request) {
    throw Error("not even one request of " + std::to_string(max_model_len) + " tokens fits: the KV cache holds " +
                std::to_string(result.kv_tokens) + " tokens per GPU (" + gib_text(result.kv_budget) +
                "); lower --ctx, use more GPUs or a smaller --kv-dtype");
  }
  result.max_concurrency = static_cast<double>(result.num_blocks) / static_cast<double>(result.blocks_per_request);
  result.requests_per_replica = static_cast<std::uint64_t>(std::floor(result.max_concurrency));
  result.fleet_requests = result.requests_per_replica * parallel.dp;
  if (shape.sliding_layer_count() > 0) {
    result.notes.push_back("TensorRT-LLM keeps a pool per window size; kvplan counts sliding layers as full ones here "
                           "(an upper bound on their memory)");
  }
  return result;
}

}  // namespace kvplan::detail
