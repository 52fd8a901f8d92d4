// SGLang start-up accounting: server_args._handle_gpu_memory_settings picks mem_fraction_static
// from the GPU size; model_runner.profile_max_num_token turns what is left after the weights
// into a token pool of cell_size bytes per token (page size 1).
#include <algorithm>
#include <cmath>

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_internal.h"

namespace kvplan::detail {
namespace {

// SGLang's default mem_fraction_static: the GPU's memory (MB) less a reserve for activations,
// CUDA graphs and NCCL that grows with the chunked-prefill size and the CUDA-graph batch size.
double default_mem_fraction(double gpu_mem_mb, const Parallelism& parallel, std::string* rule) {
  struct Tier {
    double below_mb;
    double chunked_prefill;
    double graph_bs_small_tp, graph_bs_large_tp;  // TP < 4, TP >= 4
  };
  static constexpr Tier tiers[] = {
      {20 * 1024, 2048, 8, 8},       {35 * 1024, 2048, 24, 80},   {60 * 1024, 4096, 32, 160},
      {90 * 1024, 8192, 256, 512},   {160 * 1024, 8192, 256, 512}, {1e300, 16384, 512, 512},
  };
  const Tier* tier = &tiers[0];
  while (gpu_mem_mb >= tier->below_mb) ++tier;
  double graph_bs = parallel.tp < 4 ? tier->graph_bs_small_tp : tier->graph_bs_large_tp;
  double reserved = 512 + std::max(tier->chunked_prefill, 2048.0) * 1.5 + graph_bs * 2 +
                    parallel.tp * parallel.pp / 8.0 * 1024;
  if (gpu_mem_mb > 60 * 1024) reserved = std::max(reserved, 10.0 * 1024);
  double fraction = std::round((gpu_mem_mb - reserved) / gpu_mem_mb * 1000) / 1000;
  *rule = "round((" + fmt_double(gpu_mem_mb, 0) + " MB - " + fmt_double(reserved, 0) + " MB reserved) / " +
          fmt_double(gpu_mem_mb, 0) + " MB, 3); reserved = 512 + 1.5 x chunked_prefill " +
          fmt_double(tier->chunked_prefill, 0) + " + 2 x cuda_graph_max_bs " + fmt_double(graph_bs, 0) +
          " + TP x PP / 8 x 1024" + (gpu_mem_mb > 60 * 1024 ? ", at least 10240 MB above 60 GB" : "");
  return fraction;
}

}  // namespace

FitResult fit_sglang(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const EngineOptions& options = request.options;
  const Parallelism& parallel = request.parallel;
  const bool mla = request.variant.kind == VariantKind::mla;
  if (options.dp_attention && !mla) {
    throw Error("--dp-attention applies to MLA models (SGLang shards requests across the ranks' replicated latent "
                "caches); " + request.variant.name() + " is not MLA");
  }
  FitResult result;
  result.engine = Engine::sglang;
  result.block_size = options.block_size.value_or(1);  // SGLang's default page size is one token
  const std::uint64_t max_model_len = request.max_model_len.value;

  const Bytes total = gpu.memory_total;
  std::string fraction_rule = "--mem-util";
  const double gpu_mem_mb = static_cast<double>(total.value) / static_cast<double>(kMiB);
  result.mem_util = options.mem_util ? *options.mem_util : default_mem_fraction(gpu_mem_mb, parallel, &fraction_rule);
  const Bytes weights = weights_per_rank(shape, request.weight_bytes_per_param, parallel);
  result.budget.push_back({"total memory (CUDA)", total,
                           gpu.device_name + "; SGLang measures the free memory before loading, a few hundred MiB "
                                             "less in practice",
                           ' '});
  if (options.kv_cache_memory) {
    result.kv_budget = *options.kv_cache_memory;
    result.budget.push_back({"KV cache memory", result.kv_budget, "--kv-cache-memory", ' '});
  } else {
    const Bytes pool{static_cast<std::uint64_t>(static_cast<double>(total.value) * result.mem_util)};
    result.budget.push_back({"x mem_fraction_static " + fmt_double(result.mem_util, 3), pool, fraction_rule, '='});
    check_weights_fit(pool, weights, "of SGLang's static pool (total x mem_fraction_static)");
    result.budget.push_back({"weights", weights, weights_rule(shape, request), '-'});
    result.kv_budget = Bytes{pool.value - weights.value};
    result.budget.push_back({"KV cache memory", result.kv_budget,
                             "free after loading - free before x (1 - mem_fraction_static)", '='});
  }

  set_per_rank_cache(request, result);
  if (options.dp_attention) result.kv_replicated = false;  // each rank's latents are its own requests'
  std::vector<StageLayers> stages = split_stages(shape, parallel.pp, request.include_mtp);
  const std::uint32_t layers = fullest_stage(stages, result);
  // cell_size: one token's K and V (or latent) in every layer of the rank.
  const std::uint64_t cell = checked_mul(result.token_layer_per_rank.total(), layers, "cell size");
  result.page_bytes = Bytes{cell * result.block_size};
  result.group_size = layers;
  result.kv_tokens = result.kv_budget.value / cell / result.block_size * result.block_size;
  result.num_blocks = result.kv_tokens / result.block_size;
  result.blocks_per_request = ceil_div(max_model_len, result.block_size);
  result.groups.push_back({LayerAttention::full, layers, result.blocks_per_request});
  result.bytes_per_request_per_rank = Bytes{checked_mul(cell, result.blocks_per_request * result.block_size, "bytes per request")};
  if (result.kv_tokens < max_model_len) {
    throw Error("not even one request of " + std::to_string(max_model_len) + " tokens fits: SGLang's pool holds " +
                std::to_string(result.kv_tokens) + " tokens per GPU (" + gib_text(result.kv_budget) +
                "); lower --ctx, raise --mem-util, use more GPUs or a smaller --kv-dtype");
  }
  result.max_concurrency = static_cast<double>(result.kv_tokens) / static_cast<double>(max_model_len);
  result.kv_tokens_combined = result.kv_tokens;
  result.requests_per_replica = static_cast<std::uint64_t>(std::floor(result.max_concurrency));
  if (options.dp_attention) {
    // Each TP rank runs attention for its own requests over its own copy of the latent cache.
    result.requests_per_replica *= parallel.tp;
    result.notes.push_back("--dp-attention: each of the " + std::to_string(parallel.tp) +
                           " ranks serves its own requests from its own latent cache, so capacity is x" +
                           std::to_string(parallel.tp));
  }
  result.fleet_requests = result.requests_per_replica * parallel.dp;
  if (shape.sliding_layer_count() > 0) {
    result.notes.push_back("SGLang's default pool gives sliding-window layers full-length slots (its hybrid SWA "
                           "pool is opt-in), so every layer is counted for every token");
  }
  return result;
}

}  // namespace kvplan::detail
