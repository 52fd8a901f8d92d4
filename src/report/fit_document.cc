#include "report/fit_document.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/checked.h"
#include "core/vllm_rules.h"
#include "report/format.h"
#include "report/fleet_rows.h"
#include "report/prefix_sharing_rows.h"
#include "report/sglang_lines.h"
#include "report/speculative_rows.h"

namespace kvplan::report {
namespace {

class Rows {
 public:
  Rows(Document& document, UnitSystem units) : document_(document), units_(units) {}

  void bytes(std::string key, char sign, std::string item, Bytes value, std::string rule) {
    add(std::move(key), sign, std::move(item), Cell::of(format_bytes(value, units_), value.value), "B", std::move(rule));
  }
  void count(std::string key, std::string item, std::uint64_t value, std::string rule, std::string unit = "") {
    std::string text = format_count(value) + (unit.empty() ? "" : " " + unit);
    add(std::move(key), ' ', std::move(item), Cell::of(text, value), unit, std::move(rule));
  }
  void number(std::string key, std::string item, std::string text, double value, std::string unit, std::string rule) {
    add(std::move(key), ' ', std::move(item), Cell::of(std::move(text), value), std::move(unit), std::move(rule));
  }

 private:
  void add(std::string key, char sign, std::string item, Cell value, std::string unit, std::string rule) {
    document_.rows.push_back({Cell::of(std::move(key)), Cell::of(std::string(1, sign)), Cell::of(std::move(item)),
                              std::move(value), Cell::of(std::move(unit)), Cell::of(std::move(rule))});
  }
  Document& document_;
  UnitSystem units_;
};

std::string engine_settings(const FitResult& result) {
  switch (result.engine) {
    case Engine::vllm:
      return fmt::format("vllm {}: gpu_memory_utilization {:.2f}, {} backend (block_size {}), max_num_batched_tokens {}",
                         result.engine_version, result.mem_util, result.attention_backend, result.block_size,
                         result.max_num_batched_tokens);
    case Engine::sglang:
      return fmt::format("sglang {}: mem_fraction_static {:.3f}, page_size {}, chunked_prefill_size {}", result.engine_version,
                         result.mem_util, result.block_size, result.max_num_batched_tokens);
    case Engine::trtllm:
      return fmt::format("trtllm: free_gpu_memory_fraction {:.2f}, tokens_per_block {}", result.mem_util,
                         result.block_size);
  }
  return "";
}

}  // namespace

std::vector<std::string> engine_log_lines(const FitRequest& request, const FitResult& result) {
  const std::string len = format_thousands(request.max_model_len.value);
  switch (result.engine) {
    case Engine::vllm: {
      const double kv_gib = static_cast<double>(result.kv_budget.value) / static_cast<double>(kGiB);
      const std::string who = "vLLM " + result.engine_version + " logs: ";
      switch (vllm_rules(result.engine_version).log_format) {
        case VllmLogFormat::one_line:
          return {fmt::format("{}\"Available KV cache memory: {:.2f} GiB\"", who, kv_gib),
                  fmt::format("{}\"GPU KV cache size: {} tokens, Maximum concurrency for {} tokens per request: {:.2f}x\"",
                              who, format_thousands(result.kv_tokens), len, result.max_concurrency)};
        case VllmLogFormat::two_lines:
          return {fmt::format("{}\"Available KV cache memory: {:.2f} GiB\"", who, kv_gib),
                  fmt::format("{}\"GPU KV cache size: {} tokens\"", who, format_thousands(result.kv_tokens)),
                  fmt::format("{}\"Maximum concurrency for {} tokens per request: {:.2f}x\"", who, len,
                              result.max_concurrency)};
        case VllmLogFormat::gpu_blocks:
          return {fmt::format("{}\"# GPU blocks: {}\" (V0: one block holds {} tokens of every layer)", who,
                              result.num_blocks, result.block_size),
                  fmt::format("{}\"Maximum concurrency for {} tokens per request: {:.2f}x\"", who,
                              request.max_model_len.value, result.max_concurrency)};
      }
      return {};
    }
    case Engine::sglang: return sglang_log_lines(request, result);
    case Engine::trtllm:
      return {fmt::format("TensorRT-LLM logs: \"Estimated max tokens in KV cache : {}\"", result.kv_tokens_combined)};
  }
  return {};
}

Document fit_document(const FitContext& context, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                      const FitResult& result, const DecodeBound& decode, const FleetSearch* fleet,
                      std::uint64_t target_concurrency) {
  const Parallelism& parallel = request.parallel;
  Document document;
  document.command = "fit";
  // DCP reuses the TP ranks: it is named beside them, not multiplied in.
  const std::string dcp = parallel.dcp > 1 ? fmt::format(", DCP {}", parallel.dcp) : "";
  document.title = fmt::format("{} on {} x {} (TP {} x PP {} x DP {}{}), {} tokens per request", context.model.name,
                               parallel.gpus(), context.gpu_name, parallel.tp, parallel.pp, parallel.dp, dcp,
                               request.max_model_len.value);
  document.facts = {
      {"model", "model", Cell::of(context.model.name + (context.model.hf_id.empty() ? "" : " (" + context.model.hf_id + ")"),
                                  context.model.name)},
      {"variant", "attention",
       shape.compressed_mla
           ? Cell::of("compressed sparse attention (native: one latent shared by all heads)", std::string("compressed"))
           : Cell::of(request.variant.name() + (context.variant_native ? " (native)" : " (counterfactual)"),
                      request.variant.name())},
      {"gpu", "GPU", Cell::of(context.gpu_name + " (" + gpu.device_name + ")", context.gpu_name)},
      {"gpus", "GPUs", Cell::of(fmt::format("{} = TP {} x PP {} x DP {}{}", parallel.gpus(), parallel.tp, parallel.pp,
                                            parallel.dp, parallel.dcp > 1 ? dcp + " within TP" : ""),
                                std::uint64_t{parallel.gpus()})},
      {"engine", "engine", Cell::of(engine_settings(result), std::string(to_string(result.engine)))},
      {"weights_dtype", "weights", Cell::of(fmt::format("{} ({:.4g} B per parameter)", request.weights_dtype,
                                                        request.weight_bytes_per_param),
                                            request.weights_dtype)},
      {"kv_dtype", "kv dtype",
       Cell::of(std::string(to_string(request.kv_dtype)) +
                    (result.kv_cache_dtype != request.kv_dtype
                         ? ", stored as " + std::string(to_string(result.kv_cache_dtype)) + " by " + result.attention_backend
                         : ""),
                std::string(to_string(result.kv_cache_dtype)))},
      {"max_model_len", "context", Cell::of(format_count(request.max_model_len.value) + " tokens per request",
                                            request.max_model_len.value)},
  };
  document.columns = {
      {"key", "key", Align::left, true},
      {"step", "", Align::left},
      {"item", "per GPU", Align::left},
      {"value", "value", Align::right},
      {"unit", "unit", Align::left, true},
      {"rule", "rule", Align::left, !context.explain},
  };

  Rows rows(document, context.units);
  for (const BudgetLine& line : result.budget) {
    std::string key = line.item;
    for (char& c : key) c = (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    rows.bytes(key + "_bytes", line.sign, line.item, line.bytes, line.rule);
  }
  const bool mla = request.variant.kind == VariantKind::mla;
  rows.count("kv_heads_per_rank", "K/V heads per rank", result.kv_heads_per_rank,
             parallel.dcp > 1
                 ? fmt::format("{}; with DCP {} a rank caches {} for 1/{} of the tokens{}",
                               mla ? "MLA: one latent per token (vLLM counts it as 1 head)"
                                   : fmt::format("max(1, {} / TP {})", request.variant.kv_heads, parallel.tp),
                               parallel.dcp, mla ? "it" : "them", parallel.dcp,
                               result.kv_replicated ? fmt::format(", and each of the {} DCP groups holds a copy",
                                                                  parallel.tp / parallel.dcp)
                                                    : ", so nothing is cached twice")
             : mla ? "MLA: one latent per token on every rank (vLLM counts it as 1 head)"
                   : fmt::format("max(1, {} / TP {}){}", request.variant.kv_heads, parallel.tp,
                                 result.kv_replicated ? ": fewer heads than ranks, so heads are replicated" : ""));
  const TokenLayerBytes& token_layer = result.token_layer_per_rank;
  rows.bytes("bytes_per_token_per_layer_per_rank", ' ', "KV per token per layer", Bytes{token_layer.total()},
             token_layer.indexer_bytes > 0
                 ? fmt::format("{} B {} in {} + {} B indexer key (fp8 values + fp32 scales)",
                               token_layer.total() - token_layer.indexer_bytes, request.variant.name(),
                               to_string(result.kv_cache_dtype), token_layer.indexer_bytes)
                 : result.indexer_page_bytes.value > 0
                 ? fmt::format("{} in {}; the indexer key ({} B) is cached by some layers only, priced per block below",
                               request.variant.name(), to_string(result.kv_cache_dtype),
                               shape.indexer->bytes_per_token())
                 : shape.compressed_mla
                 ? fmt::format("one latent row in {} (a window token's; compressed rows stand for 4 or 128 tokens)",
                               to_string(result.kv_cache_dtype))
                 : fmt::format("{} in {}", request.variant.name(), to_string(result.kv_cache_dtype)));
  if (const std::optional<TokenLayerBytes>& full = result.full_token_layer_per_rank) {
    const KvGeometry& geometry = *shape.full_layer_kv;
    rows.count("full_kv_heads_per_rank", "full layers: K/V heads per rank", result.full_kv_heads_per_rank,
               fmt::format("the full layers' own heads ({}), max(1, heads / TP {})", geometry.heads_field, parallel.tp));
    const std::string widths = geometry.head_dim_field + (geometry.v_head_dim ? ", " + std::string(geometry.v_head_dim_field) : "");
    rows.bytes("full_bytes_per_token_per_layer_per_rank", ' ', "full layers: KV per token per layer", Bytes{full->total()},
               fmt::format("{} scalars ({}) in {}", full->scalars, widths, to_string(result.kv_cache_dtype)));
  }
  if (result.state_bytes_per_rank.value > 0) {
    rows.bytes("state_bytes_per_sequence_per_rank", ' ', "state per sequence per layer", result.state_bytes_per_rank,
               result.state_rule);
  }
  std::string stages;
  for (std::uint32_t layers : result.stage_layers) stages += (stages.empty() ? "" : ", ") + std::to_string(layers);
  rows.count("layers_per_rank", "layers on the fullest stage", result.stage_layers[result.binding_stage],
             parallel.pp > 1 ? "PP stages hold " + stages + " layers (" +
                                   (result.engine == Engine::sglang ? "SGLang's" : "vLLM's") + " get_pp_indices)"
                             : result.state_pool
                                   ? fmt::format("the attention layers; the {} state layers keep the state pool instead",
                                                 result.state_pool->layers)
                                   : "all cached layers");
  if (result.engine == Engine::vllm) {
    const bool packed = !result.blocks_rule.empty();
    rows.bytes("page_bytes", ' ', packed ? "block (its group's pages)" : "page (one block, one layer)", result.page_bytes,
               !result.page_rule.empty()
                   ? fmt::format("{}; the {} backend ({})", result.page_rule, result.attention_backend,
                                 result.attention_backend_why)
               : result.state_bytes_per_rank.value > 0
                   ? fmt::format("{} tokens x {} B; the {} backend's block, raised so that a page holds one sequence's "
                                 "state (the line above; {})",
                                 result.block_size, result.token_layer_per_rank.total(), result.attention_backend,
                                 result.attention_backend_why)
                   : fmt::format("{} tokens x {} B; block size of the {} backend ({})", result.block_size,
                                 result.token_layer_per_rank.total(), result.attention_backend,
                                 result.attention_backend_why));
    const StageBudget& binding = result.stages[result.binding_stage];
    if (result.indexer_page_bytes.value > 0) {
      rows.bytes("indexer_page_bytes", ' ', "indexer key page (one block, one layer)", result.indexer_page_bytes,
                 fmt::format("{} tokens x {} B, on {} of the stage's {} layers (DeepseekV32Attention builds an indexer "
                             "where index_topk_freq / index_topk_pattern say, and on every MTP layer)",
                             result.block_size, shape.indexer->bytes_per_token(), binding.indexer_keys, binding.layers));
    }
    for (std::uint32_t stage = 0; stage < result.stages.size() && result.stages.size() > 1; ++stage) {
      const StageBudget& budget = result.stages[stage];
      rows.bytes(fmt::format("stage_{}_kv_cache_memory_bytes", stage), ' ', fmt::format("PP stage {} KV cache memory", stage),
                 budget.kv_budget,
                 fmt::format("{} layers, weights {}{}: {} blocks of {} B{}", budget.layers, gib_text(budget.weights),
                             budget.reserve.value > 0 ? ", activations + non-torch " + gib_text(budget.reserve) : "",
                             budget.num_blocks, budget.bytes_per_block.value,
                             stage == result.binding_stage ? " (binding: the fewest blocks)" : ""));
    }
    const std::uint64_t key_bytes = checked_mul(result.indexer_page_bytes.value, binding.indexer_keys, "block size");
    rows.count("num_blocks", "KV blocks", result.num_blocks,
               packed ? fmt::format("floor({} / {} B per block)", gib_text(binding.kv_budget), binding.bytes_per_block.value)
               : key_bytes > 0
                   ? fmt::format("floor({} / ({} B page x {} layers + {} B key page x {} keys = {} B per block))",
                                 gib_text(binding.kv_budget), result.page_bytes.value,
                                 (binding.bytes_per_block.value - key_bytes) / result.page_bytes.value,
                                 result.indexer_page_bytes.value, binding.indexer_keys, binding.bytes_per_block.value)
                      : fmt::format("floor({} / ({} B page x {} layers of the widest group))", gib_text(binding.kv_budget),
                                    result.page_bytes.value, binding.bytes_per_block.value / result.page_bytes.value));
  } else if (result.engine == Engine::trtllm) {
    rows.bytes("page_bytes", ' ', "page (one block, one layer)", result.page_bytes,
               fmt::format("{} tokens x {} B", result.block_size, result.token_layer_per_rank.total()));
    rows.count("num_blocks", "KV blocks", result.num_blocks,
               fmt::format("floor({} / {} B / {} layers per group)", gib_text(result.kv_budget), result.page_bytes.value,
                           result.group_size));
  }
  std::string tokens_rule = "pool size";
  if (result.engine == Engine::sglang) tokens_rule = sglang_tokens_rule(request, result);
  if (result.engine == Engine::vllm) {
    switch (vllm_rules(result.engine_version).log_format) {
      case VllmLogFormat::one_line:
        tokens_rule = fmt::format("int({:.6f} x {}): max concurrency x max_model_len, as vLLM {} logs it",
                                  result.max_concurrency, request.max_model_len.value, result.engine_version);
        break;
      case VllmLogFormat::two_lines:
        tokens_rule = fmt::format("{} blocks / {} group{} x {}", result.num_blocks, result.groups.size(),
                                  result.groups.size() == 1 ? "" : "s", result.block_size);
        break;
      case VllmLogFormat::gpu_blocks:
        tokens_rule = fmt::format("{} blocks x {}", result.num_blocks, result.block_size);
        break;
    }
  }
  rows.count("kv_tokens", "KV tokens", result.kv_tokens, tokens_rule);
  const std::uint32_t full_block = result.full_block_size != 0 ? result.full_block_size : result.block_size;
  // vLLM's block table holds a rank's share of the tokens; SGLang's scheduler counts logical tokens
  // (rows x dcp), so its pages per request are the whole context's.
  std::string per_request =
      parallel.dcp > 1 && result.engine == Engine::vllm ? fmt::format("ceil(ceil({} / DCP {}) / {}) per full-attention group: a rank's share of the tokens",
                                     request.max_model_len.value, parallel.dcp, full_block)
                       : fmt::format("ceil({} / {}) per full-attention group", request.max_model_len.value, full_block);
  if (result.engine == Engine::vllm) {
    // Sliding and chunked groups hold a window or a chunk and the tokens still in flight.
    const VllmRules& rules = vllm_rules(result.engine_version);
    const std::uint64_t in_flight = rules.sliding_in_flight ? result.max_in_flight_tokens : result.max_num_batched_tokens;
    const std::string flight =
        rules.sliding_in_flight
            ? fmt::format("{} in flight ({} batches x {})", in_flight, result.concurrent_batches, result.max_num_batched_tokens)
            : fmt::format("max_num_batched_tokens {}", in_flight);
    for (LayerAttention kind : {LayerAttention::sliding, LayerAttention::chunked}) {
      auto group = std::find_if(result.groups.begin(), result.groups.end(),
                                [&](const KvGroup& g) { return g.attention == kind; });
      if (group == result.groups.end()) continue;
      per_request += kind == LayerAttention::sliding
                         ? fmt::format("; ceil(min(W {} - 1 + {}, {}) / {}) + 1 = {} per sliding group",
                                       shape.sliding_window.value_or(0), flight, request.max_model_len.value,
                                       result.block_size, group->blocks_per_request)
                         : fmt::format("; ceil(min(chunk {} + {}, {}) / {}) = {} per chunked group",
                                       shape.attention_chunk_size.value_or(0), flight, request.max_model_len.value,
                                       result.block_size, group->blocks_per_request);
    }
    const auto state_groups = std::count_if(result.groups.begin(), result.groups.end(),
                                            [](const KvGroup& g) { return g.attention == LayerAttention::state; });
    if (state_groups > 0) {
      const KvGroup& state = *std::find_if(result.groups.begin(), result.groups.end(),
                                           [](const KvGroup& g) { return g.attention == LayerAttention::state; });
      const std::uint64_t kept = state.blocks_per_request - result.state_speculative_blocks;
      const std::string drafted = result.state_speculative_blocks == 0
                                      ? ""
                                      : fmt::format(", + {} for the drafted tokens", result.state_speculative_blocks);
      per_request += fmt::format("; {} per state group ({}{}) x {} state groups", state.blocks_per_request,
                                 !result.state_align_mode ? "mamba_cache_mode none: the running state"
                                 : kept == 2 ? "mamba_cache_mode align: the running and the last block's state"
                                             : "mamba_cache_mode align: running, last block's and prefill checkpoint states",
                                 drafted, state_groups);
    }
    if (result.groups.size() > 1) per_request = fmt::format("{} groups: {}", result.groups.size(), per_request);
  }
  if (!result.blocks_rule.empty()) per_request = result.blocks_rule;
  rows.count("blocks_per_request", "blocks per request", result.blocks_per_request, per_request);
  add_speculative_rows(document, request, result, context.units);
  if (parallel.dcp > 1 && result.engine == Engine::vllm) {
    const StageBudget& binding = result.stages[result.binding_stage];
    rows.bytes("kv_bytes_per_request_per_rank", ' ', "KV per request per rank", result.bytes_per_request_per_rank,
               fmt::format("{} blocks x {} B: 1/{} of a request's tokens (without DCP: {} blocks)",
                           result.blocks_per_request, binding.bytes_per_block.value, parallel.dcp,
                           ceil_div(request.max_model_len.value, result.block_size)));
  }
  rows.number("max_concurrency", "max concurrency", fmt::format("{:.2f}x", result.max_concurrency), result.max_concurrency, "x",
              fmt::format("{} / {}", result.engine == Engine::sglang ? result.kv_tokens : result.num_blocks,
                          result.engine == Engine::sglang ? request.max_model_len.value : result.blocks_per_request));
  if (const std::optional<StatePool>& state = result.state_pool) {
    rows.count("state_slots", "state slots (max_mamba_cache_size)", state->slots,
               fmt::format("the state pool line above; {} state layers per slot", state->layers), "slots");
    rows.count("max_running_requests", "max running requests", state->max_running_requests, state->rule, "requests");
  }
  rows.count("requests_per_replica", "requests per replica", result.requests_per_replica,
             result.state_pool ? fmt::format("full-length requests held at once: min(floor({} / {}), {} running){}",
                                             result.kv_tokens, request.max_model_len.value,
                                             result.state_pool->max_running_requests,
                                             result.attention_dp > 1 ? fmt::format(" x {} attention-DP ranks", result.attention_dp) : "")
                               : "full-length requests held at once",
             "requests");
  rows.count("fleet_requests", "requests on the fleet", result.fleet_requests,
             parallel.expert_dp > 1
                 ? fmt::format("{} x {} DP ranks, each its own scheduler and KV cache (one deployment: the "
                               "routed experts span all {} ranks)",
                               result.requests_per_replica, parallel.dp, parallel.expert_ranks())
                 : fmt::format("{} x {} replica{}", result.requests_per_replica, parallel.dp, parallel.dp == 1 ? "" : "s"),
             "requests");
  if (context.prefix_sharing != nullptr) {
    add_prefix_sharing_fact(document, *context.prefix_sharing);
    add_prefix_sharing_rows(document, *context.prefix_sharing, shape, request, result);
  }
  rows.number("decode_tokens_per_s", "decode bound", fmt::format("{:.0f} tokens/s", decode.tokens_per_second),
              decode.tokens_per_second, "tokens/s",
              fmt::format("batch {} x {} replica{} / (({} weights + {} KV) per rank per step / {:.2f} TB/s)", decode.batch,
                          parallel.dp, parallel.dp == 1 ? "" : "s", gib_text(decode.weights_per_step),
                          gib_text(decode.kv_per_step), gpu.hbm_bandwidth_bytes_per_s / 1e12));
  if (decode.usd_per_million_tokens) {
    rows.number("usd_per_million_tokens", "cost bound", fmt::format("${:.4f} per M tokens", *decode.usd_per_million_tokens),
                *decode.usd_per_million_tokens, "USD/M tokens", "price/h x GPUs / (tokens/s x 3600) x 10^6");
  }

  for (const std::string& line : engine_log_lines(request, result)) document.notes.push_back(line);
  document.notes.insert(document.notes.end(), result.notes.begin(), result.notes.end());
  document.notes.push_back("the decode bound assumes every request at full length and reads at the datasheet HBM "
                           "bandwidth: a bandwidth bound, not a promise");
  if (fleet != nullptr) {
    add_fleet_rows(document, *fleet,
                   FleetView{target_concurrency, parallel.gpus(), context.gpu_name, request.max_model_len.value,
                             context.explain, context.units});
  }
  if (shape.max_position_embeddings > 0 && request.max_model_len.value > shape.max_position_embeddings) {
    // SGLang: configs/model_config.py:ModelConfig raises unless its own variable is set.
    document.notes.push_back(fmt::format("--ctx {} exceeds max_position_embeddings ({}); {}",
                                         request.max_model_len.value, shape.max_position_embeddings,
                                         result.engine == Engine::sglang
                                             ? "SGLang refuses it unless SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN=1"
                                             : "vLLM refuses it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1"));
  }
  return document;
}

}  // namespace kvplan::report
