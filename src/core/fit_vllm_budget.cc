// vLLM's KV budget per PP stage (gpu_worker.py:determine_available_memory): total x
// gpu_memory_utilization less the stage's weights, RoPE tables, draft weights, activation peak and
// non-torch memory, or the KV memory given; and the budget lines --explain prints for the binding
// stage. docs/engines.md, "Budget", cites each rule.
#include "core/fit_vllm_budget.h"

#include <algorithm>
#include <cmath>

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_internal.h"
#include "core/rope_cache.h"
#include "core/vllm_eplb.h"
#include "core/vllm_mxfp4.h"
#include "core/vllm_profile.h"
#include "core/vllm_speculative.h"

namespace kvplan::detail {
namespace {

std::uint64_t default_seqs(const VllmRules& rules, const GpuSpec& gpu) {
  return high_memory_tier(gpu) ? rules.batch.seqs_high : rules.batch.seqs_low;
}

// What one PP stage subtracts besides its weights, with its budget lines when `lines` is given:
// --reserve, or the release's activation peak and non-torch memory (vllm_profile.h; the rough
// estimate for releases whose logs kvplan has not checked). The sampler runs on the last stage.
Bytes stage_reserve(const VllmRules& rules, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                    std::uint64_t batched_tokens, std::uint32_t stage, FitResult* lines) {
  const bool last = stage + 1 == request.parallel.pp;
  if (lines != nullptr && rules.cuda_graph_memory_subtracted) {
    lines->notes.push_back("vLLM " + lines->engine_version + " also subtracts its CUDA-graph memory estimate "
                           "(0.49-1.92 GiB per GPU in llm-d's 59 logged vLLM 0.19 runs on H100), which kvplan does not "
                           "model yet: the KV memory is over-estimated by that much; pass --kv-cache-memory from a "
                           "start-up log to take it out");
  }
  // The profile model follows the CUDA sampler; ROCm samples with aiter and is left to the rough estimate.
  if (request.options.reserve || rules.profile == VllmProfileModel::rough ||
      gpu.architecture == GpuArchitecture::cdna3) {
    const std::uint64_t seqs = last ? default_seqs(rules, gpu) : 0;
    if (lines != nullptr) return add_reserve_lines(shape, request, batched_tokens, seqs, *lines);
    return reserve_estimate(shape, request, batched_tokens, seqs);
  }
  const ProfileTerm activation =
      vllm_activation_peak(shape, gpu, request, batched_tokens, default_seqs(rules, gpu), {stage == 0, last});
  const ProfileTerm non_torch = vllm_non_torch(rules, request.parallel);
  if (lines != nullptr) {
    lines->budget.push_back({"activation peak", activation.bytes, activation.rule, '-'});
    lines->budget.push_back({"non-torch memory", non_torch.bytes, non_torch.rule, '-'});
  }
  return Bytes{checked_add(activation.bytes.value, non_torch.bytes.value, "activations + non-torch memory")};
}

// vLLM builds the rotary tables in the model's dtype: 4 B when it serves fp32, else 2 B (bf16 or
// fp16, quantized checkpoints included).
std::uint32_t model_dtype_bytes(const FitRequest& request) { return request.weights_dtype == "fp32" ? 4 : 2; }

// What vLLM may use of a GPU: total x gpu_memory_utilization, rounded up as its worker does.
Bytes requested_memory(const GpuSpec& gpu, double mem_util) {
  return Bytes{static_cast<std::uint64_t>(std::ceil(static_cast<double>(gpu.memory_total.value) * mem_util))};
}

// vLLM counts the tables in "Model loading took", beside the weights.
void add_rope_cache_line(const ModelShape& shape, const FitRequest& request, const StageBudget& stage, char sign,
                         FitResult& result) {
  if (stage.rope_cache.value == 0) return;
  result.budget.push_back({"RoPE cos/sin cache", stage.rope_cache,
                           rope_cache_rule(shape.rope_caches, model_dtype_bytes(request)), sign});
}

// The attention layers (MLA for an MLA model) among the hidden layers PP `stage` holds.
std::uint32_t mla_layers_on_stage(const ModelShape& shape, std::uint32_t pp, std::uint32_t stage) {
  const std::vector<std::uint32_t> counts = pp_stage_layers(shape.num_hidden_layers, pp);
  std::uint32_t first = 0;
  for (std::uint32_t s = 0; s < stage; ++s) first += counts[s];
  std::uint32_t layers = 0;
  for (std::uint32_t layer = first; layer < first + counts[stage]; ++layer) {
    const LayerAttention kind = shape.layer_attention[layer];
    layers += kind != LayerAttention::none && kind != LayerAttention::state;
  }
  return layers;
}

// vLLM's MLAAttention.process_weights_after_loading (model_executor/layers/attention/mla_attention.py,
// 0.19 and 0.33): W_UK_T and W_UV are views of kv_b_proj's weight as get_and_maybe_dequant_weights
// returns it in the model dtype. Unquantized, that is the weight itself; quantized (an fp8 checkpoint,
// or --weights-dtype fp8/int8/int4/nvfp4, which quantize every decoder linear layer), it is a new
// 16-bit tensor kept beside the quantized one ("we just store fp16/bf16 copies"): kv_lora_rank x
// heads per rank x (qk_nope_head_dim + v_head_dim) x 2 B per MLA layer. Returns it with its rule.
Bytes mla_absorbed_copies(const ModelShape& shape, const FitRequest& request, std::uint32_t mla_layers, std::string* rule) {
  const std::string& dtype = request.weights_dtype;
  const bool quantized = dtype == "fp8" || dtype == "int8" || dtype == "int4" || dtype == "nvfp4";
  if (!shape.mla || shape.compressed_mla || request.variant.kind != VariantKind::mla || !quantized || mla_layers == 0) {
    return Bytes{0};
  }
  const MlaDims& mla = *shape.mla;
  const std::uint64_t heads = std::max<std::uint32_t>(1, shape.num_attention_heads / request.parallel.tp);
  const std::uint64_t per_layer = checked_mul(
      checked_mul(checked_mul(mla.kv_lora_rank, heads, "MLA weight copies"),
                  std::uint64_t{mla.qk_nope_head_dim} + mla.v_head_dim, "MLA weight copies"),
      2, "MLA weight copies");
  if (rule != nullptr) {
    *rule = std::to_string(mla_layers) + " MLA layers x kv_lora_rank " + std::to_string(mla.kv_lora_rank) + " x " +
            std::to_string(heads) + " heads per rank x (qk_nope_head_dim " + std::to_string(mla.qk_nope_head_dim) +
            " + v_head_dim " + std::to_string(mla.v_head_dim) + ") x 2 B: vLLM's W_UK_T / W_UV, kv_b_proj dequantized "
            "from " + dtype + " to 16 bits and kept (MLAAttention.process_weights_after_loading)";
  }
  return Bytes{checked_mul(per_layer, mla_layers, "MLA weight copies")};
}

// The binding stage's copies as a budget line.
void add_mla_copies_line(const ModelShape& shape, const FitRequest& request, char sign, FitResult& result) {
  const Bytes copies = result.stages[result.binding_stage].mla_copies;
  if (copies.value == 0) return;
  std::string rule;
  mla_absorbed_copies(shape, request, mla_layers_on_stage(shape, request.parallel.pp, result.binding_stage), &rule);
  result.budget.push_back({"MLA W_UK/W_UV copies", copies, rule, sign});
}

void add_eplb_line(const ModelShape& shape, const FitRequest& request, char sign, FitResult& result) {
  const Bytes eplb = result.stages[result.binding_stage].eplb;
  if (eplb.value == 0) return;
  std::string rule;
  eplb_buffers(shape, request, &rule);
  result.budget.push_back({"EPLB expert buffer and state", eplb, rule, sign});
}

}  // namespace

// KV memory of each stage: given (--kv-cache-memory, one value or one per stage), or each
// stage's requested memory less its own weights, activations and non-torch memory.
void stage_budgets(const VllmRules& rules, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                   const std::vector<std::uint32_t>& layers_per_stage, FitResult& result) {
  const EngineOptions& options = request.options;
  const std::uint32_t pp = request.parallel.pp;
  if (!options.kv_cache_memory_per_stage.empty() && options.kv_cache_memory_per_stage.size() != pp) {
    throw Error("--kv-cache-memory: " + std::to_string(options.kv_cache_memory_per_stage.size()) +
                " values for " + std::to_string(pp) + " PP stages; give one value, or one per stage");
  }
  const Bytes requested = requested_memory(gpu, result.mem_util);
  for (std::uint32_t stage = 0; stage < pp; ++stage) {
    StageBudget budget;
    budget.layers = layers_per_stage[stage];
    // gpt-oss on Ampere, Hopper and Blackwell: the MXFP4 experts as the release holds them, not at 4.25 bits
    // (vllm_mxfp4.h).
    const std::optional<Bytes> mxfp4 = vllm_mxfp4_weights(shape, gpu, request, rules, nullptr);
    if (mxfp4 && request.parallel.eplb) {
      throw Error("--enable-eplb: kvplan does not place EPLB's experts in vLLM's MXFP4 kernel layout; drop --enable-eplb "
                  "or pass --weights-dtype");
    }
    budget.eplb = eplb_buffers(shape, request, nullptr);
    budget.weights = mxfp4 ? *mxfp4 : weights_per_stage(shape, request, stage);
    budget.mla_copies = mla_absorbed_copies(shape, request, mla_layers_on_stage(shape, request.parallel.pp, stage), nullptr);
    if (mxfp4) {
      result.notes.push_back("weights: vLLM " + result.engine_version + " holds the MXFP4 experts padded (and on Hopper "
                             "re-laid out) for its MoE kernel: " + gib_text(*mxfp4) + " per GPU, not the checkpoint's " +
                             gib_text(weights_per_stage(shape, request, stage)) +
                             " at 4.25 bits per expert parameter (docs/engines.md, \"MXFP4 experts\"; --explain shows "
                             "the arithmetic)");
    }
    if (stage + 1 == pp) budget.draft_weights = draft_weight_bytes(request, nullptr);
    // Every stage builds its attention layers' rotary embedding, so each holds the tables.
    budget.rope_cache = Bytes{rope_cache_bytes(shape.rope_caches, model_dtype_bytes(request))};
    if (!options.kv_cache_memory_per_stage.empty() || options.kv_cache_memory) {
      budget.kv_budget = options.kv_cache_memory_per_stage.empty() ? *options.kv_cache_memory
                                                                   : options.kv_cache_memory_per_stage[stage];
      if (budget.weights.value + budget.rope_cache.value + budget.mla_copies.value + budget.eplb.value +
              budget.draft_weights.value +
              budget.kv_budget.value >
          gpu.memory_total.value) {
        throw Error("--kv-cache-memory " + gib_text(budget.kv_budget) + " plus " + gib_text(budget.weights) +
                    " of weights" + (pp > 1 ? " on PP stage " + std::to_string(stage) : "") + " exceed the GPU's " +
                    gib_text(gpu.memory_total));
      }
    } else {
      check_weights_fit(requested, budget.weights, "that vLLM may use (total x gpu_memory_utilization)");
      budget.reserve = stage_reserve(rules, shape, gpu, request, result.max_num_batched_tokens, stage, nullptr);
      const std::uint64_t used =
          checked_add(budget.weights.value + budget.rope_cache.value + budget.mla_copies.value + budget.eplb.value,
                      budget.draft_weights.value + budget.reserve.value, "the memory used");
      if (used >= requested.value) {
        throw Error("no memory left for the KV cache" + (pp > 1 ? " on PP stage " + std::to_string(stage) : "") +
                    ": weights " + gib_text(budget.weights) + " + activations and overheads " + gib_text(budget.reserve) +
                    " exceed the " + gib_text(requested) + " vLLM may use by " + gib_text(Bytes{used - requested.value}) +
                    "; raise --mem-util, use more GPUs (--tp/--pp) or a larger GPU");
      }
      budget.kv_budget = Bytes{requested.value - used};
    }
    result.stages.push_back(budget);
    result.stage_layers.push_back(budget.layers);
  }
}

// The budget lines of the binding stage, as vLLM's worker logs them.
void budget_lines(const VllmRules& rules, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request, FitResult& result) {
  const StageBudget& stage = result.stages[result.binding_stage];
  const std::string where = request.parallel.pp > 1 ? " (PP stage " + std::to_string(result.binding_stage) + ", binding)" : "";
  result.budget.push_back({"total memory (CUDA)", gpu.memory_total, gpu.device_name + ", as torch.cuda.mem_get_info reports it", ' '});
  std::string mxfp4_rule;
  const std::string weights_line = vllm_mxfp4_weights(shape, gpu, request, rules, &mxfp4_rule)
                                       ? mxfp4_rule
                                       : weights_rule_for_stage(shape, request, result.binding_stage) + where;
  if (request.options.kv_cache_memory || !request.options.kv_cache_memory_per_stage.empty()) {
    // Not a subtraction: the KV memory is given; the weights are listed to check they fit beside it.
    result.budget.push_back({"weights", stage.weights, weights_line, ' '});
    add_rope_cache_line(shape, request, stage, ' ', result);
    add_mla_copies_line(shape, request, ' ', result);
    add_eplb_line(shape, request, ' ', result);
    add_draft_weights_line(request, stage, ' ', result);
    result.budget.push_back({"KV cache memory", stage.kv_budget,
                             "--kv-cache-memory (vLLM's kv_cache_memory_bytes): gpu_memory_utilization is ignored", ' '});
    return;
  }
  const Bytes requested = requested_memory(gpu, result.mem_util);
  result.budget.push_back({"x gpu_memory_utilization", requested,
                           "ceil(" + gib_text(gpu.memory_total) + " x " + fmt_double(result.mem_util, 2) + ")" +
                               (request.options.mem_util ? "" : "; vLLM " + result.engine_version + "'s default"),
                           '='});
  result.budget.push_back({"weights", stage.weights, weights_line, '-'});
  add_rope_cache_line(shape, request, stage, '-', result);
  add_mla_copies_line(shape, request, '-', result);
  add_eplb_line(shape, request, '-', result);
  add_draft_weights_line(request, stage, '-', result);
  stage_reserve(rules, shape, gpu, request, result.max_num_batched_tokens, result.binding_stage, &result);
  result.budget.push_back({"KV cache memory", stage.kv_budget, "vLLM logs it as 'Available KV cache memory'" + where, '='});
}

}  // namespace kvplan::detail
