#include "core/vision_tower.h"

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

}  // namespace kvplan
