// How the weights are stored in GPU memory, in bytes per parameter.
#pragma once

#include <string>
#include <string_view>

#include <vector>

#include "core/quantized_weights.h"
#include "core/model_shape.h"

namespace kvplan {

struct WeightsDtype {
  std::string name;        // "bf16", "fp8"
  double bytes_per_param;  // 2, 1, 0.5 (int4), 0.5625 (nvfp4 with its block scales)
  std::string why;         // how it was chosen, for --explain
  std::vector<WeightPart> parts = {};  // a quantized checkpoint's weights part by part (empty otherwise)
};

// "auto" follows the checkpoint as engines load it: a quantized checkpoint (fp8 blocks,
// compressed-tensors, mxfp4) part by part as it stores its weights, 2 B otherwise; fp32
// checkpoints (Gemma-2) are served in bf16. bytes_per_param is then the whole model's average.
WeightsDtype resolve_weights_dtype(std::string_view text, const ModelShape& shape);

}  // namespace kvplan
