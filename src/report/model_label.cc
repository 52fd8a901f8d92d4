#include "report/model_label.h"

#include <fmt/format.h>

namespace kvplan::report {

std::string describe_shape(const ModelShape& shape) {
  std::string text = fmt::format("{} layers, {} query heads, ", shape.num_hidden_layers,
                                 shape.num_attention_heads);
  if (shape.mla) {
    text += fmt::format("MLA d_c={} d_R={}", shape.mla->kv_lora_rank, shape.mla->qk_rope_head_dim);
  } else {
    text += fmt::format("{} KV head{} of {}", shape.num_key_value_heads,
                        shape.num_key_value_heads == 1 ? "" : "s", shape.head_dim);
  }
  if (std::uint32_t sliding = shape.sliding_layer_count()) {
    text += fmt::format(", sliding window {} on {} of {} layers", *shape.sliding_window, sliding,
                        shape.num_hidden_layers);
  }
  if (shape.num_nextn_predict_layers > 0) {
    text += fmt::format(", {} MTP layer{}", shape.num_nextn_predict_layers,
                        shape.num_nextn_predict_layers == 1 ? "" : "s");
  }
  return text;
}

}  // namespace kvplan::report
