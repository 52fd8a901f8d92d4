#include "core/weight_quantization.h"

#include <optional>

#include "core/config_fields.h"

namespace kvplan {
namespace {

std::vector<std::string> string_list(const ConfigFields& fields, std::string_view key) {
  std::vector<std::string> values;
  const ConfigNode* node = fields.get(key);
  if (node == nullptr) return values;
  const ConfigNode::List* list = node->as_list();
  if (list == nullptr) fields.fail(node, std::string(key) + " must be a list of module names");
  for (const ConfigNode& entry : *list) {
    const std::string* text = entry.as_string();
    if (text == nullptr) fields.fail(&entry, std::string(key) + " entries must be strings");
    values.push_back(*text);
  }
  return values;
}

// [rows, cols] of a weight block, as weight_block_size and block_structure write it.
void read_block(const ConfigFields& fields, std::string_view key, WeightQuantization& quantization) {
  const ConfigNode* node = fields.get(key);
  const ConfigNode::List* list = node != nullptr ? node->as_list() : nullptr;
  if (list == nullptr || list->size() != 2) fields.fail(node, std::string(key) + " must be [rows, cols]");
  std::uint64_t dims[2];
  for (std::size_t i = 0; i < 2; ++i) {
    const std::int64_t* value = std::get_if<std::int64_t>(&(*list)[i].value);
    if (value == nullptr || *value < 1 || static_cast<std::uint64_t>(*value) > kMaxDim) {
      fields.fail(&(*list)[i], std::string(key) + " entries must be whole numbers from 1 to " + std::to_string(kMaxDim));
    }
    dims[i] = static_cast<std::uint64_t>(*value);
  }
  quantization.block_rows = dims[0];
  quantization.block_cols = dims[1];
}

// vLLM's Fp8Config: e4m3 values, one fp32 scale per block (weight_scale_inv) or per tensor.
void read_fp8(const ConfigFields& fields, WeightQuantization& quantization) {
  quantization.bits = 8;
  quantization.type = "float";
  quantization.scale_bytes = 4;
  quantization.scale_why = "fp32 scales (Fp8LinearMethod's weight_scale_inv / weight_scale)";
  if (fields.has("weight_block_size")) {
    quantization.strategy = "block";
    read_block(fields, "weight_block_size", quantization);
  } else {
    quantization.strategy = "tensor";
  }
  quantization.ignore = string_list(fields, "ignored_layers");
  if (quantization.ignore.empty()) quantization.ignore = string_list(fields, "modules_to_not_convert");
}

// compressed-tensors (llm-compressor): one config group whose weights apply to every Linear
// module not in `ignore`.
void read_compressed_tensors(const ConfigFields& fields, WeightQuantization& quantization,
                             std::uint32_t checkpoint_dtype_bytes) {
  quantization.ignore = string_list(fields, "ignore");
  const ConfigNode* groups = fields.get("config_groups");
  const ConfigNode::Map* map = groups != nullptr ? groups->as_map() : nullptr;
  if (map == nullptr || map->size() != 1) {
    quantization.why_unsized = "a compressed-tensors checkpoint without exactly one config group";
    return;
  }
  ConfigFields group(map->front().node, "config_groups." + map->front().key);
  std::vector<std::string> targets = string_list(group, "targets");
  if (targets != std::vector<std::string>{"Linear"}) {
    quantization.why_unsized = "a compressed-tensors group whose targets are not [Linear]";
    return;
  }
  const ConfigNode* weights_node = group.get("weights");
  if (weights_node == nullptr) group.fail(nullptr, "config group needs weights");
  ConfigFields weights(*weights_node, "weights");
  std::optional<std::uint64_t> bits = weights.optional_bounded("num_bits", 64, true);
  if (!bits) weights.fail(nullptr, "weights needs num_bits");
  quantization.bits = static_cast<std::uint32_t>(*bits);
  quantization.type = weights.optional_string("type").value_or("int");
  quantization.strategy = weights.optional_string("strategy").value_or("tensor");
  if (weights.optional_bool("symmetric") == false) {
    quantization.why_unsized = "an asymmetric compressed-tensors scheme (zero points)";
    return;
  }
  if (quantization.strategy == "group") {
    std::optional<std::uint64_t> group_size = weights.optional_bounded("group_size", kMaxDim, true);
    if (!group_size) weights.fail(nullptr, "strategy group needs group_size");
    quantization.group_size = *group_size;
  } else if (quantization.strategy == "block") {
    read_block(weights, "block_structure", quantization);
  } else if (quantization.strategy != "channel" && quantization.strategy != "tensor") {
    quantization.why_unsized = "compressed-tensors strategy '" + quantization.strategy + "'";
    return;
  }
  if (quantization.type == "float" && quantization.bits == 4) {
    quantization.why_unsized = "a 4-bit float compressed-tensors scheme (nvfp4/mxfp4 packing)";
    return;
  }
  // The scales as vLLM 0.33 allocates them on the GPU, whatever dtype the files hold: fp8 and
  // W8A8 int8 schemes take fp32 scales (create_fp8_scale_parameter, CompressedTensorsW8A8Int8);
  // weight-only integer schemes (CompressedTensorsWNA16) take the model's dtype (params_dtype).
  const bool weight_only = !group.has("input_activations");
  if (quantization.bits == 8 && (quantization.type == "float" || !weight_only)) {
    quantization.scale_bytes = 4;
    quantization.scale_why = "fp32 scales, as vLLM 0.33 allocates them for 8-bit schemes";
  } else if (quantization.type == "int" && weight_only) {
    quantization.scale_bytes = checkpoint_dtype_bytes;
    quantization.scale_why = "scales in the model's dtype, as vLLM 0.33's WNA16 scheme allocates them";
  } else {
    quantization.why_unsized = "a " + std::to_string(quantization.bits) + "-bit " + quantization.type +
                               " compressed-tensors scheme with quantized activations";
  }
}

}  // namespace

WeightQuantization read_weight_quantization(const ConfigFields& fields, std::uint32_t checkpoint_dtype_bytes) {
  WeightQuantization quantization;
  quantization.method = fields.optional_string("quant_method").value_or("");
  if (quantization.method == "fp8") {
    read_fp8(fields, quantization);
  } else if (quantization.method == "compressed-tensors") {
    read_compressed_tensors(fields, quantization, checkpoint_dtype_bytes);
  }
  return quantization;
}

}  // namespace kvplan
