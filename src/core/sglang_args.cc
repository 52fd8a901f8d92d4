// SGLang's argument resolution for the KV pool, 0.5.23's and the older releases' (docs/engines-sglang.md
// cites each rule).
#include "core/sglang_args.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/fit_internal.h"
#include "core/sglang_rules.h"
#include "core/sglang_state.h"

namespace kvplan::detail {
namespace {

// arg_groups/memory_hook.py:handle_gpu_memory_settings: bigger GPUs get a bigger prefill chunk
// and a bigger decode CUDA graph, bucketed by G.
struct MemoryBucket {
  double below_mib;
  std::uint64_t chunked_prefill_size;
  std::uint32_t max_bs_small_tp, max_bs_large_tp;  // TP < 4, TP >= 4
  const char* label;
};

// 0.5.3 on; the 20-35 GiB bucket changed in 0.5.5 and 0.5.20 (the release's row).
MemoryBucket memory_bucket(double g, const SglangRules& rules) {
  const MemoryBucket buckets[] = {
      {20 * 1024, 2048, 8, 8, "G < 20 GiB"},
      {35 * 1024, rules.mid_chunk, rules.mid_max_bs_small_tp, rules.mid_max_bs_large_tp, "20 GiB <= G < 35 GiB"},
      {60 * 1024, 4096, 32, 160, "35 GiB <= G < 60 GiB"},
      {90 * 1024, 8192, 256, 512, "60 GiB <= G < 90 GiB"},
      {160 * 1024, 8192, 256, 512, "90 GiB <= G < 160 GiB"},
      {1e300, 16384, 512, 512, "G >= 160 GiB"},
  };
  const MemoryBucket* bucket = &buckets[0];
  while (g >= bucket->below_mib) ++bucket;
  return *bucket;
}

// 0.4.7.post1-0.5.2 (server_args.py:ServerArgs.__post_init__): a flat reserve per GPU size, plus
// 4 GiB with DP attention; the chunked prefill size and the decode graph do not enter it. Sets
// those two as the release resolves them and returns R in MiB.
double reserve_by_gpu(double g, const Parallelism& parallel, SglangArgs& args) {
  const double parallel_size = parallel.tp * parallel.pp;
  double reserved = 0;
  if (g < 35 * 1024) {
    reserved = (2.8 + parallel_size / 10) * 1024;
    args.reserved_rule = "(2.8 + TP x PP / 10) x 1024 [G < 35 GiB]";
  } else if (g < 90 * 1024) {
    reserved = (9.5 + parallel_size / 2) * 1024;
    args.reserved_rule = "(9.5 + TP x PP / 2) x 1024 [35 GiB <= G < 90 GiB]";
  } else if (g < 160 * 1024) {
    reserved = (12 + parallel_size / 2) * 1024;
    args.reserved_rule = "(12 + TP x PP / 2) x 1024 [90 GiB <= G < 160 GiB]";
  } else {
    reserved = 32 * 1024;
    args.reserved_rule = "32 x 1024 [G >= 160 GiB]";
  }
  args.reserved_rule += " with TP x PP " + std::to_string(parallel.tp * parallel.pp);
  if (args.attn_dp_size > 1) {
    reserved += 4 * 1024;
    args.reserved_rule += " + 4096 (DP attention)";
  }
  args.chunked_prefill_size = g < 35 * 1024 ? 2048 : g < 160 * 1024 ? 8192 : 16384;
  // cuda_graph_runner.py:get_batch_sizes_to_capture: up to 160, 256 above 90 GiB, 512 above 160000 MiB;
  // 8 or 80 (TP >= 4) below 35 GiB.
  args.decode_graph_max_bs = g < 35 * 1024 ? (parallel.tp < 4 ? 8 : 80) : g > 160000 ? 512 : g > 90 * 1024 ? 256 : 160;
  return reserved;
}

// model_override_base.py:get_default_attn_backend, with the model overrides that replace it
// (model_overrides/deepseek_v2.py for DeepseekV3ForCausalLM, gpt_oss.py, mimo_v2.py, gemma4.py, llama4.py). Blackwell is taken as
// SM100 (B200), Hopper as CUDA >= 12.3.
std::string default_backend(const ModelShape& shape, const GpuSpec& gpu, bool mla, std::uint32_t tp,
                            std::string* rule) {
  const bool deepseek_v3_arch = shape.model_type == "deepseek_v3" || shape.model_type == "kimi_k2";
  const bool attention_sinks = shape.model_type == "gpt_oss" || shape.attention_sinks;
  // configs/model_config.py:has_asymmetric_kv (MiMo-V2-Flash's 192 / 128): trtllm_mha and FlashInfer
  // compile one head_dim for K and V; fa3, fa4 and triton carry v_head_dim through.
  const bool asymmetric = shape.v_head_dim != 0 || (shape.full_layer_kv && shape.full_layer_kv->v_head_dim != 0);
  // model_overrides/gemma4.py:_gemma4_overrides: trtllm_mha on SM100, triton everywhere else.
  if (shape.model_type == "gemma4_text") {
    const bool sm100 = gpu.architecture == GpuArchitecture::blackwell;
    *rule = sm100 ? "SM100, Gemma-4: trtllm_mha (model_overrides/gemma4.py)"
                  : "Gemma-4 off SM100: triton (model_overrides/gemma4.py)";
    return sm100 ? "trtllm_mha" : "triton";
  }
  switch (gpu.architecture) {
    case GpuArchitecture::hopper:
      *rule = "Hopper: fa3 for MHA and MLA";
      return "fa3";
    case GpuArchitecture::blackwell:
      if (mla && deepseek_v3_arch) {
        *rule = "SM100 and DeepseekV3ForCausalLM: trtllm_mla (model override)";
        return "trtllm_mla";
      }
      // model_overrides/qwen3_5.py:_qwen3_5_hybrid_overrides: Qwen3-Next on SM100 keeps trtllm_mha
      // only when the Mamba radix cache has an extra buffer, which is not yet resolved when the
      // override runs, so it takes triton with page size 1.
      if (!mla && asymmetric) {
        *rule = "SM100, keys and values of different widths: fa4 (model_override_base.py, model_overrides/mimo_v2.py)";
        return "fa4";
      }
      if (sglang_qwen3_next_config(shape)) {
        *rule = "SM100, Qwen3-Next and Qwen3.5: triton (model_overrides/qwen3_5.py)";
        return "triton";
      }
      *rule = mla ? "SM100, MLA: flashinfer" : "SM100, MHA: trtllm_mha";
      return mla ? "flashinfer" : "trtllm_mha";
    case GpuArchitecture::cdna3: {
      if (!mla && asymmetric) {
        throw Error("--engine sglang: kvplan does not model SGLang's ROCm backends for keys and values of different "
                    "widths (aiter is not among the backends that carry v_head_dim); plan it on an NVIDIA GPU");
      }
      if (!mla) {
        *rule = "ROCm, MHA: aiter";
        return "aiter";
      }
      const std::uint32_t heads = std::max<std::uint32_t>(1, shape.num_key_value_heads / tp);
      *rule = "ROCm, MLA with " + std::to_string(heads) + " heads per rank: aiter takes 16 or 128, else triton";
      return heads == 16 || heads == 128 ? "aiter" : "triton";
    }
    default:
      if (mla) {
        *rule = "neither Hopper nor SM100, MLA: triton";
        return "triton";
      }
      if (shape.model_type == "llama4" || shape.model_type == "llama4_text") {
        *rule = "Llama-4 neither on Hopper, SM100 nor ROCm: triton (model_overrides/llama4.py)";
        return "triton";
      }
      *rule = attention_sinks ? "attention sinks (gpt-oss, MiMo-V2-Flash), which flashinfer lacks: triton"
                              : "neither Hopper nor SM100, MHA: flashinfer";
      return attention_sinks ? "triton" : "flashinfer";
  }
}

// arg_groups/overrides.py:_mla_backend_page_constraints, _fa4_page_constraint,
// _page_size_default: the backends that need pages snap --page-size; the default is 1.
std::uint32_t backend_page_size(const std::string& backend, std::optional<std::uint32_t> requested, std::string* rule) {
  auto one_of = [&](std::initializer_list<std::uint32_t> sizes) {
    return requested && std::find(sizes.begin(), sizes.end(), *requested) != sizes.end();
  };
  if (backend == "trtllm_mla" && !one_of({32, 64})) {
    *rule = "trtllm_mla takes pages of 32 or 64 tokens; SGLang sets 64";
    return 64;
  }
  if (backend == "fa4") {
    *rule = "fa4 on SM100 takes pages of 128 tokens for MHA models; SGLang sets 128 (_fa4_page_constraint)";
    return 128;
  }
  if (backend == "trtllm_mha" && !one_of({16, 32, 64, 128})) {
    *rule = "trtllm_mha takes pages of 16, 32, 64 or 128 tokens; SGLang sets 64";
    return 64;
  }
  *rule = requested ? "--block-size (SGLang's --page-size)" : "SGLang's default page size";
  return requested.value_or(1);
}

// configs/model_config.py: a config with a text_config is multimodal unless its architecture is
// one whose images SGLang leaves off by default (ModelConfig.__init__'s mm_disabled_models).
bool sglang_multimodal(const ModelShape& shape, std::string* rule) {
  if (!shape.multimodal) return false;
  const std::string& architecture = shape.multimodal->architecture;
  for (const char* off : {"Gemma3ForConditionalGeneration", "Llama4ForConditionalGeneration",
                          "Step3VLForConditionalGeneration", "InklingForConditionalGeneration"}) {
    if (architecture == off) {
      *rule = architecture + ": SGLang leaves its images off by default (--enable-multimodal turns them on)";
      return false;
    }
  }
  *rule = (architecture.empty() ? std::string("a config with a text_config") : architecture) +
          ": multimodal in SGLang (the language model nests in text_config)";
  return true;
}

// model_config.py:multimodal_breakable_cuda_graph_supported_model_archs: the multimodal
// architectures whose prefill graph SGLang keeps.
bool breakable_graph_allowlisted(const std::string& architecture) {
  for (const char* allowed : {"MiniMaxM3SparseForConditionalGeneration", "Cohere2VisionForConditionalGeneration",
                              "Glm5NextForConditionalGeneration", "InternS2MobiusForConditionalGeneration",
                              "PaddleOCRVLForConditionalGeneration", "Qwen3_5ForConditionalGeneration",
                              "Qwen3_5MoeForConditionalGeneration", "Qwen4ExpForConditionalGeneration",
                              "MuseGlimmerForConditionalGeneration", "MuseSparkForConditionalGeneration",
                              "KimiK3ForConditionalGeneration", "KimiK25ForConditionalGeneration",
                              "MiniMaxM3SparseForCausalLM"}) {
    if (architecture == allowed) return true;
  }
  return false;
}

// From 0.5.3: memory_hook.py:handle_gpu_memory_settings and reserve_for_graph_mb
// (server_args.py:_handle_gpu_memory_settings before 0.5.19): the MiB kept out of the static pool,
// from the chunked prefill size, the decode graph's batch, TP x PP, DP attention and the prefill
// graph. Sets the chunked prefill size, the graphs and the rule in `args`.
double reserve_by_formula(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                          const SglangRules& rules, SglangArgs& args) {
  const Parallelism& parallel = request.parallel;
  const bool mla = request.variant.kind == VariantKind::mla;
  const double g = args.gpu_memory_mib;
  const MemoryBucket bucket = memory_bucket(g, rules);
  args.chunked_prefill_size = request.options.max_num_batched_tokens.value_or(bucket.chunked_prefill_size);
  args.decode_graph_max_bs = parallel.tp < 4 ? bucket.max_bs_small_tp : bucket.max_bs_large_tp;

  // The prefill graph (on by default from 0.5.10: piecewise, breakable from 0.5.15) is off on
  // ROCm and in what the release's compatibility rules turn it off for, which run before the
  // reserve: PP > 1 (cuda_graph_hook.py:apply_cuda_graph_compatibility in 0.5.19 on), DP
  // attention (0.5.10-0.5.16), MLA (0.5.15-0.5.17), decode context parallelism, and a multimodal
  // model outside the allowlist ("Multimodal prefill replay faults under BCG"). Its non-MLA capture
  // sizes run up to the chunked prefill size.
  args.prefill_graph = rules.prefill_graph && gpu.architecture != GpuArchitecture::cdna3 && parallel.dcp == 1;
  auto turn_off = [&](bool condition, const char* why) {
    if (!args.prefill_graph || !condition) return;
    args.prefill_graph = false;
    args.prefill_graph_rule = std::string("no prefill graph: ") + why;
  };
  turn_off(rules.prefill_graph_off_with_pp && parallel.pp > 1, "off with PP");
  turn_off(rules.prefill_graph_off_with_dp_attention && args.attn_dp_size > 1, "off with DP attention");
  turn_off(rules.prefill_graph_off_with_mla && mla, "off for MLA attention");
  turn_off(args.multimodal && !breakable_graph_allowlisted(shape.multimodal->architecture),
           "a multimodal model outside SGLang's breakable-graph allowlist");
  args.prefill_graph_sizes = args.prefill_graph && !mla ? prefill_graph_size_count(args.chunked_prefill_size) : 0;

  const double activation_tokens = static_cast<double>(std::max<std::uint64_t>(args.chunked_prefill_size, 2048));
  const double max_bs = args.decode_graph_max_bs;
  double reserved = 512 + activation_tokens * 1.5 + parallel.tp * parallel.pp / 8.0 * 1024 + max_bs * 2;
  args.reserved_rule = "512 + 1.5 x max(chunked_prefill_size " + std::to_string(args.chunked_prefill_size) + " [" +
                       bucket.label + "], 2048) + TP " + std::to_string(parallel.tp) + " x PP " +
                       std::to_string(parallel.pp) + " / 8 x 1024 + 2 x decode graph max_bs " +
                       std::to_string(args.decode_graph_max_bs);
  if (args.attn_dp_size > 1) {
    const double dp_pad = max_bs * args.attn_dp_size * (max_bs > 300 ? 4.5 : 3);
    reserved += dp_pad;
    args.reserved_rule += " + max_bs x attn_dp " + std::to_string(args.attn_dp_size) +
                          (max_bs > 300 ? " x (3 + 1.5 above 300)" : " x 3");
  }
  if (args.prefill_graph) {
    reserved += mla ? 1536 : 8.0 * args.prefill_graph_sizes;
    args.reserved_rule += mla ? " + 1536 (MLA prefill graph)"
                              : " + 8 x " + std::to_string(args.prefill_graph_sizes) + " prefill graph sizes";
  } else if (parallel.dcp > 1) {
    args.reserved_rule += " (no prefill graph: --dcp-size turns it off)";
  } else if (!args.prefill_graph_rule.empty()) {
    args.reserved_rule += " (" + args.prefill_graph_rule + ")";
  }
  if (g > 60 * 1024 && reserved < 10 * 1024) {
    reserved = 10 * 1024;
    args.reserved_rule += ", raised to the 10240 floor above 60 GiB";
  }
  return reserved;
}

}  // namespace

double sglang_vlm_factor(const ModelShape::Multimodal& multimodal) {
  // memory_hook.py:adjust_mem_fraction_for_vlm: 0.95, less 10% for each doubling of the vision
  // tower's layers x hidden^2 over ViT-L/14's (24 x 1024^2), within [0.8, 1.05].
  if (!multimodal.vision_config) return 1.0;
  const double complexity = static_cast<double>(multimodal.vision_layers) * static_cast<double>(multimodal.vision_hidden) *
                            static_cast<double>(multimodal.vision_hidden) / (24.0 * 1024 * 1024);
  return 0.95 * std::clamp(1.0 - 0.1 * (complexity - 1.0), 0.8, 1.05);
}

std::uint32_t prefill_graph_size_count(std::uint64_t max_bs) {
  struct Run {
    std::uint64_t first, last, step;
  };
  const Run runs[] = {{4, 32, 4}, {48, 256, 16}, {288, 512, 32}, {576, 1024, 64}, {1280, 4096, 256}};
  std::uint32_t count = 0;
  for (const Run& run : runs) {
    for (std::uint64_t size = run.first; size <= run.last && size <= max_bs; size += run.step) ++count;
  }
  for (std::uint64_t size = 4608; size <= max_bs; size += 512) ++count;
  return count;
}

SglangArgs resolve_sglang_args(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const Parallelism& parallel = request.parallel;
  const EngineOptions& options = request.options;
  const bool mla = request.variant.kind == VariantKind::mla;
  SglangArgs args;

  // utils/common.py:get_nvgpu_memory_capacity reads nvidia-smi; _cuda_mem_fallback (and ROCm's
  // rocminfo pool size) give the CUDA total in whole MiB.
  if (gpu.nvidia_smi_total_mib) {
    args.gpu_memory_mib = static_cast<double>(*gpu.nvidia_smi_total_mib);
    args.gpu_memory_rule = "nvidia-smi total";
  } else {
    args.gpu_memory_mib = static_cast<double>(gpu.memory_total.value / kMiB);
    args.gpu_memory_rule = "CUDA total in whole MiB (no nvidia-smi total in the preset)";
  }
  const double g = args.gpu_memory_mib;

  const SglangRules& rules = sglang_rules(options.engine_version);
  args.attn_dp_size = options.dp_attention ? parallel.tp : 1;
  args.multimodal = sglang_multimodal(shape, &args.multimodal_rule);
  double reserved = 0;
  if (rules.fraction == SglangFraction::reserve_by_gpu) {
    reserved = reserve_by_gpu(g, parallel, args);
    if (options.max_num_batched_tokens) args.chunked_prefill_size = *options.max_num_batched_tokens;
  } else {
    reserved = reserve_by_formula(shape, gpu, request, rules, args);
  }
  args.reserved_mib = reserved;

  if (options.mem_util) {
    args.mem_fraction_static = *options.mem_util;
    args.fraction_rule = "--mem-util (SGLang's --mem-fraction-static)";
  } else {
    args.mem_fraction_static = std::nearbyint((g - reserved) / g * 1000) / 1000;
    args.fraction_rule = "round((G " + fmt_double(g, 0) + " MiB [" + args.gpu_memory_rule + "] - R " +
                         fmt_trimmed(reserved) + " MiB) / G, 3); R = " + args.reserved_rule;
    // The default only: a multimodal model keeps room for its image encoder.
    if (args.multimodal && shape.multimodal->vision_config) {
      const double factor = sglang_vlm_factor(*shape.multimodal);
      args.mem_fraction_static *= factor;
      args.fraction_rule += "; x " + fmt_trimmed(factor) + " for the vision tower (adjust_mem_fraction_for_vlm: 0.95 x " +
                            "clamp(1 - 0.1 x (" + std::to_string(shape.multimodal->vision_layers) + " layers x " +
                            std::to_string(shape.multimodal->vision_hidden) + "^2 / (24 x 1024^2) - 1), 0.8, 1.05))";
    }
  }

  args.attention_backend = default_backend(shape, gpu, mla, parallel.tp, &args.backend_rule);
  // attention_hook.py:handle_attention_backend_compatibility: aiter with a context over 8192
  // keeps 15% more for its workspace, explicit fractions included.
  if (args.attention_backend == "aiter" && request.max_model_len.value > 8192) {
    args.mem_fraction_static *= 0.85;
    args.fraction_rule += "; x 0.85 for aiter with a context over 8192 tokens";
  }
  args.page_size = backend_page_size(args.attention_backend, options.block_size, &args.page_rule);
  return args;
}

}  // namespace kvplan::detail
