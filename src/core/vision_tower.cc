#include "core/vision_tower.h"

#include <string>

#include "core/checked.h"

namespace kvplan {
namespace {

constexpr std::string_view kWhat = "the vision tower's parameter count";
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }

}  // namespace

VisionTowerParams gemma3_vision_params(const ConfigFields& vision, std::uint64_t text_hidden) {
  // transformers' SiglipVisionConfig defaults, for the fields Gemma-3's vision_config leaves out.
  const std::uint64_t hidden = vision.optional_dim("hidden_size").value_or(768);
  const std::uint64_t intermediate = vision.optional_dim("intermediate_size").value_or(3072);
  const std::uint64_t layers = vision.optional_dim("num_hidden_layers").value_or(12);
  const std::uint64_t channels = vision.optional_dim("num_channels").value_or(3);
  const std::uint64_t image = vision.optional_dim("image_size").value_or(224);
  const std::uint64_t patch = vision.optional_dim("patch_size").value_or(16);
  if (image % patch != 0) {
    vision.fail(vision.get("patch_size"), "patch_size must divide image_size (" + std::to_string(image) + ")");
  }
  const std::uint64_t patches_per_side = image / patch;
  // vLLM's siglip.py (SiglipVisionEmbeddings, SiglipEncoderLayer, SiglipVisionTransformer):
  // a patch convolution with bias, one learned position per patch, and per layer q/k/v/out
  // projections and fc1/fc2 with biases and two LayerNorms (weight + bias); the final LayerNorm
  // is kept because every layer is used. vision_use_head is false for Gemma-3: no pooling head.
  const std::uint64_t patch_embedding = add(mul(mul(mul(channels, patch), patch), hidden), hidden);
  const std::uint64_t positions = mul(mul(patches_per_side, patches_per_side), hidden);
  const std::uint64_t attention = mul(4, add(mul(hidden, hidden), hidden));
  const std::uint64_t mlp = add(add(mul(hidden, intermediate), intermediate), add(mul(intermediate, hidden), hidden));
  const std::uint64_t layer_norms = mul(2, mul(2, hidden));
  const std::uint64_t per_layer = add(add(attention, mlp), layer_norms);
  VisionTowerParams params;
  params.tower = add(add(patch_embedding, positions), add(mul(layers, per_layer), mul(2, hidden)));
  // Gemma3MultiModalProjector: mm_input_projection_weight (vision hidden x text hidden) and the
  // RMSNorm mm_soft_emb_norm (vision hidden).
  params.projector = add(mul(hidden, text_hidden), hidden);
  return params;
}

VisionTowerParams qwen3_vl_vision_params(const ConfigFields& vision) {
  const std::uint64_t hidden = vision.optional_dim("hidden_size").value_or(1152);
  const std::uint64_t intermediate = vision.optional_dim("intermediate_size").value_or(4304);
  const std::uint64_t depth = vision.optional_dim("depth").value_or(27);
  const std::uint64_t channels = vision.optional_dim("in_channels").value_or(3);
  const std::uint64_t patch = vision.optional_dim("patch_size").value_or(16);
  const std::uint64_t temporal_patch = vision.optional_dim("temporal_patch_size").value_or(2);
  const std::uint64_t positions = vision.optional_dim("num_position_embeddings").value_or(2304);
  const std::uint64_t merge = vision.optional_dim("spatial_merge_size").value_or(2);
  const std::uint64_t out_hidden = vision.optional_dim("out_hidden_size").value_or(3584);
  std::uint64_t deepstack = 3;  // Qwen3VLVisionConfig's deepstack_visual_indexes (8, 16, 24)
  if (const ConfigNode* indexes = vision.get("deepstack_visual_indexes")) {
    if (indexes->as_list() == nullptr) vision.fail(indexes, "deepstack_visual_indexes must be a list of layer indices");
    deepstack = indexes->as_list()->size();
  }
  // qwen3_vl.py: Qwen3_VisionPatchEmbed is a Conv3d over temporal_patch x patch x patch with bias;
  // pos_embed an Embedding of num_position_embeddings; each Qwen3_VisionBlock two LayerNorms,
  // qkv and proj with biases, linear_fc1 / linear_fc2 with biases.
  const std::uint64_t patch_embedding = add(mul(mul(mul(mul(channels, temporal_patch), patch), patch), hidden), hidden);
  const std::uint64_t attention = add(add(mul(mul(3, hidden), hidden), mul(3, hidden)), add(mul(hidden, hidden), hidden));
  const std::uint64_t mlp = add(add(mul(hidden, intermediate), intermediate), add(mul(intermediate, hidden), hidden));
  const std::uint64_t per_block = add(add(attention, mlp), mul(4, hidden));
  VisionTowerParams params;
  params.tower = add(add(patch_embedding, mul(positions, hidden)), mul(depth, per_block));
  // Qwen3_VisionPatchMerger: merge x merge patches concatenated (merged = hidden x merge^2), a
  // LayerNorm over hidden (the deepstack mergers' over merged: use_postshuffle_norm), linear_fc1
  // merged -> merged and linear_fc2 merged -> out_hidden_size, with biases.
  const std::uint64_t merged = mul(hidden, mul(merge, merge));
  const std::uint64_t linears = add(add(mul(merged, merged), merged), add(mul(merged, out_hidden), out_hidden));
  params.projector = add(add(mul(2, hidden), linears), mul(deepstack, add(mul(2, merged), linears)));
  return params;
}

