#include "cli/checkpoint_model.h"

#include <filesystem>

#include "core/checked.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/params.h"
#include "hub/checkpoint_fetch.h"
#include "hub/checkpoint_folder.h"
#include "hub/hub_settings.h"
#include "io/json_reader.h"

namespace kvplan::cli {
namespace {

namespace fs = std::filesystem;

SelectedModel from_checkpoint(hub::CheckpointSource source, report::ModelLabel label) {
  ModelShape shape = shape_from_hf_config(io::read_json(source.config_text, source.config_file));
  source.checkpoint->quant_method = shape.weight_quantization;
  std::uint64_t elements = 0;
  for (const CheckpointTensor& tensor : source.checkpoint->tensors) {
    elements = checked_add(elements, tensor.elements, "the checkpoint's parameter count");
  }
  shape.params_total = elements;
  shape.params_active = elements;
  // The checkpoint has every expert; the share a token passes through comes from the shapes.
  if (shape.moe && !params_estimate_gap(shape)) {
    const ParamEstimate estimate = estimate_params(shape, shape.tie_word_embeddings);
    shape.params_active = static_cast<std::uint64_t>(static_cast<double>(elements) * static_cast<double>(estimate.active) /
                                                     static_cast<double>(estimate.total));
    shape.assumptions.push_back("active parameters: the checkpoint's " + std::to_string(elements) + " x " +
                                std::to_string(estimate.active) + " / " + std::to_string(estimate.total) +
                                " (active / total estimated from config.json shapes)");
  }
  shape.assumptions.push_back("parameter count: the " + std::to_string(elements) + " values stored in the checkpoint's " +
                              std::to_string(source.checkpoint->tensors.size()) +
                              " tensors (packed 4-bit values count as the bytes that hold them)");
  shape.checkpoint = std::move(source.checkpoint);
  label.source = source.config_file;
  return {std::move(label), std::move(shape)};
}

}  // namespace

std::optional<SelectedModel> checkpoint_model(Context& context, const ModelOption& option) {
  const std::string& name = option.name;
  const bool preset = context.registry().find_model(name) != nullptr;
  std::error_code error;
  if (fs::is_directory(name, error) && !(preset && name.find('/') == std::string::npos)) {
    if (!option.revision.empty()) throw Error("--revision applies to a Hugging Face id, not to the folder " + name);
    if (!fs::is_regular_file(fs::path(name) / "config.json", error)) {
      throw Error("--model " + name + ": the folder has no config.json (a checkpoint folder holds config.json and "
                  "its safetensors files)");
    }
    const fs::path folder = fs::absolute(name, error);
    const std::string title = folder.filename().empty() ? folder.parent_path().filename().string() : folder.filename().string();
    return from_checkpoint(hub::read_checkpoint_folder(folder, "the folder " + folder.string()), {title, "", ""});
  }
  if (!hub::looks_like_repo_id(name)) {
    if (!option.revision.empty()) throw Error("--revision applies to a Hugging Face id (org/name); got --model " + name);
    return std::nullopt;
  }
  const hub::HubSettings settings = hub::hub_settings_from_environment();
  const std::string revision = option.revision.empty() ? "main" : option.revision;
  hub::check_revision(revision);
  const report::ModelLabel label{name.substr(name.find('/') + 1), name, ""};
  if (std::optional<std::string> commit = hub::cached_commit(settings, name, revision)) {
    const fs::path snapshot = hub::snapshot_folder(settings, name, *commit);
    if (hub::checkpoint_folder_complete(snapshot)) {
      return from_checkpoint(hub::read_checkpoint_folder(snapshot, "the Hugging Face cache, " + snapshot.string()), label);
    }
  }
  if (preset && option.revision.empty()) return std::nullopt;
  if (settings.offline) {
    throw Error("--model " + name + ": not in the Hugging Face cache (" + hub::repo_folder(settings, name).string() +
                    ") and HF_HUB_OFFLINE=1 keeps kvplan off the network",
                ExitCode::cannot_run);
  }
  return from_checkpoint(hub::fetch_checkpoint(settings, name, revision), label);
}

void drop_checkpoint_unless_auto(ModelShape& shape, const std::string& weights_dtype) {
  if (weights_dtype == "auto" || !shape.checkpoint) return;
  shape.checkpoint.reset();
  shape.assumptions.push_back("weights from --weights-dtype " + weights_dtype +
                              " x the checkpoint's parameter count, not from its tensors' own dtypes");
}

}  // namespace kvplan::cli
