#include "io/preset_registry.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/suggest.h"
#include "io/embedded_presets.h"
#include "io/json_reader.h"
#include "io/yaml_reader.h"

namespace kvplan::io {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

template <typename Preset>
bool answers_to(const Preset& preset, std::string_view name) {
  if (same_name(preset.info.name, name)) return true;
  return std::any_of(preset.info.aliases.begin(), preset.info.aliases.end(),
                     [&](const std::string& alias) { return same_name(alias, name); });
}

template <typename Preset>
constexpr std::string_view kind_name() {
  return std::is_same_v<Preset, ModelPreset> ? "model" : "GPU";
}

template <typename Preset>
constexpr std::string_view list_command() {
  return std::is_same_v<Preset, ModelPreset> ? "kvplan models" : "kvplan gpus";
}

}  // namespace

PresetRegistry::PresetRegistry() {
  for (const EmbeddedFile& file : embedded_presets()) {
    std::filesystem::path path(file.path);
    PresetKind kind = path.parent_path().filename() == "gpus" ? PresetKind::gpu : PresetKind::model;
    entries_.push_back({std::string(file.path), std::string(file.contents), path.stem().string(), kind,
                        false, nullptr});
  }
}

void PresetRegistry::add_directory(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    throw Error("--presets: '" + dir.string() + "' is not a directory of YAML presets");
  }
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file() && (it->path().extension() == ".yaml" || it->path().extension() == ".yml")) {
      files.push_back(it->path());
    }
  }
  if (error) throw Error("--presets: cannot read '" + dir.string() + "': " + error.message());
  std::sort(files.begin(), files.end());
  for (const std::filesystem::path& path : files) {
    entries_.push_back({path.string(), read_text_file(path.string(), "--presets"), path.stem().string(), std::nullopt, true,
                        nullptr});
  }
}

const std::variant<ModelPreset, GpuPreset>& PresetRegistry::parse(const Entry& entry) const {
  if (!entry.parsed) {
    ConfigNode root = read_yaml(entry.text, entry.file);
    PresetKind kind = entry.kind.value_or(preset_kind(root));
    if (kind == PresetKind::model) {
      entry.parsed = std::make_shared<std::variant<ModelPreset, GpuPreset>>(parse_model_preset(root, entry.file));
    } else {
      entry.parsed = std::make_shared<std::variant<ModelPreset, GpuPreset>>(parse_gpu_preset(root, entry.file));
    }
  }
  return *entry.parsed;
}

void PresetRegistry::parse_user_presets() const {
  if (user_presets_checked_) return;
  std::map<std::pair<bool, std::string>, std::string> files_by_name;  // (is model, lower-case name) -> file
  for (const Entry& entry : entries_) {
    if (!entry.user) continue;
    const auto& parsed = parse(entry);
    const bool is_model = std::holds_alternative<ModelPreset>(parsed);
    const PresetInfo& info = is_model ? std::get<ModelPreset>(parsed).info : std::get<GpuPreset>(parsed).info;
    std::vector<std::string> names = info.aliases;
    names.insert(names.begin(), info.name);
    for (std::string name : names) {
      std::transform(name.begin(), name.end(), name.begin(), [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
      auto [at, inserted] = files_by_name.emplace(std::pair{is_model, name}, entry.file);
      if (!inserted && at->second != entry.file) {
        throw Error("--presets: two " + std::string(is_model ? "model" : "GPU") + " presets answer to '" + name + "': " +
                    at->second + " and " + entry.file + "; rename one");
      }
    }
  }
  user_presets_checked_ = true;
}

template <typename Preset>
const Preset* PresetRegistry::lookup(std::string_view name) const {
  auto wrong_kind = [](const Entry& entry) {
    return entry.kind && (*entry.kind == PresetKind::model) != std::is_same_v<Preset, ModelPreset>;
  };
  auto match = [&](const Entry& entry) -> const Preset* {
    if (wrong_kind(entry)) return nullptr;
    const auto* preset = std::get_if<Preset>(&parse(entry));
    return preset != nullptr && answers_to(*preset, name) ? preset : nullptr;
  };
  // User presets win, whatever their file is called.
  parse_user_presets();
  for (auto it = entries_.rbegin(); it != entries_.rend() && it->user; ++it) {
    if (const Preset* preset = match(*it)) return preset;
  }
  // Embedded presets: the file named after the preset first, so one lookup parses one file.
  for (const Entry& entry : entries_) {
    if (!entry.user && same_name(entry.stem, name)) {
      if (const Preset* preset = match(entry)) return preset;
    }
  }
  for (const Entry& entry : entries_) {
    if (!entry.user) {
      if (const Preset* preset = match(entry)) return preset;
    }
  }
  return nullptr;
}

template <typename Preset>
const Preset* PresetRegistry::find(std::string_view name) const {
  if (const Preset* preset = lookup<Preset>(name)) return preset;
  // Suggest by name or alias, but always name the preset.
  std::vector<std::string> candidates;
  std::vector<std::string> owners;
  for (const Preset* preset : all<Preset>()) {
    candidates.push_back(preset->info.name);
    owners.push_back(preset->info.name);
    for (const std::string& alias : preset->info.aliases) {
      candidates.push_back(alias);
      owners.push_back(preset->info.name);
    }
  }
  std::optional<std::string> nearest = nearest_name(name, candidates);
  if (nearest) {
    nearest = owners[static_cast<std::size_t>(
        std::find(candidates.begin(), candidates.end(), *nearest) - candidates.begin())];
  }
  throw Error("unknown " + std::string(kind_name<Preset>()) + " '" + std::string(name) + "'" +
              (nearest ? "; did you mean '" + *nearest + "'?" : "") + " ('" +
              std::string(list_command<Preset>()) + "' lists them; --presets DIR adds your own)");
}

template <typename Preset>
std::vector<const Preset*> PresetRegistry::all() const {
  parse_user_presets();
  std::map<std::string, const Preset*> by_name;  // later entries replace earlier ones
  for (const Entry& entry : entries_) {
    if (entry.kind && (*entry.kind == PresetKind::model) != std::is_same_v<Preset, ModelPreset>) continue;
    if (const auto* preset = std::get_if<Preset>(&parse(entry))) by_name[preset->info.name] = preset;
  }
  std::vector<const Preset*> presets;
  for (const auto& [name, preset] : by_name) presets.push_back(preset);
  return presets;
}

const ModelPreset& PresetRegistry::model(std::string_view name) const { return *find<ModelPreset>(name); }
const GpuPreset& PresetRegistry::gpu(std::string_view name) const { return *find<GpuPreset>(name); }
const ModelPreset* PresetRegistry::find_model(std::string_view name) const { return lookup<ModelPreset>(name); }
std::vector<const ModelPreset*> PresetRegistry::models() const { return all<ModelPreset>(); }
std::vector<const GpuPreset*> PresetRegistry::gpus() const { return all<GpuPreset>(); }

}  // namespace kvplan::io
