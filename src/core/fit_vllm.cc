// vLLM (v1 engine) start-up accounting, by release (vllm_rules.h): gpu_worker's budget per PP
// stage, the attention backend's block size, kv_cache_interface's blocks per request,
// kv_cache_planning's groups, block count and one-request check, kv_cache_utils' log line.
// docs/engines.md cites each rule.
#include <algorithm>
#include <cmath>

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_internal.h"
#include "core/fit_vllm_budget.h"
#include "core/vllm_backend.h"
#include "core/vllm_dcp.h"
#include "core/vllm_groups.h"
#include "core/vllm_hybrid_off.h"
#include "core/vllm_profile.h"
#include "core/vllm_rules.h"
#include "core/vllm_speculative.h"
#include "core/fit_vllm_compressed.h"
#include "core/fit_vllm_hybrid.h"

namespace kvplan::detail {
namespace {

std::uint64_t default_batched_tokens(const VllmRules& rules, const GpuSpec& gpu, bool offline, const ModelShape& shape,
                                     std::uint64_t max_model_len) {
  const VllmBatchDefaults& batch = rules.batch;
  if (batch.v0_chunked_prefill) {
    // V0 turns chunked prefill on above 32k tokens for models without a sliding window.
    const bool chunked = max_model_len > 32768 && shape.sliding_layer_count() == 0;
    return chunked ? 2048 : std::max<std::uint64_t>(max_model_len, 2048);
  }
  if (batch.large_tier_min_gib > 0 && gpu.memory_total.value >= batch.large_tier_min_gib * kGiB) return batch.large;
  if (high_memory_tier(gpu)) return offline ? batch.offline_high : batch.serve_high;
  return offline ? batch.offline_low : batch.serve_low;
}

// V0 had no MLA cache: DeepSeek's attention cached K and V for every head, padded to 256.
FitRequest as_cached(const ModelShape& shape, const VllmRules& rules, const FitRequest& request, FitResult& result) {
  FitRequest cached = request;
  if (rules.mla_as_mha_head_size == 0 || request.variant.kind != VariantKind::mla) return cached;
  if (!shape.mla) {
    throw Error("vLLM " + result.engine_version + " has no MLA cache; the mla counterfactual needs vLLM 0.10 or newer");
  }
  cached.variant = Variant{VariantKind::mha, shape.num_attention_heads, rules.mla_as_mha_head_size, 0, 0};
  result.notes.push_back("vLLM " + result.engine_version + " caches MLA models without the latent: K and V for each of the " +
                         std::to_string(shape.num_attention_heads) + " heads, padded to head size " +
                         std::to_string(rules.mla_as_mha_head_size));
  return cached;
}

// VllmConfig.max_concurrent_batches: PP needs PP batches to fill the pipeline; async scheduling
// overlaps one more (the V1 runner only without PP, where it turns async scheduling off).
std::uint32_t concurrent_batches(const VllmRules& rules, const EngineOptions& options, std::uint32_t pp) {
  if (!rules.async_scheduling || !options.async_scheduling) return pp;
  if (rules.v2_model_runner) return pp + 1;
  return pp == 1 ? 2 : pp;
}

// The model's cached layers in order (MTP layers, then an EAGLE draft's, after the hidden ones)
// and the stage of each.
// Layers that cache nothing (Nemotron-H's MLP and MoE layers) have no KV cache spec in vLLM, but
// they still count when PP splits the hidden layers.
struct CachedLayers {
  std::vector<LayerAttention> kinds;
  std::vector<std::uint32_t> stage_of_layer;
  std::vector<std::uint32_t> per_stage;
  std::vector<std::uint32_t> indexer_keys_per_stage;  // sparse MLA: layers caching an indexer key
};
CachedLayers cached_layers(const ModelShape& shape, std::uint32_t pp, bool include_mtp,
                           const std::vector<LayerAttention>& draft_layers) {
  CachedLayers layers;
  const std::vector<std::uint32_t> hidden_per_stage = pp_stage_layers(shape.num_hidden_layers, pp);
  layers.per_stage.assign(pp, 0);
  layers.indexer_keys_per_stage.assign(pp, 0);
  std::uint32_t layer = 0;
  for (std::uint32_t stage = 0; stage < pp; ++stage) {
    for (std::uint32_t i = 0; i < hidden_per_stage[stage]; ++i, ++layer) {
      if (shape.layer_attention[layer] == LayerAttention::none) continue;
      if (shape.indexer && shape.indexer->has_key(layer)) ++layers.indexer_keys_per_stage[stage];
      layers.kinds.push_back(shape.layer_attention[layer]);
      layers.stage_of_layer.push_back(stage);
      ++layers.per_stage[stage];
      if (shape.state_beside_attention && shape.layer_attention[layer] == LayerAttention::full) {
        // Falcon-H1's Mamba mixer of this layer, on the same stage.
        layers.kinds.push_back(LayerAttention::state);
        layers.stage_of_layer.push_back(stage);
        ++layers.per_stage[stage];
      }
    }
  }
  // MTP layers run after the last hidden layer, full-attention layers on the last stage; an EAGLE
  // draft's layers register beside the target's (SpecDecodeBaseProposer.load_model) with their
  // own kinds (full, or sliding where the draft's layer_types say so).
  const std::uint32_t mtp = include_mtp ? shape.num_nextn_predict_layers : 0;
  layers.kinds.insert(layers.kinds.end(), mtp, LayerAttention::full);
  layers.kinds.insert(layers.kinds.end(), draft_layers.begin(), draft_layers.end());
  const auto extra = static_cast<std::uint32_t>(mtp + draft_layers.size());
  layers.stage_of_layer.insert(layers.stage_of_layer.end(), extra, pp - 1);
  layers.per_stage.back() += extra;
  if (shape.indexer) layers.indexer_keys_per_stage.back() += mtp;  // an MTP layer always builds an indexer
  return layers;
}

// get_kv_cache_configs / _check_enough_kv_cache_memory, per stage: one request of max_model_len
// must fit in the stage's KV memory. 0.33 first sets aside the pool's null block and charges the
// request whole blocks of every group (padding included); older releases summed each layer's own
// need. Returns the bytes needed on `stage` for requests of `len` tokens.
std::uint64_t needed_on_stage(const VllmRules& rules, const std::vector<VllmGroup>& groups,
                              const std::vector<LayerAttention>& kinds, const std::vector<std::uint32_t>& stage_of_layer,
                              std::uint32_t stage, Bytes bytes_per_block, Bytes page, std::uint64_t len,
                              const BlockDemand& demand) {
  std::uint64_t needed = 0;
  if (rules.fit_check == VllmFitCheck::group_blocks || rules.fit_check == VllmFitCheck::group_blocks_null) {
    for (const VllmGroup& group : groups) {
      needed = checked_add(needed, checked_mul(bytes_per_block.value, blocks_per_request(group.attention, len, demand),
                                               "KV one request needs"),
                           "KV one request needs");
    }
    return needed;
  }
  for (std::uint32_t layer = 0; layer < kinds.size(); ++layer) {
    if (stage_of_layer[layer] != stage) continue;
    LayerAttention kind = kinds[layer];
    if (rules.grouping == VllmGrouping::none || (kind == LayerAttention::chunked && !rules.chunked_hybrid)) {
      kind = LayerAttention::full;
    }
    needed = checked_add(needed, checked_mul(page.value, blocks_per_request(kind, len, demand), "KV one request needs"),
                         "KV one request needs");
  }
  return needed;
}

void check_one_request_fits(const VllmRules& rules, const std::vector<VllmGroup>& groups, const CachedLayers& layers,
                            const BlockDemand& demand, std::uint64_t max_model_len, const FitResult& result) {
  for (std::uint32_t stage = 0; stage < result.stages.size(); ++stage) {
    const StageBudget& budget = result.stages[stage];
    if (budget.bytes_per_block.value == 0) continue;
    const std::uint64_t null_block = rules.fit_check == VllmFitCheck::group_blocks_null ? budget.bytes_per_block.value : 0;
    const std::uint64_t available = budget.kv_budget.value > null_block ? budget.kv_budget.value - null_block : 0;
    auto needed = [&](std::uint64_t len) {
      return needed_on_stage(rules, groups, layers.kinds, layers.stage_of_layer, stage, budget.bytes_per_block,
                             result.page_bytes, len, demand);
    };
    const std::uint64_t need = needed(max_model_len);
    if (need <= available) continue;
    const std::uint64_t low = longest_fitting_context(needed, available, max_model_len);
    throw Error("not even one request of " + std::to_string(max_model_len) + " tokens fits" +
                (result.stages.size() > 1 ? " on PP stage " + std::to_string(stage) : "") + ": it needs " +
                gib_text(Bytes{need}) + " of KV cache per GPU, " + gib_text(Bytes{available}) + " is available" +
                (null_block > 0 ? " after the null block" : "") + " (" + gib_text(Bytes{need - available}) +
                " missing); the longest context that fits is " + std::to_string(low) +
                " tokens. Lower --ctx, raise --mem-util, use more GPUs or a smaller --kv-dtype");
  }
}

}  // namespace

// What start_vllm computes for finish_vllm: the result so far and what the rest reads.
struct VllmStart {
  const VllmRules* rules = nullptr;
  FitResult result;
  CachedLayers layers;
  std::vector<VllmGroup> groups;  // every stage's groups where each PP worker forms its own (vLLM 0.10)
  std::size_t scheduler_groups = 0;  // the first ones, the groups a request takes blocks in
  BlockDemand demand;
};

bool start_vllm_reads_max_model_len(const FitRequest& request) {
  // V0's default batch size depends on the context; V1's on the GPU only.
  return vllm_rules(request.options.engine_version).batch.v0_chunked_prefill && !request.options.max_num_batched_tokens;
}

FitResult fit_vllm(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  return finish_vllm(*start_vllm(shape, gpu, request), shape, gpu, request, request.max_model_len.value);
}

std::shared_ptr<const VllmStart> start_vllm(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const EngineOptions& options = request.options;
  const Parallelism& parallel = request.parallel;
  auto start = std::make_shared<VllmStart>();
  const VllmRules& rules = vllm_rules(options.engine_version);
  start->rules = &rules;
  const std::uint64_t max_model_len = request.max_model_len.value;
  FitResult& result = start->result;
  result.engine = Engine::vllm;
  result.engine_version = std::string(rules.version);
  result.mem_util = options.mem_util.value_or(rules.gpu_memory_utilization);
  check_vllm_dcp(rules, shape, request);
  check_vllm_speculative(rules, shape, request);
  check_hybrid_allocator_off(rules, shape, request);
  FitRequest cached = as_cached(shape, rules, request, result);
  const bool sparse = sparse_mla(shape, rules, cached, result);
  if (shape.full_layer_kv) check_kind_kv_heads(shape, rules, result);
  const KvDtype served_dtype = served_cache_dtype(shape, gpu, request.kv_dtype, result);
  const VllmBackendQuery query{gpu.architecture, cached.variant.kind == VariantKind::mla, sparse, served_dtype,
                               options.attention_backend, options.block_size, shape.num_attention_heads / parallel.tp,
                               parallel.dcp > 1};
  const VllmBackend backend = shape.compressed_mla ? choose_compressed_backend(rules, gpu, request, result.engine_version)
                              : shape.bidirectional_vision ? choose_vllm_mm_prefix_backend(rules, query)
                              : shape.v_head_dim != 0      ? choose_vllm_diffkv_backend(rules, query)
                                                           : choose_vllm_backend(rules, query);
  cached.kv_dtype = backend.cache_dtype;
  result.kv_cache_dtype = backend.cache_dtype;
  result.attention_backend = backend.name;
  result.attention_backend_why = backend.why;
  result.block_size = backend.block_size;
  result.max_num_batched_tokens = options.max_num_batched_tokens.value_or(
      default_batched_tokens(rules, gpu, options.offline, shape, max_model_len));
  result.concurrent_batches = concurrent_batches(rules, options, parallel.pp);
  result.max_in_flight_tokens = checked_mul(result.concurrent_batches, result.max_num_batched_tokens, "tokens in flight");

  start->layers = cached_layers(shape, parallel.pp, request.include_mtp, draft_layer_kinds(request.speculative));
  if (!options.hybrid_allocator) {
    const std::uint32_t promoted = promote_local_layers(start->layers.kinds);
    if (promoted > 0 && request.explanations) {
      result.notes.push_back("hybrid allocator off: vLLM allocates the " + std::to_string(promoted) +
                             " sliding and chunked layers like full attention, every token of every request "
                             "(kv_cache_planning.py:_promote_local_kv_cache_specs)");
    }
  }
  const CachedLayers& layers = start->layers;
  stage_budgets(rules, shape, gpu, request, layers.per_stage, result);
  if (shape.compressed_mla) {
    set_compressed_cache(shape, cached, result);
    return start;  // its packed pool is planned per max_model_len (finish_vllm)
  }
  set_per_rank_cache(cached, result);
  // The indexer's keys sit beside the latents in the block, replicated on every rank like them
  // (max_tp_shards 1): one group of per-layer pages (UniformTypeKVCacheSpecs) of the same block. With
  // a key on every layer kvplan prices it in each layer's page; otherwise each stage's block adds
  // one key page per layer that has one (finish_vllm).
  if (sparse && shape.indexer->on_every_layer()) {
    result.token_layer_per_rank.indexer_bytes = shape.indexer->bytes_per_token();
  } else if (sparse) {
    result.indexer_page_bytes = Bytes{checked_mul(result.block_size, shape.indexer->bytes_per_token(), "indexer page")};
  }
  std::uint64_t state_blocks = 0;
  if (shape.layer_count(LayerAttention::state) > 0) {
    state_blocks = align_state_layers(shape, gpu, request, rules, backend, result);
  }
  KindBlocks kind_blocks;
  if (shape.full_layer_kv) {
    kind_blocks = unify_kind_pages(shape, gpu, cached, result);
  } else {
    result.page_bytes = Bytes{checked_mul(result.block_size, result.token_layer_per_rank.total(), "page size")};
  }

  // Groups are formed over the whole model (vLLM 0.10: on each PP worker, the scheduler running
  // stage 0's); each stage's block spans the layers it holds of its widest group, and every stage
  // keeps the smallest block count.
  start->groups = vllm_kv_groups(layers.kinds, rules.grouping, !rules.chunked_hybrid);
  start->scheduler_groups = start->groups.size();
  if (start->groups.size() > 1 && parallel.pp > 1 && rules.grouping == VllmGrouping::fewest_in_runs) {
    start->groups = vllm_kv_groups_per_stage(layers.kinds, layers.stage_of_layer, parallel.pp, !rules.chunked_hybrid,
                                             &start->scheduler_groups);
  }
  start->demand = BlockDemand{result.block_size, shape.sliding_window, shape.attention_chunk_size,
                              rules.sliding_in_flight ? result.max_in_flight_tokens : result.max_num_batched_tokens,
                              state_blocks, kind_blocks.full, kind_blocks.sliding, parallel.dcp};
  return start;
}

FitResult finish_vllm(const VllmStart& start, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                      std::uint64_t max_model_len) {
  const Parallelism& parallel = request.parallel;
  const VllmRules& rules = *start.rules;
  const CachedLayers& layers = start.layers;
  const std::vector<VllmGroup>& groups = start.groups;
  const BlockDemand& demand = start.demand;
  FitResult result = start.result;
  if (shape.compressed_mla) {
    plan_compressed_pool(shape, max_model_len, result);  // with vLLM's one-request check
    result.kv_budget = result.stages.front().kv_budget;
    if (request.explanations) budget_lines(rules, shape, gpu, request, result);
  } else {
    for (std::size_t g = 0; g < start.scheduler_groups; ++g) {
      const VllmGroup& group = groups[g];
      result.groups.push_back({group.attention, static_cast<std::uint32_t>(group.layers.size()),
                               blocks_per_request(group.attention, max_model_len, demand)});
      result.blocks_per_request += result.groups.back().blocks_per_request;
    }
    // The largest group is the size every group is padded to (a block holds a page of each of its layers).
    for (const KvGroup& group : result.groups) result.group_size = std::max(result.group_size, group.layers);
    result.num_blocks = ~0ull;
    for (std::uint32_t stage = 0; stage < parallel.pp; ++stage) {
      StageBudget& budget = result.stages[stage];
      budget.bytes_per_block = Bytes{checked_mul(result.page_bytes.value,
                                                 widest_group_on_stage(groups, layers.stage_of_layer, stage), "block size")};
      if (result.indexer_page_bytes.value > 0) {
        budget.indexer_keys = layers.indexer_keys_per_stage[stage];
        budget.bytes_per_block.value = checked_add(
            budget.bytes_per_block.value, checked_mul(result.indexer_page_bytes.value, budget.indexer_keys, "block size"),
            "block size");
      }
      if (budget.bytes_per_block.value == 0) continue;  // a stage without cached layers
      budget.num_blocks = budget.kv_budget.value / budget.bytes_per_block.value;
      if (budget.num_blocks < result.num_blocks) {
        result.num_blocks = budget.num_blocks;
        result.binding_stage = stage;
      }
    }
    result.kv_budget = result.stages[result.binding_stage].kv_budget;
    if (request.explanations) budget_lines(rules, shape, gpu, request, result);
    check_one_request_fits(rules, groups, layers, demand, max_model_len, result);
  }

  result.max_concurrency = static_cast<double>(result.num_blocks) / static_cast<double>(result.blocks_per_request);
  const Bytes bytes_per_block = result.stages[result.binding_stage].bytes_per_block;
  result.bytes_per_request_per_rank = Bytes{checked_mul(bytes_per_block.value, result.blocks_per_request, "bytes per request")};
  switch (rules.log_format) {
    case VllmLogFormat::gpu_blocks:
      // V0 has one block table for all layers: every block holds block_size tokens of each layer.
      result.kv_tokens = checked_mul(result.num_blocks, result.block_size, "KV tokens");
      result.max_concurrency = static_cast<double>(result.kv_tokens) / static_cast<double>(max_model_len);
      break;
    case VllmLogFormat::two_lines:
      result.kv_tokens = result.num_blocks / result.groups.size() * result.block_size;
      break;
    case VllmLogFormat::one_line:
      result.kv_tokens = static_cast<std::uint64_t>(result.max_concurrency * static_cast<double>(max_model_len));
      break;
  }
  result.requests_per_replica = static_cast<std::uint64_t>(std::floor(result.max_concurrency));
  result.fleet_requests = checked_mul(result.requests_per_replica, parallel.dp, "requests on the fleet");
  if (parallel.dcp > 1 && request.explanations) result.notes.push_back(vllm_dcp_note(request, result));
  if (result.groups.size() > 1 && request.explanations && !shape.compressed_mla) {
    // _get_kv_cache_groups_uniform_page_size logs the padding of each kind's layers.
    std::string padding;
    for (LayerAttention kind : {LayerAttention::full, LayerAttention::sliding, LayerAttention::chunked, LayerAttention::state}) {
      std::uint64_t pad = 0;
      for (const KvGroup& group : result.groups) pad += group.attention == kind ? result.group_size - group.layers : 0;
      if (pad > 0) padding += (padding.empty() ? "" : ", ") + std::string("'Add ") + std::to_string(pad) + " padding layers'";
    }
    result.notes.push_back("hybrid model: " + std::to_string(result.groups.size()) + " KV cache groups of " +
                           std::to_string(result.group_size) +
                           " layers share the block pool, as vLLM's hybrid allocator groups them" +
                           (groups.size() > start.scheduler_groups ? " on each PP worker" : "") +
                           (padding.empty() ? "" : " (vLLM logs " + padding + ")"));
  }
  return result;
}

}  // namespace kvplan::detail
