// Which layers of a MoE config hold routed experts. Each family decides it its own way in vLLM
// 0.33's model classes; the count matters where the experts are split differently from the rest
// of the weights (vLLM with DP > 1: over TP x DP ranks).
#include <algorithm>
#include <set>
#include <string>
#include <variant>

#include "core/hf_config_hybrid.h"

namespace kvplan::detail {
namespace {

// Qwen2/3-MoE, Qwen3-VL-MoE and Qwen3-Next/3.5 (qwen3_moe.py:Qwen3MoeDecoderLayer): every decoder_sparse_step-th
// layer (counting from 1) that mlp_only_layers does not name.
std::uint32_t qwen_moe_layers(const ConfigFields& fields, const ModelShape& shape) {
  const std::uint64_t step = fields.optional_bounded("decoder_sparse_step", shape.num_hidden_layers, true).value_or(1);
  std::set<std::int64_t> mlp_only;
  if (const ConfigNode* node = fields.get("mlp_only_layers"); node != nullptr && !node->is_null()) {
    const ConfigNode::List* list = node->as_list();
    if (list == nullptr) fields.fail(node, "mlp_only_layers must be a list of layer indices");
    for (const ConfigNode& entry : *list) {
      const std::int64_t* layer = std::get_if<std::int64_t>(&entry.value);
      if (layer == nullptr || *layer < 0 || *layer >= std::int64_t{shape.num_hidden_layers}) {
        fields.fail(&entry, "mlp_only_layers entries must be layer indices below num_hidden_layers (" +
                                std::to_string(shape.num_hidden_layers) + ")");
      }
      mlp_only.insert(*layer);
    }
  }
  std::uint32_t count = 0;
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    if (!mlp_only.contains(layer) && (layer + 1) % step == 0) ++count;
  }
  return count;
}

std::uint32_t moe_layer_count(const ConfigFields& fields, const ModelShape& shape, std::uint32_t first_dense) {
  const std::string& type = shape.model_type;
  const std::uint32_t layers = shape.num_hidden_layers;
  if (is_one_of(type, {"qwen2_moe", "qwen3_moe", "qwen3_next", "qwen3_5_moe_text", "qwen3_vl_moe_text"})) {
    return qwen_moe_layers(fields, shape);
  }
  if (is_one_of(type, {"llama4", "llama4_text"})) {
    // llama4.py:Llama4DecoderLayer: every interleave_moe_layer_step-th layer, counting from 1.
    const std::uint64_t step = fields.optional_bounded("interleave_moe_layer_step", layers, false).value_or(1);
    return step == 0 ? 0 : static_cast<std::uint32_t>(layers / step);
  }
  if (type == "jamba") {
    // JambaConfig.layers_num_experts: the layers with i % expert_layer_period == expert_layer_offset.
    const std::uint64_t period = fields.optional_bounded("expert_layer_period", layers, true).value_or(2);
    const std::uint64_t offset = fields.optional_non_negative("expert_layer_offset").value_or(1);
    std::uint32_t count = 0;
    for (std::uint32_t layer = 0; layer < layers; ++layer) count += layer % period == offset;
    return count;
  }
  if (type == "nemotron_h") {
    // nemotron_h.py: the 'E' layers of the pattern (resolved as cache-free layers, like '-').
    const std::string pattern = nemotron_h_pattern(fields);
    return static_cast<std::uint32_t>(std::count(pattern.begin(), pattern.end(), 'E'));
  }
  // deepseek_v2.py:DeepseekV2DecoderLayer (DeepSeek, Kimi, GLM's glm4_moe.py without the
  // frequency): from first_k_dense_replace on, every moe_layer_freq-th layer. Mixtral, gpt-oss and
  // MiniMax have experts in every layer (first_dense 0, frequency 1).
  const std::uint64_t frequency = fields.optional_bounded("moe_layer_freq", layers, true).value_or(1);
  std::uint32_t count = 0;
  for (std::uint32_t layer = first_dense; layer < layers; ++layer) {
    if (layer % frequency == 0) ++count;
  }
  return count;
}

}  // namespace