void add_vision_tower(const ConfigFields& outer, ModelShape& shape) {
  const ConfigNode* vision = outer.get("vision_config");
  if (vision == nullptr) return;
  const ConfigFields fields(*vision, "vision_config");
  VisionTowerParams params;
  std::string tower, projector;
  if (outer.optional_string("model_type") == "gemma3") {
    // Gemma3ForConditionalGeneration: vLLM 0.33 builds the SigLIP tower and the projector beside
    // the language model (gemma3_mm.py).
    params = gemma3_vision_params(fields, shape.hidden_size);
    tower = "a SigLIP tower";
    projector = "a projector";
  } else if (shape.model_type == "qwen3_vl_text" || shape.model_type == "qwen3_vl_moe_text") {
    // Qwen3VLForConditionalGeneration (qwen3_vl.py, and qwen3_vl_moe.py's subclass) builds
    // Qwen3_VisionTransformer beside the language model whenever the model takes images or videos.
    params = qwen3_vl_vision_params(fields);
    tower = "a Qwen3-VL vision tower";
    projector = "patch mergers";
  } else {
    return;
  }
  shape.vision_params = checked_add(params.tower, params.projector, "the vision tower's parameter count");
  shape.assumptions.push_back("vision_config: " + tower + " of " + std::to_string(params.tower) + " parameters and " +
                              projector + " of " + std::to_string(params.projector) +
                              ", which vLLM loads beside the language model: counted in the weights, not the cache");
}

ModelShape::Multimodal multimodal_config(const ConfigFields& outer) {
  ModelShape::Multimodal multimodal;
  const ConfigNode* architectures = outer.get("architectures");
  const ConfigNode::List* list = architectures != nullptr ? architectures->as_list() : nullptr;
  if (list != nullptr && !list->empty() && list->front().as_string() != nullptr) {
    multimodal.architecture = *list->front().as_string();
  }
  if (const ConfigNode* vision = outer.get("vision_config"); vision != nullptr && vision->is_map()) {
    const ConfigFields fields(*vision, "vision_config");
    multimodal.vision_config = true;
    // SGLang's config classes expose Kimi's MoonViT vt_* fields under these names (KimiK3VisionConfig
    // maps them; KimiK25VisionConfig's defaults, 27 and 1152, are the released values).
    multimodal.vision_layers =
        fields.optional_dim("num_hidden_layers").value_or(fields.optional_dim("vt_num_hidden_layers").value_or(24));
    multimodal.vision_hidden =
        fields.optional_dim("hidden_size").value_or(fields.optional_dim("vt_hidden_size").value_or(1024));
  }
  return multimodal;
}

}  // namespace kvplan
