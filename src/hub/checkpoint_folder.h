// A checkpoint on disk: a folder with config.json and safetensors files (a `git clone` of a hub
// repository, or a snapshot in the Hugging Face cache). Only the first 8 + N bytes of each
// safetensors file are read: the tensors' data is never touched.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/checkpoint.h"

namespace kvplan::hub {

struct CheckpointSource {
  std::string config_text;  // config.json
  std::string config_file;  // where it was read, for messages
  std::shared_ptr<Checkpoint> checkpoint;
};

// kvplan keeps the headers it fetched beside the snapshot's files, never under a weight file's
// own name: a truncated model-00001-of-00004.safetensors would break the tools that load it.
inline constexpr const char* kHeadersFolder = ".kvplan-headers";

// The safetensors files a checkpoint has: model.safetensors.index.json's weight_map values, in
// order, or the single model.safetensors. Throws kvplan::Error naming `file` for a malformed
// index or a file name that leaves the folder.
std::vector<std::string> indexed_files(const std::string& index_text, const std::string& file);

// Throws kvplan::Error (exit 2) when `name` is not a plain relative path inside the repository.
void check_repo_file_name(const std::string& name, const std::string& where);

// Reads `folder`: config.json, the index if there is one, and each safetensors header (from the
// file itself or from kHeadersFolder). Throws kvplan::Error naming the missing or malformed file.
CheckpointSource read_checkpoint_folder(const std::filesystem::path& folder, const std::string& origin);

// True when `folder` holds config.json and every header read_checkpoint_folder needs.
bool checkpoint_folder_complete(const std::filesystem::path& folder);

}  // namespace kvplan::hub
