// Hugging Face config.json conventions -> ModelShape. YAML presets hold config.json fields
// verbatim, so presets and `--config` imports go through this one function.
#pragma once

#include <span>
#include <string_view>

#include "core/config_node.h"
#include "core/model_shape.h"

namespace kvplan {

// `config` is the map of config.json fields. Throws kvplan::Error naming the field and its
// location for missing, mistyped or inconsistent fields.
ModelShape shape_from_hf_config(const ConfigNode& config);

// The model_type values whose attention conventions kvplan implements.
std::span<const std::string_view> known_model_types();

}  // namespace kvplan