void resolve_moe(const ConfigFields& fields, ModelShape& shape) {
  if (shape.model_type == "granitemoehybrid") {
    // GraniteMoeHybridDecoderLayer: a shared MLP of shared_intermediate_size on every layer, and
    // routed experts of intermediate_size beside it when num_local_experts > 0 (the dense
    // Granite-4.0-H-1B and -350M have 0).
    const std::uint32_t shared = fields.optional_dim("shared_intermediate_size").value_or(1024);
    if (fields.dim_or_zero("num_local_experts") == 0) {
      shape.intermediate_size = shared;
      return;
    }
    MoeDims moe;
    moe.num_experts = fields.required_dim("num_local_experts");
    moe.num_experts_per_tok = fields.optional_dim("num_experts_per_tok").value_or(2);
    moe.moe_intermediate_size = shape.intermediate_size;
    moe.shared_expert_intermediate_size = shared;
    moe.moe_layers = shape.num_hidden_layers;
    shape.moe = moe;
    return;
  }
  std::optional<std::uint32_t> experts = fields.optional_dim("num_local_experts");
  if (!experts) experts = fields.optional_dim("n_routed_experts");
  if (!experts) experts = fields.optional_dim("num_experts");
  if (!experts) experts = fields.optional_dim("moe_num_experts");  // Step-3.5's legacy name
  if (!experts) return;
  // A Jamba layer with one expert is a plain MLP (JambaMoE with num_experts 1).
  if (shape.model_type == "jamba" && *experts == 1) return;
  MoeDims moe;
  moe.num_experts = *experts;
  moe.num_experts_per_tok = fields.optional_dim("num_experts_per_tok").value_or(fields.optional_dim("moe_top_k").value_or(0));
  moe.num_shared_experts = fields.dim_or_zero("n_shared_experts");
  moe.moe_intermediate_size = fields.optional_dim("moe_intermediate_size").value_or(shape.intermediate_size);
  moe.shared_expert_intermediate_size = fields.dim_or_zero("shared_expert_intermediate_size");
  moe.first_dense_layers = fields.dim_or_zero("first_k_dense_replace");
  if (is_one_of(shape.model_type, {"step3p5", "step3p7"})) {
    // Step3p5's FusedMoEBlock: one shared expert of share_expert_dim beside the routed ones.
    moe.num_shared_experts = 0;
    moe.shared_expert_intermediate_size = fields.optional_dim("share_expert_dim").value_or(1280);
    moe.moe_layers = step_moe_layers(fields, shape);
    moe.first_dense_layers = shape.num_hidden_layers - moe.moe_layers;  // the dense layers lead (0, 1, 2)
    shape.moe = moe;
    return;
  }
  if (shape.model_type == "nemotron_h") {
    // nemotron_h.py NemotronHMoE: its shared experts are one MLP of n_shared_experts x
    // moe_shared_expert_intermediate_size; moe_latent_size sets the routed experts' width.
    moe.shared_expert_intermediate_size =
        moe.num_shared_experts * std::uint64_t{fields.dim_or_zero("moe_shared_expert_intermediate_size")};
    moe.latent_size = fields.dim_or_zero("moe_latent_size");
  }
  if (shape.model_type == "mimo_v2_flash") {
    resolve_mimo_v2_moe(fields, shape, moe);
    shape.moe = moe;
    return;
  }
  if (moe.first_dense_layers > shape.num_hidden_layers) {
    fields.fail(fields.get("first_k_dense_replace"), "first_k_dense_replace exceeds num_hidden_layers");
  }
  moe.moe_layers = moe_layer_count(fields, shape, moe.first_dense_layers);
  shape.moe = moe;
}

}  // namespace kvplan::detail
