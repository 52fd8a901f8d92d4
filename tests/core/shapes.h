// Hand-built model shapes for core tests, so the arithmetic under test does not depend on the
// preset files (those are checked separately in tests/io/presets_test.cc).
#pragma once

#include "core/model_shape.h"

namespace kvplan::testing {

inline ModelShape dense_shape(std::uint32_t layers, std::uint32_t heads, std::uint32_t kv_heads,
                              std::uint32_t head_dim) {
  ModelShape shape;
  shape.model_type = "llama";
  shape.num_hidden_layers = layers;
  shape.num_attention_heads = heads;
  shape.num_key_value_heads = kv_heads;
  shape.head_dim = head_dim;
  shape.layer_attention.assign(layers, LayerAttention::full);
  return shape;
}

// DeepSeek-V2: 60 layers, 128 heads, d_c 512, d_R 64, v_head_dim 128.
inline ModelShape deepseek_v2_shape() {
  ModelShape shape = dense_shape(60, 128, 128, 128);
  shape.model_type = "deepseek_v2";
  shape.mla = MlaDims{512, 64, 128, 128, 1536};
  return shape;
}

}  // namespace kvplan::testing
