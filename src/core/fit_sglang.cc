// SGLang 0.5.23's KV pool (docs/engines-sglang.md cites each rule): mem_fraction_static from
// its memory bucket (sglang_args.cc), pool memory = free after loading - free before loading x
// (1 - fraction), then tokens = floor(memory / cell) rounded down to the page, on every rank
// alike; the hybrid SWA pool (sglang_swa.cc) splits the cell between full and sliding layers.
#include <algorithm>
#include <cmath>

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_internal.h"
#include "core/sglang_args.h"
#include "core/sglang_dcp.h"
#include "core/sglang_rules.h"
#include "core/speculative.h"
#include "core/sglang_state.h"
#include "core/sglang_swa.h"

namespace kvplan::detail {
namespace {

// speculative_hook.py:_handle_eagle_family and _handle_ngram: with speculative decoding and no
// --max-running-requests, SGLang runs at most 48 requests (split over the attention-DP ranks).
constexpr std::uint64_t kSpeculativeMaxRunningRequests = 48;

bool sglang_speculative(const FitRequest& request) {
  return request.include_mtp || request.speculative.method != SpeculativeMethod::none;
}

// The draft's layers in the pool's cell: the MTP (NextN) layers, or an EAGLE draft's decoder layers.
// pool_configurator.py:DefaultPoolConfigurator adds int(cell x draft layers / target layers), which
// "assumes the draft shares the target's per-layer KV size" (check_draft_fits_target holds kvplan
// to drafts that do); n-gram drafting caches nothing.
std::uint32_t sglang_draft_layers(const ModelShape& shape, const FitRequest& request) {
  if (request.include_mtp) return shape.num_nextn_predict_layers;
  return draft_cached_layers(request.speculative);
}

// distributed/utils.py:get_pp_indices: L / PP layers each, the remainder one each to the LAST
// stages (vLLM gives it to the stages before the last).
std::vector<StageLayers> sglang_stages(const ModelShape& shape, std::uint32_t pp, std::uint32_t draft_layers) {
  const std::uint32_t base = shape.num_hidden_layers / pp;
  const std::uint32_t remainder = shape.num_hidden_layers % pp;
  std::vector<StageLayers> stages(pp);
  std::uint32_t layer = 0;
  for (std::uint32_t stage = 0; stage < pp; ++stage) {
    const std::uint32_t count = base + (stage >= pp - remainder ? 1 : 0);
    for (std::uint32_t i = 0; i < count; ++i, ++layer) {
      // Only attention layers have a per-token cell: DefaultPoolConfigurator counts the hybrid
      // models' full_attention_layer_ids (state layers and Nemotron-H's MLP/MoE layers hold none).
      const LayerAttention kind = sglang_layer_pool(shape, layer);
      if (kind == LayerAttention::sliding) ++stages[stage].sliding;
      else if (kind != LayerAttention::state && !(kind == LayerAttention::none && shape.state)) ++stages[stage].full;
    }
  }
  // The draft's layers add their share to the cell; the draft runs after the last stage.
  stages.back().mtp = draft_layers;
  return stages;
}

// The torch dtype SGLang logs for the cache (mem_cache/kv_cache_dtype.py; FP8 on ROCm is fnuz).
std::string torch_dtype(KvDtype dtype, const GpuSpec& gpu) {
  switch (dtype) {
    case KvDtype::fp32: return "torch.float32";
    case KvDtype::bf16: return "torch.bfloat16";
    case KvDtype::fp16: return "torch.float16";
    case KvDtype::fp8_e4m3:
      return gpu.architecture == GpuArchitecture::cdna3 ? "torch.float8_e4m3fnuz" : "torch.float8_e4m3fn";
    case KvDtype::fp8_e5m2: return "torch.float8_e5m2";
    default: return std::string(to_string(dtype));
  }
}

// Returns _profile_available_bytes's rest_memory in GiB, the float SGLang splits between a state
// pool and the KV pool; `pool` names what it is for.
double add_budget(const ModelShape& shape, const FitRequest& request, const SglangArgs& args, const GpuSpec& gpu,
                  const std::string& pool, FitResult& result) {
  if (request.options.kv_cache_memory) {
    result.kv_budget = *request.options.kv_cache_memory;
    result.budget.push_back({pool, result.kv_budget, "--kv-cache-memory", ' '});
    return static_cast<double>(result.kv_budget.value) / static_cast<double>(kGiB);
  }
  // kv_cache_configurator.py:_profile_available_bytes. Free memory before loading is at most
  // the CUDA total: the CUDA context and NCCL take a few hundred MiB first.
  const Bytes weights = weights_per_rank(shape, request);
  const Bytes before = gpu.memory_total;
  const Bytes after{before.value > weights.value ? before.value - weights.value : 0};
  const double fraction = args.mem_fraction_static;
  // utils/common.py:get_available_gpu_memory returns bytes / 2^30, and with more than one rank
  // their minimum travels through a float32 tensor; SGLang then computes in those GiB.
  const bool several_ranks = request.parallel.tp * request.parallel.pp > 1;
  auto measured_gib = [&](Bytes bytes) {
    const double value = static_cast<double>(bytes.value);
    return (several_ranks ? static_cast<double>(static_cast<float>(value)) : value) / static_cast<double>(kGiB);
  };
  // kv_cache_configurator.py:mm_runtime_reservation_gb: a multimodal model's embedding cache
  // (SGLANG_VLM_CACHE_SIZE_MB, 100 MiB) comes out of the pool; features travel through CPU memory.
  const double multimodal_gib = args.multimodal ? 100.0 / 1024 : 0;
  const double rest_gib = measured_gib(after) - measured_gib(before) * (1 - fraction) - multimodal_gib;
  result.budget.push_back({"free before loading", before,
                           "at most the CUDA total of " + gpu.device_name +
                               "; the CUDA context and NCCL take a few hundred MiB first",
                           ' '});
  result.budget.push_back({"weights", weights, weights_rule(shape, request), '-'});
  result.budget.push_back({"free after loading", after, "free before - weights", '='});
  if (rest_gib <= 0) {
    throw Error("the weights do not fit: " + gib_text(weights) + " per GPU leave no KV pool under SGLang's "
                "mem_fraction_static " + fmt_double(fraction, 3) + " (" +
                gib_text(Bytes{static_cast<std::uint64_t>(static_cast<double>(before.value) * fraction)}) +
                " static per GPU); use more GPUs (--tp/--pp), a smaller --weights-dtype, a larger --mem-util or a "
                "larger GPU");
  }
  result.kv_budget = Bytes{static_cast<std::uint64_t>(rest_gib * static_cast<double>(kGiB))};
  const Bytes multimodal_bytes{static_cast<std::uint64_t>(multimodal_gib * static_cast<double>(kGiB))};
  result.budget.push_back({"x (1 - mem_fraction_static " + fmt_double(fraction, 3) + ")",
                           Bytes{after.value - std::min(after.value, result.kv_budget.value + multimodal_bytes.value)},
                           "free before loading x (1 - " + fmt_double(fraction, 3) + "); fraction = " + args.fraction_rule,
                           '-'});
  if (args.multimodal) {
    result.budget.push_back({"multimodal embedding cache", multimodal_bytes,
                             "SGLANG_VLM_CACHE_SIZE_MB 100, reserved out of the pool (mm_runtime_reservation_gb; " +
                                 args.multimodal_rule + ")",
                             '-'});
  }
  result.budget.push_back({pool, result.kv_budget,
                           std::string("int((free after - free before x (1 - fraction)") +
                               (args.multimodal ? " - 100 MiB" : "") + ") in GiB x 2^30)" +
                               (several_ranks ? ", each free figure the minimum over ranks in float32" : ""),
                           '='});
  return rest_gib;
}

// kv_cache_configurator.py:_handle_max_mamba_cache: the state pool takes its share of the pool
// memory first; the KV pool is sized from what is left.
SglangStatePool split_state_pool(const ModelShape& shape, const FitRequest& request, const SglangArgs& args,
                                 double memory_gib, FitResult& result) {
  if (request.parallel.pp > 1) {
    throw Error("--pp " + std::to_string(request.parallel.pp) + " with state layers: kvplan does not model SGLang's "
                "per-stage state share (_handle_max_mamba_cache's pp_layer_scale) yet; use --pp 1 or --engine vllm");
  }
  if (shape.attention_layer_count() == 0) {
    throw Error("--engine sglang: the model has no attention layer, so SGLang's KV pool is not sized from memory "
                "(DefaultPoolConfigurator's zero-cell case); kvplan does not plan it");
  }
  if (sglang_speculative(request)) {
    const bool flag_speculative = request.speculative.method != SpeculativeMethod::none;
    throw Error(std::string(flag_speculative ? "--speculative" : "--mtp") + " with state layers: SGLang's "
                "speculative state buffers (intermediate SSM states per draft token) are not modelled yet; drop it "
                "or use --engine vllm");
  }
  // Linear attention splits its heads over the attention-TP group (runtime_context.py:
  // linear_attn_tp_size), whole on every rank with --dp-attention.
  const std::uint32_t attn_tp = request.parallel.tp / args.attn_dp_size;
  const SglangStatePool pool = sglang_state_pool(shape, request, attn_tp, memory_gib);
  const std::string per_slot = std::to_string(pool.state_layers) + " state layers x (" +
                               state_formula(*shape.state, pool.per_layer) + ") = " +
                               std::to_string(pool.bytes_per_slot) + " B per slot";
  result.state_bytes_per_rank = Bytes{pool.per_layer.total()};
  result.state_rule = state_formula(*shape.state, pool.per_layer) + "; the SSM state's dtype: " + pool.dtype_rule;
  result.budget.push_back({"state pool", Bytes{pool.state_bytes},
                           "(max_mamba_cache_size " + std::to_string(pool.slots) + " + 1 padding slot) x " + per_slot +
                               "; max_mamba_cache_size = int((" + fmt_double(pool.memory_gib, 4) + " GiB x 0.9 / 1.9 x 2^30 - " +
                               std::to_string(pool.bytes_per_slot) + ") // " + std::to_string(pool.bytes_per_slot) +
                               ") (--mamba-full-memory-ratio 0.9)",
                           '-'});
  result.kv_budget = Bytes{static_cast<std::uint64_t>(pool.rest_gib * static_cast<double>(kGiB))};
  result.budget.push_back({"KV pool memory", result.kv_budget,
                           "int((" + fmt_double(pool.memory_gib, 4) + " GiB - state pool) x 2^30)", '='});
  return pool;
}

}  // namespace

FitResult fit_sglang(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const Parallelism& parallel = request.parallel;
  if (request.kv_dtype == KvDtype::fp8_ds_mla) {
    throw Error("--kv-dtype fp8_ds_mla is vLLM's layout; SGLang's FP8 MLA cache (--kv-cache-dtype fp8_e4m3) stores "
                "the latent and RoPE part in 1 B each: use --kv-dtype fp8");
  }
  // arg_groups/fields/model.py lists SGLang's --kv-cache-dtype choices; none is int8, and its FP8
  // pools keep per-tensor scales only (mem_cache/memory_pool.py allocates scale buffers for the
  // FP4 recipes alone).
  if (request.kv_dtype == KvDtype::int8) {
    throw Error("--kv-dtype int8: SGLang has no int8 KV cache (--kv-cache-dtype takes auto, fp8_e5m2, fp8_e4m3, "
                "mxfp8, bf16, nvfp4, fp4_mx_block16)");
  }
  if (request.kv_scales == KvScales::per_token_head) {
    throw Error("--kv-scales per-token-head: SGLang's FP8 KV cache has per-tensor scales only");
  }
  const SglangRules& rules = sglang_rules(request.options.engine_version);
  check_sglang_release(rules, request.options.engine_version, shape, gpu, request);
  const SglangArgs args = resolve_sglang_args(shape, gpu, request);
  check_sglang_dcp(shape, request, args.attn_dp_size, uses_hybrid_swa_pool(shape), sglang_speculative(request));
  const std::uint32_t dcp = parallel.dcp;
  FitResult result;
  result.kv_cache_dtype = request.kv_dtype;
  result.engine = Engine::sglang;
  result.engine_version = request.options.engine_version.empty() ? std::string(rules.last) : request.options.engine_version;
  result.mem_util = args.mem_fraction_static;
  result.block_size = args.page_size;
  result.max_num_batched_tokens = args.chunked_prefill_size;
  const std::uint64_t page = args.page_size;
  const std::uint64_t max_model_len = request.max_model_len.value;

  const bool state_layers = shape.state.has_value();
  const double memory_gib =
      add_budget(shape, request, args, gpu, state_layers ? "pool memory (state + KV)" : "KV pool memory", result);
  std::optional<SglangStatePool> state_pool;
  if (state_layers) state_pool = split_state_pool(shape, request, args, memory_gib, result);

  // Attention runs on attn_tp = TP / attn_dp ranks; the cell divides K/V heads over attn_tp / dcp
  // of them (configs/model_config.py:get_num_kv_heads), never the MLA latent
  // (pool_configurator.py:DefaultPoolConfigurator._compute_cell_size).
  FitRequest attention = request;
  attention.parallel.tp = parallel.tp / args.attn_dp_size / dcp;
  attention.parallel.dcp = 1;
  set_per_rank_cache(attention, result);
  const std::uint64_t per_layer = result.token_layer_per_rank.total();
  const bool hybrid = uses_hybrid_swa_pool(shape);
  // kv_cache_configurator.py:_build_hybrid_swa_kv_pool builds plain MHATokenToKVPools without the
  // FP4 recipe, and HybridSWAPoolConfigurator sizes them at torch's element size of
  // float4_e2m1fn_x2, 1 B per value: neither the packed nvfp4 bytes nor a working FP4 cache.
  if (hybrid && request.kv_dtype == KvDtype::nvfp4) {
    throw Error("--kv-dtype nvfp4: SGLang's hybrid SWA pool (" + shape.model_type + ") has no FP4 recipe; it sizes "
                "the pool at 1 B per value (HybridSWAPoolConfigurator) and builds it without FP4 scales. Use "
                "--kv-dtype fp8 or --engine vllm");
  }
  const SwaCell cell = hybrid ? sglang_swa_cell(shape, attention, result) : SwaCell{};

  const std::vector<StageLayers> stages = sglang_stages(shape, parallel.pp, sglang_draft_layers(shape, request));
  if (hybrid && draft_cached_layers(request.speculative) > 0) {
    throw Error("--speculative " + std::string(to_string(request.speculative.method)) + " on SGLang's hybrid SWA pool: "
                "its draft full and sliding layer split (HybridSWAPoolConfigurator's draft layers) is not modelled "
                "yet; use --engine vllm");
  }
  // Every PP stage sizes its own pool and SGLang takes the minimum over stages
  // (kv_cache_configurator.py:_apply_token_constraints).
  std::uint64_t tokens = UINT64_MAX;
  for (std::uint32_t stage = 0; stage < stages.size(); ++stage) {
    const StageLayers& layers = stages[stage];
    result.stage_layers.push_back(layers.total());
    std::uint64_t stage_tokens = 0;
    if (hybrid) {
      stage_tokens = sglang_swa_stage_tokens(result.kv_budget, cell, layers);
    } else {
      stage_tokens = result.kv_budget.value / checked_mul(per_layer, layers.total(), "cell size");
    }
    stage_tokens = stage_tokens / page * page;
    if (stage_tokens < tokens) {
      tokens = stage_tokens;
      result.binding_stage = stage;
    }
  }
  // pool_configurator.py:MemoryPoolConfig.__post_init__.
  if (tokens == 0) {
    throw Error("SGLang's KV pool holds no token (" + gib_text(result.kv_budget) + " per GPU): \"Not enough memory. "
                "Please try to increase --mem-fraction-static.\"; use more GPUs, a smaller --kv-dtype or --mem-util");
  }
  const StageLayers& binding = stages[result.binding_stage];
  const std::string dtype = torch_dtype(request.kv_dtype, gpu);
  // The pool's rows are per rank; with --dcp-size each rank holds every dcp-th token of a sequence,
  // so the scheduler counts rows x dcp tokens (kv_cache_configurator.py:logical_token_capacity) and
  // a request takes ceil(L / dcp) rows of each rank.
  const std::uint64_t logical = checked_mul(tokens, dcp, "KV tokens");
  result.kv_tokens = logical;
  result.kv_tokens_combined = logical;
  result.num_blocks = logical / page;
  result.page_bytes = Bytes{per_layer * page};
  result.blocks_per_request = ceil_div(max_model_len, page);
  // Token slots one full-length request holds on a rank.
  const std::uint64_t request_slots =
      ceil_div(checked_mul(result.blocks_per_request, page, "request slots"), std::uint64_t{dcp});
  if (hybrid) {
    set_sglang_swa_pools(shape, cell, binding, tokens, page, max_model_len, request_slots, dtype, result);
  } else {
    // The target and the draft worker each allocate their own pool of the shared token count and
    // log it (memory_pool.py); the draft's holds its layers only.
    result.token_pools = {{"", tokens, binding.total() - binding.mtp, dtype}};
    if (binding.mtp > 0) result.token_pools.push_back({"", tokens, binding.mtp, dtype});
    result.groups = {{LayerAttention::full, binding.total(), result.blocks_per_request}};
    result.bytes_per_request_per_rank =
        Bytes{checked_mul(per_layer, checked_mul(binding.total(), request_slots, "request slots"), "bytes per request")};
    result.group_size = binding.total();
    const bool chunked = shape.layer_count(LayerAttention::chunked) > 0;
    if (shape.sliding_layer_count() > 0 || chunked) {
      const bool gemma = shape.model_type.rfind("gemma", 0) == 0;
      result.notes.push_back(std::string("SGLang gives ") + (chunked ? "chunked-attention" : "sliding-window") +
                             " layers full-length slots: " +
                             (gemma ? "Gemma-2/3 turn its hybrid SWA pool off (model_overrides/gemma2_gemma3.py)"
                              : chunked ? "it lists Llama4ForConditionalGeneration among its hybrid SWA models, "
                                          "not this text-only architecture"
                                        : "this architecture is not one of its hybrid SWA models") +
                             ", so every layer is counted for every token");
    }
  }

  if (dcp > 1) {
    result.notes.push_back("decode context parallelism (--dcp-size " + std::to_string(dcp) + "): each rank stores one token in " +
                           std::to_string(dcp) + " of a sequence, " +
                           (request.variant.kind == VariantKind::mla ? std::string("the whole latent")
                                                                     : std::to_string(result.kv_heads_per_rank) +
                                                                           " K/V head(s) (heads over TP / dcp ranks)") +
                           " per token; its " + std::to_string(tokens) + " rows hold " + std::to_string(logical) +
                           " tokens (rows x " + std::to_string(dcp) + "), which SGLang logs as \"max_total_num_tokens=" +
                           std::to_string(logical) + "\"");
  }
  result.max_concurrency = static_cast<double>(logical) / static_cast<double>(max_model_len);
  // Each attention-DP rank schedules its own requests into its own pool.
  result.attention_dp = args.attn_dp_size;
  result.requests_per_replica = logical / max_model_len * args.attn_dp_size;
  if (state_pool) {
    // resolve_max_num_reqs: each running request may hold slots_per_request state slots, so the
    // state pool caps the running requests below what the KV tokens allow.
    const std::uint64_t running = sglang_max_running_requests(tokens, max_model_len, *state_pool);
    const std::uint64_t by_tokens = tokens / max_model_len;
    result.requests_per_replica = std::min(by_tokens, running) * args.attn_dp_size;
    result.state_pool = StatePool{state_pool->slots,
                                  state_pool->slots_per_request,
                                  state_pool->state_layers,
                                  state_pool->per_layer.conv_bytes(),
                                  state_pool->per_layer.recurrent_bytes(),
                                  running,
                                  "min(max(min(int(" + std::to_string(tokens) + " / " + std::to_string(max_model_len) +
                                      " x 512), 4096), 2048), " + std::to_string(tokens) + " // 2, " +
                                      std::to_string(state_pool->slots) + " state slots // " +
                                      std::to_string(state_pool->slots_per_request) +
                                      " per request (3 + 2 extra_buffer tracking slots))"};
    result.notes.push_back("SGLang's state pool (" + std::to_string(state_pool->slots) + " slots, " +
                           std::to_string(state_pool->slots_per_request) + " per running request) allows " +
                           std::to_string(running) + " running requests; the KV pool holds " + std::to_string(by_tokens) +
                           " full-length ones" +
                           (running < by_tokens ? ", so the state slots bind" : ", so the KV tokens bind"));
  }
  if (sglang_speculative(request)) {
    // kv_cache_configurator.py:resolve_max_num_reqs: min(48 // attn_dp, tokens // 2) per rank.
    const std::uint64_t per_rank = std::max<std::uint64_t>(1, kSpeculativeMaxRunningRequests / args.attn_dp_size);
    const std::uint64_t by_tokens = result.requests_per_replica / args.attn_dp_size;
    if (per_rank < by_tokens) result.requests_per_replica = per_rank * args.attn_dp_size;
    result.notes.push_back("speculative decoding: SGLang sets --max-running-requests 48 when it is not given "
                           "(speculative_hook.py:_handle_eagle_family), " +
                           (args.attn_dp_size > 1 ? "48 // attn_dp " + std::to_string(args.attn_dp_size) + " = " +
                                                        std::to_string(per_rank) + " per rank, "
                                                  : std::string()) +
                           "so " + (per_rank < by_tokens ? "it binds: " + std::to_string(per_rank) + " running, not the " +
                                                               std::to_string(by_tokens) + " full-length requests the pool holds"
                                                         : "the pool's " + std::to_string(by_tokens) +
                                                               " full-length requests are within it") +
                           "; pass --max-running-requests to SGLang to raise it");
  }
  result.fleet_requests = result.requests_per_replica * parallel.dp;
  if (args.attn_dp_size > 1) {
    result.notes.push_back("--dp-attention (--attn-dp-size " + std::to_string(args.attn_dp_size) + "): each rank holds " +
                           "its own pool for its own requests, so a replica holds " + std::to_string(args.attn_dp_size) +
                           " x " + (state_pool ? "min(floor(" + std::to_string(tokens) + " / " + std::to_string(max_model_len) +
                                         "), " + std::to_string(result.state_pool->max_running_requests) + " running)"
                                       : "floor(" + std::to_string(tokens) + " / " + std::to_string(max_model_len) + ")") +
                           " requests");
  }
  if (logical < max_model_len) {
    // managers/tp_worker.py:get_worker_info: SGLang warns and serves shorter requests.
    result.notes.push_back("SGLang warns: \"KV pool holds " + std::to_string(logical) + " tokens, fewer than "
                           "--context-length " + std::to_string(max_model_len) + ". One full-length request cannot "
                           "fit, so long requests will be refused or truncated at serving time.\" and serves requests "
                           "of up to max_req_len = " + std::to_string(std::min(max_model_len, logical) - 1) + " tokens");
  }
  result.notes.push_back("SGLang " + args.attention_backend + " attention (" + args.backend_rule + "), page size " +
                         std::to_string(page) + " (" + args.page_rule + ")");
  return result;
}

}  // namespace kvplan::detail
