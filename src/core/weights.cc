#include "core/weights.h"

#include "core/error.h"

namespace kvplan {

WeightsDtype resolve_weights_dtype(std::string_view text, const ModelShape& shape) {
  if (text == "auto") {
    if (shape.weight_quantization == "fp8") return {"fp8", 1, "the checkpoint's quantization_config (fp8)"};
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
  if (text == "fp8" || text == "int8") return {std::string(text), 1, "--weights-dtype"};
  if (text == "int4") return {"int4", 0.5, "--weights-dtype (group scales not counted)"};
  if (text == "nvfp4") return {"nvfp4", 0.5625, "--weights-dtype (4-bit values + an fp8 scale per 16)"};
  throw Error("--weights-dtype: unknown '" + std::string(text) +
              "'; expected auto, fp32, bf16, fp16, fp8, int8, int4 or nvfp4");
}

}  // namespace kvplan
