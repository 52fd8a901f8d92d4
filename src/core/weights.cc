#include "core/weights.h"

#include <cstdio>

#include "core/checkpoint_shards.h"
#include "core/deepseek_v4_weights.h"
#include "core/error.h"
#include "core/params.h"

namespace kvplan {
namespace {

// MXFP4 (gpt-oss's quantization_config): the routed experts' weight matrices hold 4-bit values
// with one 8-bit scale per 32, 4.25 bits per parameter; attention, router, embeddings, LM head,
// norms and biases stay bf16 (its modules_to_not_convert). The experts are layers x experts x 3
// matrices of hidden x intermediate (gate and up fused, down). For gpt-oss-20b this gives
// 19110297600 x 0.53125 + the rest x 2 B = 12.8 GiB, the checkpoint's size.
WeightsDtype mxfp4_weights(const ModelShape& shape) {
  if (!shape.moe || !shape.params_total || shape.hidden_size == 0) {
    throw Error("--weights-dtype auto: an mxfp4 checkpoint needs its MoE shape (num_local_experts, hidden_size, "
                "intermediate_size) and a parameter count; pass --weights-dtype");
  }
  const double experts = static_cast<double>(shape.num_hidden_layers - shape.moe->first_dense_layers) *
                         shape.moe->num_experts * 3.0 * static_cast<double>(shape.hidden_size) *
                         static_cast<double>(shape.moe->moe_intermediate_size);
  const double total = static_cast<double>(*shape.params_total);
  if (experts >= total) {
    throw Error("--weights-dtype auto: the mxfp4 experts (" + std::to_string(static_cast<std::uint64_t>(experts)) +
                " parameters) exceed the model's parameter count; pass --weights-dtype");
  }
  const double bytes = experts * 4.25 / 8 + (total - experts) * 2;
  char why[200];
  std::snprintf(why, sizeof why,
                "the checkpoint's quantization_config (mxfp4): %.0f expert parameters at 4.25 bits, the other %.0f "
                "in bf16",
                experts, total - experts);
  return {"mxfp4+bf16", bytes / total, why};
}

// A checkpoint_weight_parts total as an average per parameter, and the parts for --explain.
WeightsDtype quantized_checkpoint(const ModelShape& shape) {
  std::vector<WeightPart> parts = checkpoint_weight_parts(shape);
  double bytes = 0;
  std::string why = "the checkpoint's quantization_config (" + shape.quantization.method + "; " +
                    shape.quantization.scale_why + ")";
  for (const WeightPart& part : parts) {
    bytes += part.bytes;
    char line[240];
    std::snprintf(line, sizeof line, "; %s: %llu params as %s, %.0f B", part.what.c_str(),
                  static_cast<unsigned long long>(part.params), part.format.c_str(), part.bytes);
    why += line;
  }
  const double total = static_cast<double>(*shape.params_total);
  const std::string name = shape.quantization.method == "fp8" ? "fp8" : shape.quantization.method + "+bf16";
  return {name, bytes / total, why, std::move(parts)};
}

// DeepSeek-V4 (expert_dtype fp4) as vLLM 0.33 loads it, the whole model (TP 1): bytes per parameter
// is the average over params.total (or the parts' own count for a config.json import).
WeightsDtype deepseek_v4_checkpoint(const ModelShape& shape) {
  if (std::string gap = deepseek_v4_weights_gap(shape); !gap.empty()) {
    throw Error("--weights-dtype auto: kvplan cannot size " + gap + "; pass --weights-dtype");
  }
  std::vector<WeightPart> parts = deepseek_v4_weight_parts(shape, 1);
  double bytes = 0;
  std::uint64_t params = 0;
  std::string why = "the checkpoint as vLLM 0.33 loads DeepSeek-V4 (quantization_config fp8, expert_dtype fp4)";
  for (const WeightPart& part : parts) {
    bytes += part.bytes;
    params += part.params;  // below params.total, itself bounded
    char line[240];
    std::snprintf(line, sizeof line, "; %s: %llu params as %s, %.0f B", part.what.c_str(),
                  static_cast<unsigned long long>(part.params), part.format.c_str(), part.bytes);
    why += line;
  }
  const double total = static_cast<double>(shape.params_total.value_or(params));
  WeightsDtype weights{"fp8+mxfp4", bytes / total, why, std::move(parts)};
  weights.deepseek_v4 = true;
  return weights;
}

// --weights-dtype fp8, int8 or int4 on a model without a quantization_config: the scheme the
// quantized checkpoints of these widths use. Only the decoder's linear layers are quantized:
// vLLM's VocabParallelEmbedding and ParallelLMHead take no quantized method for fp8,
// compressed-tensors or GPTQ (their get_quant_method returns one for LinearBase and FusedMoE only),
// and llm-compressor and GPTQ recipes leave lm_head out (ignore: ["lm_head"], lm_head: false);
// norms and routers are never quantized. So embeddings, LM head, norms, routers (and a vision tower
// counted in params.total) stay in the model's 16-bit dtype. Scales: fp8 and int8 one fp32 scale
// per output channel (compressed-tensors' FP8_DYNAMIC and W8A8 schemes, create_fp8_scale_parameter
// / CompressedTensorsW8A8Int8); int4 one 16-bit scale per 128 values, symmetric (W4A16 and GPTQ's
// default group_size 128).
WeightQuantization flag_scheme(std::string_view text) {
  WeightQuantization q;
  q.method = "--weights-dtype " + std::string(text);
  q.bits = text == "int4" ? 4 : 8;
  q.type = text == "fp8" ? "float" : "int";
  if (text == "int4") {
    q.strategy = "group";
    q.group_size = 128;
    q.scale_bytes = 2;
    q.scale_why = "one 16-bit scale per 128 values (GPTQ / W4A16 group_size 128)";
  } else {
    q.strategy = "channel";
    q.scale_bytes = 4;
    q.scale_why = "one fp32 scale per output channel (compressed-tensors FP8_DYNAMIC / W8A8)";
  }
  return q;
}

// Whether linear_modules lists this model's linear layers and params.total holds them: not for
// state layers, DeepSeek-V4, Gemma-4 (K shared with V, per-layer embeddings), Llama-4 (its shared
// expert is not among MoeDims) or MoE layers interleaved with dense ones, nor for a rounded
// parameter count below the linear layers' own.
bool linear_layers_listed(const ModelShape& shape) {
  if (!shape.params_total || shape.hidden_size == 0 || shape.state || shape.compressed_mla ||
      shape.model_type == "gemma4_text" ||
      shape.model_type == "llama4" || shape.model_type == "llama4_text") {
    return false;
  }
  if (shape.moe && shape.moe->moe_layers + shape.moe->first_dense_layers != shape.num_hidden_layers) return false;
  double linear = 0;
  for (const LinearModule& module : linear_modules(shape)) {
    linear += static_cast<double>(module.rows) * static_cast<double>(module.cols) * static_cast<double>(module.count);
  }
  return linear <= static_cast<double>(*shape.params_total);
}

WeightsDtype flag_quantized(std::string_view text, const ModelShape& shape) {
  const double width = text == "int4" ? 0.5 : 1;
  // Without the shapes to find the linear layers (or for layer kinds linear_modules does not
  // list), every parameter takes the quantized width: an under-estimate, said so.
  if (!linear_layers_listed(shape)) {
    return {std::string(text), width,
            "--weights-dtype, every parameter at the quantized width (kvplan cannot tell this model's linear "
            "layers from its embeddings; vLLM keeps embeddings and LM head in 16 bits)"};
  }
  ModelShape quantized = shape;
  quantized.quantization = flag_scheme(text);
  WeightsDtype weights = quantized_checkpoint(quantized);
  weights.name = std::string(text);
  weights.why = "--weights-dtype " + std::string(text) +
                ": the decoder's linear layers quantized, embeddings, LM head, norms and routers in the model's "
                "16-bit dtype (vLLM quantizes LinearBase and FusedMoE layers only; " +
                weights.why.substr(weights.why.find("; ") + 2);
  return weights;
}

WeightsDtype chosen_weights_dtype(std::string_view text, const ModelShape& shape) {
  if (text == "auto") {
    if (shape.checkpoint) return checkpoint_weights_dtype(*shape.checkpoint);
    if (shape.compressed_mla && shape.weight_quantization == "fp8") return deepseek_v4_checkpoint(shape);
    if (shape.weight_quantization == "fp8" || shape.weight_quantization == "compressed-tensors") {
      return quantized_checkpoint(shape);
    }
    if (shape.weight_quantization == "mxfp4") return mxfp4_weights(shape);
    // Other schemes (mxfp4, awq, gptq, ...) quantize only some weights, at sizes kvplan does not
    // know per parameter: refuse rather than size them as the unquantized dtype.
    if (!shape.weight_quantization.empty()) {
      throw Error("--weights-dtype auto: the checkpoint is quantized with " + shape.weight_quantization +
                  " (quantization_config.quant_method), which kvplan cannot size per parameter; pass --weights-dtype "
                  "(e.g. int4 for 4-bit weights; any value with --kv-cache-memory)");
    }
    if (shape.torch_dtype == "float32") {
      return {"bf16", 2, "torch_dtype float32, which engines load as bf16 (--dtype auto)"};
    }
    std::string dtype = shape.torch_dtype.empty() ? "bf16" : shape.torch_dtype;
    if (dtype == "bfloat16") dtype = "bf16";
    if (dtype == "float16") dtype = "fp16";
    return {dtype, 2, "the checkpoint's torch_dtype"};
  }
  if (text == "fp32") return {"fp32", 4, "--weights-dtype"};
  if (text == "bf16" || text == "fp16") return {std::string(text), 2, "--weights-dtype"};
  if (text == "fp8" || text == "int8" || text == "int4") return flag_quantized(text, shape);
  if (text == "nvfp4") return {"nvfp4", 0.5625, "--weights-dtype (4-bit values + an fp8 scale per 16)"};
  throw Error("--weights-dtype: unknown '" + std::string(text) +
              "'; expected auto, fp32, bf16, fp16, fp8, int8, int4 or nvfp4");
}

// A quantized checkpoint's part by name (0 when it has no such part).
double part_bytes(const WeightsDtype& weights, std::string_view what) {
  for (const WeightPart& part : weights.parts) {
    if (part.what == what) return part.bytes;
  }
  return 0;
}

double routed_expert_bytes(const WeightsDtype& weights, const ModelShape& shape) {
  if (!shape.moe || shape.checkpoint) return 0;  // a checkpoint's expert tensors are placed one by one
  if (!weights.parts.empty()) return part_bytes(weights, "routed experts");
  const double params = static_cast<double>(routed_expert_params(shape));
  return weights.name == "mxfp4+bf16" ? params * 4.25 / 8 : params * weights.bytes_per_param;
}

double attention_bytes(const WeightsDtype& weights, const ModelShape& shape) {
  if (shape.checkpoint || shape.hidden_size == 0) return 0;
  if (!weights.parts.empty()) return part_bytes(weights, "attention");
  double params = 0;
  for (const LinearModule& module : linear_modules(shape)) {
    if (module.part == "attention") {
      params += static_cast<double>(module.rows) * static_cast<double>(module.cols) * static_cast<double>(module.count);
    }
  }
  // MXFP4 checkpoints keep attention in bf16.
  return params * (weights.name == "mxfp4+bf16" ? 2 : weights.bytes_per_param);
}

}  // namespace

WeightsDtype resolve_weights_dtype(std::string_view text, const ModelShape& shape) {
  WeightsDtype weights = chosen_weights_dtype(text, shape);
  weights.routed_expert_bytes = routed_expert_bytes(weights, shape);
  weights.attention_bytes = attention_bytes(weights, shape);
  return weights;
}

void set_request_weights(FitRequest& request, const WeightsDtype& weights) {
  request.weights_dtype = weights.name;
  request.weight_bytes_per_param = weights.bytes_per_param;
  request.routed_expert_bytes = weights.routed_expert_bytes;
  request.attention_weight_bytes = weights.attention_bytes;
  request.deepseek_v4_weights = weights.deepseek_v4;
}

}  // namespace kvplan
