// Finds presets by name or alias: the embedded ones, overridden by the user's --presets DIR.
// Files are parsed on first use, so `kvplan size --model x` reads one file, not all of them.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "io/presets.h"

namespace kvplan::io {

class PresetRegistry {
 public:
  // The presets compiled into the binary.
  PresetRegistry();

  // Adds every *.yaml file under `dir` (recursively). A user preset with the name of an
  // embedded one replaces it. Throws kvplan::Error if `dir` is not a readable directory.
  void add_directory(const std::filesystem::path& dir);

  // Throws kvplan::Error (exit 2) for an unknown name, with the nearest known name.
  const ModelPreset& model(std::string_view name) const;
  const GpuPreset& gpu(std::string_view name) const;
  // The model preset answering to `name`, or nullptr when none does.
  const ModelPreset* find_model(std::string_view name) const;

  std::vector<const ModelPreset*> models() const;  // sorted by name
  std::vector<const GpuPreset*> gpus() const;      // sorted by name

 private:
  struct Entry {
    std::string file;
    std::string text;
    std::string stem;  // file name without .yaml: the usual name, tried first
    std::optional<PresetKind> kind;  // known from the folder for embedded presets
    bool user = false;
    // Parsed on demand.
    mutable std::shared_ptr<const std::variant<ModelPreset, GpuPreset>> parsed;
  };

  const std::variant<ModelPreset, GpuPreset>& parse(const Entry& entry) const;
  // Parses every user preset (there are few, and a broken one is reported whichever preset was
  // asked for) and refuses two of one kind that answer to the same name or alias: which one
  // would win would depend on file names.
  void parse_user_presets() const;
  template <typename Preset>
  const Preset* lookup(std::string_view name) const;  // nullptr when unknown
  template <typename Preset>
  const Preset* find(std::string_view name) const;    // throws, naming the nearest name
  template <typename Preset>
  std::vector<const Preset*> all() const;

  std::vector<Entry> entries_;  // embedded first, then user files; user files win
  mutable bool user_presets_checked_ = false;
};

}  // namespace kvplan::io
