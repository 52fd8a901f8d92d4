#include "core/capacity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/checked.h"
#include "core/checkpoint_shards.h"
#include "core/deepseek_v4_weights.h"
#include "core/error.h"
#include "core/fit_checks.h"
#include "core/fit_internal.h"
#include "core/sglang_rules.h"
#include "core/vllm_eplb.h"
#include "core/sglang_state.h"
#include "core/vllm_rules.h"

namespace kvplan {

Engine parse_engine(std::string_view text) {
  if (text == "vllm") return Engine::vllm;
  if (text == "sglang") return Engine::sglang;
  if (text == "trtllm" || text == "tensorrt-llm") return Engine::trtllm;
  throw Error("--engine: unknown engine '" + std::string(text) + "'; expected vllm, sglang or trtllm");
}

EngineRelease parse_engine_release(std::string_view text) {
  const std::size_t at = text.find('@');
  EngineRelease release{parse_engine(text.substr(0, at)), ""};
  if (at == std::string_view::npos) return release;
  release.version = std::string(text.substr(at + 1));
  if (release.version.empty()) {
    throw Error("--engine " + std::string(text) + ": name a release after '@', e.g. vllm@0.19");
  }
  switch (release.engine) {
    case Engine::vllm: vllm_rules(release.version); break;  // throws for a release kvplan does not know
    case Engine::sglang: sglang_rules(release.version); break;  // throws for a release kvplan does not know
    case Engine::trtllm: throw Error("--engine " + std::string(text) + ": kvplan has one set of TensorRT-LLM rules; "
                                     "write --engine trtllm");
  }
  return release;
}

std::string_view to_string(Engine engine) {
  switch (engine) {
    case Engine::vllm: return "vllm";
    case Engine::sglang: return "sglang";
    case Engine::trtllm: return "trtllm";
  }
  return "?";
}

namespace detail {

std::string fmt_double(double value, int decimals) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string fmt_trimmed(double value) {
  std::string text = fmt_double(value, 4);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::vector<StageLayers> split_stages(const ModelShape& shape, std::uint32_t pp, bool include_mtp) {
  std::vector<std::uint32_t> counts = pp_stage_layers(shape.num_hidden_layers, pp);
  std::vector<StageLayers> stages(pp);
  std::uint32_t layer = 0;
  for (std::uint32_t stage = 0; stage < pp; ++stage) {
    for (std::uint32_t i = 0; i < counts[stage]; ++i, ++layer) {
      switch (shape.layer_attention[layer]) {
        case LayerAttention::sliding: ++stages[stage].sliding; break;
        case LayerAttention::none: break;  // an MLP-only layer caches nothing
        default: ++stages[stage].full;
      }
    }
  }
  if (include_mtp) stages.back().mtp = shape.num_nextn_predict_layers;
  return stages;
}

bool high_memory_tier(const GpuSpec& gpu) {
  return gpu.memory_total.value >= 70 * kGiB && gpu.device_name.find("A100") == std::string::npos;
}

// The profile run pushes `tokens` tokens through one layer at a time, so the peak is one layer's
// widest intermediates, not a sum over layers:
//   tokens x (q + k + v widths + 2 x MLP intermediate) / TP x 2 B   the projections' outputs
// + tokens x 2 x hidden x 2 B                                       residual stream and norm
// + 3 x max_num_seqs x vocab x 4 B                                  the sampler's fp32 logits,
//                                                                   probabilities, log-probs
// MoE layers count the routed experts active per token. Calibrated on vLLM issue 19996
// (Llama-3.1-8B, H100): ~2.6 GiB estimated against ~4 GiB measured incl. non-torch memory; it is
// a rough figure, so --reserve or --kv-cache-memory give exact control.
Bytes activation_estimate(const ModelShape& shape, std::uint64_t tokens, std::uint64_t seqs, std::uint32_t tp,
                          std::string* rule) {
  std::uint64_t qkv = 0;
  if (shape.mla) {
    // Prefill decompresses the latent: per-head keys (nope + rope) and values.
    qkv = std::uint64_t{shape.num_attention_heads} *
          (2ull * shape.mla->qk_nope_head_dim + shape.mla->qk_rope_head_dim + shape.mla->v_head_dim);
  } else {
    const Variant native = native_variant(shape);  // values of v_head_dim where narrower (MiMo-V2-Flash)
    qkv = std::uint64_t{shape.num_attention_heads} * shape.head_dim + scalars_per_token_per_layer(native);
  }
  std::uint64_t mlp = shape.intermediate_size;
  if (shape.moe) mlp = std::uint64_t{shape.moe->num_experts_per_tok} * shape.moe->moe_intermediate_size;
  std::uint64_t sharded = (qkv + 2 * mlp) / tp;
  std::uint64_t layer = checked_mul(tokens, (sharded + 2 * shape.hidden_size) * 2,
                                    "the activation estimate for --max-num-batched-tokens " + std::to_string(tokens));
  std::uint64_t sampler = checked_mul(3 * seqs * 4, shape.vocab_size, "activation estimate");
  if (rule != nullptr) {
    *rule = std::to_string(tokens) + " tokens x (" + std::to_string(qkv) + " + 2 x " + std::to_string(mlp) + ") / TP " +
            std::to_string(tp) + " x 2 B + " + std::to_string(tokens) + " x 2 x " + std::to_string(shape.hidden_size) +
            " x 2 B + 3 x " + std::to_string(seqs) + " seqs x " + std::to_string(shape.vocab_size) +
            " vocab x 4 B (estimate)";
  }
  return Bytes{layer + sampler};
}

Bytes add_reserve_lines(const ModelShape& shape, const FitRequest& request, std::uint64_t tokens, std::uint64_t seqs,
                        FitResult& result) {
  if (request.options.reserve) {
    result.budget.push_back({"activations + non-torch", *request.options.reserve, "--reserve", '-'});
    return *request.options.reserve;
  }
  std::string activation_rule, non_torch_rule;
  Bytes activation = activation_estimate(shape, tokens, seqs, request.parallel.tp, &activation_rule);
  Bytes non_torch = non_torch_estimate(request.parallel, &non_torch_rule);
  result.budget.push_back({"activation peak", activation, activation_rule, '-'});
  result.budget.push_back({"non-torch memory", non_torch, non_torch_rule, '-'});
  return Bytes{activation.value + non_torch.value};
}

Bytes reserve_estimate(const ModelShape& shape, const FitRequest& request, std::uint64_t tokens, std::uint64_t seqs) {
  if (request.options.reserve) return *request.options.reserve;
  return Bytes{checked_add(activation_estimate(shape, tokens, seqs, request.parallel.tp, nullptr).value,
                           non_torch_estimate(request.parallel, nullptr).value, "activations + non-torch memory")};
}

namespace {

// Parameters of one stage: (embedding-free parameters x the stage's share of the layers) + the
// vocabulary matrices it holds. Falls back to an even split when the shape cannot separate them.
double stage_params(const ModelShape& shape, const Parallelism& parallel, std::uint32_t stage) {
  const double total = static_cast<double>(shape.params_total.value_or(0));
  const double vocab = static_cast<double>(shape.vocab_size) * static_cast<double>(shape.hidden_size);
  const double heads = shape.tie_word_embeddings ? vocab : 2 * vocab;
  if (parallel.pp == 1) return total;
  if (vocab == 0 || heads >= total || shape.num_hidden_layers == 0) return total / parallel.pp;
  const double layers = pp_stage_layers(shape.num_hidden_layers, parallel.pp)[stage];
  return (total - heads) * layers / shape.num_hidden_layers + (stage == 0 ? vocab : 0) +
         (stage + 1 == parallel.pp ? vocab : 0);
}

// A whole-model byte count's share of one stage: its layers' share, as stage_params spreads the rest.
double stage_share(const ModelShape& shape, const Parallelism& parallel, std::uint32_t stage, double whole) {
  if (parallel.pp == 1 || shape.num_hidden_layers == 0) return whole;
  return whole * pp_stage_layers(shape.num_hidden_layers, parallel.pp)[stage] / shape.num_hidden_layers;
}

// The parts split apart from the rest must have been sized (the request carries their bytes).
void check_split_parts_sized(const ModelShape& shape, const FitRequest& request) {
  if (request.options.dp_attention && !(request.attention_weight_bytes > 0)) {
    throw Error("--dp-attention: kvplan cannot size this model's attention weights apart from its other weights, "
                "which SGLang keeps whole on every rank; drop --dp-attention");
  }
  if (request.parallel.eplb && !(request.routed_expert_bytes > 0)) {
    throw Error("--enable-eplb: kvplan cannot size this model's routed experts apart from its other weights, so it "
                "cannot place EPLB's redundant experts and expert buffer; drop --enable-eplb");
  }
  if (request.parallel.expert_dp > 1 && shape.moe && !(request.routed_expert_bytes > 0)) {
    throw Error("DP " + std::to_string(request.parallel.expert_dp) + ": vLLM splits the routed experts over TP x DP "
                "ranks, and kvplan cannot size this model's routed experts apart from its other weights; plan one "
                "deployment per DP rank instead (--dp 1)");
  }
}

}  // namespace

Bytes weights_per_stage(const ModelShape& shape, const FitRequest& request, std::uint32_t stage) {
  if (request.parallel.eplb && (shape.checkpoint || request.deepseek_v4_weights)) {
    throw Error("--enable-eplb: kvplan places EPLB's redundant experts on weights sized from the parameter count only; "
                "pass --weights-dtype (or a preset) instead of sizing them from the checkpoint");
  }
  if (shape.checkpoint) return Bytes{checkpoint_stage_weights(shape, request.parallel, stage).bytes};
  if (request.deepseek_v4_weights) return Bytes{deepseek_v4_rank_bytes(shape, request.parallel)};
  if (!shape.params_total) {
    throw Error("the model has no parameter count, so its weights cannot be sized: give params.total in a YAML "
                "preset (presets/README.md) describing the model");
  }
  check_split_parts_sized(shape, request);
  const Parallelism& parallel = request.parallel;
  // Every weight is sharded over TP (vocab-parallel embeddings, column/row-parallel linears,
  // experts) and split over PP stages; norms and biases are too small to matter. With vLLM's DP
  // the routed experts are split over TP x DP ranks instead.
  const double stage_bytes = stage_params(shape, parallel, stage) * request.weight_bytes_per_param;
  const bool experts_apart = parallel.expert_dp > 1 || parallel.eplb;
  const double experts =
      experts_apart ? std::min(stage_share(shape, parallel, stage, request.routed_expert_bytes), stage_bytes) : 0;
  // SGLang's DP attention: attention runs at attn TP = TP / attn_dp = 1, so its projections are whole
  // on every rank; the MLPs, experts, embedding and LM head stay split over all TP ranks.
  const double attention =
      request.options.dp_attention
          ? std::min(stage_share(shape, parallel, stage, request.attention_weight_bytes), stage_bytes - experts)
          : 0;
  const double bytes = (stage_bytes - experts - attention) / parallel.tp + experts * eplb_rank_expert_share(shape, parallel) +
                       attention;
  if (!(bytes < 0x1p64)) throw Error("the weights per GPU (params.total x --weights-dtype bytes) do not fit in 64 bits");
  return Bytes{static_cast<std::uint64_t>(std::ceil(bytes))};
}

std::string weights_rule_for_stage(const ModelShape& shape, const FitRequest& request, std::uint32_t stage) {
  const Parallelism& parallel = request.parallel;
  if (shape.checkpoint) return checkpoint_weights_rule(shape, parallel, stage);
  if (request.deepseek_v4_weights) return deepseek_v4_weights_rule(shape, parallel);
  if (parallel.pp == 1) return weights_rule(shape, request);
  std::string rule = fmt_double(stage_params(shape, parallel, stage), 0) + " params on stage " + std::to_string(stage) +
                     " (its layers' share" + (stage == 0 ? ", the embedding" : "") +
                     (stage + 1 == parallel.pp ? ", the LM head" : "") + ") x " +
                     fmt_trimmed(request.weight_bytes_per_param) + " B (" + request.weights_dtype + ")";
  if (parallel.expert_dp == 1) return rule + " / TP " + std::to_string(parallel.tp);
  const std::string experts = fmt_double(stage_share(shape, parallel, stage, request.routed_expert_bytes), 0);
  return "(" + rule + " - " + experts + " B of routed experts) / TP " + std::to_string(parallel.tp) + " + " + experts +
         " B / (TP " + std::to_string(parallel.tp) + " x DP " + std::to_string(parallel.expert_dp) + ")";
}

Bytes non_torch_estimate(const Parallelism& parallel, std::string* rule) {
  // ~0.5 GiB for the CUDA context, cuBLAS workspaces and CUDA graphs; NCCL adds ~0.5 GiB of
  // buffers once ranks communicate.
  bool communicates = parallel.tp * parallel.pp * parallel.expert_dp > 1;
  if (rule != nullptr) {
    *rule = communicates ? "CUDA context, workspaces, CUDA graphs ~0.5 GiB + NCCL buffers ~0.5 GiB (estimate)"
                         : "CUDA context, workspaces, CUDA graphs ~0.5 GiB (estimate)";
  }
  return Bytes{communicates ? kGiB : kGiB / 2};
}

std::string weights_rule(const ModelShape& shape, const FitRequest& request) {
  const Parallelism& parallel = request.parallel;
  if (shape.checkpoint) return checkpoint_weights_rule(shape, parallel, checkpoint_widest_stage(shape, parallel));
  if (request.deepseek_v4_weights) return deepseek_v4_weights_rule(shape, parallel);
  const std::string all = std::to_string(shape.params_total.value_or(0)) + " params x " +
                          fmt_trimmed(request.weight_bytes_per_param) + " B (" + request.weights_dtype + ")";
  const std::string pp = std::to_string(parallel.pp);
  if (request.options.dp_attention) {
    const std::string attention = fmt_double(request.attention_weight_bytes, 0);
    return "((" + all + " - " + attention + " B of attention) / TP " + std::to_string(parallel.tp) + " + " + attention +
           " B of attention whole on every rank (--dp-attention: attention TP 1)) / PP " + pp;
  }
  const std::string experts = fmt_double(request.routed_expert_bytes, 0);
  if (parallel.eplb) {
    // EPLB: determine_expert_map gives the first ranks ceil((E + redundant) / EP) experts.
    const std::uint64_t logical = shape.moe->num_experts;
    const std::uint64_t physical = logical + parallel.redundant_experts;
    const std::uint64_t ranks = parallel.expert_ranks();
    return "(" + all + " - " + experts + " B of routed experts) / TP " + std::to_string(parallel.tp) + " + " + experts +
           " B x ceil((" + std::to_string(logical) + " experts + " + std::to_string(parallel.redundant_experts) +
           " redundant) / EP " + std::to_string(ranks) + ") = " + std::to_string(ceil_div(physical, ranks)) + " of " +
           std::to_string(logical) + " experts on the first ranks (EPLB)";
  }
  if (parallel.expert_dp == 1) return all + " / (TP " + std::to_string(parallel.tp) + " x PP " + pp + ")";
  // vLLM with DP: fused_moe/config.py:FusedMoEParallelConfig.make flattens TP across DP.
  return "((" + all + " - " + experts + " B of routed experts) / TP " + std::to_string(parallel.tp) + " + " + experts +
         " B / (TP " + std::to_string(parallel.tp) + " x DP " + std::to_string(parallel.expert_dp) + ")) / PP " + pp;
}

std::uint32_t fullest_stage(const std::vector<StageLayers>& stages, FitResult& result) {
  std::uint32_t layers = 0;
  for (std::uint32_t stage = 0; stage < stages.size(); ++stage) {
    result.stage_layers.push_back(stages[stage].total());
    if (stages[stage].total() > layers) {
      layers = stages[stage].total();
      result.binding_stage = stage;
    }
  }
  return layers;
}

void set_per_rank_cache(const FitRequest& request, FitResult& result) {
  const std::uint32_t tp = request.parallel.tp;
  // A group of DCP ranks caches each token of its heads once (DCP 1: every rank is its own group),
  // so copies exist when there are more groups than heads to shard over them.
  const std::uint32_t dcp_groups = tp / request.parallel.dcp;
  Variant rank = request.variant;
  if (rank.kind == VariantKind::mla) {
    result.kv_heads_per_rank = 1;
    result.kv_replicated = dcp_groups > 1;
  } else {
    rank.kv_heads = std::max<std::uint32_t>(1, request.variant.kv_heads / tp);
    result.kv_heads_per_rank = rank.kv_heads;
    result.kv_replicated = request.variant.kv_heads < dcp_groups;
  }
  result.token_layer_per_rank = bytes_per_token_per_layer(rank, request.kv_dtype, request.kv_scales);
}

void set_full_layer_cache(const ModelShape& shape, const FitRequest& request, FitResult& result) {
  Variant rank = full_layer_variant(request.variant, true, shape);
  rank.kv_heads = std::max<std::uint32_t>(1, rank.kv_heads / request.parallel.tp);
  result.full_kv_heads_per_rank = rank.kv_heads;
  result.full_token_layer_per_rank = bytes_per_token_per_layer(rank, request.kv_dtype, request.kv_scales);
}

void check_weights_fit(Bytes usable, Bytes weights, const std::string& usable_name) {
  if (weights.value >= usable.value) {
    throw Error("the weights do not fit: " + gib_text(weights) + " per GPU against " + gib_text(usable) + " " +
                usable_name + ", " + gib_text(Bytes{weights.value - usable.value}) +
                " missing; use more GPUs (--tp/--pp), a smaller --weights-dtype, or a larger GPU");
  }
}

// fit's checks of the request itself, before any engine's rules. They read max_model_len only
// to refuse 0.
void check_fit_request(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const Parallelism& parallel = request.parallel;
  check_tensor_parallel(shape, parallel.tp);
  const Variant& variant = request.variant;
  if (variant.kind != VariantKind::mla && variant.kv_heads % parallel.tp != 0 && parallel.tp % variant.kv_heads != 0) {
    throw Error("--tp " + std::to_string(parallel.tp) + " and the " + std::to_string(variant.kv_heads) + " K/V heads of " +
                variant.name() + " do not divide one another");
  }
  if (parallel.dcp != 1 && request.options.engine == Engine::trtllm) {
    throw Error("--dcp: kvplan plans decode context parallelism with vLLM's and SGLang's rules (--engine vllm or "
                "sglang); TensorRT-LLM's context parallelism is not modelled");
  }
  // SGLang's --dcp-size has rules of its own (fit_sglang.cc: check_sglang_dcp).
  if (request.options.engine != Engine::sglang) {
    check_decode_context_parallel(shape.num_attention_heads, variant.kv_heads, variant.kind == VariantKind::mla,
                                  parallel.tp, parallel.dcp);
  }
  if (parallel.expert_parallel && !shape.moe) {
    throw Error("expert parallel: the model has no routed experts to split (a dense model)");
  }
  if (parallel.expert_dp != 1 && (request.options.engine != Engine::vllm || parallel.dp % parallel.expert_dp != 0)) {
    throw Error("experts over " + std::to_string(parallel.expert_dp) + " DP ranks: only vLLM's DP spans MoE layers, "
                "over DP ranks that divide the fleet's", ExitCode::internal);
  }
  if (request.max_model_len.value == 0) throw Error("--ctx must be at least 1 token");
  if (request.options.mem_util && !(*request.options.mem_util > 0 && *request.options.mem_util <= 1)) {
    throw Error("--mem-util must be in (0, 1]; got " + detail::fmt_double(*request.options.mem_util, 3));
  }
  if (request.options.dp_attention && request.options.engine != Engine::sglang) {
    throw Error("--dp-attention is SGLang's option; add --engine sglang");
  }
  if (request.options.dp_attention && shape.checkpoint) {
    throw Error("--dp-attention: kvplan places a checkpoint's tensors with attention split over TP only; pass "
                "--weights-dtype to size the weights from the parameter count");
  }
  check_engine_layer_kinds(shape, request);
  check_memory_options(shape, gpu, request);
}

}  // namespace detail

Bytes weights_per_rank(const ModelShape& shape, const FitRequest& request) {
  if (shape.checkpoint) return checkpoint_weights_per_rank(shape, request.parallel);
  if (request.parallel.pp == 1) return detail::weights_per_stage(shape, request, 0);
  // The average stage: what engines without per-stage budgets (and --kv-cache-memory's check) use.
  FitRequest whole = request;
  whole.parallel.pp = 1;
  const Bytes all = detail::weights_per_stage(shape, whole, 0);
  return Bytes{ceil_div(all.value, request.parallel.pp)};
}

void set_engine_expert_span(Parallelism& parallel, Engine engine, const ModelShape& shape) {
  parallel.expert_dp = engine == Engine::vllm && shape.moe ? parallel.dp : 1;
}


FitResult fit(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  detail::check_fit_request(shape, gpu, request);
  switch (request.options.engine) {
    case Engine::vllm: return detail::fit_vllm(shape, gpu, request);
    case Engine::sglang: return detail::fit_sglang(shape, gpu, request);
    case Engine::trtllm: return detail::fit_trtllm(shape, gpu, request);
  }
  throw Error("unhandled engine", ExitCode::internal);
}

}  // namespace kvplan
