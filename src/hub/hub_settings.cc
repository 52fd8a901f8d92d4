#include "hub/hub_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "core/error.h"

namespace kvplan::hub {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

bool repo_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

}  // namespace

HubSettings hub_settings_from_environment() {
  HubSettings settings;
  if (std::string endpoint = environment("HF_ENDPOINT"); !endpoint.empty()) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    settings.endpoint = endpoint;
  }
  settings.token = environment("HF_TOKEN");
  if (settings.token.empty()) settings.token = environment("HUGGING_FACE_HUB_TOKEN");
  const std::string home = environment("HF_HOME");
  const std::filesystem::path hf_home = !home.empty() ? std::filesystem::path(home)
                                        : !environment("XDG_CACHE_HOME").empty()
                                            ? std::filesystem::path(environment("XDG_CACHE_HOME")) / "huggingface"
                                            : std::filesystem::path(environment("HOME")) / ".cache" / "huggingface";
  if (settings.token.empty()) {
    // `hf auth login` (huggingface-cli login) saves the token in HF_TOKEN_PATH, else HF_HOME/token.
    const std::string token_path = environment("HF_TOKEN_PATH");
    std::ifstream saved(!token_path.empty() ? std::filesystem::path(token_path) : hf_home / "token");
    if (saved) std::getline(saved, settings.token);
    while (!settings.token.empty() && std::isspace(static_cast<unsigned char>(settings.token.back()))) settings.token.pop_back();
  }
  // huggingface_hub's order: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME/huggingface/hub,
  // then ~/.cache/huggingface/hub.
  const std::string cache = environment("HF_HUB_CACHE");
  settings.cache = !cache.empty() ? std::filesystem::path(cache) : hf_home / "hub";
  // huggingface_hub takes 1, ON, YES and TRUE in any case as true.
  std::string offline = environment("HF_HUB_OFFLINE");
  std::transform(offline.begin(), offline.end(), offline.begin(), [](unsigned char c) { return std::toupper(c); });
  settings.offline = offline == "1" || offline == "ON" || offline == "YES" || offline == "TRUE";
  return settings;
}

bool looks_like_repo_id(std::string_view name) {
  const std::size_t slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size() || name.size() > 96) return false;
  if (name.find('/', slash + 1) != std::string_view::npos) return false;
  if (name.find("--") != std::string_view::npos || name.find("..") != std::string_view::npos) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (i != slash && !repo_char(name[i])) return false;
  }
  return name.front() != '.' && name[slash + 1] != '.';
}

void check_revision(std::string_view revision) {
  const bool allowed = std::all_of(revision.begin(), revision.end(), [](char c) { return repo_char(c) || c == '/'; });
  if (revision.empty() || revision.size() > 255 || !allowed || revision.find("..") != std::string_view::npos ||
      revision.front() == '/' || revision.back() == '/') {
    throw Error("--revision: '" + std::string(revision) +
                "' is not a branch, tag or commit name (letters, digits, '-', '_', '.', '/')");
  }
}

std::filesystem::path repo_folder(const HubSettings& settings, std::string_view repo_id) {
  std::string folder = "models--" + std::string(repo_id);
  folder.replace(folder.find('/'), 1, "--");
  return settings.cache / folder;
}

bool is_commit_hash(std::string_view text) {
  return text.size() == 40 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::string> cached_commit(const HubSettings& settings, std::string_view repo_id, std::string_view revision) {
  if (is_commit_hash(revision)) return std::string(revision);
  std::ifstream ref(repo_folder(settings, repo_id) / "refs" / std::string(revision));
  std::string commit;
  if (!ref || !std::getline(ref, commit) || !is_commit_hash(commit)) return std::nullopt;
  return commit;
}

}  // namespace kvplan::hub
