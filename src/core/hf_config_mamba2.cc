// Granite-4.0-H (granitemoehybrid) and Falcon-H1 (falcon_h1): Mamba-2 state layers described by
// mamba_* fields, as transformers 5's GraniteMoeHybridConfig / FalconH1Config fill the config and
// vLLM 0.33's granitemoehybrid.py / falcon_h1.py read it (docs/engines.md, "State layers").
#include <optional>
#include <string>

#include "core/checked.h"
#include "core/hf_config_hybrid.h"

namespace kvplan::detail {
namespace {

// A mamba_* field, or the transformers config class's default stated as an assumption.
std::uint32_t dim_or_default(const ConfigFields& fields, ModelShape& shape, const char* key, std::uint32_t fallback) {
  if (std::optional<std::uint32_t> value = fields.optional_dim(key)) return *value;
  shape.assumptions.push_back(std::string(key) + " is absent: transformers' " + shape.model_type + " default " +
                              std::to_string(fallback));
  return fallback;
}

// The Mamba width ("intermediate_size" of get_mamba_state_shape_from_config): mamba_expand x
// hidden_size for Granite; Falcon-H1's mamba_d_ssm when set (FalconH1Config's default 1024 when
// absent; null means mamba_expand x hidden_size).
std::uint64_t mamba_width(const ConfigFields& fields, ModelShape& shape) {
  if (shape.model_type == "falcon_h1" && !fields.is_null("mamba_d_ssm")) {
    return dim_or_default(fields, shape, "mamba_d_ssm", 1024);
  }
  const std::uint32_t expand = dim_or_default(fields, shape, "mamba_expand", 2);
  if (shape.hidden_size == 0) {
    fields.fail(nullptr, shape.model_type + " needs hidden_size (the Mamba width is mamba_expand x hidden_size)");
  }
  return checked_mul(expand, shape.hidden_size, "mamba_expand x hidden_size");
}

}  // namespace

void resolve_mamba2_fields(const ConfigFields& fields, ModelShape& shape) {
  StateDims state;
  state.mixer = StateMixer::mamba2;
  state.num_heads = dim_or_default(fields, shape, "mamba_n_heads", 128);
  state.n_groups = dim_or_default(fields, shape, "mamba_n_groups", 1);
  state.state_size = dim_or_default(fields, shape, "mamba_d_state", 256);
  state.conv_kernel = dim_or_default(fields, shape, "mamba_d_conv", 4);
  // vLLM sizes the conv state from the width, the SSM state from mamba_n_heads x mamba_d_head;
  // the config classes' validate_architecture makes the two equal, so kvplan's conv width
  // (heads x head_dim) is vLLM's.
  const std::uint64_t width = mamba_width(fields, shape);
  const ConfigNode* head_node = fields.get("mamba_d_head");
  const std::string* head_text = head_node != nullptr ? head_node->as_string() : nullptr;
  if (head_node == nullptr || (head_text != nullptr && *head_text == "auto")) {
    state.head_dim = static_cast<std::uint32_t>(width / state.num_heads);
    shape.assumptions.push_back("mamba_d_head is " + std::string(head_node == nullptr ? "absent" : "\"auto\"") +
                                ": transformers derives the Mamba width / mamba_n_heads = " + std::to_string(state.head_dim));
  } else {
    state.head_dim = fields.required_dim("mamba_d_head");
  }
  if (static_cast<std::uint64_t>(state.head_dim) * state.num_heads != width) {
    fields.fail(head_node, "mamba_n_heads (" + std::to_string(state.num_heads) + ") x mamba_d_head (" +
                               std::to_string(state.head_dim) + ") must equal the Mamba width (" + std::to_string(width) +
                               (shape.model_type == "falcon_h1" && !fields.is_null("mamba_d_ssm") ? ", mamba_d_ssm"
                                                                                    : ", mamba_expand x hidden_size") +
                               "), as transformers' config class requires");
  }
  if (state.conv_kernel < 2) {
    fields.fail(fields.get("mamba_d_conv"), "mamba_d_conv must be at least 2 (the conv state keeps mamba_d_conv - 1 inputs)");
  }
  // get_mamba_state_dtype_from_config: mamba2_state_dtype with mamba_ssm_cache_dtype "auto", so
  // both states take the model's dtype (no config field overrides it, unlike Nemotron-H).
  shape.state = state;
  if (shape.model_type == "falcon_h1") {
    // FalconH1ParallelHybrid: every layer runs an attention and a Mamba-2 mixer side by side.
    shape.state_beside_attention = true;
    return;
  }
  // Without layer_types GraniteMoeHybridConfig makes every layer Mamba-2: a model with no
  // attention at all, which kvplan's planners (attention blocks sized to the state) do not cover.
  if (!fields.has("layer_types")) {
    fields.fail(nullptr, "granitemoehybrid needs layer_types (one \"mamba\" or \"attention\" per layer); "
                         "without it every layer is Mamba-2, which kvplan does not plan");
  }
  use_hidden_over_heads_head_dim(shape);  // GraniteMoeHybridAttention
}

void use_hidden_over_heads_head_dim(ModelShape& shape) {
  const auto attention_head_dim = static_cast<std::uint32_t>(shape.hidden_size / shape.num_attention_heads);
  if (shape.head_dim != attention_head_dim) {
    shape.assumptions.push_back(shape.model_type + ": vLLM's attention uses hidden_size / num_attention_heads = " +
                                std::to_string(attention_head_dim) + " as head_dim, not the config's " +
                                std::to_string(shape.head_dim));
    shape.head_dim = attention_head_dim;
  }
}

}  // namespace kvplan::detail
