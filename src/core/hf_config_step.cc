// Step-3.5 and Step-3.7-Flash (step3p5, step3p7) as vLLM 0.33 reads them
// (model_executor/models/step3p5.py; Step3p7ForConditionalGeneration wraps the same text model):
// every layer caches num_attention_groups K/V heads of head_dim, sliding_attention layers the last
// sliding_window tokens. Only the query heads differ by kind (num_sliding_attention_heads), and
// they are not cached.
#include <algorithm>
#include <string>
#include <variant>

#include "core/hf_config_hybrid.h"

namespace kvplan::detail {
namespace {

bool step_family(const ModelShape& shape) { return is_one_of(shape.model_type, {"step3p5", "step3p7"}); }

}  // namespace

// step3p5.py:_get_layer_type: MTP layer i (from num_hidden_layers on) takes
// [*layer_types, *mtp_layer_types][i], i.e. mtp_layer_types, or layer_types' trailing entries in the
// legacy hub configs. kvplan plans MTP layers as full attention, so the assumption says which they are.
void resolve_step_mtp_layers(const ConfigFields& fields, ModelShape& shape) {
  if (!step_family(shape) || shape.num_nextn_predict_layers == 0) return;
  const ConfigNode* layer_types = fields.get("layer_types");
  const ConfigNode* mtp_types = fields.get("mtp_layer_types");
  const ConfigNode::List* padded = layer_types != nullptr ? layer_types->as_list() : nullptr;
  const ConfigNode::List* list = mtp_types != nullptr ? mtp_types->as_list() : nullptr;
  std::size_t first = 0;
  if (list == nullptr && padded != nullptr && padded->size() > shape.num_hidden_layers) {
    list = padded;
    first = shape.num_hidden_layers;
  }
  std::uint32_t sliding = 0;
  std::uint32_t named = 0;
  for (std::size_t index = first; list != nullptr && index < list->size(); ++index, ++named) {
    const std::string* type = (*list)[index].as_string();
    sliding += type != nullptr && *type == "sliding_attention";
  }
  const std::string count = std::to_string(shape.num_nextn_predict_layers);
  if (named < shape.num_nextn_predict_layers) {
    shape.assumptions.push_back(shape.model_type + ": the config names no layer kind for its " + count +
                                " MTP layers (mtp_layer_types); --mtp plans them as full attention");
  } else if (sliding > 0) {
    shape.assumptions.push_back(shape.model_type + ": " + std::to_string(sliding) + " of the " + count +
                                " MTP layers are sliding_attention in vLLM; --mtp plans every MTP layer as full "
                                "attention, more than vLLM keeps");
  }
}

std::uint32_t step_moe_layers(const ConfigFields& fields, const ModelShape& shape) {
  const std::uint32_t layers = shape.num_hidden_layers;
  if (const ConfigNode* types = fields.get("mlp_layer_types")) {
    const ConfigNode::List* list = types->as_list();
    if (list == nullptr || list->size() < layers) {
      fields.fail(types, "mlp_layer_types must list sparse or dense for each of the " + std::to_string(layers) + " layers");
    }
    std::uint32_t count = 0;
    for (std::uint32_t layer = 0; layer < layers; ++layer) {
      const std::string* type = (*list)[layer].as_string();
      count += type != nullptr && *type == "sparse";
    }
    return count;
  }
  if (const ConfigNode* listed = fields.get("moe_layers_enum")) {
    // The legacy hub field: "3,4,...,44", or a list of layer indices.
    std::string text;
    if (const std::string* value = listed->as_string()) text = *value;
    std::uint32_t count = 0;
    std::size_t start = 0;
    while (start <= text.size() && !text.empty()) {
      const std::size_t comma = std::min(text.find(',', start), text.size());
      const std::string item = text.substr(start, comma - start);
      if (item.find_first_not_of(" 0123456789") != std::string::npos || item.size() > 9) {
        fields.fail(listed, "moe_layers_enum must list layer indices separated by commas; got '" + item + "'");
      }
      if (item.find_first_of("0123456789") != std::string::npos && std::stoull(item) < layers) ++count;
      start = comma + 1;
    }
    if (const ConfigNode::List* list = listed->as_list()) {
      for (const ConfigNode& entry : *list) {
        const std::int64_t* layer = std::get_if<std::int64_t>(&entry.value);
        if (layer == nullptr || *layer < 0) fields.fail(&entry, "moe_layers_enum entries must be layer indices");
        count += *layer < std::int64_t{layers};
      }
    }
    return count;
  }
  // Step3p7TextConfig without either: layers 3 on are MoE; a flattened config's
  // first_k_dense_replace says the same.
  const std::uint32_t dense = fields.has("first_k_dense_replace") ? fields.dim_or_zero("first_k_dense_replace") : 3;
  return dense < layers ? layers - dense : 0;
}

}  // namespace kvplan::detail
