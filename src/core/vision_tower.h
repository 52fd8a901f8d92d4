// The vision tower a multimodal checkpoint loads beside its language model. It holds no KV cache,
// but its weights take GPU memory: vLLM builds it whenever the model accepts images; SGLang's
// defaults read its size.
#pragma once

#include <cstdint>

#include "core/config_fields.h"
#include "core/model_shape.h"

namespace kvplan {

struct VisionTowerParams {
  std::uint64_t tower = 0;      // SigLIP encoder: patch and position embeddings, layers, final norm
  std::uint64_t projector = 0;  // the map from the tower's width into the language model's
};

// Gemma-3's SigLIP tower and projector from `vision_config` (docs/model.md, "Vision towers"),
// with SiglipVisionConfig's defaults for the fields the config omits. `text_hidden` is the
// language model's hidden_size (the projector's output width).
VisionTowerParams gemma3_vision_params(const ConfigFields& vision_config, std::uint64_t text_hidden);

// Qwen3-VL's tower (vLLM 0.33's Qwen3_VisionTransformer) from `vision_config`, with
// Qwen3VLVisionConfig's defaults for the fields it omits; the projector is the patch merger and
// one deepstack merger per deepstack_visual_indexes entry (docs/model.md, "Vision towers").
VisionTowerParams qwen3_vl_vision_params(const ConfigFields& vision_config);

// Sets shape.vision_params (and says so in its assumptions) for the multimodal configs whose tower
// kvplan counts: Gemma-3 (model_type gemma3) and Qwen3-VL (a qwen3_vl_text / qwen3_vl_moe_text
// language model). `outer` is the whole config.json; others are left as they are.
void add_vision_tower(const ConfigFields& outer, ModelShape& shape);

// What SGLang reads of a multimodal config (a config.json that nests text_config): its first
// architecture and vision_config's depth and width (docs/engines-sglang.md, "13. Multimodal models").
ModelShape::Multimodal multimodal_config(const ConfigFields& outer);

}  // namespace kvplan
