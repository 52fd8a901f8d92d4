// --model as a checkpoint: a local folder, the Hugging Face cache, or the hub. The order
// (docs/checkpoints.md): a folder; the cache; a preset of that name (so presets never need a
// network); the hub, unless HF_HUB_OFFLINE=1.
#pragma once

#include <optional>

#include "cli/context.h"

namespace kvplan::cli {

// The model read from a checkpoint, or nullopt when `option.name` is a preset to look up.
std::optional<SelectedModel> checkpoint_model(Context& context, const ModelOption& option);

// The shape without its checkpoint when --weights-dtype names a dtype: the weights are then
// params x bytes per param, as for a preset.
void drop_checkpoint_unless_auto(ModelShape& shape, const std::string& weights_dtype);

}  // namespace kvplan::cli
