// Nemotron-H's layer list as transformers 5's NemotronHConfig reads it (vLLM 0.33 has no config
// class of its own for nemotron_h and builds layer i from the class's hybrid_override_pattern[i]).
#include <optional>
#include <string>

#include "core/hf_config_hybrid.h"

namespace kvplan::detail {
namespace {

// NemotronHConfig._list_to_pattern, after remap_legacy_layer_types ("mamba" -> linear_attention,
// "attention" -> full_attention): the older spellings are what Nemotron-3-Ultra's and
// Nemotron-3.5's configs write.
char pattern_char(const std::string& kind) {
  if (kind == "mamba" || kind == "linear_attention") return 'M';
  if (kind == "attention" || kind == "full_attention") return '*';
  if (kind == "mlp") return '-';
  if (kind == "moe") return 'E';
  return '\0';
}

std::string pattern_from_list(const ConfigFields& fields, const ConfigNode& node) {
  const ConfigNode::List* list = node.as_list();
  if (list == nullptr || list->empty() || list->size() > kMaxDim) {
    fields.fail(&node, "layers_block_type must be a list of layer kinds, one per layer");
  }
  std::string pattern;
  for (std::size_t layer = 0; layer < list->size(); ++layer) {
    const std::string* kind = (*list)[layer].as_string();
    const char letter = kind != nullptr ? pattern_char(*kind) : '\0';
    if (letter == '\0') {
      fields.fail(&(*list)[layer], "layers_block_type[" + std::to_string(layer) + "] = " + (*list)[layer].describe() +
                                       " is not a Nemotron-H layer kind; kvplan knows mamba, attention, mlp and moe "
                                       "(and linear_attention, full_attention)");
    }
    pattern += letter;
  }
  return pattern;
}

}  // namespace

// NemotronHConfig.__post_init__: an explicit layers_block_type wins, else the legacy
// hybrid_override_pattern string; the num_hidden_layers property is the list's length and a
// stated num_hidden_layers is ignored. kvplan refuses one that disagrees: one of the two is wrong.
std::string nemotron_h_pattern(const ConfigFields& fields) {
  std::string pattern;
  const char* source = "layers_block_type";
  if (const ConfigNode* list = fields.get("layers_block_type")) {
    pattern = pattern_from_list(fields, *list);
  } else if (const ConfigNode* text = fields.get("hybrid_override_pattern")) {
    source = "hybrid_override_pattern";
    if (text->as_string() == nullptr || text->as_string()->empty() || text->as_string()->size() > kMaxDim) {
      fields.fail(text, "hybrid_override_pattern must be a string with one character per layer");
    }
    pattern = *text->as_string();
    for (std::size_t layer = 0; layer < pattern.size(); ++layer) {
      if (pattern[layer] != 'M' && pattern[layer] != '*' && pattern[layer] != '-' && pattern[layer] != 'E') {
        fields.fail(text, "hybrid_override_pattern[" + std::to_string(layer) + "] is '" + std::string(1, pattern[layer]) +
                              "'; kvplan knows M (Mamba-2), * (attention), - (MLP) and E (MoE)");
      }
    }
  } else {
    fields.fail(nullptr, "nemotron_h needs layers_block_type (one kind per layer) or hybrid_override_pattern");
  }
  if (std::optional<std::uint32_t> stated = fields.optional_dim("num_hidden_layers"); stated && *stated != pattern.size()) {
    fields.fail(fields.get("num_hidden_layers"),
                "num_hidden_layers = " + std::to_string(*stated) + " but " + source + " describes " +
                    std::to_string(pattern.size()) + " layers; transformers counts " + source +
                    ", kvplan refuses to guess which is wrong");
  }
  return pattern;
}

}  // namespace kvplan::detail
