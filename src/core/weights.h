// How the weights are stored in GPU memory, in bytes per parameter.
#pragma once

#include <string>
#include <string_view>

#include "core/model_shape.h"

namespace kvplan {

struct WeightsDtype {
  std::string name;        // "bf16", "fp8"
  double bytes_per_param;  // 2, 1, 0.5 (int4), 0.5625 (nvfp4 with its block scales)
  std::string why;         // how it was chosen, for --explain
};

// "auto" follows the checkpoint as engines load it: fp8 when quantization_config says fp8
// (DeepSeek-V3, Kimi-K2), 2 B otherwise; fp32 checkpoints (Gemma-2) are served in bf16.
WeightsDtype resolve_weights_dtype(std::string_view text, const ModelShape& shape);

}  // namespace kvplan
