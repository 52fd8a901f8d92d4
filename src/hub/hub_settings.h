// Where the Hugging Face hub and its local cache are, read from the environment the way
// huggingface_hub reads it (docs/checkpoints.md): HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HOME,
// HF_HUB_OFFLINE. The cache layout is huggingface_hub's, so a cache it filled serves kvplan offline.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kvplan::hub {

struct HubSettings {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT, no trailing slash
  std::string token;                                // HF_TOKEN (or HUGGING_FACE_HUB_TOKEN)
  std::filesystem::path cache;                      // .../huggingface/hub
  bool offline = false;                             // HF_HUB_OFFLINE=1: never touch the network
};
HubSettings hub_settings_from_environment();

// "org/name" as the hub spells repository ids: letters, digits, '-', '_', '.', one '/', no
// "--" or "..", at most 96 characters.
bool looks_like_repo_id(std::string_view name);

// Throws kvplan::Error (exit 2) naming --revision when it is not a branch, tag or commit name
// kvplan can put in a path and a URL.
void check_revision(std::string_view revision);

// <cache>/models--org--name
std::filesystem::path repo_folder(const HubSettings& settings, std::string_view repo_id);

// The commit a revision names: itself when it is 40 hex digits, else what refs/<revision> holds
// in the cache; nullopt when the cache does not know it.
std::optional<std::string> cached_commit(const HubSettings& settings, std::string_view repo_id, std::string_view revision);

bool is_commit_hash(std::string_view text);

}  // namespace kvplan::hub
