// How the weights are stored in GPU memory, in bytes per parameter.
#pragma once

#include <string>
#include <string_view>

#include <vector>

#include "core/capacity.h"
#include "core/model_shape.h"
#include "core/quantized_weights.h"

namespace kvplan {

struct WeightsDtype {
  std::string name;        // "bf16", "fp8"
  double bytes_per_param;  // 2, 1, 0.5 (int4), 0.5625 (nvfp4 with its block scales)
  std::string why;         // how it was chosen, for --explain
  std::vector<WeightPart> parts = {};  // a quantized checkpoint's weights part by part (empty otherwise)
  // The bytes of the routed experts among params x bytes_per_param (0 for a dense model): vLLM
  // spreads them over more ranks than the rest when DP > 1.
  double routed_expert_bytes = 0;
  // The bytes of the attention projections (q, k, v, o or MLA's), which SGLang's DP attention keeps
  // whole on every rank.
  double attention_bytes = 0;
  // DeepSeek-V4's checkpoint: `parts` are the whole model's (TP 1); a rank's share comes from
  // deepseek_v4_weight_parts at its TP, as much of it is whole on every rank.
  bool deepseek_v4 = false;
};

// "auto" follows the checkpoint as engines load it: a quantized checkpoint (fp8 blocks,
// compressed-tensors, mxfp4) part by part as it stores its weights, 2 B otherwise; fp32
// checkpoints (Gemma-2) are served in bf16. bytes_per_param is then the whole model's average.
// routed_expert_bytes is the experts' own format: the checkpoint's "routed experts" part, MXFP4's
// 4.25 bits, or the chosen dtype's bytes.
WeightsDtype resolve_weights_dtype(std::string_view text, const ModelShape& shape);

// Gives `request` the weights as `weights` stores them: name, average bytes per parameter, and the
// routed-expert and attention bytes that parallel layouts place apart from the rest.
void set_request_weights(FitRequest& request, const WeightsDtype& weights);

}  // namespace kvplan
