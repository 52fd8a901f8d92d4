// SGLang 0.5.23's argument resolution for the KV pool (docs/engines-sglang.md cites each rule).
#include "core/sglang_args.h"

#include <algorithm>
#include <cmath>

#include "core/fit_internal.h"

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
constexpr MemoryBucket kBuckets[] = {
    {20 * 1024, 2048, 8, 8, "G < 20 GiB"},
    {35 * 1024, 4096, 48, 160, "20 GiB <= G < 35 GiB"},
    {60 * 1024, 4096, 32, 160, "35 GiB <= G < 60 GiB"},
    {90 * 1024, 8192, 256, 512, "60 GiB <= G < 90 GiB"},
    {160 * 1024, 8192, 256, 512, "90 GiB <= G < 160 GiB"},
    {1e300, 16384, 512, 512, "G >= 160 GiB"},
};

// model_override_base.py:get_default_attn_backend, with the model overrides that replace it
// (model_overrides/deepseek_v2.py for DeepseekV3ForCausalLM, gpt_oss.py). Blackwell is taken as
// SM100 (B200), Hopper as CUDA >= 12.3.
std::string default_backend(const ModelShape& shape, const GpuSpec& gpu, bool mla, std::uint32_t tp,
                            std::string* rule) {
  const bool deepseek_v3_arch = shape.model_type == "deepseek_v3" || shape.model_type == "kimi_k2";
  const bool attention_sinks = shape.model_type == "gpt_oss";
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
      if (shape.model_type == "qwen3_next") {
        *rule = "SM100, Qwen3NextForCausalLM: triton (model_overrides/qwen3_5.py)";
        return "triton";
      }
      *rule = mla ? "SM100, MLA: flashinfer" : "SM100, MHA: trtllm_mha";
      return mla ? "flashinfer" : "trtllm_mha";
    case GpuArchitecture::cdna3: {
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
      *rule = attention_sinks ? "attention sinks (gpt-oss), which flashinfer lacks: triton"
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

  const MemoryBucket* bucket = &kBuckets[0];
  while (g >= bucket->below_mib) ++bucket;
  args.chunked_prefill_size = options.max_num_batched_tokens.value_or(bucket->chunked_prefill_size);
  args.decode_graph_max_bs = parallel.tp < 4 ? bucket->max_bs_small_tp : bucket->max_bs_large_tp;
  args.attn_dp_size = options.dp_attention ? parallel.tp : 1;

  // The breakable prefill graph is on by default on CUDA (cuda_graph_config.py:
  // default_prefill_backend), off on ROCm and, by default, with PP > 1
  // (cuda_graph_hook.py:apply_cuda_graph_compatibility). Its non-MLA capture sizes run up to the
  // chunked prefill size.
  // Decode context parallelism turns it off too ("Breakable CUDA graph is incompatible with decode
  // context parallel (dcp_size > 1); disabling prefill CUDA graph.").
  args.multimodal = sglang_multimodal(shape, &args.multimodal_rule);
  args.prefill_graph = gpu.architecture != GpuArchitecture::cdna3 && parallel.pp == 1 && parallel.dcp == 1;
  // cuda_graph_hook.py:disable_breakable_cudagraph_if_incompatible, which runs before the reserve:
  // "Multimodal prefill replay faults under BCG; allowlisted archs opt back in".
  if (args.prefill_graph && args.multimodal && !breakable_graph_allowlisted(shape.multimodal->architecture)) {
    args.prefill_graph = false;
    args.prefill_graph_rule = "no prefill graph: a multimodal model outside SGLang's breakable-graph allowlist";
  }
  args.prefill_graph_sizes = args.prefill_graph && !mla ? prefill_graph_size_count(args.chunked_prefill_size) : 0;

  // memory_hook.py:handle_gpu_memory_settings and reserve_for_graph_mb, in MiB.
  const double activation_tokens = static_cast<double>(std::max<std::uint64_t>(args.chunked_prefill_size, 2048));
  const double max_bs = args.decode_graph_max_bs;
  double reserved = 512 + activation_tokens * 1.5 + parallel.tp * parallel.pp / 8.0 * 1024 + max_bs * 2;
  args.reserved_rule = "512 + 1.5 x max(chunked_prefill_size " + std::to_string(args.chunked_prefill_size) +
                       " [" + bucket->label + "], 2048) + TP " + std::to_string(parallel.tp) + " x PP " +
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
