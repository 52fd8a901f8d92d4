// A checkpoint from the Hugging Face hub: config.json, the index, and only the header of each
// safetensors file (HTTP Range requests), stored in the cache's layout once every part is fetched
// and valid, each file written atomically (a temporary file renamed into place).
#pragma once

#include <string>

#include "hub/checkpoint_folder.h"
#include "hub/hub_settings.h"

namespace kvplan::hub {

// Fetches `repo_id` at `revision` (a branch, tag or commit) and returns it as read back from the
// cache. Throws kvplan::Error: exit 3 when the hub cannot be reached or answers 5xx; exit 2 for
// 401/403 (gated or private: set HF_TOKEN), 404, and headers that are truncated or malformed.
CheckpointSource fetch_checkpoint(const HubSettings& settings, const std::string& repo_id, const std::string& revision);

// The snapshot folder of `commit` in the cache.
std::filesystem::path snapshot_folder(const HubSettings& settings, const std::string& repo_id, const std::string& commit);

}  // namespace kvplan::hub
